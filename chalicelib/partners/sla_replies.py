"""The partner's side of a support case: responses (the first stops the response clock) and the resolution.

Both read the case (one GetItem) and write one transaction conditional on the clock states read, so a clock is
decided once whatever runs at the same time (another responder, the breach job); a stopped clock's due entry
is deleted in that transaction. Retries are idempotent: the same message by the same author is the same item,
and resolving a resolved case with the same text answers the case as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from chalicelib import clock
from chalicelib.auth.principal import TenantContext
from chalicelib.clock import iso
from chalicelib.errors import Conflict
from chalicelib.events.outbox import event_item
from chalicelib.partners import sla_views as views
from chalicelib.partners.sla_cases import STATUS, breach_event, load
from chalicelib.store import keys
from chalicelib.store.models import Item, SlaDueEntry, SupportCase, SupportCaseResponse
from chalicelib.store.tx import Tx, TxConflict


def stop_clock(tx: Tx, case: SupportCase, clock: str, at: str, actions: list[Any], ctx: TenantContext) -> bool:
    """Stop a running clock: met, or breached (with its SlaBreached) when late; its due entry leaves the index.
    A clock the job already breached stays breached. Also applied to `case` in memory. True: breached now (the
    caller sets `breached` once: an attribute may appear once in an update)."""
    tx.delete(SlaDueEntry(PK=keys.support_case_pk(case.tenant_id, case.id), SK=keys.sla_due_sk(clock)),
              label=f"due:{clock}")
    if views.status_of(case, clock) != "pending":
        return False
    late = at > views.due_at(case, clock)
    outcome = "breached" if late else "met"
    actions.append(STATUS[clock].set(outcome))
    setattr(case, f"{clock}_status", outcome)
    if late:
        tx.put(breach_event(case.id, case.partner_id, case.tenant_id, clock, views.due_at(case, clock),
                            ctx.principal.subject, ctx.correlation_id))
        case.breached = True
    return late


def response_id(case_id: str, author: str, message: str) -> str:
    return hashlib.sha256(f"{case_id}\n{author}\n{message}".encode()).hexdigest()[:32]


def _twice(ctx: TenantContext, case_id: str, step: Callable[[SupportCase], dict[str, Any]],
           replay: Callable[[SupportCase, TxConflict | None], dict[str, Any] | None]) -> dict[str, Any]:
    """Read, then write conditionally; a lost race reads again and tries once more (or replays a retry)."""
    for attempt in range(2):
        case = load(ctx, case_id)
        done = replay(case, None)
        if done is not None:
            return done
        try:
            return step(case)
        except TxConflict as conflict:
            case = load(ctx, case_id)
            done = replay(case, conflict)
            if done is not None:
                return done
            if attempt:
                raise Conflict("The case changed while this request ran; retry it.") from None
    raise AssertionError("unreachable")


def respond(ctx: TenantContext, case_id: str, body: Any) -> dict[str, Any]:
    def replay(case: SupportCase, conflict: TxConflict | None) -> dict[str, Any] | None:
        if conflict is not None and "response" in conflict.labels:
            return {**views.case_view(case, clock.utcnow()), "replayed": True}
        if case.status == "resolved":
            raise Conflict("The case is resolved; it takes no more responses.")
        return None

    return _twice(ctx, case_id, lambda case: _respond(ctx, case, body.message), replay)


def _respond(ctx: TenantContext, case: SupportCase, message: str) -> dict[str, Any]:
    now = clock.utcnow()
    at, author, first = iso(now), ctx.principal.subject, case.responded_at is None
    reply = SupportCaseResponse(PK=keys.support_case_pk(case.tenant_id, case.id),
                                SK=keys.case_response_sk(response_id(case.id, author, message)),
                                case_id=case.id, message=message, author=author, at=at, first=first)
    tx = Tx().put(reply, Item.PK.does_not_exist(), "response")
    actions: list[Any] = [SupportCase.responses.add(1), SupportCase.updated_at.set(at)]
    condition = SupportCase.status != "resolved"
    if first:
        actions += [SupportCase.responded_at.set(at), SupportCase.responded_by.set(author),
                    SupportCase.status.set("responded")]
        condition &= SupportCase.responded_at.does_not_exist() & (SupportCase.response_status == case.response_status)
        if stop_clock(tx, case, "response", at, actions, ctx):
            actions.append(SupportCase.breached.set(True))
    tx.update(case, actions, condition, "case")
    tx.put(event_item(case.partner_id, "SupportCaseResponded", {
        "caseId": case.id, "partnerId": case.partner_id, "tenantId": case.tenant_id, "firstResponse": first,
        "at": at}, actor=author, correlation_id=ctx.correlation_id))
    tx.commit()
    case.responses, case.updated_at = int(case.responses or 0) + 1, at
    if first:
        case.responded_at, case.responded_by, case.status = at, author, "responded"
    return {**views.case_view(case, now), "response": views.response_view(reply)}


def resolve(ctx: TenantContext, case_id: str, body: Any) -> dict[str, Any]:
    """Resolve the case once; with no response yet, the resolution is also the first response."""
    def replay(case: SupportCase, conflict: TxConflict | None) -> dict[str, Any] | None:
        if case.resolved_at is None:
            return None
        if case.resolution == body.resolution:
            return {**views.case_view(case, clock.utcnow()), "replayed": True}
        raise Conflict("The case is already resolved.")

    return _twice(ctx, case_id, lambda case: _resolve(ctx, case, body.resolution), replay)


def _resolve(ctx: TenantContext, case: SupportCase, resolution: str) -> dict[str, Any]:
    now = clock.utcnow()
    at, who = iso(now), ctx.principal.subject
    condition = (SupportCase.resolved_at.does_not_exist() & (SupportCase.response_status == case.response_status)
                 & (SupportCase.resolution_status == case.resolution_status))
    actions: list[Any] = [SupportCase.status.set("resolved"), SupportCase.resolved_at.set(at),
                          SupportCase.resolved_by.set(who), SupportCase.resolution.set(resolution),
                          SupportCase.updated_at.set(at)]
    tx, late = Tx(), False
    if case.responded_at is None:
        actions += [SupportCase.responded_at.set(at), SupportCase.responded_by.set(who)]
        late = stop_clock(tx, case, "response", at, actions, ctx)
        case.responded_at, case.responded_by = at, who
    if stop_clock(tx, case, "resolution", at, actions, ctx) or late:
        actions.append(SupportCase.breached.set(True))
    tx.update(case, actions, condition, "case")
    tx.put(event_item(case.partner_id, "SupportCaseResolved", {
        "caseId": case.id, "partnerId": case.partner_id, "tenantId": case.tenant_id, "at": at,
        "responseStatus": case.response_status, "resolutionStatus": case.resolution_status},
        actor=who, correlation_id=ctx.correlation_id))
    tx.commit()
    case.status, case.resolved_at, case.resolved_by, case.resolution, case.updated_at = (
        "resolved", at, who, resolution, at)
    return views.case_view(case, now)

