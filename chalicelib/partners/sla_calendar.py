"""A partner's business calendar and the operator's SLA policy (hours per severity) — docs/partners.md "SLAs".

The calendar is one item in the partner's partition (keys.sla_pk / SLA_CALENDAR_SK), the policy one operator item
(keys.sla_policy_pk / SLA_POLICY_SK); while either is absent its default applies. Opening a case reads both in
one BatchGetItem (`terms_for`) and copies them onto the case, so later changes never move an open case's clocks.
"""

from __future__ import annotations

import copy
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pynamodb.models import Model

from chalicelib.auth.principal import Principal, TenantContext
from chalicelib.clock import utcnow_iso
from chalicelib.errors import Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.events.outbox import event_item
from chalicelib.partners.business_hours import Calendar
from chalicelib.store import keys
from chalicelib.store.models import Item, SlaCalendar, SlaPolicy
from chalicelib.store.tx import Tx

SEVERITIES = ("high", "medium", "low")
# Business hours both ways: the issue measures both clocks "in business hours per the partner's calendar", and a
# calendar-hour resolution clock would expire over a weekend nobody works (48 h from Friday 16:00 is Sunday).
DEFAULT_POLICY: dict[str, dict[str, int]] = {
    "high": {"responseHours": 4, "resolutionHours": 48},
    "medium": {"responseHours": 8, "resolutionHours": 72},
    "low": {"responseHours": 16, "resolutionHours": 120},
}
_ZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*$")


def _partner_admin_or_operator(ctx: TenantContext, write: bool) -> None:
    if ctx.tenant_kind != "partner":
        raise NotFound("No such partner.")
    if not ctx.acts_as_admin:
        raise Forbidden("Only the partner's admins and the operator " + ("change" if write else "read")
                        + " its SLA calendar.")


def policy_of(item: SlaPolicy | None) -> dict[str, Any]:
    return dict(item.policy) if item is not None else copy.deepcopy(DEFAULT_POLICY)


def calendar_of(item: SlaCalendar | None) -> Calendar:
    return Calendar.from_json(item.calendar if item is not None else None)


def terms_for(partner_id: str) -> tuple[Calendar, dict[str, Any]]:
    """The partner's calendar and the policy in force: one BatchGetItem."""
    found = list(Item.batch_get([(keys.sla_pk(partner_id), keys.SLA_CALENDAR_SK),
                                 (keys.sla_policy_pk(), keys.SLA_POLICY_SK)]))
    calendar = next((i for i in found if isinstance(i, SlaCalendar)), None)
    policy = next((i for i in found if isinstance(i, SlaPolicy)), None)
    return calendar_of(calendar), policy_of(policy)


def _render(partner_id: str, calendar: Calendar, source: str, policy: dict[str, Any] | None = None,
            updated_at: str | None = None) -> dict[str, Any]:
    out = {"partnerId": partner_id, **calendar.to_json(), "source": source, "updatedAt": updated_at}
    if policy is not None:
        out["policy"] = policy
    return out


def get_calendar(ctx: TenantContext) -> dict[str, Any]:
    _partner_admin_or_operator(ctx, write=False)
    found = list(Item.batch_get([(keys.sla_pk(ctx.tenant_id), keys.SLA_CALENDAR_SK),
                                 (keys.sla_policy_pk(), keys.SLA_POLICY_SK)]))
    item = next((i for i in found if isinstance(i, SlaCalendar)), None)
    policy = policy_of(next((i for i in found if isinstance(i, SlaPolicy)), None))
    return _render(ctx.tenant_id, calendar_of(item), "partner" if item else "default", policy,
                   item.updated_at if item else None)


def _validated_calendar(body: Any) -> Calendar:
    errors = []
    zone = body.timezone
    try:
        if not _ZONE.match(zone) or zone.lower() == "localtime":
            raise ValueError(zone)
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(field_error("timezone", f"`{zone}` is not an IANA time zone (e.g. Europe/Berlin)"))
    hours = body.workingHours
    if hours.end != "24:00" and hours.end <= hours.start:
        errors.append(field_error("workingHours.end", "must be after workingHours.start", "#/workingHours/end"))
    if len(set(body.workingDays)) != len(body.workingDays):
        errors.append(field_error("workingDays", "a day repeats"))
    if errors:
        raise ValidationFailed("The SLA calendar is invalid.", errors=errors)
    return Calendar(timezone=zone, working_days=frozenset(body.workingDays), start=hours.start, end=hours.end,
                    holidays=frozenset(body.holidays))


def put_calendar(ctx: TenantContext, body: Any) -> dict[str, Any]:
    """Replace the partner's calendar (its admins, the operator); cases already open keep the calendar they got."""
    _partner_admin_or_operator(ctx, write=True)
    calendar = _validated_calendar(body)
    now = utcnow_iso()
    item = SlaCalendar(PK=keys.sla_pk(ctx.tenant_id), SK=keys.SLA_CALENDAR_SK, partner_id=ctx.tenant_id,
                       calendar=calendar.to_json(), updated_at=now, updated_by=ctx.principal.subject)
    Tx().put(item, label="calendar").put(event_item(
        ctx.tenant_id, "SlaCalendarChanged", {"partnerId": ctx.tenant_id, **calendar.to_json()},
        actor=ctx.principal.subject, correlation_id=ctx.correlation_id)).commit()
    return _render(ctx.tenant_id, calendar, "partner", updated_at=now)


def get_policy() -> dict[str, Any]:
    try:
        item: SlaPolicy | None = SlaPolicy.get(keys.sla_policy_pk(), keys.SLA_POLICY_SK)
    except Model.DoesNotExist:
        item = None
    return {"policy": policy_of(item), "source": "operator" if item else "default",
            "updatedAt": item.updated_at if item else None, "businessHours": True}


def put_policy(principal: Principal, body: Any, correlation_id: str = "") -> dict[str, Any]:
    """Replace the SLA hours per severity (operator only); applies to cases opened from now on."""
    if not principal.is_operator:
        raise Forbidden("Only the operator sets the SLA policy.")
    policy = {s: {"responseHours": getattr(body, s).responseHours,
                  "resolutionHours": getattr(body, s).resolutionHours} for s in SEVERITIES}
    errors = [field_error(f"{s}.responseHours", "must not exceed resolutionHours", f"#/{s}/responseHours")
              for s in SEVERITIES if policy[s]["responseHours"] > policy[s]["resolutionHours"]]
    if errors:
        raise ValidationFailed("The SLA policy is invalid.", errors=errors)
    now = utcnow_iso()
    item = SlaPolicy(PK=keys.sla_policy_pk(), SK=keys.SLA_POLICY_SK, policy=policy, updated_at=now,
                     updated_by=principal.subject)
    Tx().put(item, label="policy").put(event_item(None, "SlaPolicyChanged", {"policy": policy},
                                                  actor=principal.subject, correlation_id=correlation_id)).commit()
    return {"policy": policy, "source": "operator", "updatedAt": now, "businessHours": True}
