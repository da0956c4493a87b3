"""Support cases of a partner's customers with SLA clocks (docs/partners.md "SLAs").

A case lives in the customer's partition (keys.support_case_pk) with its responses and one due-time index entry
per open clock (keys.sla_due_sk; GSI1 by quarter hour, read by partners.sla_job). Opening reads the partner's
calendar and the policy (one BatchGetItem) and fixes both due times. Each clock moves pending -> met | breached
once: responding, resolving and the breach job all update the case conditionally on the clock state they read,
and a clock that stops deletes its due entry in the same transaction. Events go to the partner's outbox.
"""

from __future__ import annotations

import zlib
from functools import partial
from typing import Any

from pynamodb.models import Model

from chalicelib import clock
from chalicelib.auth.principal import TenantContext
from chalicelib.clock import iso, new_id
from chalicelib.errors import Conflict, Forbidden, NotFound
from chalicelib.events.outbox import event_item
from chalicelib.jobs import due_index
from chalicelib.partners import sla_views as views
from chalicelib.partners.business_hours import add_business_hours
from chalicelib.partners.sla_calendar import terms_for
from chalicelib.store import keys, pagination
from chalicelib.store.models import Event, Item, SlaDueEntry, SupportCase, SupportCaseResponse
from chalicelib.store.tx import Tx
from chalicelib.tenancy.cache import tenant_record

STATUS = {"response": SupportCase.response_status, "resolution": SupportCase.resolution_status}


def due_entry(case: SupportCase, clock: str) -> SlaDueEntry:
    due = views.due_at(case, clock)
    shard = zlib.crc32(case.id.encode()) % keys.SLA_DUE_SHARDS
    return SlaDueEntry(PK=keys.support_case_pk(case.tenant_id, case.id), SK=keys.sla_due_sk(clock),
                       GSI1PK=keys.sla_due_gsi1pk(due_index.bucket_of(due), shard),
                       GSI1SK=keys.sla_due_gsi1sk(due, case.id, clock), tenant_id=case.tenant_id,
                       partner_id=case.partner_id, case_id=case.id, clock=clock, due_at=due)


def breach_event(case_id: str, partner_id: str, tenant_id: str, clock: str, due: str, actor: str,
                 correlation_id: str = "") -> Event:
    return event_item(partner_id, "SlaBreached", {"caseId": case_id, "partnerId": partner_id, "tenantId": tenant_id,
                                                  "clock": clock, "dueAt": due},
                      actor=actor, correlation_id=correlation_id)


def _partner_of(ctx: TenantContext) -> str:
    """The partner serving the path's tenant: only a partner's customer (not a sandbox) opens cases."""
    record = tenant_record(ctx.tenant_id)
    parent = tenant_record(record.parent_id) if record and record.parent_id else None
    if ctx.tenant_kind != "customer" or record is None or record.sandbox_of or parent is None \
            or parent.kind != "partner":
        raise Conflict("This tenant has no partner: support cases with SLAs are opened by customers of a reseller "
                       "partner, whose support answers them; this tenant is supported by the operator directly.")
    return parent.id


