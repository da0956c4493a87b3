"""Storing statements (PUT/POST) and reading one back (GET by statementId / voidedStatementId).

A batch is validated whole before anything is written; it is written as TransactWriteItems of at most
100 operations, each statement with all its index copies in the same transaction. A statement id that
is already stored is a no-op when the content matches and a 409 when it differs.

A statement whose object is a StatementRef also gets index copies under the facets of the statement it
references, and of that one's target, and so on (MAX_REF_DEPTH), so a filter that matches a statement also
returns the statements that target it (xAPI 1.0.3 Communication 2.1.3, "Filter Conditions for
StatementRefs"). A target not stored yet holds an `AwaitedStatement` at its own key, naming the statements
that wait for it: storing the target finds it through its own conditional put (no read when there is none)
and writes their copies in the same transaction.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from chalicelib.auth.principal import Principal, TenantContext, system_context
from chalicelib.clock import utcnow_iso
from chalicelib.config import settings
from chalicelib.errors import Conflict, NotFound, ValidationFailed, field_error
from chalicelib.events.outbox import event_item
from chalicelib.lrs import activities, attachments, blobs, indexing, scopes
from chalicelib.lrs.facets import Facets, digest, facets, from_json, to_json
from chalicelib.lrs.validate import VOIDED
from chalicelib.lrs.validate_statement import statement as validate
from chalicelib.store import keys
from chalicelib.store.models import AwaitedStatement, Item, StatementRecord, VoidMarker
from chalicelib.store.tx import Tx, TxConflict

MAX_OPS = 100  # TransactWriteItems' limit
MAX_DOC_BYTES = 48_000  # each index copy carries the document: bigger ones are kept in S3 (`doc_ref`)
_LRS_SET = ("id", "stored", "authority", "version")
MAX_REF_DEPTH = 3  # statements a StatementRef chain is followed through (the spec says recursively)

Chain = list[tuple[str, Facets]]  # (id, facets) of each statement along a StatementRef chain


@dataclass
class Prepared:
    id: str
    doc: dict[str, Any]
    digest: str
    stored: str
    facets: Facets
    voids: str | None
    voided: bool = False
    doc_ref: str | None = None  # the S3 key of a document too large for its items
    ref: str | None = None  # the statement its StatementRef object names (lower case)
    chain: Chain = field(default_factory=list)  # what its index copies under referenced statements carry
    awaits: str | None = None  # the chain's next statement, not stored yet

    @property
    def serialized(self) -> str:
        return json.dumps(self.doc, separators=(",", ":"))

    @property
    def key_id(self) -> str:
        return self.id.lower()


def platform_context(tenant_id: str, subject: str) -> TenantContext:
    """The platform itself storing statements in a tenant's LRS (course outcomes, cmi5's own statements);
    `subject` is the authority's account name (`system:player`, `system:cmi5`)."""
    return system_context(tenant_id, subject)


def authority_name(principal: Principal) -> str:
    """The account name of the authority a principal stores statements as (and reads back with read/mine)."""
    return principal.subject.partition(":")[2] if principal.kind == "lrs" else principal.subject


def authority_of(principal: Principal) -> dict[str, Any]:
    """Who stored a statement: the LRS credential or the platform subject of the bearer token."""
    home = f"{settings().issuer}/lrs" if principal.kind == "lrs" else settings().issuer
    return {"objectType": "Agent", "account": {"homePage": home, "name": authority_name(principal)}}


def _as_lists(doc: dict[str, Any]) -> dict[str, Any]:
    """A single context activity is returned as a list of one (xAPI Data 2.4.6.2)."""
    context = doc.get("context")
    if not isinstance(context, dict) or "contextActivities" not in context:
        return doc
    lists = {k: v if isinstance(v, list) else [v] for k, v in context["contextActivities"].items()}
    return {**doc, "context": {**context, "contextActivities": lists}}


