"""xAPI routes: LRS credentials (tenant admins) and the tenant's LRS endpoint below /xapi."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.http.routing import Call, Reply, route
from chalicelib.lazy import lazy
from chalicelib.lrs import alternate, protocol

bp = Blueprint(__name__)
credentials = lazy("chalicelib.lrs.credentials")
resource = lazy("chalicelib.lrs.resource")
TAG = "xAPI (LRS)"
CREDS = "/v1/tenants/{tenantId}/xapi-credentials"
XAPI = "/v1/tenants/{tenantId}/xapi"
_NO_STORE = {"Cache-Control": "no-store"}
# xAPI routes: Basic LRS credentials or bearer tokens, the version header on every answer, any body type,
# and the alternate request syntax (POST ?method=X with a form) served by the route of method X
_LRS: dict[str, Any] = {"tag": TAG, "auth": "xapi", "headers": protocol.HEADERS, "cors": protocol.CORS,
                        "idempotent": False, "content_types": ("*/*",), "rewrite": alternate.rewrite}


@route(bp, "POST", CREDS, summary="Create an LRS credential (secret shown once)", tag=TAG,
       scope="clients:write", body="CreateLrsCredential", status=201, responses=(400, 403))
def create_credential(call: Call) -> Any:
    made = credentials.create_credential(call.ctx, call.body)
    location = f"/v1/tenants/{call.params['tenantId']}/xapi-credentials/{made['key']}"
    return Reply(made, 201, {**_NO_STORE, "Location": location})


@route(bp, "GET", CREDS, summary="List LRS credentials", tag=TAG, scope="clients:read", query="PageQuery")
def list_credentials(call: Call) -> Any:
    return credentials.list_credentials(call.ctx, call.query)


@route(bp, "DELETE", CREDS + "/{key}", summary="Revoke an LRS credential", tag=TAG, scope="clients:write",
       status=204, responses=(403, 404))
def revoke_credential(call: Call) -> Any:
    credentials.revoke_credential(call.ctx, call.params["key"])
    return Reply("", 204)


forwarding = lazy("chalicelib.lrs.forwarding")
FORWARDING = "/v1/tenants/{tenantId}/xapi-forwarding"


@route(bp, "PUT", FORWARDING, summary="Forward the tenant's statements to an external LRS (settings)", tag=TAG,
       scope="clients:write", body="PutXapiForwarding", responses=(400, 403, 409))
def put_forwarding(call: Call) -> Any:
    return Reply(forwarding.put_forwarding(call.ctx, call.body), 200, _NO_STORE)


@route(bp, "GET", FORWARDING, summary="The forwarding settings and the last delivery's outcome (no secret)",
       tag=TAG, scope="clients:read", responses=(403, 404))
def get_forwarding(call: Call) -> Any:
    return Reply(forwarding.get_forwarding(call.ctx), 200, _NO_STORE)


@route(bp, "DELETE", FORWARDING, summary="Stop forwarding and forget the settings", tag=TAG, scope="clients:write",
       status=204, responses=(403, 404))
def delete_forwarding(call: Call) -> Any:
    forwarding.delete_forwarding(call.ctx)
    return Reply("", 204)


@route(bp, "GET", XAPI + "/about", summary="xAPI About: supported versions", tag=TAG, public=True,
       headers=protocol.HEADERS, cors=protocol.CORS)
def about(call: Call) -> Any:
    return protocol.about()


_STATEMENTS = XAPI + "/statements"


@route(bp, "PUT", _STATEMENTS, summary="xAPI: store a statement with the given statementId", status=204,
       scope="xapi:statements:write", responses=(400, 409), **_LRS)
def put_statement(call: Call) -> Any:
    return resource.put_statement(call.ctx, call.request)


@route(bp, "POST", _STATEMENTS, summary="xAPI: store a statement or a batch (ids returned)",
       scope="xapi:statements:write", responses=(400, 409), **_LRS)
def post_statements(call: Call) -> Any:
    return resource.post_statements(call.ctx, call.request)


@route(bp, "GET", _STATEMENTS, summary="xAPI: a statement by id, or statements matching filters",
       scope="xapi:statements:read:mine", **_LRS)
def get_statements(call: Call) -> Any:
    return resource.get_statements(call.ctx, call.request, bp.current_app.api.binary_types)


docs = lazy("chalicelib.lrs.document_resource")
_DOCS = {"state": (XAPI + "/activities/state", "xapi:state"),
         "activity-profile": (XAPI + "/activities/profile", "xapi:profile"),
         "agent-profile": (XAPI + "/agents/profile", "xapi:profile")}


def _document_routes(resource: str) -> None:
    path, scope = _DOCS[resource]
    name = resource.replace("-", " ")

    def put(call: Call) -> Any:
        return docs.put(call.ctx, resource, call.request, merge=False)

    def post(call: Call) -> Any:
        return docs.put(call.ctx, resource, call.request, merge=True)

    def get(call: Call) -> Any:
        return docs.get(call.ctx, resource, call.request, bp.current_app.api.binary_types)

    def delete(call: Call) -> Any:
        return docs.delete(call.ctx, resource, call.request)

    for method, view, verb, status in (("PUT", put, "store", 204), ("POST", post, "merge into", 204),
                                       ("GET", get, "read (or list the ids of)", 200),
                                       ("DELETE", delete, "delete", 204)):
        view.__name__ = f"{method.lower()}_{resource.replace('-', '_')}"
        access = "read" if method == "GET" else "write"
        route(bp, method, path, summary=f"xAPI: {verb} a {name} document", scope=f"{scope}:{access}",
              status=status, responses=(400, 409, 412), **_LRS)(view)


for _resource in _DOCS:
    _document_routes(_resource)


@route(bp, "GET", XAPI + "/activities", summary="xAPI: the Activity object of an activity id",
       scope="xapi:profile:read", **_LRS)
def get_activity(call: Call) -> Any:
    return docs.activity(call.ctx, call.request)


@route(bp, "GET", XAPI + "/agents", summary="xAPI: the Person object of an agent", scope="xapi:profile:read",
       **_LRS)
def get_person(call: Call) -> Any:
    return docs.person(call.ctx, call.request)
