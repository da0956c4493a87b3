"""CRM integrations: per-tenant settings (admins), and the inbound Salesforce and HubSpot endpoints.

The inbound routes are public: Salesforce is authenticated by the tenant's org id in the message, HubSpot
by the v3 signature with the tenant's app secret (docs/integrations.md).
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.http.routing import Call, Reply, actual_path, route
from chalicelib.lazy import lazy

bp = Blueprint(__name__)
crm_config = lazy("chalicelib.integrations.crm.config")
salesforce = lazy("chalicelib.integrations.crm.salesforce")
hubspot = lazy("chalicelib.integrations.crm.hubspot")
TAG = "Integrations"
BASE = "/v1/tenants/{tenantId}/integrations"
XML = ("text/xml", "application/xml", "application/soap+xml")
_NO_STORE = {"Cache-Control": "no-store"}


def _base_url(call: Call) -> str:
    from chalicelib.api.learning import base_url

    return str(base_url(call.request))


@route(bp, "PUT", BASE + "/salesforce", summary="Take Salesforce outbound messages (org id, field mapping)",
       tag=TAG, scope="integrations:write", body="PutSalesforceIntegration", responses=(400, 403, 409))
def put_salesforce(call: Call) -> Any:
    return Reply(crm_config.put_config(call.ctx, "salesforce", call.body, _base_url(call)), 200, _NO_STORE)


@route(bp, "GET", BASE + "/salesforce", summary="The Salesforce inbound settings and endpoint URL", tag=TAG,
       scope="integrations:read", responses=(403, 404))
def get_salesforce(call: Call) -> Any:
    return Reply(crm_config.get_config(call.ctx, "salesforce", _base_url(call)), 200, _NO_STORE)


@route(bp, "PUT", BASE + "/hubspot", summary="Take HubSpot webhooks (app secret, portal, field mapping)",
       tag=TAG, scope="integrations:write", body="PutHubspotIntegration", responses=(400, 403, 409))
def put_hubspot(call: Call) -> Any:
    return Reply(crm_config.put_config(call.ctx, "hubspot", call.body, _base_url(call)), 200, _NO_STORE)


@route(bp, "GET", BASE + "/hubspot", summary="The HubSpot inbound settings (hasAppSecret, never the secret)",
       tag=TAG, scope="integrations:read", responses=(403, 404))
def get_hubspot(call: Call) -> Any:
    return Reply(crm_config.get_config(call.ctx, "hubspot", _base_url(call)), 200, _NO_STORE)


@route(bp, "POST", BASE + "/salesforce/outbound-messages", summary="A Salesforce outbound message (SOAP; acked)",
       tag=TAG, public=True, idempotent=False, content_types=XML, produces="text/xml", responses=(400, 401))
def salesforce_outbound_message(call: Call) -> Any:
    ack, _ = salesforce.receive(call.params["tenantId"], call.request.raw_body or b"", call.correlation_id)
    return Reply(ack, 200, {"Content-Type": "text/xml; charset=utf-8"})


@route(bp, "POST", BASE + "/hubspot/webhooks", summary="A HubSpot webhook batch (signature v3); per-event results",
       tag=TAG, public=True, idempotent=False, responses=(400, 401))
def hubspot_webhooks(call: Call) -> Any:
    from chalicelib.config import settings

    request = call.request
    headers = request.headers or {}
    query = [(k, v) for k in (request.query_params or {}) for v in request.query_params.getlist(k)]
    uris = hubspot.signed_uris(public_url=settings().public_url, host=headers.get("host"),
                               proto=headers.get("x-forwarded-proto"), path=actual_path(request),
                               stage_path=(request.context or {}).get("path") or actual_path(request), query=query)
    return hubspot.receive(call.params["tenantId"], request.raw_body or b"", method=request.method, uris=uris,
                           timestamp=headers.get("x-hubspot-request-timestamp"),
                           signature=headers.get("x-hubspot-signature-v3"), correlation_id=call.correlation_id)
