"""The partner quote calculator: pure, deterministic Decimal arithmetic, explained line by line (docs/partners.md).

A quote is a calculation, never stored. Money is rounded to cents (ROUND_HALF_UP) on every line, and every
later line is computed from the rounded lines before it, so the lines always add up to the totals exactly.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chalicelib.auth.principal import TenantContext
from chalicelib.errors import Forbidden, NotFound
from chalicelib.partners import tiers as tiering
from chalicelib.store import keys
from chalicelib.store.models import Item, PartnerTierConfig, Tenant

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _m(value: Decimal) -> str:
    return str(cents(value))


def _p(value: Decimal) -> str:
    return str(value.quantize(CENT))


def volume_band(seats: int, pricing: dict[str, Any]) -> tuple[int, int | None, Decimal]:
    """(first seat of the band, its last or None, discount percent) for `seats` under the pricing's bands."""
    bands = pricing["volumeBands"]
    n = max(i for i, band in enumerate(bands) if seats >= int(band["fromSeats"]))
    last = int(bands[n + 1]["fromSeats"]) - 1 if n + 1 < len(bands) else None
    return int(bands[n]["fromSeats"]), last, Decimal(bands[n]["percent"])


def _line(code: str, sentence: str, amount: Decimal | None = None, percent: Decimal | None = None,
          points: Decimal | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"line": code, "explanation": sentence}
    if amount is not None:
        out["amount"] = _m(amount)
    if percent is not None:
        out["percent"] = _p(percent)
    if points is not None:
        out["marginPoints"] = _p(points)
    return out


def calculate(body: Any, tier: dict[str, Any], pricing: dict[str, Any] | None = None) -> dict[str, Any]:
    """The quote of `body` (schemas.CreateQuote) for a partner in `tier` (a tier as tiers.tiers_of gives it),
    under the operator's `pricing` terms (tiers.pricing_of; default: tiers.DEFAULT_PRICING)."""
    pricing = pricing or tiering.DEFAULT_PRICING
    per_year, most = Decimal(pricing["acceleratorPointsPerYear"]), Decimal(pricing["acceleratorMaxPoints"])
    seats, years = int(body.seats), int(body.termYears)
    price, content_price = Decimal(body.listPricePerSeat), Decimal(body.contentLicensingPerSeat)
    lms = cents(seats * price)
    content = cents(seats * content_price)
    services = cents(Decimal(body.managedServices))
    lines = [
        _line("listPrice", f"List price {_m(lms)}: {seats} seats × {_m(price)} per seat per year.", lms),
        _line("contentLicensing", f"Content licensing {_m(content)}: {seats} seats × {_m(content_price)} per "
                                  "seat per year.", content),
        _line("managedServices", f"Managed services {_m(services)} per year, as quoted." if services
              else "Managed services 0.00: none quoted.", services),
    ]
    low, high, volume_pct = volume_band(seats, pricing)
    licensed = lms + content
    volume = -cents(licensed * volume_pct / HUNDRED)
    band_text = f"{low}–{high}" if high is not None else f"{low} or more"
    lines.append(_line("volumeDiscount", f"Volume discount {_p(volume_pct)} % ({_m(volume)}): {seats} seats is in the "
                       f"{band_text} band, applied to list price + content licensing ({_m(licensed)}).",
                       volume, volume_pct))
    annual = licensed + services + volume

    accelerator = min(per_year * (years - 1), most)
    lines.append(_line("commitmentAccelerator", f"Annual-commitment accelerator +{_p(accelerator)} margin points: "
                       f"a {years}-year commitment earns {_p(per_year)} per year after the first "
                       f"(at most {_p(most)}).", points=accelerator))
    rating = body.performanceRating
    escalator = Decimal(pricing["escalatorPoints"][rating]) if rating else Decimal("0")
    lines.append(_line("performanceEscalator", f"Performance escalator +{_p(escalator)} margin points: " + (
        f"the partner's performance rating is {rating}." if rating else "no performance rating given."),
        points=escalator))

    band_min, band_max = Decimal(tier["marginBand"]["min"]), Decimal(tier["marginBand"]["max"])
    requested = body.requestedMarginPercent
    base = Decimal(requested) if requested is not None else band_min
    asked = base + accelerator + escalator
    margin = min(max(asked, band_min), band_max)
    margin_annual = cents(annual * margin / HUNDRED)
    source = "requested" if requested is not None else "the band's floor"
    band_text = f"the {tier['name']} band {_p(band_min)}–{_p(band_max)} %"
    if margin == asked:
        why = f"within {band_text}"
    else:
        why = f"clamped to {band_text} ({'above its ceiling' if asked > band_max else 'below its floor'})"
    lines.append(_line("partnerMargin", f"Partner margin {_p(margin)} % ({_m(margin_annual)} a year): {_p(base)} % "
                       f"base ({source}) + {_p(accelerator)} + {_p(escalator)} points = {_p(asked)} % asked, {why}.",
                       margin_annual, margin))
    totals = {
        "annualListPrice": _m(licensed + services), "annualVolumeDiscount": _m(volume),
        "annualCustomerPrice": _m(annual), "termYears": years, "contractValue": _m(annual * years),
        "marginPercent": _p(margin), "marginAskedPercent": _p(asked), "clamped": margin != asked,
        "annualPartnerMargin": _m(margin_annual), "partnerMarginTotal": _m(margin_annual * years),
        "annualVendorNet": _m(annual - margin_annual), "vendorNetTotal": _m((annual - margin_annual) * years),
    }
    return {"tier": {"id": tier["id"], "name": tier["name"], "marginBand": tier["marginBand"]},
            "currency": body.currency, "lines": lines, "totals": totals,
            "explanation": [line["explanation"] for line in lines]}


def quote(ctx: TenantContext, body: Any) -> dict[str, Any]:
    """A quote for the partner of `ctx` (its admins, the operator): partner + tiers in one BatchGetItem."""
    if ctx.tenant_kind != "partner" or ctx.relation not in ("operator", "own"):
        raise NotFound("No such partner.")
    if not ctx.acts_as_admin:
        raise Forbidden("Only the partner's admins and the operator quote.")
    found = list(Item.batch_get([(keys.tenant_pk(ctx.tenant_id), keys.TENANT_SK),
                                 (keys.partner_tiers_pk(), keys.PARTNER_TIERS_SK)]))
    partner = next((i for i in found if isinstance(i, Tenant)), None)
    config = next((i for i in found if isinstance(i, PartnerTierConfig)), None)
    if partner is None:
        raise NotFound("No such partner.")
    tier = tiering.find_tier(tiering.tiers_of(config), tiering.partner_tier_id(partner))
    return {"partnerId": partner.id, **calculate(body, tier, tiering.pricing_of(config))}
