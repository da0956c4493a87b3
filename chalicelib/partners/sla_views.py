"""How a support case reads: its fields and each SLA clock (due, met/breached/pending, business hours used)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.partners.business_hours import Calendar, business_hours_between
from chalicelib.store.models import SupportCase, SupportCaseResponse

CLOCKS = ("response", "resolution")


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def stopped_at(case: SupportCase, clock: str) -> str | None:
    return case.responded_at if clock == "response" else case.resolved_at


def due_at(case: SupportCase, clock: str) -> str:
    return str(case.response_due_at if clock == "response" else case.resolution_due_at)


def status_of(case: SupportCase, clock: str) -> str:
    return str(case.response_status if clock == "response" else case.resolution_status)


def clock_view(case: SupportCase, clock: str, now: datetime) -> dict[str, Any]:
    stopped = stopped_at(case, clock)
    end = parse(stopped) if stopped else now
    used = business_hours_between(parse(case.opened_at), end, Calendar.from_json(case.calendar))
    status = status_of(case, clock)
    target = case.response_hours if clock == "response" else case.resolution_hours
    return {"targetBusinessHours": int(target), "dueAt": due_at(case, clock), "status": status,
            "stoppedAt": stopped, "businessHoursUsed": str(used),
            "overdue": status == "pending" and now > parse(due_at(case, clock))}


def case_view(case: SupportCase, now: datetime) -> dict[str, Any]:
    return {"id": case.id, "tenantId": case.tenant_id, "partnerId": case.partner_id, "subject": case.subject,
            "description": case.description, "severity": case.severity, "status": case.status,
            "openedBy": case.opened_by, "openedAt": case.opened_at,
            "responseDueAt": case.response_due_at, "resolutionDueAt": case.resolution_due_at,
            "respondedAt": case.responded_at, "resolvedAt": case.resolved_at, "resolution": case.resolution,
            "responseCount": int(case.responses or 0), "breached": bool(case.breached),
            "clocks": {clock: clock_view(case, clock, now) for clock in CLOCKS},
            "calendar": dict(case.calendar), "updatedAt": case.updated_at}


def response_view(response: SupportCaseResponse) -> dict[str, Any]:
    return {"message": response.message, "author": response.author, "at": response.at,
            "firstResponse": bool(response.first)}
