"""SCIM 2.0 routes of a tenant (/v1/tenants/{tenantId}/scim/v2, docs/scim.md) and its SCIM tokens."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.http.routing import Call, Reply, route
from chalicelib.lazy import lazy
from chalicelib.scim import protocol

bp = Blueprint(__name__)
tokens = lazy("chalicelib.scim.tokens")
users = lazy("chalicelib.scim.users")
groups = lazy("chalicelib.scim.groups")
TAG = "SCIM 2.0"
TOKENS = "/v1/tenants/{tenantId}/scim-tokens"
SCIM = "/v1/tenants/{tenantId}/scim/v2"
_NO_STORE = {"Cache-Control": "no-store"}
# SCIM requests: a SCIM token of the tenant (or an admin's bearer token), SCIM bodies and SCIM errors
_SCIM: dict[str, Any] = {"tag": TAG, "auth": "scim", "idempotent": False, "content_types": protocol.CONTENT_TYPES,
                         "produces": protocol.MEDIA_TYPE, "render_error": protocol.render_error}
_DISCOVERY: dict[str, Any] = {"tag": TAG, "public": True, "produces": protocol.MEDIA_TYPE,
                              "content_types": protocol.CONTENT_TYPES,
                              "render_error": protocol.render_error}


def _resource(doc: dict[str, Any], status: int = 200) -> Reply:
    meta = doc.get("meta", {})
    headers = {"Content-Type": protocol.MEDIA_TYPE, "ETag": meta.get("version", "")}
    if status == 201:
        headers["Location"] = meta.get("location", "")
    return Reply(doc, status, headers)


def _scim(doc: dict[str, Any]) -> Reply:
    return Reply(doc, 200, {"Content-Type": protocol.MEDIA_TYPE})


@route(bp, "POST", TOKENS, summary="Create a SCIM bearer token (shown once)", tag=TAG, scope="clients:write",
       body="CreateScimToken", status=201, responses=(400, 403))
def create_token(call: Call) -> Any:
    made = tokens.create_token(call.ctx, call.body)
    location = f"/v1/tenants/{call.params['tenantId']}/scim-tokens/{made['id']}"
    return Reply(made, 201, {**_NO_STORE, "Location": location})


@route(bp, "GET", TOKENS, summary="List SCIM tokens", tag=TAG, scope="clients:read", query="PageQuery")
def list_tokens(call: Call) -> Any:
    return tokens.list_tokens(call.ctx, call.query)


@route(bp, "DELETE", TOKENS + "/{tokenId}", summary="Revoke a SCIM token", tag=TAG, scope="clients:write",
       status=204, responses=(403, 404))
def revoke_token(call: Call) -> Any:
    tokens.revoke_token(call.ctx, call.params["tokenId"])
    return Reply("", 204)


@route(bp, "GET", SCIM + "/ServiceProviderConfig", summary="SCIM: what this service supports", **_DISCOVERY)
def service_provider_config(call: Call) -> Any:
    return _scim(protocol.discovery("config"))


@route(bp, "GET", SCIM + "/ResourceTypes", summary="SCIM: resource types (User, Group)", **_DISCOVERY)
def resource_types(call: Call) -> Any:
    return _scim(protocol.discovery("resource-types"))


@route(bp, "GET", SCIM + "/ResourceTypes/{resourceType}", summary="SCIM: one resource type", **_DISCOVERY)
def resource_type(call: Call) -> Any:
    return _scim(protocol.discovery("resource-types", call.params["resourceType"]))


@route(bp, "GET", SCIM + "/Schemas", summary="SCIM: the schemas of the resources", **_DISCOVERY)
def schemas(call: Call) -> Any:
    return _scim(protocol.discovery("schemas"))


@route(bp, "GET", SCIM + "/Schemas/{schemaId}", summary="SCIM: one schema (by URN)", **_DISCOVERY)
def schema(call: Call) -> Any:
    return _scim(protocol.discovery("schemas", call.params["schemaId"]))


@route(bp, "POST", SCIM + "/Users", summary="SCIM: provision a user", scope="users:write", status=201,
       responses=(400, 401, 409), **_SCIM)
def create_user(call: Call) -> Any:
    return _resource(users.create_user(call.ctx, call.request), 201)


@route(bp, "GET", SCIM + "/Users", summary="SCIM: users (filter, startIndex, count)", scope="users:read",
       responses=(400, 401), **_SCIM)
def list_users(call: Call) -> Any:
    return _scim(users.list_users(call.ctx, call.request))


@route(bp, "GET", SCIM + "/Users/{userId}", summary="SCIM: a user", scope="users:read", responses=(401, 404),
       **_SCIM)
def get_user(call: Call) -> Any:
    return _resource(users.get_user(call.ctx, call.params["userId"], call.request))


@route(bp, "PUT", SCIM + "/Users/{userId}", summary="SCIM: replace a user", scope="users:write",
       responses=(400, 401, 404, 409, 412), **_SCIM)
def replace_user(call: Call) -> Any:
    return _resource(users.replace_user(call.ctx, call.params["userId"], call.request))


@route(bp, "PATCH", SCIM + "/Users/{userId}", summary="SCIM: change a user (PatchOp; active false deactivates)",
       scope="users:write", responses=(400, 401, 404, 409, 412), **_SCIM)
def patch_user(call: Call) -> Any:
    return _resource(users.patch_user(call.ctx, call.params["userId"], call.request))


@route(bp, "DELETE", SCIM + "/Users/{userId}", summary="SCIM: delete a user (deactivated; gone for SCIM)",
       scope="users:write", status=204, responses=(401, 404, 412), **_SCIM)
def delete_user(call: Call) -> Any:
    users.delete_user(call.ctx, call.params["userId"], call.request)
    return Reply("", 204)


@route(bp, "POST", SCIM + "/Groups", summary="SCIM: create a group", scope="users:write", status=201,
       responses=(400, 401, 409), **_SCIM)
def create_group(call: Call) -> Any:
    return _resource(groups.create_group(call.ctx, call.request), 201)


@route(bp, "GET", SCIM + "/Groups", summary="SCIM: groups (filter, startIndex, count)", scope="users:read",
       responses=(400, 401), **_SCIM)
def list_groups(call: Call) -> Any:
    return _scim(groups.list_groups(call.ctx, call.request))


@route(bp, "GET", SCIM + "/Groups/{groupId}", summary="SCIM: a group and its members", scope="users:read",
       responses=(401, 404), **_SCIM)
def get_group(call: Call) -> Any:
    return _resource(groups.get_group(call.ctx, call.params["groupId"], call.request))


@route(bp, "PUT", SCIM + "/Groups/{groupId}", summary="SCIM: replace a group (members too)", scope="users:write",
       responses=(400, 401, 404, 409, 412), **_SCIM)
def replace_group(call: Call) -> Any:
    return _resource(groups.replace_group(call.ctx, call.params["groupId"], call.request))


@route(bp, "PATCH", SCIM + "/Groups/{groupId}", summary="SCIM: change a group (PatchOp: members add/remove)",
       scope="users:write", responses=(400, 401, 404, 409, 412), **_SCIM)
def patch_group(call: Call) -> Any:
    return _resource(groups.patch_group(call.ctx, call.params["groupId"], call.request))


@route(bp, "DELETE", SCIM + "/Groups/{groupId}", summary="SCIM: delete a group (its members leave it)",
       scope="users:write", status=204, responses=(401, 404, 412), **_SCIM)
def delete_group(call: Call) -> Any:
    groups.delete_group(call.ctx, call.params["groupId"], call.request)
    return Reply("", 204)


def _no_such_endpoint(method: str) -> Any:
    def view(call: Call) -> Any:
        if call.params["resource"] == ".search" and method == "POST":  # RFC 7644 §3.4.3: optional at the root
            raise protocol.ScimError(501, None, "Searching several resource types at once is not supported: "
                                                "query /Users or /Groups.")
        raise protocol.ScimError(404, None, f"No SCIM endpoint `{call.params['resource']}` here "
                                            "(Users, Groups, ServiceProviderConfig, ResourceTypes, Schemas).")

    view.__name__ = view.__qualname__ = f"unknown_endpoint_{method.lower()}"
    return view


# Any other name under the SCIM base answers a SCIM 404 (RFC 7644 §3.12), not the API's 403 for unknown paths
# (a greedy `{proxy+}` route is not matched by chalice local; one segment covers clients' resource names).
for _method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
    route(bp, _method, SCIM + "/{resource}", summary="SCIM: an unknown endpoint (404 SCIM error)",
          idempotent=False, responses=(404, 501) if _method == "POST" else (404,),
          **_DISCOVERY)(_no_such_endpoint(_method))
