"""Apply CRM events to users, each event once: the record it concerns, then the user, then the claim.

The claims (tenant, source, event id) and the records' last known state are read together (one
BatchGetItem for a whole request); a claimed event is a replay and changes nothing. The other events of
one record are merged into it in time order (a field older than the one held is ignored: events arrive out
of order), the user is brought once to what the record then says (users.service, which writes the user
events that enrollment rules follow), and last the record and the events' claims are written in one
transaction. A failure before that transaction leaves no claim, so the CRM's retry redoes the work, which
converges: the user write compares with the user as it is and writes nothing twice. Of two deliveries of
one event running at once, one writes the claim; the other's transaction fails on it: a duplicate.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chalicelib import observability
from chalicelib.auth.principal import TenantContext
from chalicelib.clock import utcnow_iso
from chalicelib.errors import OnrampError
from chalicelib.integrations.crm import apply
from chalicelib.integrations.crm.apply import Outcome
from chalicelib.integrations.crm.config import Settings
from chalicelib.integrations.crm.mapping import wanted
from chalicelib.store import keys
from chalicelib.store.models import CrmEventClaim, CrmRecord, Item, plain
from chalicelib.store.tx import Tx, TxConflict

CLAIM_SECONDS = 35 * 24 * 3600  # CRMs retry for a day or so; a claim outlives any retry
_ATTEMPTS = 3
_PER_TRANSACTION = 99  # TransactWriteItems takes 100 items: the record and 99 claims


@dataclass
class Change:
    """One CRM event about one record: the fields it carries, stamped for ordering."""

    event_id: str
    record_id: str
    stamp: str  # sorts in time order (ISO-8601, or zero-padded epoch milliseconds)
    values: dict[str, Any] = field(default_factory=dict)
    deleted: bool | None = None  # True: the record was deleted; False: restored
    index: int = 0  # its place in the request


def process(ctx: TenantContext, cfg: Settings, changes: list[Change]) -> list[Outcome]:
    """Outcomes in the order of `changes`; each record's events are applied together, in time order."""
    claims, records = _prefetch(ctx.tenant_id, cfg.source, changes)
    done: dict[int, Outcome] = {}
    groups: dict[str, list[Change]] = {}
    seen: set[str] = set()
    for change in sorted(changes, key=lambda c: (c.stamp, c.index)):
        if change.event_id in claims:
            claim = claims[change.event_id]
            done[change.index] = Outcome(change.event_id, "replayed", claim.user_id, claim.outcome)
        elif change.event_id in seen:
            done[change.index] = Outcome(change.event_id, "duplicate", detail="twice in this request")
        else:
            seen.add(change.event_id)
            groups.setdefault(change.record_id, []).append(change)
    for record_id, group in groups.items():
        for start in range(0, len(group), _PER_TRANSACTION):  # the record + claims: one transaction each
            done.update(_group(ctx, cfg, record_id, group[start:start + _PER_TRANSACTION], records))
        observability.count(f"Crm{cfg.source.capitalize()}Event", len(group))
    return [done[c.index] for c in changes]


def _prefetch(tenant_id: str, source: str, changes: Iterable[Change]
              ) -> tuple[dict[str, CrmEventClaim], dict[str, CrmRecord]]:
    wanted_keys = {(keys.crm_event_pk(tenant_id, source, c.event_id), keys.CRM_EVENT_SK) for c in changes}
    wanted_keys |= {(keys.crm_record_pk(tenant_id, source, c.record_id), keys.CRM_RECORD_SK) for c in changes}
    claims, records = {}, {}
    for item in Item.batch_get(sorted(wanted_keys)) if wanted_keys else ():
        if isinstance(item, CrmEventClaim):
            claims[item.PK] = item
        elif isinstance(item, CrmRecord):
            records[item.record_id] = item
    by_event = {c.event_id: claims[pk] for c in changes
                if (pk := keys.crm_event_pk(tenant_id, source, c.event_id)) in claims}
    return by_event, records


def _new_record(tenant_id: str, source: str, record_id: str) -> CrmRecord:
    return CrmRecord(PK=keys.crm_record_pk(tenant_id, source, record_id), SK=keys.CRM_RECORD_SK,
                     record_id=record_id, fields={}, deactivated_by_source=False, updated_at="", version=0)


