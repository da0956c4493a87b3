"""Partner tiers: margin bands, entry requirements and benefits, configurable by the operator (docs/partners.md).

The tiers live in ONE operator-level item (keys.partner_tiers_pk / PARTNER_TIERS_SK); while the operator has
not written it, DEFAULT_TIERS apply. A partner's tier is `settings.partnerTier` on its tenant (a tier id);
unset, or naming a tier the operator has since removed, the partner is in the first (lowest) tier.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

from pynamodb.models import Model

from chalicelib.auth.principal import Principal, TenantContext
from chalicelib.clock import utcnow_iso
from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.events.outbox import event_item
from chalicelib.store import keys
from chalicelib.store.models import PartnerTierConfig, Tenant, plain
from chalicelib.store.tx import Tx, TxConflict, replace_versioned
from chalicelib.tenancy import cache

CENT = Decimal("0.01")
TIER_SETTING = "partnerTier"  # the key of a partner tenant's settings that names its tier

DEFAULT_TIERS: list[dict[str, Any]] = [
    {"id": "registered", "name": "Registered", "marginBand": {"min": "10.00", "max": "20.00"},
     "requirements": {"certifiedReps": 1, "annualRevenue": "0.00", "slaAdherencePercent": "0.00"},
     "benefits": ["Partner portal and sales enablement kit", "Demo certification", "Deal registration"]},
    {"id": "preferred", "name": "Preferred", "marginBand": {"min": "20.00", "max": "30.00"},
     "requirements": {"certifiedReps": 3, "annualRevenue": "100000.00", "slaAdherencePercent": "90.00"},
     "benefits": ["Routed leads", "Co-branded marketing", "Quarterly business reviews"]},
    {"id": "strategic", "name": "Strategic", "marginBand": {"min": "30.00", "max": "40.00"},
     "requirements": {"certifiedReps": 6, "annualRevenue": "500000.00", "slaAdherencePercent": "95.00"},
     "benefits": ["Priority lead routing", "Marketing development funds", "Co-selling support",
                  "First-line support and white-label course library"]},
]


# The quote calculator's terms (partners.quotes), operator-configurable with the tiers (`pricing` of the same item).
DEFAULT_PRICING: dict[str, Any] = {
    "volumeBands": [{"fromSeats": 1, "percent": "0.00"}, {"fromSeats": 100, "percent": "3.00"},
                    {"fromSeats": 200, "percent": "5.00"}, {"fromSeats": 500, "percent": "8.00"},
                    {"fromSeats": 1000, "percent": "10.00"}],
    "acceleratorPointsPerYear": "1.00", "acceleratorMaxPoints": "3.00",
    "escalatorPoints": {"green": "3.00", "amber": "1.00", "red": "0.00"},
}


def _pct(value: Decimal) -> str:
    return str(value.quantize(CENT))


def load_config() -> PartnerTierConfig | None:
    try:
        return PartnerTierConfig.get(keys.partner_tiers_pk(), keys.PARTNER_TIERS_SK)
    except Model.DoesNotExist:
        return None


def tiers_of(config: PartnerTierConfig | None) -> list[dict[str, Any]]:
    """The tiers in force: the operator's, else the defaults (a fresh copy either way)."""
    if config is None:
        return copy.deepcopy(DEFAULT_TIERS)
    stored = config.tiers if isinstance(config.tiers, list) else json.loads(config.tiers)
    return list(stored)


def pricing_of(config: PartnerTierConfig | None) -> dict[str, Any]:
    """The quote terms in force: the operator's, else DEFAULT_PRICING (a fresh copy either way)."""
    stored = config.pricing if config is not None else None
    if not stored:
        return copy.deepcopy(DEFAULT_PRICING)
    return dict(stored) if isinstance(stored, dict) else dict(json.loads(stored))


def to_json(config: PartnerTierConfig | None) -> dict[str, Any]:
    return {"tiers": tiers_of(config), "pricing": pricing_of(config), "source": "operator" if config else "default",
            "version": int(config.version) if config else 0,
            "updatedAt": config.updated_at if config else None}


def get_tiers() -> dict[str, Any]:
    return to_json(load_config())


def _validated(body: Any) -> list[dict[str, Any]]:
    """The body's tiers as stored, or a 400 naming the field (the schema already bounds every band to 0-100)."""
    errors: list[dict[str, Any]] = []
    ids: set[str] = set()
    names: set[str] = set()
    for n, tier in enumerate(body.tiers):
        band = tier.marginBand
        if band.min > band.max:
            errors.append(field_error(f"tiers.{n}.marginBand.min", "must not exceed marginBand.max",
                                      f"#/tiers/{n}/marginBand/min"))
        if tier.id in ids:
            errors.append(field_error(f"tiers.{n}.id", f"`{tier.id}` repeats", f"#/tiers/{n}/id"))
        if tier.name.casefold() in names:
            errors.append(field_error(f"tiers.{n}.name", f"`{tier.name}` repeats", f"#/tiers/{n}/name"))
        ids.add(tier.id)
        names.add(tier.name.casefold())
    errors += _pricing_errors(body.pricing)
    if errors:
        raise ValidationFailed("The partner tiers are invalid.", errors=errors)
    return [{"id": t.id, "name": t.name, "marginBand": {"min": _pct(t.marginBand.min), "max": _pct(t.marginBand.max)},
             "requirements": {"certifiedReps": t.requirements.certifiedReps,
                              "annualRevenue": _pct(t.requirements.annualRevenue),
                              "slaAdherencePercent": _pct(t.requirements.slaAdherencePercent)},
             "benefits": list(t.benefits)} for t in body.tiers]


