"""The HTTP edge: problem+json for every error, body limits, HEAD/204, correlation ids and logs,
Idempotency-Key, OpenAPI and the docs page."""

from __future__ import annotations

import json

import pytest


def test_malformed_json_is_a_400_problem(api):
    resp = api.call("POST", "/v1/tenants", api.operator, raw="{not json")
    assert resp.status_code == 400
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert api.json(resp)["type"] == "/problems/malformed-body"


@pytest.mark.parametrize("raw", ["[]", "null", "42", ""])
def test_a_body_that_is_not_an_object_is_a_400(api, raw):
    resp = api.call("POST", "/v1/tenants", api.operator, raw=raw)
    assert resp.status_code == 400 and api.json(resp)["status"] == 400


def test_wrong_content_type_is_a_415_problem(api):
    resp = api.call("POST", "/v1/tenants", api.operator, raw="name=x", headers={"Content-Type": "text/csv"})
    assert resp.status_code == 415
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert api.json(resp)["title"] == "Unsupported media type"


def test_oversized_body_is_a_413(api, monkeypatch):
    big = json.dumps({"name": "x" * 2_000_000, "slug": "big", "template": "sales-team"})
    resp = api.call("POST", "/v1/tenants", api.operator, raw=big)
    assert resp.status_code == 413 and api.json(resp)["type"] == "/problems/payload-too-large"


def test_unsupported_method_is_a_405_problem_with_allow(api):
    resp = api.call("DELETE", "/v1/tenants", api.operator)
    assert resp.status_code == 405
    assert "GET" in resp.headers["Allow"] and "POST" in resp.headers["Allow"]
    assert resp.headers["Content-Type"] == "application/problem+json"


def test_head_has_no_body_but_the_get_headers(api):
    tenant = api.make_tenant()
    resp = api.call("HEAD", f"/v1/tenants/{tenant['id']}", api.operator)
    assert resp.status_code == 200 and resp.body in (b"", "")


def test_unexpected_failure_is_a_500_problem_without_internals(api, monkeypatch):
    from chalicelib.tenancy import service

    def boom(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(service, "get_tenant", boom)
    tenant = api.make_tenant()
    resp = api.call("GET", f"/v1/tenants/{tenant['id']}", api.operator, headers={"X-Correlation-Id": "abc-123"})
    assert resp.status_code == 500
    problem = api.json(resp)
    assert problem["type"] == "/problems/internal-error" and "secret" not in resp.body.decode()
    assert resp.headers["X-Correlation-Id"] == "abc-123"


def test_logs_carry_tenant_and_correlation_ids(api, caplog):
    from chalicelib.observability import logger

    tenant = api.make_tenant()
    caplog.clear()
    with caplog.at_level("INFO", logger="onramp"):
        api.call("GET", f"/v1/tenants/{tenant['id']}", api.operator, headers={"X-Correlation-Id": "corr-42"})
    formatter = logger().registered_formatter
    lines = [json.loads(formatter.format(r)) for r in caplog.records if r.getMessage() == "request"]
    assert lines[-1]["correlation_id"] == "corr-42" and lines[-1]["tenant_id"] == tenant["id"]
    assert lines[-1]["status"] == 200 and lines[-1]["path"] == f"/v1/tenants/{tenant['id']}"
    assert lines[-1]["route"] == "/v1/tenants/{tenantId}"


def test_business_metrics_are_emitted_as_emf(api, capsys):
    capsys.readouterr()
    api.make_tenant()
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(doc.get("TenantCreated") == [1.0] for doc in emf)


def test_idempotency_key_replays_the_first_result(api):
    body = {"name": "Acme", "slug": "acme", "template": "sales-team"}
    first = api.call("POST", "/v1/tenants", api.operator, body, headers={"Idempotency-Key": "k-1"})
    again = api.call("POST", "/v1/tenants", api.operator, body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert api.json(first)["id"] == api.json(again)["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert len(api.json(api.call("GET", "/v1/tenants", api.operator))["items"]) == 1
    other = api.call("POST", "/v1/tenants", api.operator, {**body, "name": "Other"},
                     headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422 and api.json(other)["type"] == "/problems/idempotency-key-reused"


def test_failed_requests_are_not_remembered_by_idempotency(api):
    bad = {"name": "Acme", "slug": "acme", "template": "nope"}
    assert api.call("POST", "/v1/tenants", api.operator, bad, headers={"Idempotency-Key": "k-2"}).status_code == 400
    api.make_tenant(slug="acme")
    clash = api.call("POST", "/v1/tenants", api.operator, {**bad, "template": "sales-team"},
                     headers={"Idempotency-Key": "k-3"})
    assert clash.status_code == 409


def test_health_checks_the_table(api):
    resp = api.call("GET", "/v1/health")
    assert resp.status_code == 200 and api.json(resp)["checks"]["table"] == "ok"


def test_health_reports_a_missing_table_as_503(api, monkeypatch):
    from chalicelib import aws

    aws.dynamodb().delete_table(TableName="onramp-test")
    resp = api.call("GET", "/v1/health")
    assert resp.status_code == 503 and api.json(resp)["checks"]["table"] == "unavailable"


def test_openapi_is_valid_31_and_lists_every_route(api):
    from openapi_spec_validator import validate

    from app import app

    doc = api.json(api.call("GET", "/openapi.json"))
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    listed = {(path, verb.upper()) for path, ops in doc["paths"].items() for verb in ops}
    routed = {(path, verb) for path, methods in app.routes.items() for verb in methods if verb != "HEAD"}
    assert listed == routed
    create = doc["paths"]["/v1/tenants"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/CreateTenant")
    assert create["security"] == [{"bearer": ["tenants:write"]}]
    assert "users:write" in doc["components"]["securitySchemes"]["bearer"]["flows"]["clientCredentials"]["scopes"]


def test_docs_page_renders_every_operation_offline(api):
    resp = api.call("GET", "/docs")
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/html")
    html = resp.body.decode()
    assert "/v1/tenants/{tenantId}/users" in html and "<script src=" not in html
    assert "users:write" in html


def test_browsers_may_call_with_a_bearer_token(api):
    resp = api.call("GET", "/v1/health", headers={"Origin": "https://portal.acme.example"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Correlation-Id" in resp.headers["Access-Control-Expose-Headers"]


def test_json_with_a_charset_is_accepted(api):
    body = json.dumps({"name": "Acme", "slug": "acme", "template": "sales-team"})
    resp = api.call("POST", "/v1/tenants", api.operator, raw=body,
                    headers={"Content-Type": "application/json; charset=utf-8"})
    assert resp.status_code == 201


def test_invalid_utf8_is_a_400(api):
    resp = api.call("POST", "/v1/tenants", api.operator, raw=b'{"name": "\\xff\xff"}')
    assert resp.status_code == 400
