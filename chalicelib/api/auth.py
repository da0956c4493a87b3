"""Auth routes: OAuth2 client credentials, JWKS, people's sessions, tenant API clients."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote_plus

from chalice import Blueprint, Response

from chalicelib.auth.basic import parse_basic
from chalicelib.http.routing import Call, Reply, route
from chalicelib.lazy import lazy

bp = Blueprint(__name__)
clients = lazy("chalicelib.auth.clients")
tokens = lazy("chalicelib.auth.tokens")
keys = lazy("chalicelib.auth.keys")
sessions = lazy("chalicelib.auth.sessions")
TAG = "Auth"
FORM = "application/x-www-form-urlencoded"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _oauth_error(error: str, description: str, status: int = 400, basic: bool = False) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": "application/json", **_NO_STORE}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="onramp"' if basic else 'Bearer realm="onramp"'
    return Response({"error": error, "error_description": description}, status_code=status, headers=headers)


def _client_credentials(call: Call, form: dict[str, list[str]]) -> tuple[str, str, bool] | None:
    header = call.request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        pair = parse_basic(header)
        return (unquote_plus(pair[0]), unquote_plus(pair[1]), True) if pair else None
    ids, secrets = form.get("client_id", []), form.get("client_secret", [])
    if len(ids) == 1 and len(secrets) == 1:
        return ids[0], secrets[0], False
    return None


@route(bp, "POST", "/v1/oauth/token", summary="OAuth2 token (client credentials, RFC 6749 §4.4)",
       tag=TAG, public=True, idempotent=False, content_types=(FORM,), responses=(400, 401))
def token(call: Call) -> Any:
    try:
        form = parse_qs((call.request.raw_body or b"").decode(), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        return _oauth_error("invalid_request", "The body must be form-encoded UTF-8.")
    if any(len(v) > 1 for v in form.values()):
        return _oauth_error("invalid_request", "A parameter is repeated.")
    grant = form.get("grant_type", [""])[0]
    if not grant:
        return _oauth_error("invalid_request", "grant_type is required.")
    if grant != "client_credentials":
        return _oauth_error("unsupported_grant_type", "Only client_credentials is supported here.")
    creds = _client_credentials(call, form)
    if creds is None:
        return _oauth_error("invalid_client", "Client authentication is required.", 401, basic=True)
    client_id, secret, basic = creds
    try:
        principal = clients.authenticate(client_id, secret, form.get("scope", [None])[0])
    except clients.InvalidClient:
        return _oauth_error("invalid_client", "Client authentication failed.", 401, basic=basic)
    except clients.InvalidScope as exc:
        return _oauth_error("invalid_scope", f"Scope not granted to this client: {exc}.")
    return Reply(tokens.issue(principal), 200, dict(_NO_STORE))


@route(bp, "GET", "/.well-known/jwks.json", summary="Public keys that verify access tokens", tag=TAG,
       public=True)
def jwks(call: Call) -> Any:
    return Reply(keys.jwks(), 200, {"Cache-Control": "public, max-age=300"})


@route(bp, "POST", "/v1/tenants/{tenantId}/sessions", summary="Log in with email and password",
       tag=TAG, public=True, idempotent=False, body="CreateSession", status=201, responses=(400, 401, 404, 429))
def create_session(call: Call) -> Any:
    issued = sessions.login(call.params["tenantId"], call.body.email, call.body.password)
    return Reply(issued, 201, dict(_NO_STORE))


@route(bp, "POST", "/v1/tenants/{tenantId}/clients", summary="Create an API client (secret shown once)",
       tag=TAG, scope="clients:write", body="CreateClient", status=201, responses=(400, 403))
def create_client(call: Call) -> Any:
    return Reply(clients.create_client(call.ctx, call.body), 201, dict(_NO_STORE))


@route(bp, "GET", "/v1/tenants/{tenantId}/clients", summary="List API clients", tag=TAG,
       scope="clients:read", query="PageQuery")
def list_clients(call: Call) -> Any:
    return clients.list_clients(call.ctx, call.query)


@route(bp, "DELETE", "/v1/tenants/{tenantId}/clients/{clientId}", summary="Revoke an API client",
       tag=TAG, scope="clients:write", status=204, responses=(403, 404))
def revoke_client(call: Call) -> Any:
    clients.revoke_client(call.ctx, call.params["clientId"])
    return Reply("", 204)
