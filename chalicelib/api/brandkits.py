"""Co-branding routes: a partner's brand-kit draft, versions, the operator's review, effective branding."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.http.routing import Call, Reply, route
from chalicelib.lazy import lazy

bp = Blueprint(__name__)
kits = lazy("chalicelib.partners.brandkits")
review = lazy("chalicelib.partners.brandkit_review")
tenant_branding = lazy("chalicelib.tenancy.branding")
TAG = "Partners"
KIT = "/v1/partners/{partnerId}/brand-kit"
KITS = "/v1/partners/{partnerId}/brand-kits"



@route(bp, "GET", KIT + "/draft", summary="A partner's brand-kit draft", tag=TAG, scope="tenants:read",
       responses=(403, 404))
def get_draft(call: Call) -> Any:
    return kits.get_draft(call.partner("tenants:read"))


@route(bp, "PUT", KIT + "/draft", summary="Save the partner's brand-kit draft (its admins)", tag=TAG,
       scope="tenants:write", body="BrandKit", responses=(400, 403, 404, 409))
def put_draft(call: Call) -> Any:
    return kits.put_draft(call.partner("tenants:write"), call.body)


@route(bp, "POST", KIT + "/draft/submit", summary="Submit the draft as the next brand-kit version", tag=TAG,
       scope="tenants:write", status=201, responses=(400, 403, 404, 409))
def submit_draft(call: Call) -> Any:
    version, created = kits.submit(call.partner("tenants:write"))
    return Reply(version, 201 if created else 200,
                 {"Location": f"/v1/partners/{version['partnerId']}/brand-kits/{version['version']}"})


@route(bp, "GET", KIT + "/audit", summary="Every action on the partner's brand kit, oldest first", tag=TAG,
       scope="tenants:read", query="PageQuery", responses=(403, 404))
def audit(call: Call) -> Any:
    return kits.audit_trail(call.partner("tenants:read"), call.query)


@route(bp, "GET", KITS, summary="The partner's brand-kit versions, newest first", tag=TAG, scope="tenants:read",
       query="PageQuery", responses=(403, 404))
def list_versions(call: Call) -> Any:
    return kits.list_versions(call.partner("tenants:read"), call.query)


@route(bp, "GET", KITS + "/{version}", summary="One brand-kit version with its decisions", tag=TAG,
       scope="tenants:read", responses=(403, 404))
def get_version(call: Call) -> Any:
    return kits.get_version(call.partner("tenants:read"), call.params["version"])


@route(bp, "POST", KITS + "/{version}/approve", summary="Approve a brand-kit version (operator)", tag=TAG,
       scope="tenants:write", responses=(403, 404, 409))
def approve(call: Call) -> Any:
    return review.approve(call.partner("tenants:write"), call.params["version"])


@route(bp, "POST", KITS + "/{version}/request-changes", summary="Request changes to a brand-kit version (operator)",
       tag=TAG, scope="tenants:write", body="BrandKitChangeRequest", responses=(400, 403, 404, 409))
def request_changes(call: Call) -> Any:
    return review.request_changes(call.partner("tenants:write"), call.params["version"], call.body)


@route(bp, "GET", "/v1/tenants/{tenantId}/branding", summary="A tenant's effective branding (with its partner's "
       "live brand kit)", tag=TAG, scope="tenants:read")
def effective_branding(call: Call) -> Any:
    assert call.ctx is not None
    return tenant_branding.get_branding(call.ctx.tenant_id)
