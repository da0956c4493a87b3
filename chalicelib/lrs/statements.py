"""Storing statements (PUT/POST) and reading one back (GET by statementId / voidedStatementId).

A batch is validated whole before anything is written; it is written as TransactWriteItems of at most
100 operations, each statement with all its index copies in the same transaction. A statement id that
is already stored is a no-op when the content matches and a 409 when it differs.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from chalicelib.auth.principal import Principal, TenantContext
from chalicelib.clock import utcnow_iso
from chalicelib.config import settings
from chalicelib.errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed, field_error
from chalicelib.events.outbox import event_item
from chalicelib.lrs import indexing, scopes
from chalicelib.lrs.facets import Facets, digest, facets
from chalicelib.lrs.validate import VOIDED
from chalicelib.lrs.validate_statement import statement as validate
from chalicelib.store import keys
from chalicelib.store.models import Item, StatementRecord, VoidMarker
from chalicelib.store.tx import Tx, TxConflict

MAX_OPS = 100  # TransactWriteItems' limit
MAX_DOC_BYTES = 48_000  # each index copy carries the document: bigger statements are not taken (yet)
_LRS_SET = ("id", "stored", "authority", "version")


@dataclass
class Prepared:
    id: str
    doc: dict[str, Any]
    digest: str
    stored: str
    facets: Facets
    voids: str | None
    voided: bool = False

    @property
    def key_id(self) -> str:
        return self.id.lower()


def platform_context(tenant_id: str, subject: str) -> TenantContext:
    """The platform itself storing statements in a tenant's LRS (course outcomes, cmi5's own statements);
    `subject` is the authority's account name (`system:player`, `system:cmi5`)."""
    from chalicelib.auth.scopes import ALL

    principal = Principal(subject=subject, tenant_id=tenant_id, roles=frozenset({"admin"}), scopes=ALL, kind="client")
    return TenantContext(tenant_id=tenant_id, principal=principal, relation="own")


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
    if len(json.dumps(doc)) > MAX_DOC_BYTES:
        raise PayloadTooLarge(f"Statement {statement_id} is over {MAX_DOC_BYTES} bytes.")
    voids = str(raw["object"]["id"]).lower() if raw["verb"]["id"] == VOIDED else None
    return Prepared(statement_id, doc, digest({k: v for k, v in raw.items() if k not in _LRS_SET}), stored,
                    facets(doc), voids)


def _record(tenant_id: str, p: Prepared, copy: indexing.Copy | None) -> StatementRecord:
    """The statement item (`copy` None) or one of its index copies."""
    f = p.facets
    shard = copy.shard if copy else 0
    return StatementRecord(
        PK=(keys.statement_pk(tenant_id, p.key_id) if copy is None
            else keys.statement_feed_pk(tenant_id, shard or 0) if copy.dimension == "feed"
            else keys.statement_index_pk(tenant_id, copy.dimension, copy.value_hash, copy.shard)),
        SK=keys.STATEMENT_SK if copy is None else keys.statement_order_sk(p.stored, p.key_id),
        statement_id=p.id, doc=json.dumps(p.doc, separators=(",", ":")), digest=p.digest,
        stored=p.stored, verb=f.verb, voids=p.voids, voided=True if p.voided else None,
        authority=str(p.doc["authority"]["account"]["name"]), agents=f.agents or None,
        related_agents=f.related_agents or None, activity=f.activity,
        related_activities=f.related_activities or None, registration=f.registration)


def _records(tenant_id: str, p: Prepared) -> list[StatementRecord]:
    return [_record(tenant_id, p, None)] + [_record(tenant_id, p, c) for c in indexing.copies(p.key_id, p.facets)]


def _read(tenant_id: str, ids: set[str]) -> dict[str, StatementRecord]:
    wanted = [(keys.statement_pk(tenant_id, i), keys.STATEMENT_SK) for i in sorted(ids) if keys.is_safe(i)]
    return {r.statement_id.lower(): r for r in StatementRecord.batch_get(wanted)} if wanted else {}


