"""Scorecard rules: the KPIs, red/amber/green thresholds per tier, incentive rules (docs/partners.md, "Scorecards").

The operator's thresholds and incentive rules live in ONE item (keys.scorecard_config_pk); a tier or KPI the
operator left out keeps DEFAULT_THRESHOLDS (a tier without defaults: those of the lowest tier, `registered`).
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from pynamodb.models import Model

from chalicelib.auth.principal import Principal
from chalicelib.clock import utcnow_iso
from chalicelib.errors import Forbidden, ValidationFailed, field_error
from chalicelib.events.outbox import event_item
from chalicelib.store import keys
from chalicelib.store.models import ScorecardConfig
from chalicelib.store.tx import replace_versioned

# id -> (label, unit, lower is better): money in the deal currency, percent, hours, count
KPIS: dict[str, tuple[str, str, bool]] = {
    "certifiedReps": ("Certified reps", "count", False),
    "pipeline": ("Pipeline from routed leads", "money", False),
    "newArr": ("New ARR from routed leads", "money", False),
    "claimRate": ("Lead claim rate", "percent", False),
    "timeToClaim": ("Median time to claim", "hours", True),
    "winRate": ("Win rate", "percent", False),
    "slaAdherence": ("SLA adherence", "percent", False),
    "uptime": ("Uptime", "percent", False),
    "customerSatisfaction": ("Customer satisfaction (CSAT)", "percent", False),
    "renewalRate": ("Renewal rate", "percent", False),
    "onboarding": ("Onboarding milestones met on time", "percent", False),
}


def _t(*pairs: tuple[str, str]) -> dict[str, dict[str, str]]:
    return {kpi: {"green": g, "amber": a} for kpi, (g, a) in zip(KPIS, pairs, strict=True)}


# green/amber per tier, in KPIS order. Certified reps: amber at the tier's entry requirement, green with room;
# new ARR: green at a quarter of the tier's annual revenue requirement; SLA: amber at the entry requirement;
# uptime: green at the 99.5 % SLA; time to claim: inside the 24-48 h claim window, faster for higher tiers.
DEFAULT_THRESHOLDS: dict[str, dict[str, dict[str, str]]] = {
    "registered": _t(("2", "1"), ("25000", "10000"), ("5000", "1"), ("80", "60"), ("24", "36"), ("20", "10"),
                     ("90", "80"), ("99.5", "99"), ("85", "75"), ("85", "75"), ("90", "70")),
    "preferred": _t(("5", "3"), ("100000", "50000"), ("25000", "12500"), ("85", "70"), ("12", "24"), ("25", "15"),
                    ("95", "90"), ("99.5", "99"), ("88", "80"), ("88", "80"), ("90", "70")),
    "strategic": _t(("10", "6"), ("400000", "200000"), ("125000", "62500"), ("90", "75"), ("8", "16"),
                    ("30", "20"), ("98", "95"), ("99.5", "99"), ("90", "85"), ("90", "85"), ("90", "70")),
}
DEFAULT_INCENTIVES: dict[str, dict[str, Any]] = {
    "marketingFunds": {"maxRed": 0, "minGreen": 3, "notRed": []},
    "coSellingSupport": {"maxRed": 1, "minGreen": 2, "notRed": ["certifiedReps"]},
    "marginIncrease": {"maxRed": 0, "minGreen": 6, "notRed": ["slaAdherence"]},
}
INCENTIVE_NAMES = {"marketingFunds": "Marketing funds", "coSellingSupport": "Co-selling support",
                   "marginIncrease": "Margin increase"}


def load_config() -> ScorecardConfig | None:
    try:
        return ScorecardConfig.get(keys.scorecard_config_pk(), keys.SCORECARD_CONFIG_SK)
    except Model.DoesNotExist:
        return None


def thresholds_for(config: ScorecardConfig | None, tier_id: str) -> dict[str, dict[str, str]]:
    base = copy.deepcopy(DEFAULT_THRESHOLDS.get(tier_id) or DEFAULT_THRESHOLDS["registered"])
    own = (config.thresholds or {}).get(tier_id, {}) if config else {}
    return {**base, **own}


def incentives_of(config: ScorecardConfig | None) -> dict[str, dict[str, Any]]:
    return {**copy.deepcopy(DEFAULT_INCENTIVES), **((config.incentives or {}) if config else {})}


def to_json(config: ScorecardConfig | None) -> dict[str, Any]:
    tiers = {t: thresholds_for(config, t) for t in {*DEFAULT_THRESHOLDS, *((config.thresholds or {}) if config
                                                                         else {})}}
    return {"kpis": {k: {"label": label, "unit": unit, "lowerIsBetter": lower} for k, (label, unit, lower)
                     in KPIS.items()},
            "thresholds": tiers, "incentives": incentives_of(config),
            "source": "operator" if config else "default", "version": int(config.version) if config else 0}


def get_config() -> dict[str, Any]:
    return to_json(load_config())


def _validated(body: Any) -> dict[str, dict[str, dict[str, str]]]:
    errors: list[dict[str, Any]] = []
    stored: dict[str, dict[str, dict[str, str]]] = {}
    for tier_id, kpis in body.tiers.items():
        stored[tier_id] = {}
        for kpi, limit in kpis.items():
            lower = KPIS[kpi][2]
            if (limit.green > limit.amber) if lower else (limit.green < limit.amber):
                errors.append(field_error(f"tiers.{tier_id}.{kpi}.green",
                                          "must not be above amber (lower is better)" if lower
                                          else "must not be below amber", f"#/tiers/{tier_id}/{kpi}/green"))
            stored[tier_id][kpi] = {"green": str(limit.green), "amber": str(limit.amber)}
    if errors:
        raise ValidationFailed("The scorecard thresholds are invalid.", errors=errors)
    return stored


def put_config(principal: Principal, body: Any, correlation_id: str = "") -> dict[str, Any]:
    """Replace the thresholds and incentive rules (operator only), conditional on the version read."""
    if not principal.is_operator:
        raise Forbidden("Only the operator sets the scorecard thresholds.")
    thresholds = _validated(body)
    current = load_config()
    item = ScorecardConfig(PK=keys.scorecard_config_pk(), SK=keys.SCORECARD_CONFIG_SK, thresholds=thresholds,
                           incentives={k: r.model_dump() for k, r in body.incentives.items()},
                           updated_at=utcnow_iso(), updated_by=principal.subject)
    replace_versioned(item, current, lambda version: event_item(
        None, "ScorecardThresholdsChanged", {"version": version, "tiers": sorted(thresholds)},
        actor=principal.subject, correlation_id=correlation_id), "scorecard thresholds")
    return to_json(item)


def rate(kpi: str, value: Decimal, limit: dict[str, str]) -> str:
    green, amber = Decimal(limit["green"]), Decimal(limit["amber"])
    if KPIS[kpi][2]:
        return "green" if value <= green else "amber" if value <= amber else "red"
    return "green" if value >= green else "amber" if value >= amber else "red"


def incentive(rule_id: str, rule: dict[str, Any], ratings: dict[str, str]) -> dict[str, Any]:
    """One incentive's eligibility from the ratings, with the reason in words."""
    reds = sorted(k for k, r in ratings.items() if r == "red")
    greens = sum(1 for r in ratings.values() if r == "green")
    why: list[str] = []
    if not any(r != "grey" for r in ratings.values()):
        why.append("no KPI could be rated")
    if len(reds) > int(rule["maxRed"]):
        why.append(f"{len(reds)} red KPI(s) ({', '.join(KPIS[k][0] for k in reds)}), at most {rule['maxRed']} "
                   "allowed")
    if greens < int(rule["minGreen"]):
        why.append(f"{greens} green KPI(s), at least {rule['minGreen']} needed")
    why += [f"{KPIS[k][0]} is red and must not be" for k in rule.get("notRed", []) if ratings.get(k) == "red"]
    name = INCENTIVE_NAMES.get(rule_id, rule_id)
    text = (f"{name}: eligible ({len(reds)} red, {greens} green)." if not why
            else f"{name}: not eligible, because " + "; ".join(why) + ".")
    return {"eligible": not why, "rule": rule, "explanation": text}


def overall(ratings: dict[str, str]) -> str:
    """grey: nothing rated; red: 2+ red; amber: 1 red or more amber than green; else green."""
    counts = {c: sum(1 for r in ratings.values() if r == c) for c in ("green", "amber", "red")}
    if not any(counts.values()):
        return "grey"
    if counts["red"] >= 2:
        return "red"
    return "amber" if counts["red"] or counts["amber"] > counts["green"] else "green"
