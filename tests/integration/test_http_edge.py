"""The HTTP edge over a real socket: tokens, problem+json, HEAD/204 without bodies, unknown verbs,
and the OpenAPI document against the app's routes."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from tests.integration.conftest import OPERATOR_ID, OPERATOR_SECRET, Stack

pytestmark = pytest.mark.integration
PROBLEM = "application/problem+json"


def _slug(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_operator_token_with_basic_and_with_body_auth(stack: Stack) -> None:
    for basic in (True, False):
        reply = stack.token(OPERATOR_ID, OPERATOR_SECRET, basic=basic)
        assert reply.status == 200, reply.body
        doc = reply.json()
        assert doc["token_type"].lower() == "bearer" and doc["access_token"].count(".") == 2
        assert reply.headers["Cache-Control"] == "no-store"
        tenants = stack.call("GET", "/v1/tenants", token=doc["access_token"])
        assert tenants.status == 200


def test_wrong_client_secret_is_401(stack: Stack) -> None:
    reply = stack.token(OPERATOR_ID, "not-the-secret")
    assert reply.status == 401 and reply.json()["error"] == "invalid_client"
    assert reply.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize(("client_id", "secret", "basic"), [
    ("\u00c5x", "y", False), (OPERATOR_ID, "s\u00e9cret", False), ("\u00c5x", "y", True),
    (":\u00c59K\U000c1b3a", "T\U0008a83d\\#", False),  # schemathesis' find: non-ASCII broke compare_digest
])
def test_non_ascii_client_credentials_are_401_not_500(stack: Stack, client_id: str, secret: str,
                                                      basic: bool) -> None:
    reply = stack.token(client_id, secret, basic=basic)
    assert reply.status == 401, reply.body
    assert reply.json()["error"] == "invalid_client"


def test_missing_token_is_401_problem_with_www_authenticate(stack: Stack) -> None:
    reply = stack.call("GET", "/v1/tenants")
    assert reply.status == 401
    assert reply.content_type.startswith(PROBLEM) and reply.json()["status"] == 401
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")


def test_forged_token_is_401(stack: Stack) -> None:
    header, payload, signature = stack.operator.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    for token in (f"{header}.{forged_payload}.{signature}", f"{header}.{payload}.{signature[::-1]}",
                  "not.a.jwt"):
        reply = stack.call("GET", "/v1/tenants", token=token)
        assert reply.status == 401, token
        assert reply.content_type.startswith(PROBLEM)


def test_malformed_json_is_400_problem(stack: Stack) -> None:
    reply = stack.call("POST", "/v1/tenants", raw=b'{"name": "x",', token=stack.operator,
                       headers={"Content-Type": "application/json"})
    assert reply.status == 400
    assert reply.content_type.startswith(PROBLEM)
    doc = reply.json()
    assert doc["status"] == 400 and doc["type"].startswith("/problems/") and doc["detail"]


def test_invalid_body_is_400_problem_naming_the_field(stack: Stack) -> None:
    reply = stack.call("POST", "/v1/tenants", {"name": "X", "slug": "NOT A SLUG", "template": "sales-team"},
                       stack.operator)
    assert reply.status == 400 and reply.content_type.startswith(PROBLEM)
    assert any(e["field"] == "slug" for e in reply.json()["errors"])


def test_wrong_content_type_is_415_problem(stack: Stack) -> None:
    reply = stack.call("POST", "/v1/tenants", raw=b"name=x", token=stack.operator,
                       headers={"Content-Type": "text/plain"})
    assert reply.status == 415
    assert reply.content_type.startswith(PROBLEM) and reply.json()["status"] == 415


def test_head_has_no_body_and_keeps_the_connection(stack: Stack) -> None:
    conn = stack.connection()
    try:
        for path in ("/v1/health", "/openapi.json", "/.well-known/jwks.json"):
            conn.request("HEAD", path)
            resp = conn.getresponse()
            assert resp.status == 200 and resp.read() == b"", path
        conn.request("GET", "/v1/health")  # the same socket still parses
        resp = conn.getresponse()
        assert resp.status == 200 and json.loads(resp.read())["status"] == "ok"
    finally:
        conn.close()


def test_204_has_no_body_and_keeps_the_connection(stack: Stack) -> None:
    tenant = stack.make_tenant(_slug("nobody"))
    created = stack.call("POST", f"/v1/tenants/{tenant['id']}/clients",
                         {"name": "ci", "scopes": ["users:read"]}, stack.operator)
    assert created.status == 201, created.body
    conn = stack.connection()
    try:
        headers = {"Authorization": f"Bearer {stack.operator}"}
        conn.request("DELETE", f"/v1/tenants/{tenant['id']}/clients/{created.json()['clientId']}", headers=headers)
        resp = conn.getresponse()
        assert resp.status == 204 and resp.read() == b""
        assert resp.getheader("Content-Length") is None
        conn.request("GET", f"/v1/tenants/{tenant['id']}", headers=headers)
        resp = conn.getresponse()
        assert resp.status == 200 and json.loads(resp.read())["id"] == tenant["id"]
    finally:
        conn.close()


@pytest.mark.parametrize("verb", ["TRACE", "QUERY", "CONNECTX"])
def test_unknown_verb_is_405_with_allow(stack: Stack, verb: str) -> None:
    reply = stack.call(verb, "/v1/health")
    assert reply.status == 405
    assert reply.content_type.startswith(PROBLEM) and reply.json()["status"] == 405
    assert {m.strip() for m in reply.headers["Allow"].split(",")} >= {"GET", "HEAD"}


def test_known_verb_on_the_wrong_route_is_405_problem_with_allow(stack: Stack) -> None:
    reply = stack.call("PUT", "/v1/health", raw=b"")
    assert reply.status == 405
    assert reply.content_type.startswith(PROBLEM)
    assert "GET" in reply.headers["Allow"]


def test_unknown_path_is_not_a_server_error(stack: Stack) -> None:
    reply = stack.call("GET", "/v1/nothing-here")
    assert 400 <= reply.status < 500


def test_openapi_is_31_and_lists_every_route(stack: Stack) -> None:
    from openapi_spec_validator import validate

    from app import app

    reply = stack.call("GET", "/openapi.json")
    assert reply.status == 200
    doc = reply.json()
    assert doc["openapi"].startswith("3.1")
    validate(doc)
    served = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    routed = {(path, method) for path, methods in app.routes.items() for method in methods if method != "HEAD"}
    assert served == routed


def test_docs_page(stack: Stack) -> None:
    reply = stack.call("GET", "/docs")
    assert reply.status == 200 and reply.content_type.startswith("text/html")
    assert b"/v1/tenants" in reply.body