def _without_stored(batch: list[Prepared], existing: dict[str, StatementRecord]) -> list[Prepared]:
    """Drop statements already stored with the same content; a different one is a 409."""
    fresh = []
    for p in batch:
        old = existing.get(p.key_id)
        if old is None:
            fresh.append(p)
        elif old.digest != p.digest:
            raise Conflict(f"Statement {p.id} is already stored with different content.")
    return fresh


class _Plan:
    """Transactions of at most MAX_OPS operations; one statement's operations never straddle two, and each
    transaction carries one `StatementsStored` event naming the statements it stores (the outbox)."""

    def __init__(self, ctx: TenantContext) -> None:
        self.ctx = ctx
        self.groups: list[list[tuple[str, Any, str]]] = []
        self.stored: list[list[Prepared]] = []

    def add(self, p: Prepared, ops: list[tuple[str, Any, str]]) -> None:
        if not self.groups or len(self.groups[-1]) + len(ops) > MAX_OPS - 1:  # room for the event
            self.groups.append([])
            self.stored.append([])
        self.groups[-1].extend(ops)
        self.stored[-1].append(p)

    def commit(self) -> None:
        for group, stored in zip(self.groups, self.stored, strict=True):
            tx = Tx()
            for kind, item, label in group:
                if kind == "put":
                    tx.put(item, Item.PK.does_not_exist(), label)
                elif kind == "void":
                    tx.update(item, [StatementRecord.voided.set(True)], Item.PK.exists(), label)
                else:
                    tx.put(item)
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


def _void_ops(tenant_id: str, p: Prepared, target: StatementRecord | None) -> list[tuple[str, Any, str]]:
    assert p.voids is not None
    ops: list[tuple[str, Any, str]] = [("marker", VoidMarker(PK=keys.statement_pk(tenant_id, p.voids),
                                                             SK=keys.voided_by_sk(p.key_id),
                                                             voiding_id=p.id), "")]
    if target is None or target.voided:
        return ops
    old = Prepared(target.statement_id, json.loads(target.doc), target.digest, target.stored,
                   facets(json.loads(target.doc)), target.voids)
    return ops + [("void", r, "") for r in _records(tenant_id, old)]


def _check_ids(batch: list[Prepared]) -> None:
    ids = [p.key_id for p in batch]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("A batch repeats a statement id.", errors=[field_error("id", "repeated")])


def _plan(ctx: TenantContext, batch: list[Prepared], existing: dict[str, StatementRecord]) -> _Plan:
    plan = _Plan(ctx)
    in_batch = {p.key_id: p for p in batch}
    for p in batch:
        if p.voids and p.voids in in_batch:
            in_batch[p.voids].voided = True
    for p in batch:
        ops = [("put", r, p.key_id) for r in _records(ctx.tenant_id, p)]
        if p.voids:
            target = existing.get(p.voids) if p.voids not in in_batch else None
            if (target is not None and target.voids) or (p.voids in in_batch and in_batch[p.voids].voids):
                raise ValidationFailed("A voiding statement cannot be voided.",
                                       errors=[field_error("object.id", "targets a voiding statement", "#/object/id")])
            ops += _void_ops(ctx.tenant_id, p, target)
        plan.add(p, ops)
    return plan


def store(ctx: TenantContext, raw: list[Any]) -> list[str]:
    """Validate and store a batch; returns the ids in order (the caller has checked it is a list)."""
    stored = utcnow_iso()
    batch = [prepare(ctx, doc, stored) for doc in raw]
    _check_ids(batch)
    targets = {p.voids for p in batch if p.voids}
    existing: dict[str, StatementRecord] = {}
    ops = sum(len(indexing.copies(p.key_id, p.facets)) + 1 for p in batch)
    if targets or ops > MAX_OPS - 1:  # more than one transaction (each keeps one operation for its event)
        existing = _read(ctx.tenant_id, {p.key_id for p in batch} | targets)
    fresh = _without_stored(batch, existing)
    for _attempt in range(3):
        try:
            _plan(ctx, fresh, existing).commit()
            return [p.id for p in batch]
        except TxConflict as exc:  # stored meanwhile (or a retry of this very batch): compare and go on
            ids = {label for label in exc.labels if label}
            if not ids:
                raise
            existing.update(_read(ctx.tenant_id, ids))
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
    doc: dict[str, Any] = json.loads(record.doc)
    return doc, record.stored