def prepare(ctx: TenantContext, raw: Any, stored: str) -> Prepared:
    validate(raw)
    statement_id = str(raw.get("id") or uuid.uuid4())
    doc = _as_lists(raw)
    if doc["object"].get("objectType") == "SubStatement":
        doc = {**doc, "object": _as_lists(doc["object"])}
    doc = {**doc, "id": statement_id, "timestamp": raw.get("timestamp", stored), "stored": stored,
           "authority": authority_of(ctx.principal), "version": raw.get("version", "1.0.0")}
    voids = str(raw["object"]["id"]).lower() if raw["verb"]["id"] == VOIDED else None
    p = Prepared(statement_id, doc, digest({k: v for k, v in raw.items() if k not in _LRS_SET}), stored,
                 facets(doc), voids, ref=_ref(doc))
    if len(p.serialized) > MAX_DOC_BYTES:  # content-addressed: a 409 retry never overwrites a stored one
        p.doc_ref = keys.lrs_statement_key(ctx.tenant_id, blobs.content_hash(p.serialized.encode()))
    return p


def _ref(doc: dict[str, Any]) -> str | None:
    obj = doc["object"]
    return str(obj["id"]).lower() if obj.get("objectType") == "StatementRef" else None


def _record(tenant_id: str, p: Prepared, copy: indexing.Copy | None,
            via: tuple[str, Facets] | None = None) -> StatementRecord:
    """The statement item (`copy` None) or one of its index copies; `via` (id, facets): a copy under the
    facets of a statement it references, which combined filters then test (`ref_of` names that statement)."""
    f = via[1] if via else p.facets
    shard = copy.shard if copy else 0
    main = copy is None
    return StatementRecord(
        PK=(keys.statement_pk(tenant_id, p.key_id) if copy is None
            else keys.statement_feed_pk(tenant_id, shard or 0) if copy.dimension == "feed"
            else keys.statement_index_pk(tenant_id, copy.dimension, copy.value_hash, copy.shard)),
        SK=(keys.STATEMENT_SK if copy is None else keys.statement_ref_order_sk(p.stored, p.key_id, via[0]) if via
            else keys.statement_order_sk(p.stored, p.key_id)),
        statement_id=p.id, doc="" if p.doc_ref else p.serialized, doc_ref=p.doc_ref, digest=p.digest,
        stored=p.stored, verb=f.verb, voids=p.voids, voided=True if p.voided else None,
        authority=str(p.doc["authority"]["account"]["name"]), agents=f.agents or None,
        related_agents=f.related_agents or None, activity=f.activity,
        related_activities=f.related_activities or None, registration=f.registration,
        ref_of=via[0] if via else None,
        ref_facets=json.dumps([[t, to_json(tf)] for t, tf in p.chain]) if main and p.chain else None,
        awaits=p.awaits if main else None)


def _ref_records(tenant_id: str, p: Prepared, levels: Chain) -> list[StatementRecord]:
    """Copies of `p` in the filter partitions (not the feed) of each statement of `levels`."""
    return [_record(tenant_id, p, c, via) for via in levels for c in indexing.copies(p.key_id, via[1], feed=False)]


def _records(tenant_id: str, p: Prepared) -> list[StatementRecord]:
    return ([_record(tenant_id, p, None)] + [_record(tenant_id, p, c) for c in indexing.copies(p.key_id, p.facets)]
            + _ref_records(tenant_id, p, p.chain))


def _from_record(record: StatementRecord) -> Prepared:
    """A stored statement as the write path handles it (to void it, or to extend its StatementRef chain)."""
    doc = document(record)
    return Prepared(record.statement_id, doc, record.digest, record.stored, facets(doc), record.voids,
                    bool(record.voided), record.doc_ref, _ref(doc), _from_chain(record), record.awaits)


