"""A partner's monthly uptime figures, entered by the operator, against the 99.5 % target (docs/partners.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.auth.principal import TenantContext
from chalicelib.clock import utcnow_iso
from chalicelib.errors import Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.events.outbox import event_item
from chalicelib.store import keys
from chalicelib.store.models import UptimeMonth
from chalicelib.store.tx import Tx

TARGET = Decimal("99.500")
MILLI = Decimal("0.001")
MAX_MONTHS = 240


def _partner(ctx: TenantContext) -> None:
    if ctx.tenant_kind != "partner":
        raise NotFound("No such partner.")


def _valid_month(month: str) -> str:
    if len(month) != 7 or month[4] != "-" or not (month[:4] + month[5:]).isdigit() or not 1 <= int(month[5:]) <= 12:
        raise ValidationFailed("The month is YYYY-MM.", errors=[field_error("month", "must be YYYY-MM", "month")])
    return month


def month_view(item: UptimeMonth) -> dict[str, Any]:
    percent = Decimal(item.percent)
    return {"month": item.month, "percent": item.percent, "note": item.note, "targetPercent": str(TARGET),
            "met": percent >= TARGET, "updatedAt": item.updated_at, "updatedBy": item.updated_by}


def put_month(ctx: TenantContext, month: str, body: Any) -> dict[str, Any]:
    """Record (or correct) a month's uptime: operator only; item + UptimeRecorded in one transaction."""
    _partner(ctx)
    if ctx.relation != "operator":
        raise Forbidden("Only the operator records uptime figures.")
    _valid_month(month)
    item = UptimeMonth(PK=keys.uptime_pk(ctx.tenant_id), SK=keys.uptime_sk(month), partner_id=ctx.tenant_id,
                       month=month, percent=str(body.percent.quantize(MILLI)), note=body.note or None,
                       updated_at=utcnow_iso(), updated_by=ctx.principal.subject)
    Tx().put(item, label="uptime").put(event_item(
        ctx.tenant_id, "UptimeRecorded", {"partnerId": ctx.tenant_id, "month": month, "percent": item.percent},
        actor=ctx.principal.subject, correlation_id=ctx.correlation_id)).commit()
    return month_view(item)


def months(partner_id: str, first: str | None, last: str | None) -> list[UptimeMonth]:
    """The partner's months from `first` to `last` (inclusive, either open): one Query."""
    pk = keys.uptime_pk(partner_id)
    condition: Any
    if first and last:
        condition = UptimeMonth.SK.between(keys.uptime_sk(first), keys.uptime_sk(last))
    elif first:
        condition = UptimeMonth.SK >= keys.uptime_sk(first)
    elif last:
        condition = UptimeMonth.SK <= keys.uptime_sk(last)
    else:
        condition = None
    return [i for i in UptimeMonth.query(pk, condition, limit=MAX_MONTHS) if isinstance(i, UptimeMonth)]


def mean(items: list[UptimeMonth]) -> Decimal | None:
    if not items:
        return None
    return (sum((Decimal(i.percent) for i in items), Decimal(0)) / len(items)).quantize(MILLI)


def get_months(ctx: TenantContext, query: Any) -> dict[str, Any]:
    _partner(ctx)
    if not ctx.acts_as_admin:
        raise Forbidden("Only the partner's admins and the operator read its uptime figures.")
    if query.from_ and query.to and query.from_ > query.to:
        raise ValidationFailed("`from` is after `to`.", errors=[field_error("from", "must not be after `to`", "from")])
    items = months(ctx.tenant_id, query.from_, query.to)
    average = mean(items)
    return {"partnerId": ctx.tenant_id, "targetPercent": str(TARGET), "months": [month_view(i) for i in items],
            "meanPercent": str(average) if average is not None else None,
            "monthsBelowTarget": sum(1 for i in items if Decimal(i.percent) < TARGET)}