def open_case(ctx: TenantContext, body: Any) -> dict[str, Any]:
    partner_id = _partner_of(ctx)
    calendar, policy = terms_for(partner_id)
    hours = policy[body.severity]
    now = clock.utcnow()
    at, case_id = iso(now), new_id("sc")
    case = SupportCase(
        PK=keys.support_case_pk(ctx.tenant_id, case_id), SK=keys.SUPPORT_CASE_SK,
        GSI1PK=keys.tenant_cases_gsi1pk(ctx.tenant_id), GSI1SK=keys.support_case_list_sk(at, case_id),
        GSI2PK=keys.partner_cases_gsi2pk(partner_id), GSI2SK=keys.support_case_list_sk(at, case_id),
        id=case_id, tenant_id=ctx.tenant_id, partner_id=partner_id, subject=body.subject,
        description=body.description, severity=body.severity, status="open", opened_by=ctx.principal.subject,
        opened_at=at, calendar=calendar.to_json(), response_hours=hours["responseHours"],
        resolution_hours=hours["resolutionHours"],
        response_due_at=iso(add_business_hours(now, hours["responseHours"], calendar)),
        resolution_due_at=iso(add_business_hours(now, hours["resolutionHours"], calendar)),
        response_status="pending", resolution_status="pending", breached=False, responses=0, updated_at=at)
    tx = Tx().put(case, Item.PK.does_not_exist(), "case")
    for name in views.CLOCKS:
        tx.put(due_entry(case, name), label=f"due:{name}")
    tx.put(event_item(partner_id, "SupportCaseOpened", {
        "caseId": case_id, "partnerId": partner_id, "tenantId": ctx.tenant_id, "severity": body.severity,
        "responseDueAt": case.response_due_at, "resolutionDueAt": case.resolution_due_at},
        actor=ctx.principal.subject, correlation_id=ctx.correlation_id))
    tx.commit()
    return views.case_view(case, now)


def _sees_all(ctx: TenantContext) -> bool:
    return ctx.acts_as_admin


def list_for_tenant(ctx: TenantContext, query: Any) -> dict[str, Any]:
    """The customer's cases, newest first (admins: all; others: those they opened). One Query."""
    condition = _filters(query)
    if not _sees_all(ctx):
        mine = SupportCase.opened_by == ctx.principal.subject
        condition = mine if condition is None else condition & mine
    listing = partial(SupportCase.gsi1.query, keys.tenant_cases_gsi1pk(ctx.tenant_id), scan_index_forward=False,
                      filter_condition=condition)
    now = clock.utcnow()
    return pagination.page(listing, f"support-cases:{ctx.tenant_id}:{ctx.principal.subject}", query,
                           lambda c: views.case_view(c, now), SupportCase)


def list_for_partner(ctx: TenantContext, query: Any) -> dict[str, Any]:
    """The cases of the partner's customers, newest first (its admins, the operator). One Query."""
    if ctx.tenant_kind != "partner":
        raise NotFound("No such partner.")
    if not ctx.acts_as_admin:
        raise Forbidden("Only the partner's admins and the operator read its support cases.")
    listing = partial(SupportCase.gsi2.query, keys.partner_cases_gsi2pk(ctx.tenant_id), scan_index_forward=False,
                      filter_condition=_filters(query))
    now = clock.utcnow()
    return pagination.page(listing, f"partner-cases:{ctx.tenant_id}", query, lambda c: views.case_view(c, now),
                           SupportCase)


def _filters(query: Any) -> Any:
    condition = None
    if query.status is not None:
        condition = SupportCase.status == query.status
    if query.breached is not None:
        flag = SupportCase.breached == query.breached
        condition = flag if condition is None else condition & flag
    return condition


def get_case(ctx: TenantContext, case_id: str) -> dict[str, Any]:
    """The case with its responses: one Query of its partition."""
    if not keys.is_safe(case_id):
        raise NotFound("No such support case.")
    items = list(Item.query(keys.support_case_pk(ctx.tenant_id, case_id)))
    case = next((i for i in items if isinstance(i, SupportCase)), None)
    if case is None or (not _sees_all(ctx) and case.opened_by != ctx.principal.subject):
        raise NotFound("No such support case.")
    responses = sorted((i for i in items if isinstance(i, SupportCaseResponse)), key=lambda r: r.at)
    return {**views.case_view(case, clock.utcnow()), "responses": [views.response_view(r) for r in responses]}


def load(ctx: TenantContext, case_id: str) -> SupportCase:
    if ctx.relation not in ("customer", "operator"):
        raise Forbidden("Support cases are answered by the partner's support: its admins (or the operator).")
    if not keys.is_safe(case_id):
        raise NotFound("No such support case.")
    try:
        return SupportCase.get(keys.support_case_pk(ctx.tenant_id, case_id), keys.SUPPORT_CASE_SK)
    except Model.DoesNotExist:
        raise NotFound("No such support case.") from None