def _stored_facets(record: StatementRecord) -> Facets:
    return Facets(verb=record.verb, agents=set(record.agents or ()), related_agents=set(record.related_agents or ()),
                  activity=record.activity, related_activities=set(record.related_activities or ()),
                  registration=record.registration)


def _read(tenant_id: str, ids: set[str]) -> dict[str, Item]:
    """The items at these statements' keys: a `StatementRecord`, or an `AwaitedStatement` until it arrives."""
    by_pk = {keys.statement_pk(tenant_id, i): i for i in sorted(ids) if keys.is_safe(i)}
    if not by_pk:
        return {}
    return {by_pk[item.PK]: item for item in Item.batch_get([(pk, keys.STATEMENT_SK) for pk in by_pk])
            if isinstance(item, (StatementRecord, AwaitedStatement))}


def _load(tenant_id: str, ids: set[str], existing: dict[str, Item], batch_ids: set[str]) -> None:
    """Read `ids` into `existing`, then what planning needs from there (a second BatchGetItem at most): the
    statement a stored target's chain waits for, and the statements waiting for a statement of the batch."""
    found = _read(tenant_id, ids)
    existing.update(found)
    more: set[str] = set()
    for item_id, item in found.items():
        if isinstance(item, StatementRecord) and item.awaits:
            more.add(item.awaits)
        elif isinstance(item, AwaitedStatement) and item_id in batch_ids:
            more |= item.referrers
    more -= ids | batch_ids
    if more:
        existing.update(_read(tenant_id, more))


def _without_stored(batch: list[Prepared], existing: dict[str, Item]) -> list[Prepared]:
    """Drop statements already stored with the same content; a different one is a 409."""
    fresh = []
    for p in batch:
        old = existing.get(p.key_id)
        if not isinstance(old, StatementRecord):
            fresh.append(p)
        elif old.digest != p.digest:
            raise Conflict(f"Statement {p.id} is already stored with different content.")
    return fresh


@dataclass
class _Op:
    """One operation of a write transaction: a put or an update, with its condition; a failed condition
    names `label` (a statement id: the conflict handler reads it again and plans anew)."""

    kind: str  # put | update
    item: Item
    condition: Any = None
    label: str = ""
    actions: list[Any] | None = None


class _Plan:
    """Transactions of at most MAX_OPS operations; one statement's operations never straddle two, and each
    transaction carries one `StatementsStored` event naming the statements it stores (the outbox)."""

    def __init__(self, ctx: TenantContext) -> None:
        self.ctx = ctx
        self.groups: list[list[_Op]] = []
        self.stored: list[list[Prepared]] = []

    def add(self, p: Prepared, ops: list[_Op], extra: list[_Op]) -> None:
        """`ops`: the statement's own, never split; `extra` (statements that waited for it) join them if
        they fit, else go first, in transactions of their own (idempotent puts, conditional updates)."""
        if len(ops) + len(extra) > MAX_OPS - 1:
            for start in range(0, len(extra), MAX_OPS - 1):
                self.groups.append(extra[start:start + MAX_OPS - 1])
                self.stored.append([])
            extra = []
        if not self.groups or len(self.groups[-1]) + len(ops) + len(extra) > MAX_OPS - 1:  # room for the event
            self.groups.append([])
            self.stored.append([])
        self.groups[-1].extend(ops + extra)
        self.stored[-1].append(p)

    def commit(self) -> None:
        for group, stored in zip(self.groups, self.stored, strict=True):
            tx = Tx()
            for op in group:
                if op.kind == "update":
                    tx.update(op.item, op.actions or [], op.condition, op.label)
                else:
                    tx.put(op.item, op.condition, op.label)
            if stored:
                tx.put(event_item(self.ctx.tenant_id, "StatementsStored",
                                  {"statements": [event_summary(p) for p in stored]},
                                  actor=self.ctx.principal.subject, correlation_id=self.ctx.correlation_id))
            tx.commit()


