"""Lead routing settings and the score: who may be offered a lead, and in which order (docs/partners.md).

The settings are ONE operator item (keys.lead_routing_pk); absent or partial, DEFAULTS fill in. The score is a
pure function of a lead and the partners' routing cards (partners.lead_cards): hard gates first (each failing
partner is listed with its reason), then points per factor, each shown, summed; ties break deterministically.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pynamodb.models import Model

from chalicelib.auth.principal import Principal
from chalicelib.clock import utcnow_iso
from chalicelib.errors import Forbidden, ValidationFailed, field_error
from chalicelib.events.outbox import event_item
from chalicelib.store import keys
from chalicelib.store.models import CertificationProgram, LeadRoutingConfig, ProgramCounts, RoutingCard, plain
from chalicelib.store.tx import replace_versioned

TWO = Decimal("0.01")
ANY = "*"  # a profile value matching every lead
RECENT_WINDOW = 20  # the claim rate reads the outcomes of a partner's last 20 resolved offers
MIN_HISTORY = 3  # fewer resolved offers: the claim rate counts as neutral (0.5), so newcomers are not starved
FULL_CERT_DEPTH = 5  # certified reps for full certification points
DEFAULT_TERMS = {"registered": {"claimWindowHours": 24, "dealSize": {"min": "0.00", "max": "25000.00"}},
                 "preferred": {"claimWindowHours": 36, "dealSize": {"min": "0.00", "max": "100000.00"}},
                 "strategic": {"claimWindowHours": 48, "dealSize": {"min": "0.00", "max": None}}}
OTHER_TIER_TERMS = {"claimWindowHours": 24, "dealSize": {"min": "0.00", "max": None}}
DEFAULT_WEIGHTS = {"industry": 25, "region": 15, "product": 10, "certification": 10, "capacity": 15,
                   "claimRate": 15, "tier": 10}
DEFAULTS: dict[str, Any] = {"requiredProgramId": None, "minCertifiedReps": 1, "maxAttempts": 3,
                            "channelManager": None, "tierTerms": DEFAULT_TERMS, "weights": DEFAULT_WEIGHTS,
                            "largeDeal": {"fromDealSize": "100000.00", "claimWindowHours": 48}}
EXCLUSIONS = ("suspended", "notAccepting", "alreadyOffered", "regionMismatch", "notCertified",
              "dealSizeOutsideTier", "atCapacity")


# -- the settings ---------------------------------------------------------------------------------------
def load_config() -> LeadRoutingConfig | None:
    try:
        return LeadRoutingConfig.get(keys.lead_routing_pk(), keys.LEAD_ROUTING_SK)
    except Model.DoesNotExist:
        return None


def settings_of(config: LeadRoutingConfig | None) -> dict[str, Any]:
    """The settings in force: the operator's over the defaults (a fresh copy)."""
    out = copy.deepcopy(DEFAULTS)
    if config is not None:
        stored = config.settings if isinstance(config.settings, dict) else json.loads(config.settings)
        out.update({k: v for k, v in stored.items() if v is not None or k in ("requiredProgramId",
                                                                             "channelManager")})
        out["tierTerms"] = {**DEFAULT_TERMS, **(stored.get("tierTerms") or {})}
        out["weights"] = {**DEFAULT_WEIGHTS, **(stored.get("weights") or {})}
    return out


def to_json(config: LeadRoutingConfig | None) -> dict[str, Any]:
    return {**settings_of(config), "source": "operator" if config else "default",
            "version": int(config.version) if config else 0, "updatedAt": config.updated_at if config else None}


def get_settings(principal: Principal) -> dict[str, Any]:
    if not principal.is_operator:
        raise Forbidden("Only the operator reads the lead-routing settings.")
    return to_json(load_config())


def required_program_id() -> str | None:
    """The certification program a partner must hold currently to be offered leads (None: no gate)."""
    value = settings_of(load_config()).get("requiredProgramId")
    return str(value) if value else None


def certified_reps(partner_id: str, program_id: str) -> int:
    """Current certificates (active + expiring) of `program_id` in the partner tenant: the program's counts."""
    from chalicelib.certification.programs import is_shared

    pk = keys.cert_program_pk(partner_id, program_id)
    try:
        if is_shared(program_id):
            counts = ProgramCounts.get(pk, keys.CERT_COUNTS_SK)
            return max(0, int(counts.active or 0) + int(counts.expiring or 0))
        program = CertificationProgram.get(pk, keys.CERT_PROGRAM_SK)
    except Model.DoesNotExist:
        return 0
    got = plain(program.counts) if program.counts else {}
    return max(0, int(got.get("active") or 0) + int(got.get("expiring") or 0))


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(TWO))