def _pricing_errors(pricing: Any) -> list[dict[str, Any]]:
    """Bands ascending from 1 seat; the accelerator's cap not below one year's points."""
    if pricing is None:
        return []
    errors = []
    bands = pricing.volumeBands
    if bands[0].fromSeats != 1:
        errors.append(field_error("pricing.volumeBands.0.fromSeats", "the first band starts at 1 seat",
                                  "#/pricing/volumeBands/0/fromSeats"))
    for n in range(1, len(bands)):
        if bands[n].fromSeats <= bands[n - 1].fromSeats:
            errors.append(field_error(f"pricing.volumeBands.{n}.fromSeats", "must be above the band before it",
                                      f"#/pricing/volumeBands/{n}/fromSeats"))
    if pricing.acceleratorMaxPoints < pricing.acceleratorPointsPerYear:
        errors.append(field_error("pricing.acceleratorMaxPoints", "must not be below acceleratorPointsPerYear",
                                  "#/pricing/acceleratorMaxPoints"))
    return errors


def _pricing(pricing: Any) -> dict[str, Any]:
    return {"volumeBands": [{"fromSeats": b.fromSeats, "percent": _pct(b.percent)} for b in pricing.volumeBands],
            "acceleratorPointsPerYear": _pct(pricing.acceleratorPointsPerYear),
            "acceleratorMaxPoints": _pct(pricing.acceleratorMaxPoints),
            "escalatorPoints": {k: _pct(getattr(pricing.escalatorPoints, k)) for k in ("green", "amber", "red")}}


def put_tiers(principal: Principal, body: Any, correlation_id: str = "") -> dict[str, Any]:
    """Replace the tiers (operator only); conditional on the version read, so two operators cannot interleave."""
    if not principal.is_operator:
        raise Forbidden("Only the operator configures partner tiers.")
    tiers = _validated(body)
    current = load_config()
    pricing = _pricing(body.pricing) if body.pricing is not None else (current.pricing if current else None)
    item = PartnerTierConfig(PK=keys.partner_tiers_pk(), SK=keys.PARTNER_TIERS_SK, tiers=tiers, pricing=pricing,
                             updated_at=utcnow_iso(), updated_by=principal.subject)
    replace_versioned(item, current, lambda version: event_item(
        None, "PartnerTiersChanged", {"version": version, "tiers": [t["id"] for t in tiers]},
        actor=principal.subject, correlation_id=correlation_id), "partner tiers")
    return to_json(item)


def find_tier(tiers: list[dict[str, Any]], tier_id: str | None) -> dict[str, Any]:
    """The tier named `tier_id`, else the first (lowest) tier."""
    return next((t for t in tiers if t["id"] == tier_id), tiers[0])


def partner_tier_id(tenant: Tenant) -> str | None:
    value = plain(tenant.settings).get(TIER_SETTING) if tenant.settings is not None else None
    return str(value) if value else None


def assign_tier(ctx: TenantContext, body: Any) -> dict[str, Any]:
    """Put a partner in a tier (operator only): `settings.partnerTier` on its tenant, with an event."""
    if ctx.relation != "operator":
        raise Forbidden("Only the operator changes a partner's tier.")
    if ctx.tenant_kind != "partner":
        raise NotFound("No such partner.")
    tiers = tiers_of(load_config())
    if body.tier not in {t["id"] for t in tiers}:
        raise ValidationFailed(f"Unknown tier `{body.tier}`; choose one of {[t['id'] for t in tiers]}.",
                               errors=[field_error("tier", "unknown tier")])
    try:
        tenant = Tenant.get(keys.tenant_pk(ctx.tenant_id), keys.TENANT_SK)
    except Model.DoesNotExist:
        raise NotFound("No such partner.") from None
    previous = partner_tier_id(tenant)
    if previous != body.tier:
        expected = tenant.version
        tenant.settings = {**plain(tenant.settings), TIER_SETTING: body.tier}
        tenant.version = expected + 1
        tenant.updated_at = utcnow_iso()
        tx = Tx().put(tenant, Tenant.version == expected, "tenant")
        tx.put(event_item(tenant.id, "PartnerTierChanged", {"partnerId": tenant.id, "from": previous,
                                                            "to": body.tier},
                          actor=ctx.principal.subject, correlation_id=ctx.correlation_id))
        try:
            tx.commit()
        except TxConflict:
            raise Conflict("The partner changed while this request ran; retry it.") from None
        cache.forget(tenant.id)
    return {"partnerId": tenant.id, "tier": find_tier(tiers, body.tier)}


def requirement_checks(tier: dict[str, Any], certified_reps: int | None, annual_revenue: Decimal | None,
                       sla_adherence: Decimal | None) -> list[dict[str, Any]]:
    """A tier's entry requirements against a partner's figures, one check each with its reason in words; an
    unknown figure (None) meets only a zero requirement (partners.scorecards: tier eligibility)."""
    req = tier.get("requirements") or {}
    wanted = [("certifiedReps", Decimal(int(req.get("certifiedReps") or 0)),
               None if certified_reps is None else Decimal(certified_reps), "{} certified reps"),
              ("annualRevenue", Decimal(str(req.get("annualRevenue") or 0)), annual_revenue,
               "{} new ARR over the trailing four quarters"),
              ("slaAdherencePercent", Decimal(str(req.get("slaAdherencePercent") or 0)), sla_adherence,
               "{}% SLA adherence over the trailing four quarters")]
    checks = []
    for name, required, actual, words in wanted:
        met = required <= 0 or (actual is not None and actual >= required)
        have = words.format("no record of" if actual is None else f"{actual:,}").replace("of%", "of")
        checks.append({"requirement": name, "required": str(required),
                       "actual": None if actual is None else str(actual), "met": met,
                       "explanation": f"{have} against {required:,} needed for {tier['name']}"})
    return checks