def event_summary(p: Prepared) -> dict[str, Any]:
    """What consumers of `StatementsStored` filter on (certification triggers, completions): the statement's
    id, verb, activity, actor, registration, result and what it voids; the statement itself is one GetItem."""
    doc = p.doc
    summary: dict[str, Any] = {"id": p.id, "verb": p.facets.verb, "activity": p.facets.activity,
                               "actor": doc.get("actor"), "registration": p.facets.registration,
                               "stored": p.stored}
    if isinstance(doc.get("result"), dict):
        summary["result"] = {k: v for k, v in doc["result"].items() if k in ("completion", "success", "score")}
    if p.voids:
        summary["voids"] = p.voids
    return summary


def _void_ops(tenant_id: str, p: Prepared, target: StatementRecord | None) -> list[_Op]:
    """The void marker in the target's partition; a stored target and all its copies (those under the
    statements it references too) become `voided`."""
    assert p.voids is not None
    ops = [_Op("put", VoidMarker(PK=keys.statement_pk(tenant_id, p.voids), SK=keys.voided_by_sk(p.key_id),
                                 voiding_id=p.id))]
    if target is None or target.voided:
        return ops
    return ops + [_Op("update", r, Item.PK.exists(), actions=[StatementRecord.voided.set(True)])
                  for r in _records(tenant_id, _from_record(target))]


def _chain(p: Prepared, in_batch: dict[str, Prepared], existing: dict[str, Item]) -> tuple[Chain, str | None]:
    """The statements `p`'s StatementRef chain reaches (at most MAX_REF_DEPTH, no cycles) and the one it
    waits for (not stored yet), if any."""
    chain: Chain = []
    seen = {p.key_id}
    current = p.ref
    while current and current not in seen and len(chain) < MAX_REF_DEPTH:
        seen.add(current)
        q = in_batch.get(current)
        if q is not None:
            chain.append((current, q.facets))
            current = q.ref
            continue
        record = existing.get(current)
        if not isinstance(record, StatementRecord):
            return chain, current
        chain.append((current, _stored_facets(record)))
        for target, found in _from_chain(record):
            if target in seen or len(chain) >= MAX_REF_DEPTH:
                return chain, None
            seen.add(target)
            chain.append((target, found))
        current = record.awaits
    return chain, None


def _fit(p: Prepared, chain: Chain) -> Chain:
    """The head of `chain` (levels to add to `p.chain`) whose reference copies still fit one transaction
    with `p`'s own operations (its item, copies, reference copies, and room for a few more)."""
    def cost(levels: Chain) -> int:
        return sum(len(indexing.copies(p.key_id, found, feed=False)) for _, found in levels)

    budget = MAX_OPS - 11 - len(indexing.copies(p.key_id, p.facets)) - cost(p.chain)
    kept: Chain = []
    for level in chain:
        budget -= cost([level])
        if budget < 0:
            break
        kept.append(level)
    return kept


def _from_chain(record: StatementRecord) -> Chain:
    return [(t, from_json(f)) for t, f in json.loads(record.ref_facets)] if record.ref_facets else []


def _adopt(tenant_id: str, p: Prepared, record: Item | None) -> tuple[list[_Op], str | None]:
    """`p` arrives and `record` was waiting for it: `record`'s copies under `p` and `p`'s own chain, its
    chain extended (conditional on still waiting for `p`); returns the ops and what it waits for next."""
    if not isinstance(record, StatementRecord) or record.awaits != p.key_id:
        return [], None  # not stored (its transaction failed) or already extended
    r = _from_record(record)
    seen = {r.key_id} | {t for t, _ in r.chain}
    added: Chain = []
    awaits = None
    levels: Chain = [(p.key_id, p.facets), *p.chain]
    for target, found in levels:
        if target in seen or len(r.chain) + len(added) >= MAX_REF_DEPTH:
            break
        seen.add(target)
        added.append((target, found))
    fitted = _fit(r, added)
    if len(fitted) == len(levels) and p.awaits and p.awaits not in seen and len(r.chain) + len(added) < MAX_REF_DEPTH:
        awaits = p.awaits
    added = fitted
    r.chain = r.chain + added
    item = StatementRecord(PK=keys.statement_pk(tenant_id, r.key_id), SK=keys.STATEMENT_SK)
    actions = [StatementRecord.ref_facets.set(json.dumps([[t, to_json(f)] for t, f in r.chain])),
               StatementRecord.awaits.set(awaits) if awaits else StatementRecord.awaits.remove()]
    ops = [_Op("put", c) for c in _ref_records(tenant_id, r, added)]
    return ops + [_Op("update", item, StatementRecord.awaits == p.key_id, r.key_id, actions)], awaits