def _validated(body: Any, tier_ids: list[str]) -> dict[str, Any]:
    errors: list[dict[str, Any]] = []
    terms: dict[str, Any] = {}
    for tier_id, t in (body.tierTerms or {}).items():
        if tier_id not in tier_ids:
            errors.append(field_error(f"tierTerms.{tier_id}", f"unknown tier; the tiers are {tier_ids}",
                                      f"#/tierTerms/{tier_id}"))
        elif t.dealSize.max is not None and t.dealSize.max < t.dealSize.min:
            errors.append(field_error(f"tierTerms.{tier_id}.dealSize.max", "must not be below dealSize.min",
                                      f"#/tierTerms/{tier_id}/dealSize/max"))
        terms[tier_id] = {"claimWindowHours": t.claimWindowHours,
                          "dealSize": {"min": _money(t.dealSize.min), "max": _money(t.dealSize.max)}}
    program = body.requiredProgramId
    if program is not None:
        from chalicelib.certification.programs import is_shared

        if not is_shared(program) or not _library_program_exists(program):
            errors.append(field_error("requiredProgramId", "not one of the operator's shared certification "
                                      "programs (`sp-…`)", "#/requiredProgramId"))
    if errors:
        raise ValidationFailed("The lead-routing settings are invalid.", errors=errors)
    return {"requiredProgramId": program, "minCertifiedReps": body.minCertifiedReps, "maxAttempts": body.maxAttempts,
            "channelManager": body.channelManager.model_dump() if body.channelManager else None,
            "tierTerms": terms or None, "weights": body.weights.model_dump() if body.weights else None,
            "largeDeal": {"fromDealSize": _money(body.largeDeal.fromDealSize),
                          "claimWindowHours": body.largeDeal.claimWindowHours} if body.largeDeal else None}


def _library_program_exists(program_id: str) -> bool:
    try:
        CertificationProgram.get(keys.cert_program_pk(keys.LIBRARY, program_id), keys.CERT_PROGRAM_SK)
        return True
    except Model.DoesNotExist:
        return False


def put_settings(principal: Principal, body: Any, correlation_id: str = "") -> dict[str, Any]:
    """Replace the settings (operator only), conditional on the version read; a new required program makes
    the stream refresh every card's certified-rep count (`LeadRoutingChanged`)."""
    from chalicelib.partners import tiers

    if not principal.is_operator:
        raise Forbidden("Only the operator configures lead routing.")
    stored = _validated(body, [t["id"] for t in tiers.tiers_of(tiers.load_config())])
    current = load_config()
    before = settings_of(current)["requiredProgramId"]
    item = LeadRoutingConfig(PK=keys.lead_routing_pk(), SK=keys.LEAD_ROUTING_SK, settings=stored,
                             updated_at=utcnow_iso(), updated_by=principal.subject)
    replace_versioned(item, current, lambda version: event_item(
        None, "LeadRoutingChanged", {"version": version, "requiredProgramId": stored["requiredProgramId"],
                                     "previousProgramId": before},
        actor=principal.subject, correlation_id=correlation_id), "lead-routing settings")
    return to_json(item)


def terms_for(settings: dict[str, Any], tier_id: str | None) -> dict[str, Any]:
    return dict((settings["tierTerms"] or {}).get(tier_id or "", OTHER_TIER_TERMS))


def claim_window_hours(settings: dict[str, Any], tier_id: str | None, deal_size: Decimal) -> int:
    """The tier's claim window, lengthened to `largeDeal.claimWindowHours` for a deal of at least its size
    (larger deals take longer to qualify; a tier's longer window is never shortened)."""
    hours = int(terms_for(settings, tier_id)["claimWindowHours"])
    large = settings.get("largeDeal")
    if large and deal_size >= Decimal(str(large["fromDealSize"])):
        hours = max(hours, int(large["claimWindowHours"]))
    return hours


# -- the score ------------------------------------------------------------------------------------------
@dataclass
class Ranked:
    partner_id: str
    name: str
    tier: str | None
    score: Decimal
    factors: dict[str, Decimal]
    reasons: list[str]
    open_leads: int

    def to_json(self) -> dict[str, Any]:
        return {"partnerId": self.partner_id, "name": self.name, "tier": self.tier, "score": str(self.score),
                "factors": {k: str(v) for k, v in self.factors.items()}, "reasons": self.reasons}


