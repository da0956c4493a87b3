"""SLA figures of a partner for a period (the scorecard's input): cases, clocks met, breaches, uptime.

`partner_sla_figures` costs one Query of the partner's cases index (GSI2, cases opened in the window, its pages
followed) and one Query of its uptime months; never a Scan. The capability itself: sla_calendar (calendar,
policy), sla_cases + sla_replies (cases and clocks), sla_job (breaches), sla_uptime (monthly uptime).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from chalicelib.clock import iso
from chalicelib.partners import sla_uptime
from chalicelib.store import keys
from chalicelib.store.models import SupportCase

CENT = Decimal("0.01")
CLOCKS = ("response", "resolution")


def _moment(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def months_in(start: datetime, end: datetime) -> list[str]:
    """The months whose first instant falls in [start, end)."""
    year, month = start.year, start.month
    if (start.day, start.hour, start.minute, start.second, start.microsecond) != (1, 0, 0, 0, 0):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    found = []
    while datetime(year, month, 1, tzinfo=UTC) < end:
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def partner_sla_figures(partner_id: str, start: str, end: str) -> dict[str, Any]:
    """Figures of the cases opened in [start, end) and the uptime months starting in it.

    cases; responseMet / resolutionMet (clocks met); breaches (clocks breached); adherencePercent: of the cases
    with at least one decided clock (met or breached), the share whose decided clocks were all met (a clock
    still running counts for neither side); uptimePercent: the mean of the months' figures; uptimeMonths.
    """
    lower, upper = _moment(start), _moment(end)
    cases = [c for c in SupportCase.gsi2.query(
        keys.partner_cases_gsi2pk(partner_id),
        SupportCase.GSI2SK.between(keys.support_case_list_sk(iso(lower)), keys.support_case_list_sk(iso(upper))))
        if isinstance(c, SupportCase)]
    met = dict.fromkeys(CLOCKS, 0)
    breaches = decided = kept = 0
    for case in cases:
        states = {"response": case.response_status, "resolution": case.resolution_status}
        for clock, state in states.items():
            met[clock] += state == "met"
            breaches += state == "breached"
        if any(s != "pending" for s in states.values()):
            decided += 1
            kept += all(s != "breached" for s in states.values())
    wanted = months_in(lower, upper)
    uptime = sla_uptime.months(partner_id, wanted[0], wanted[-1]) if wanted else []
    return {"cases": len(cases), "responseMet": met["response"], "resolutionMet": met["resolution"],
            "breaches": breaches,
            "adherencePercent": (Decimal(kept * 100) / decided).quantize(CENT) if decided else None,
            "uptimePercent": sla_uptime.mean(uptime),
            "uptimeMonths": {i.month: Decimal(i.percent) for i in uptime}}
