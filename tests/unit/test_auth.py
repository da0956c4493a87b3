"""Tokens, the token endpoint (RFC 6749 §4.4, §5.2), JWKS and rotation, sessions and lockout."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import urlencode

import jwt
import pytest

from tests.unit.factories import OPERATOR

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_operator_token_has_the_documented_claims(api):
    resp = api.token_for_client(*OPERATOR)
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    body = api.json(resp)
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "RS256" and header["kid"]
    claims = _claims(body["access_token"])
    assert {"iss", "aud", "sub", "roles", "scope", "exp", "iat", "jti"} <= claims.keys()
    assert "tenant" not in claims and claims["roles"] == ["operator"]


def test_token_verifies_against_published_jwks(api):
    token = api.operator
    jwks = api.json(api.call("GET", "/.well-known/jwks.json"))
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    public = jwt.PyJWK(key).key
    claims = jwt.decode(token, public, algorithms=["RS256"], audience="onramp-api")
    assert claims["sub"] == f"client:{OPERATOR[0]}"


def test_client_auth_in_body_works(api):
    body = urlencode({"grant_type": "client_credentials", "client_id": OPERATOR[0], "client_secret": OPERATOR[1]})
    resp = api.client.http.post("/v1/oauth/token", body=body, headers=FORM)
    assert resp.status_code == 200


@pytest.mark.parametrize(("form", "auth", "status", "error"), [
    ({"grant_type": "password"}, OPERATOR, 400, "unsupported_grant_type"),
    ({}, OPERATOR, 400, "invalid_request"),
    ({"grant_type": "client_credentials"}, (OPERATOR[0], "wrong"), 401, "invalid_client"),
    ({"grant_type": "client_credentials"}, ("tn-nope_123", "x"), 401, "invalid_client"),
    ({"grant_type": "client_credentials"}, None, 401, "invalid_client"),
    ({"grant_type": "client_credentials", "scope": "users:read bogus:write"}, OPERATOR, 400, "invalid_scope"),
])
def test_token_errors_follow_rfc6749(api, form, auth, status, error):
    headers = dict(FORM)
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    resp = api.client.http.post("/v1/oauth/token", body=urlencode(form), headers=headers)
    assert resp.status_code == status
    assert api.json(resp)["error"] == error
    if status == 401:
        assert resp.headers["WWW-Authenticate"].startswith("Basic")


def test_token_endpoint_wants_a_form(api):
    resp = api.client.http.post("/v1/oauth/token", body="{}", headers={"Content-Type": "application/json"})
    assert resp.status_code == 415
    assert resp.headers["Content-Type"] == "application/problem+json"


def test_tenant_client_acts_as_admin_within_its_scopes(api):
    tenant = api.make_tenant()
    created = api.call("POST", f"/v1/tenants/{tenant['id']}/clients", api.operator,
                       {"name": "crm", "scopes": ["users:read"]})
    assert created.status_code == 201
    client = api.json(created)
    assert client["clientSecret"] and client["clientId"].startswith(tenant["id"] + "_")
    listed = api.json(api.call("GET", f"/v1/tenants/{tenant['id']}/clients", api.operator))
    assert "clientSecret" not in json.dumps(listed) and listed["items"][0]["clientId"] == client["clientId"]
    token = api.json(api.token_for_client(client["clientId"], client["clientSecret"]))["access_token"]
    assert _claims(token)["tenant"] == tenant["id"] and _claims(token)["scope"] == "users:read"
    assert api.call("GET", f"/v1/tenants/{tenant['id']}/users", token).status_code == 200
    denied = api.call("POST", f"/v1/tenants/{tenant['id']}/users", token, {"email": "a@b.co", "displayName": "A"})
    assert denied.status_code == 403
    assert "users:write" in api.json(denied)["detail"]


def test_revoked_client_gets_no_token(api):
    tenant = api.make_tenant()
    client = api.json(api.call("POST", f"/v1/tenants/{tenant['id']}/clients", api.operator,
                               {"name": "crm", "scopes": ["users:read"]}))
    resp = api.call("DELETE", f"/v1/tenants/{tenant['id']}/clients/{client['clientId']}", api.operator)
    assert resp.status_code == 204 and resp.body in (b"", "")
    assert api.token_for_client(client["clientId"], client["clientSecret"]).status_code == 401


def test_a_client_cannot_get_more_scopes_than_its_creator(api):
    tenant = api.make_tenant()
    _, manager = api.user_token(tenant["id"], ["manager"])
    resp = api.call("POST", f"/v1/tenants/{tenant['id']}/clients", manager, {"name": "x", "scopes": ["users:write"]})
    assert resp.status_code == 403  # managers lack clients:write altogether


@pytest.mark.parametrize("header", [
    None, "Bearer", "Basic abc", "Bearer not-a-jwt",
    "Bearer " + jwt.encode({"sub": "x", "roles": ["operator"]}, key=None, algorithm="none"),
    "Bearer " + jwt.encode({"sub": "x", "roles": ["operator"], "scope": "tenants:read", "exp": 9999999999,
                            "iat": 1, "jti": "1", "iss": "https://onramp.local", "aud": "onramp-api"},
                           "a-guessed-hmac-secret-that-is-long-enough", algorithm="HS256"),
])
def test_missing_or_forged_tokens_are_401_with_a_challenge(api, header):
    headers = {"Authorization": header} if header else {}
    resp = api.client.http.get("/v1/tenants", headers=headers)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert api.json(resp)["status"] == 401


def test_expired_token_is_401(api):
    from chalicelib.auth import keys

    key = keys.signing_key()
    now = int(time.time())
    token = jwt.encode({"sub": "client:x", "roles": ["operator"], "scope": "tenants:read", "iat": now - 100,
                        "exp": now - 10, "jti": "1", "iss": "https://onramp.local", "aud": "onramp-api"},
                       key.private_key, algorithm="RS256", headers={"kid": key.kid})
    resp = api.call("GET", "/v1/tenants", token)
    assert resp.status_code == 401 and "expired" in resp.headers["WWW-Authenticate"]


def test_rotation_keeps_old_tokens_valid_and_publishes_two_keys(api):
    from chalicelib.auth import keys

    old = api.operator
    new_kid = keys.rotate()
    published = [k["kid"] for k in api.json(api.call("GET", "/.well-known/jwks.json"))["keys"]]
    assert len(published) == 2 and new_kid in published
    assert api.call("GET", "/v1/tenants", old).status_code == 200
    fresh = api.json(api.token_for_client(*OPERATOR))["access_token"]
    assert jwt.get_unverified_header(fresh)["kid"] == new_kid


def test_login_issues_a_tenant_token_with_role_scopes(api):
    tenant = api.make_tenant()
    user, token = api.user_token(tenant["id"], ["learner"])
    claims = _claims(token)
    assert claims["tenant"] == tenant["id"] and claims["sub"] == user["id"]
    assert claims["roles"] == ["learner"] and "users:write" not in claims["scope"]


def test_partner_admins_get_the_partner_admin_role(api):
    partner = api.make_tenant(template="reseller")
    _, token = api.user_token(partner["id"], ["admin"])
    assert set(_claims(token)["roles"]) == {"admin", "partner_admin"}


def test_wrong_password_then_lockout(api):
    tenant = api.make_tenant()
    api.make_user(tenant["id"], email="rep@x.com", password="correct-horse-battery")
    path = f"/v1/tenants/{tenant['id']}/sessions"
    for _ in range(5):
        resp = api.call("POST", path, None, {"email": "rep@x.com", "password": "nope"})
        assert resp.status_code == 401
    locked = api.call("POST", path, None, {"email": "rep@x.com", "password": "correct-horse-battery"})
    assert locked.status_code == 429 and locked.headers["Retry-After"]


def test_unknown_email_and_wrong_password_look_alike(api):
    tenant = api.make_tenant()
    api.make_user(tenant["id"], email="rep@x.com", password="correct-horse-battery")
    path = f"/v1/tenants/{tenant['id']}/sessions"
    a = api.call("POST", path, None, {"email": "rep@x.com", "password": "nope"})
    b = api.call("POST", path, None, {"email": "ghost@x.com", "password": "nope"})
    assert a.status_code == b.status_code == 401
    assert api.json(a)["detail"] == api.json(b)["detail"]


def test_deactivated_user_cannot_log_in(api):
    tenant = api.make_tenant()
    user = api.make_user(tenant["id"], email="rep@x.com", password="correct-horse-battery")
    api.call("POST", f"/v1/tenants/{tenant['id']}/users/{user['id']}/deactivate", api.operator)
    resp = api.call("POST", f"/v1/tenants/{tenant['id']}/sessions", None,
                    {"email": "rep@x.com", "password": "correct-horse-battery"})
    assert resp.status_code == 401


def test_suspended_tenant_tokens_stop_working(api):
    from chalicelib.tenancy import cache

    tenant = api.make_tenant()
    admin = api.tenant_admin(tenant["id"])
    assert api.call("GET", f"/v1/tenants/{tenant['id']}", admin).status_code == 200
    assert api.call("POST", f"/v1/tenants/{tenant['id']}/suspend", api.operator).status_code == 200
    cache.reset()  # another container's cache would expire within its 30 s TTL
    resp = api.call("GET", f"/v1/tenants/{tenant['id']}", admin)
    assert resp.status_code == 401
    assert api.call("POST", f"/v1/tenants/{tenant['id']}/resume", api.operator).status_code == 200
    cache.reset()
    assert api.call("GET", f"/v1/tenants/{tenant['id']}", admin).status_code == 200


def test_tenant_cache_expires_within_sixty_seconds(monkeypatch, aws):
    from chalicelib.config import settings
    from chalicelib.tenancy import cache

    assert settings().tenant_cache_seconds <= 60
    calls = []
    monkeypatch.setattr(cache, "_load", lambda tid: calls.append(tid))
    now = [1000.0]
    monkeypatch.setattr(cache.time, "monotonic", lambda: now[0])
    cache.tenant_record("tn-a")
    cache.tenant_record("tn-a")
    now[0] += settings().tenant_cache_seconds + 0.1
    cache.tenant_record("tn-a")
    assert calls == ["tn-a", "tn-a"]


def test_the_rotation_job_rotates_once_per_month(api):
    from datetime import UTC, datetime, timedelta

    from chalicelib.auth import keys
    from chalicelib.jobs import JOBS

    first_kid = next(iter(keys.verification_keys()))
    now = datetime.now(UTC)
    assert JOBS["rotate-signing-keys"].run(now)["signingKid"] == first_kid  # the key is brand new
    rotated = JOBS["rotate-signing-keys"].run(now + timedelta(days=31))["signingKid"]
    assert rotated != first_kid
    again = JOBS["rotate-signing-keys"].run(now + timedelta(days=31))  # a retry changes nothing
    assert again["signingKid"] == rotated and again["publishedKids"] == [rotated, first_kid]


def test_production_password_hashes_use_scrypt_at_full_cost(monkeypatch):
    from chalicelib.auth import passwords

    monkeypatch.undo()  # the suite lowers the cost for speed; the shipped constant must be the real one
    stored = passwords.hash_password("correct-horse-battery")
    assert stored.startswith("scrypt$16384$8$1$")
    assert passwords.verify_password("correct-horse-battery", stored)
