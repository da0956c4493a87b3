"""Lead routing routes: the operator's settings, partners' routing profiles, leads, claims (docs/partners.md)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.http.routing import Call, Reply, route
from chalicelib.lazy import lazy

bp = Blueprint(__name__)
routing = lazy("chalicelib.partners.routing")
cards = lazy("chalicelib.partners.lead_cards")
leads = lazy("chalicelib.partners.leads")
TAG = "Partners"
PARTNER = "/v1/partners/{partnerId}"
LEAD = "/v1/leads/{leadId}"
PARTNER_LEAD = PARTNER + "/leads/{leadId}"



@route(bp, "GET", "/v1/lead-routing", summary="The lead-routing settings (operator)", tag=TAG, scope="leads:read",
       responses=(403,))
def get_settings(call: Call) -> Any:
    assert call.principal is not None
    return routing.get_settings(call.principal)


@route(bp, "PUT", "/v1/lead-routing", summary="Configure lead routing (operator)", tag=TAG, scope="leads:write",
       body="LeadRoutingSettings", responses=(400, 403, 409))
def put_settings(call: Call) -> Any:
    assert call.principal is not None
    return routing.put_settings(call.principal, call.body, call.correlation_id)


@route(bp, "GET", PARTNER + "/routing-profile", summary="A partner's routing profile and card", tag=TAG,
       scope="leads:read", responses=(403, 404))
def get_profile(call: Call) -> Any:
    return cards.get_profile(call.partner("leads:read"))


@route(bp, "PUT", PARTNER + "/routing-profile", summary="Set a partner's routing profile (its admins, operator)",
       tag=TAG, scope="leads:write", body="RoutingProfile", responses=(400, 403, 404))
def put_profile(call: Call) -> Any:
    return cards.put_profile(call.partner("leads:write"), call.body)


@route(bp, "POST", "/v1/leads", summary="Create a lead and route it (operator, CRM inbound; idempotent on "
       "externalId)", tag=TAG, scope="leads:write", body="CreateLead", status=201, responses=(400, 403))
def create_lead(call: Call) -> Any:
    assert call.principal is not None
    lead, created = leads.create_lead(call.principal, call.body, call.correlation_id)
    return Reply(lead, 201 if created else 200, {"Location": f"/v1/leads/{lead['id']}"})


@route(bp, "GET", "/v1/leads", summary="List leads (operator), by status", tag=TAG, scope="leads:read",
       query="LeadListQuery", responses=(403,))
def list_leads(call: Call) -> Any:
    assert call.principal is not None
    return leads.list_leads(call.principal, call.query)


@route(bp, "GET", LEAD, summary="A lead and its current offer (operator; a partner offered it)", tag=TAG,
       scope="leads:read", responses=(404,))
def get_lead(call: Call) -> Any:
    assert call.principal is not None
    return leads.get_lead(call.principal, call.params["leadId"])


@route(bp, "GET", LEAD + "/routing", summary="Why each partner was offered the lead (operator)", tag=TAG,
       scope="leads:read", responses=(403, 404))
def get_routing(call: Call) -> Any:
    assert call.principal is not None
    return leads.routing_explanation(call.principal, call.params["leadId"])


@route(bp, "GET", PARTNER + "/leads", summary="The leads offered to a partner", tag=TAG, scope="leads:read",
       query="PageQuery", responses=(403, 404))
def partner_leads(call: Call) -> Any:
    return leads.partner_leads(call.partner("leads:read"), call.query)


@route(bp, "POST", PARTNER_LEAD + "/claim", summary="Claim an offered lead (race-safe)", tag=TAG, scope="leads:write",
       responses=(403, 404, 409))
def claim(call: Call) -> Any:
    return leads.claim(call.partner("leads:write"), call.params["leadId"])


@route(bp, "POST", PARTNER_LEAD + "/decline", summary="Decline an offered lead (re-routed at once)", tag=TAG,
       scope="leads:write", responses=(403, 404, 409))
def decline(call: Call) -> Any:
    return leads.decline(call.partner("leads:write"), call.params["leadId"])


@route(bp, "POST", PARTNER_LEAD + "/outcome", summary="Close an owned lead: won or lost", tag=TAG,
       scope="leads:write", body="LeadOutcome", responses=(400, 403, 404, 409))
def outcome(call: Call) -> Any:
    return leads.record_outcome(call.partner("leads:write"), call.params["leadId"], call.body)