@dataclass
class Ranking:
    ranked: list[Ranked] = field(default_factory=list)
    excluded: dict[str, list[str]] = field(default_factory=dict)  # reason -> partner ids

    @property
    def best(self) -> Ranked | None:
        return self.ranked[0] if self.ranked else None


def _norm(value: str) -> str:
    return value.strip().casefold()


def _fit(value: str, offered: list[str]) -> Decimal:
    """1 for an exact match, 0.5 for the `*` wildcard, 0 otherwise."""
    values = {_norm(v) for v in offered}
    return Decimal(1) if _norm(value) in values else Decimal("0.5") if ANY in values else Decimal(0)


def claim_rate(card: RoutingCard) -> Decimal | None:
    recent = list(card.recent or [])[-RECENT_WINDOW:]
    if len(recent) < MIN_HISTORY:
        return None
    return Decimal(sum(1 for r in recent if r == "claimed")) / Decimal(len(recent))


def exclusion(card: RoutingCard, lead: dict[str, Any], settings: dict[str, Any]) -> str | None:
    """The first gate the partner fails for this lead, or None (eligible)."""
    terms = terms_for(settings, card.tier)
    band, deal = terms["dealSize"], Decimal(lead["dealSize"])
    program = settings.get("requiredProgramId")
    certified = int((plain(card.certified) or {}).get(program, 0)) if program else None
    checks = (("suspended", card.status != "active"), ("notAccepting", not card.accepting),
              ("alreadyOffered", card.partner_id in lead["offeredTo"]),
              ("regionMismatch", _fit(lead["region"], list(card.regions or [])) == 0),
              ("notCertified", certified is not None and certified < int(settings["minCertifiedReps"])),
              ("dealSizeOutsideTier", deal < Decimal(band["min"] or 0) or (band["max"] is not None
                                                                         and deal > Decimal(band["max"]))),
              ("atCapacity", int(card.open_leads or 0) >= int(card.max_open_leads or 0)))
    return next((reason for reason, failed in checks if failed), None)


def score(card: RoutingCard, lead: dict[str, Any], settings: dict[str, Any], tier_rank: dict[str, int]) -> Ranked:
    w = {k: Decimal(v) for k, v in settings["weights"].items()}
    program = settings.get("requiredProgramId")
    reps = int((plain(card.certified) or {}).get(program, 0)) if program else FULL_CERT_DEPTH
    rate = claim_rate(card)
    window = len(list(card.recent or [])[-RECENT_WINDOW:])
    top = max(tier_rank.values(), default=0) or 1
    parts = {"industry": _fit(lead["industry"], list(card.industries or [])),
             "region": _fit(lead["region"], list(card.regions or [])),
             "product": _fit(lead["product"], list(card.products or [])),
             "certification": Decimal(min(reps, FULL_CERT_DEPTH)) / FULL_CERT_DEPTH,
             "capacity": 1 - Decimal(int(card.open_leads or 0)) / max(1, int(card.max_open_leads or 1)),
             "claimRate": Decimal("0.5") if rate is None else rate,
             "tier": Decimal(tier_rank.get(card.tier or "", 0)) / top}
    factors = {k: (w[k] * v).quantize(TWO, rounding=ROUND_HALF_UP) for k, v in parts.items()}
    reasons = [f"industry {lead['industry']}: " + ("listed" if parts["industry"] == 1 else "any (*)"
                                                   if parts["industry"] else "not listed"),
               f"region {lead['region']}: " + ("listed" if parts["region"] == 1 else "any (*)"),
               f"{reps if program else 'no'} certified reps" + ("" if program else " required"),
               f"{int(card.open_leads or 0)} of {int(card.max_open_leads or 0)} open leads",
               "claim rate " + ("neutral (fewer than 3 resolved offers)" if rate is None
                                else f"{(rate * 100).quantize(Decimal(1))} % of the last {window}")]
    return Ranked(card.partner_id, card.name, card.tier, sum(factors.values(), Decimal(0)), factors, reasons,
                  int(card.open_leads or 0))


def rank(cards: list[RoutingCard], lead: dict[str, Any], settings: dict[str, Any],
         tier_ids: list[str]) -> Ranking:
    """Gates, then scores: highest score first; ties: fewer open leads, then the partner id (deterministic)."""
    tier_rank = {t: n for n, t in enumerate(tier_ids)}
    out = Ranking()
    for card in cards:
        reason = exclusion(card, lead, settings)
        if reason:
            out.excluded.setdefault(reason, []).append(card.partner_id)
        else:
            out.ranked.append(score(card, lead, settings, tier_rank))
    out.ranked.sort(key=lambda r: (-r.score, r.open_leads, r.partner_id))
    return out
