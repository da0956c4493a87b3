"""A scorecard from figures: each KPI rated against its tier's thresholds and explained, incentives, tier
eligibility (pure: partners.scorecards gathers the figures). A KPI without data is `grey`, never a false red."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chalicelib.partners import scorecard_rules as rules
from chalicelib.partners import tiers as tiering

TWO = Decimal("0.01")
PHRASES = {
    "certifiedReps": "{} certified reps", "pipeline": "{} pipeline from claimed leads",
    "newArr": "{} new ARR from won leads", "claimRate": "{} of resolved lead offers claimed",
    "timeToClaim": "a median of {} to claim a lead", "winRate": "{} of closed leads won",
    "slaAdherence": "{} of support cases within SLA", "uptime": "{} mean monthly uptime",
    "customerSatisfaction": "{} customer satisfaction (CSAT)", "renewalRate": "{} renewal rate",
    "onboarding": "{} of the onboarding milestones due met on time",
}


@dataclass
class Figures:
    """What a partner's quarter measured; None where a source gave nothing. `why` names the reason per KPI."""

    quarter: str
    values: dict[str, Decimal | None]
    why: dict[str, str]  # KPI -> why it has no value
    certified_reps: int | None
    annual_revenue: Decimal | None  # new ARR over the trailing four quarters
    sla_record: Decimal | None  # SLA adherence over the trailing four quarters


def text(kpi: str, value: Decimal) -> str:
    unit = rules.KPIS[kpi][1]
    if unit == "count":
        return f"{int(value)}"
    if unit == "money":
        return f"{value:,.2f}"
    return f"{value.normalize():f}%" if unit == "percent" else f"{value.normalize():f} hours"


def kpi_entry(kpi: str, figures: Figures, limit: dict[str, str], tier_name: str) -> dict[str, Any]:
    label, _, lower = rules.KPIS[kpi]
    value = figures.values.get(kpi)
    entry = {"id": kpi, "label": label, "value": None if value is None else str(value),
             "thresholds": dict(limit), "lowerIsBetter": lower}
    if value is None:
        return {**entry, "rating": "grey",
                "explanation": f"Not rated: {figures.why.get(kpi, 'no data')} in {figures.quarter}."}
    rating = rules.rate(kpi, value, limit)
    green, amber = Decimal(limit["green"]), Decimal(limit["amber"])
    bound = "at most " if lower else ""
    said = PHRASES[kpi].format(text(kpi, value))
    sentence = (f"{said[0].upper()}{said[1:]} against a green threshold of {bound}{text(kpi, green)} for "
                f"{tier_name} (amber {'up to' if lower else 'from'} {text(kpi, amber)}): {rating}.")
    return {**entry, "rating": rating, "explanation": sentence}


def eligibility(tiers: list[dict[str, Any]], current_id: str | None, figures: Figures) -> dict[str, Any]:
    """Which tiers the partner's figures meet, and why the next one up is (not) in reach."""
    current = tiering.find_tier(tiers, current_id)
    rows = []
    for tier in tiers:
        checks = tiering.requirement_checks(tier, figures.certified_reps, figures.annual_revenue, figures.sla_record)
        rows.append({"id": tier["id"], "name": tier["name"], "qualifies": all(c["met"] for c in checks),
                     "checks": checks})
    by_id = {r["id"]: r for r in rows}
    position = next(i for i, t in enumerate(tiers) if t["id"] == current["id"])
    highest = next((r["id"] for r in reversed(rows) if r["qualifies"]), None)

    def failed(row: dict[str, Any]) -> str:
        return "; ".join(c["explanation"] for c in row["checks"] if not c["met"])

    mine = by_id[current["id"]]
    summary = (f"Meets {current['name']}" if mine["qualifies"]
               else f"Does not meet {current['name']}, because {failed(mine)}")
    following = rows[position + 1] if position + 1 < len(rows) else None
    if following is not None:
        summary += (f"; qualifies for {following['name']}? yes" if following["qualifies"]
                    else f"; qualifies for {following['name']}? no, because {failed(following)}")
    return {"currentTier": current["id"], "meetsCurrent": mine["qualifies"], "highestQualifying": highest,
            "nextTier": following["id"] if following else None, "summary": summary + ".", "tiers": rows}


def card(partner_id: str, figures: Figures, tier: dict[str, Any], tiers: list[dict[str, Any]],
         config: Any) -> dict[str, Any]:
    limits = rules.thresholds_for(config, tier["id"])
    kpis = [kpi_entry(k, figures, limits[k], tier["name"]) for k in rules.KPIS]
    ratings = {k["id"]: k["rating"] for k in kpis}
    return {"partnerId": partner_id, "quarter": figures.quarter, "tier": {"id": tier["id"], "name": tier["name"]},
            "overall": rules.overall(ratings),
            "counts": {c: sum(1 for r in ratings.values() if r == c) for c in ("green", "amber", "red", "grey")},
            "kpis": kpis,
            "incentives": {i: rules.incentive(i, r, ratings) for i, r in rules.incentives_of(config).items()},
            "tierEligibility": eligibility(tiers, tier["id"], figures),
            "thresholdsVersion": int(config.version) if config else 0}


def percent(part: int, whole: int) -> Decimal:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TWO, rounding=ROUND_HALF_UP)
