"""Partner program routes: the operator's tiers, a partner's tier, quotes (docs/partners.md)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.http.routing import Call, route
from chalicelib.lazy import lazy

bp = Blueprint(__name__)
tiers = lazy("chalicelib.partners.tiers")
quotes = lazy("chalicelib.partners.quotes")
TAG = "Partners"
PARTNER = "/v1/partners/{partnerId}"



@route(bp, "GET", "/v1/partner-tiers", summary="The partner tiers: margin bands, requirements, benefits", tag=TAG)
def get_tiers(call: Call) -> Any:
    return tiers.get_tiers()


@route(bp, "PUT", "/v1/partner-tiers", summary="Configure the partner tiers (operator)", tag=TAG,
       scope="tenants:write", body="PartnerTiers", responses=(400, 403, 409))
def put_tiers(call: Call) -> Any:
    assert call.principal is not None
    return tiers.put_tiers(call.principal, call.body, call.correlation_id)


@route(bp, "PUT", PARTNER + "/tier", summary="Put a partner in a tier (operator)", tag=TAG,
       scope="tenants:write", body="AssignPartnerTier", responses=(400, 403, 404, 409))
def assign_tier(call: Call) -> Any:
    return tiers.assign_tier(call.partner("tenants:write"), call.body)


@route(bp, "POST", PARTNER + "/quotes", summary="Quote a deal for a partner, explained line by line", tag=TAG,
       scope="tenants:read", body="CreateQuote", idempotent=False, responses=(400, 403, 404))
def create_quote(call: Call) -> Any:
    return quotes.quote(call.partner("tenants:read"), call.body)
