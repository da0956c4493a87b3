"""A partner's lead figures for a window (scorecards read them): from the partner's own offers, two Queries.

Each count is taken at the time of its own event, in [start, end): `offered` by offer time; `claimed`,
`declined`, `timedOut` by resolution time (a timeout at the offer's expiry); `won`, `lost`, `newArr` by close
time. Resolutions come at most MAX_WINDOW_HOURS after their offer, so one Query of the partner's offers
(GSI1, by offer time) from start - 48 h to end sees every resolution in the window; closes are read from the
partner's closed-leads index (GSI2, by close time).
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chalicelib.clock import iso
from chalicelib.store import keys
from chalicelib.store.models import LeadOffer

MAX_WINDOW_HOURS = 48  # the longest claim window the settings allow
TWO = Decimal("0.01")


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _norm(stamp: str) -> str:
    """Any ISO timestamp as stored (`...sssZ`), so string comparisons with stored stamps hold."""
    return iso(_moment(stamp))


def _percent(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TWO, rounding=ROUND_HALF_UP) if whole else None


def figures(partner_id: str, start: str, end: str) -> dict[str, Any]:
    start, end = _norm(start), _norm(end)
    since = iso(_moment(start) - timedelta(hours=MAX_WINDOW_HOURS))
    offers = [o for o in LeadOffer.gsi1.query(keys.partner_leads_gsi1pk(partner_id),
                                              LeadOffer.GSI1SK.between(keys.lead_event_sk(since),
                                                                       keys.lead_event_sk(end)))
              if isinstance(o, LeadOffer)]
    closed = [o for o in LeadOffer.gsi2.query(keys.partner_closed_leads_gsi2pk(partner_id),
                                              LeadOffer.GSI2SK.between(keys.lead_event_sk(start),
                                                                       keys.lead_event_sk(end)))
              if isinstance(o, LeadOffer) and start <= str(o.closed_at) < end]

    def within(stamp: str | None) -> bool:
        return stamp is not None and start <= stamp < end

    resolved = [o for o in offers if o.outcome != "offered" and within(o.resolved_at)]
    claimed = [o for o in resolved if o.outcome == "claimed"]
    hours = [Decimal((_moment(str(o.resolved_at)) - _moment(o.offered_at)).total_seconds()) / 3600 for o in claimed]
    won = [o for o in closed if o.closed_status == "won"]
    lost = [o for o in closed if o.closed_status == "lost"]
    return {
        "offered": sum(1 for o in offers if within(o.offered_at)), "claimed": len(claimed),
        "declined": sum(1 for o in resolved if o.outcome == "declined"),
        "timedOut": sum(1 for o in resolved if o.outcome == "timedOut"),
        "claimRatePercent": _percent(len(claimed), len(resolved)),
        "medianHoursToClaim": Decimal(statistics.median(hours)).quantize(TWO, rounding=ROUND_HALF_UP) if hours
        else None,
        "pipeline": sum((Decimal(o.deal_size) for o in claimed), Decimal(0)).quantize(TWO),
        "won": len(won), "lost": len(lost),
        "newArr": sum((Decimal(o.amount or 0) for o in won), Decimal(0)).quantize(TWO),
        "winRatePercent": _percent(len(won), len(won) + len(lost)),
    }