def _merge(record: CrmRecord, change: Change, kept: set[str]) -> bool:
    """Fold the change into the record; False if it told the record nothing new (older, or unmapped)."""
    changed = False
    fields = plain(record.fields) or {}
    for name, value in change.values.items():
        held = fields.get(name)
        if name in kept and (held is None or change.stamp >= held.get("at", "")):
            changed = changed or held is None or held.get("v") != value
            fields[name] = {"v": value, "at": change.stamp}
    record.fields = fields
    if change.deleted is True and change.stamp >= (record.deleted_at or ""):
        record.deleted_at, changed = change.stamp, True
    if change.deleted is False and change.stamp >= (record.restored_at or ""):
        record.restored_at, changed = change.stamp, True
    return changed


def _status(change: Change, new: set[int], linked: bool, result: Outcome, kept: set[str]) -> str:
    """The record's outcome for the events that brought something new (or a bare creation of a record not
    yet linked); else stale (older than what the record holds) or ignored (nothing the platform maps)."""
    if change.index in new or (not linked and not change.values and change.deleted is None):
        return result.status
    return "stale" if change.deleted is not None or kept & change.values.keys() else "ignored"


def _outcome(change: Change, status: str, result: Outcome, record: CrmRecord) -> Outcome:
    if status != result.status:
        return Outcome(change.event_id, status, record.user_id)
    return Outcome(change.event_id, status, result.user_id or record.user_id, result.detail, result.errors)


def _deleted(record: CrmRecord) -> bool:
    return bool(record.deleted_at) and record.deleted_at > (record.restored_at or "")


def _group(ctx: TenantContext, cfg: Settings, record_id: str, group: list[Change],
           records: dict[str, CrmRecord]) -> dict[int, Outcome]:
    kept = set(cfg.field_mapping) | ({cfg.deactivate_when["field"]} if cfg.deactivate_when else set())
    out: dict[int, Outcome] = {}
    for _ in range(_ATTEMPTS):
        held = records.get(record_id) or _new_record(ctx.tenant_id, cfg.source, record_id)
        record = CrmRecord.from_raw_data(held.serialize()) if held.version else held
        new = {c.index for c in group if _merge(record, c, kept)}
        linked = bool(record.user_id)
        if not new and linked:
            result = Outcome("", "stale", record.user_id)
        else:
            values = {name: f["v"] for name, f in (plain(record.fields) or {}).items()}
            want = wanted(cfg.field_mapping, cfg.deactivate_when, values, _deleted(record))
            try:
                result = apply.bring_user(ctx, cfg.source, record, want, "")
            except OnrampError as err:  # the record cannot become a user as it is: say so, don't retry
                result = Outcome("", "error", record.user_id, err.detail, err.errors)
        outcomes = {c.index: _outcome(c, _status(c, new, linked, result, kept), result, record) for c in group}
        try:
            _commit(ctx.tenant_id, cfg.source, record, group, outcomes, expected=int(held.version))
        except TxConflict as exc:
            taken = {label.removeprefix("claim:") for label in exc.labels if label.startswith("claim:")}
            for c in (c for c in group if c.event_id in taken):  # another delivery processed these meanwhile
                out[c.index] = Outcome(c.event_id, "duplicate", detail="processed meanwhile by another delivery")
            group = [c for c in group if c.event_id not in taken]
            if "record" in exc.labels:  # another event of the record won: read it again
                _reload(records, ctx.tenant_id, cfg.source, record_id)
            if not group:
                return out
            continue
        records[record_id] = record
        return {**out, **outcomes}
    raise RuntimeError(f"the CRM record {record_id} kept changing; the CRM retries the event")


def _reload(records: dict[str, CrmRecord], tenant_id: str, source: str, record_id: str) -> None:
    records.pop(record_id, None)
    try:
        records[record_id] = CrmRecord.get(keys.crm_record_pk(tenant_id, source, record_id), keys.CRM_RECORD_SK)
    except CrmRecord.DoesNotExist:
        pass


def _commit(tenant_id: str, source: str, record: CrmRecord, group: list[Change], outcomes: dict[int, Outcome],
            expected: int) -> None:
    record.version, record.updated_at = expected + 1, utcnow_iso()
    tx = Tx()
    tx.put(record, (CrmRecord.version == expected) if expected else Item.PK.does_not_exist(), "record")
    for change in group:
        outcome = outcomes[change.index]
        claim = CrmEventClaim(PK=keys.crm_event_pk(tenant_id, source, change.event_id), SK=keys.CRM_EVENT_SK,
                              outcome=outcome.status, user_id=outcome.user_id,
                              detail=(outcome.detail or "")[:500] or None, processed_at=record.updated_at,
                              ttl=int(time.time()) + CLAIM_SECONDS)
        tx.put(claim, Item.PK.does_not_exist(), f"claim:{change.event_id}")
    tx.commit()