def _check_ids(batch: list[Prepared]) -> None:
    ids = [p.key_id for p in batch]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("A batch repeats a statement id.", errors=[field_error("id", "repeated")])


def _mark_voided(batch: list[Prepared], existing: dict[str, Item]) -> None:
    """Statements of the batch voided by another of the batch, or by a stored one that came first."""
    in_batch = {p.key_id: p for p in batch}
    for p in batch:
        if p.voids and p.voids in in_batch:
            in_batch[p.voids].voided = True
        waiting = existing.get(p.key_id)
        if isinstance(waiting, AwaitedStatement) and any(
                isinstance(r := existing.get(i), StatementRecord) and r.voids == p.key_id for i in waiting.referrers):
            p.voided = True


def _own_ops(tenant_id: str, p: Prepared, in_batch: dict[str, Prepared], existing: dict[str, Item]) -> list[_Op]:
    """The statement item (over an `AwaitedStatement` as read, if there is one), its copies, and what voiding
    does."""
    waiting = existing.get(p.key_id)
    arrival = (AwaitedStatement.version == waiting.version if isinstance(waiting, AwaitedStatement)
               else Item.PK.does_not_exist())
    records = _records(tenant_id, p)
    ops = [_Op("put", records[0], arrival, p.key_id)]
    ops += [_Op("put", r, Item.PK.does_not_exist(), p.key_id) for r in records[1:]]
    if p.voids:
        stored = existing.get(p.voids) if p.voids not in in_batch else None
        target = stored if isinstance(stored, StatementRecord) else None
        if (target is not None and target.voids) or (p.voids in in_batch and in_batch[p.voids].voids):
            raise ValidationFailed("A voiding statement cannot be voided.",
                                   errors=[field_error("object.id", "targets a voiding statement", "#/object/id")])
        ops += _void_ops(tenant_id, p, target)
    return ops


def _awaited_op(tenant_id: str, awaited: str, ids: set[str], existing: dict[str, Item]) -> _Op:
    """Add `ids` to the statements waiting for `awaited` (conditional on the version read)."""
    old = existing.get(awaited)
    known = old if isinstance(old, AwaitedStatement) else None
    item = AwaitedStatement(PK=keys.statement_pk(tenant_id, awaited), SK=keys.STATEMENT_SK,
                            referrers=(known.referrers if known else set()) | ids,
                            version=(known.version if known else 0) + 1)
    return _Op("put", item, AwaitedStatement.version == known.version if known else Item.PK.does_not_exist(), awaited)


def _plan(ctx: TenantContext, batch: list[Prepared], existing: dict[str, Item]) -> _Plan:
    tenant_id = ctx.tenant_id
    in_batch = {p.key_id: p for p in batch}
    _mark_voided(batch, existing)
    for p in batch:
        p.chain, p.awaits = [], None
        chain, awaits = _chain(p, in_batch, existing)
        p.chain = _fit(p, chain)
        p.awaits = awaits if len(p.chain) == len(chain) else None
    units: list[tuple[list[_Op], list[_Op]]] = []
    waits: dict[str, tuple[int, set[str]]] = {}  # statement not stored yet -> (first unit, ids waiting for it)
    for n, p in enumerate(batch):
        ops, extra = _own_ops(tenant_id, p, in_batch, existing), []
        if p.awaits:
            waits.setdefault(p.awaits, (n, set()))[1].add(p.key_id)
        waiting = existing.get(p.key_id)
        for referrer in sorted(waiting.referrers) if isinstance(waiting, AwaitedStatement) else []:
            adopted, awaits = _adopt(tenant_id, p, existing.get(referrer))
            extra += adopted
            if awaits:
                waits.setdefault(awaits, (n, set()))[1].add(referrer)
        units.append((ops, extra))
    for awaited, (n, ids) in waits.items():  # with the first statement that waits for it
        units[n][0].append(_awaited_op(tenant_id, awaited, ids, existing))
    plan = _Plan(ctx)
    for p, (ops, extra) in zip(batch, units, strict=True):
        plan.add(p, ops, extra)
    return plan


def store(ctx: TenantContext, raw: list[Any], parts: list[attachments.Part] | None = None) -> list[str]:
    """Validate and store a batch; returns the ids in order (the caller has checked it is a list). `parts`:
    the attachment data of a multipart/mixed request. Attachment data and statements too large for their
    items go to S3 first, then the transactions that reference them."""
    stored = utcnow_iso()
    batch = [prepare(ctx, doc, stored) for doc in raw]
    _check_ids(batch)
    attachments.store(ctx.tenant_id, attachments.check(raw, parts))
    for p in batch:
        if p.doc_ref:
            blobs.put(p.doc_ref, p.serialized.encode(), "application/json")
    refs = {p.ref for p in batch if p.ref}  # voiding statements included
    batch_ids = {p.key_id for p in batch}
    existing: dict[str, Item] = {}
    ops = sum(len(indexing.copies(p.key_id, p.facets)) + 1 for p in batch)
    if refs or ops > MAX_OPS - 1:  # more than one transaction (each keeps one operation for its event)
        _load(ctx.tenant_id, batch_ids | refs, existing, batch_ids)
    fresh = _without_stored(batch, existing)
    for _attempt in range(3):
        try:
            _plan(ctx, fresh, existing).commit()
            activities.record(ctx.tenant_id, [p.doc for p in fresh])
            return [p.id for p in batch]
        except TxConflict as exc:  # stored meanwhile (or a retry of this very batch), or awaited: read, go on
            ids = {label for label in exc.labels if label}
            if not ids:
                raise
            _load(ctx.tenant_id, ids, existing, batch_ids)
            fresh = _without_stored(fresh, existing)
    raise Conflict("The statements kept conflicting with concurrent writes; retry the request.")


def read(ctx: TenantContext, statement_id: str, voided: bool) -> tuple[dict[str, Any], str]:
    """The statement (and its stored time) by id; `voided` asks for a voided one (voidedStatementId).
    With only statements/read/mine, another authority's statement is not there for the caller."""
    key_id = statement_id.lower()
    if not keys.is_safe(key_id):
        raise NotFound("No such statement.")
    record, voided_by = None, False
    for item in Item.query(keys.statement_pk(ctx.tenant_id, key_id)):
        if isinstance(item, StatementRecord):
            record = item
        elif isinstance(item, VoidMarker):
            voided_by = True
    if record is not None and scopes.READ_ALL not in ctx.principal.scopes \
            and record.authority != authority_name(ctx.principal):
        record = None
    if record is None or (voided_by and not record.voids) != voided:
        raise NotFound("No such statement." if not voided else "No such voided statement.")
    return document(record), record.stored


def document(record: StatementRecord) -> dict[str, Any]:
    """The statement JSON of an item or index copy: in the item, or (too large for it) one S3 GetObject."""
    doc: dict[str, Any] = json.loads(blobs.require(record.doc_ref) if record.doc_ref else record.doc)
    return doc
