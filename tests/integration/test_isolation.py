"""Tenant isolation over HTTP: one tenant's admin (a person or an API client) sees nothing of another."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="module")
def two_tenants(stack: Stack) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    a = stack.make_tenant(f"iso-a-{run}", "sales-team")
    b = stack.make_tenant(f"iso-b-{run}", "regulated-sales")
    a_user = stack.make_user(a["id"], f"rep-{run}@a.example", ["learner"])
    b_user = stack.make_user(b["id"], f"secret-rep-{run}@b.example", ["learner"])
    stack.make_user(a["id"], f"admin-{run}@a.example", ["admin"], password=PASSWORD)
    admin = stack.login(a["id"], f"admin-{run}@a.example", PASSWORD)
    client = stack.call("POST", f"/v1/tenants/{a['id']}/clients",
                        {"name": "crm", "scopes": ["users:read", "tenants:read"]}, admin)
    assert client.status == 201, client.body
    creds = client.json()
    issued = stack.token(creds["clientId"], creds["clientSecret"])
    assert issued.status == 200, issued.body
    return {"a": a, "b": b, "a_user": a_user, "b_user": b_user, "admin": admin,
            "client": issued.json()["access_token"]}


def test_each_tenant_sees_its_own_user(stack: Stack, two_tenants: dict[str, Any]) -> None:
    a, a_user = two_tenants["a"], two_tenants["a_user"]
    for token in (two_tenants["admin"], two_tenants["client"]):
        reply = stack.call("GET", f"/v1/tenants/{a['id']}/users/{a_user['id']}", token=token)
        assert reply.status == 200 and reply.json()["email"] == a_user["email"]


@pytest.mark.parametrize("who", ["admin", "client"])
def test_tenant_a_cannot_see_tenant_b(stack: Stack, two_tenants: dict[str, Any], who: str) -> None:
    token = two_tenants[who]
    b, b_user = two_tenants["b"], two_tenants["b_user"]
    for path in (f"/v1/tenants/{b['id']}/users/{b_user['id']}", f"/v1/tenants/{b['id']}/users",
                 f"/v1/tenants/{b['id']}"):
        reply = stack.call("GET", path, token=token)
        assert reply.status == 404, (path, reply.body)
        assert reply.content_type.startswith("application/problem+json")
        doc = reply.json()  # a bare problem: the `instance` echoes the path asked for, nothing of B's data
        assert set(doc) <= {"type", "title", "status", "detail", "instance"}, doc
        assert b_user["email"].encode() not in reply.body and b"displayName" not in reply.body
    # and B's user is not reachable through A's path either
    reply = stack.call("GET", f"/v1/tenants/{two_tenants['a']['id']}/users/{b_user['id']}", token=token)
    assert reply.status == 404 and b_user["email"].encode() not in reply.body


def test_tenant_a_cannot_write_into_tenant_b(stack: Stack, two_tenants: dict[str, Any]) -> None:
    b = two_tenants["b"]
    reply = stack.call("POST", f"/v1/tenants/{b['id']}/users",
                       {"email": "intruder@a.example", "displayName": "Intruder", "roles": ["admin"]},
                       two_tenants["admin"])
    assert reply.status == 404
    listed = stack.call("GET", f"/v1/tenants/{b['id']}/users", token=stack.operator).json()["items"]
    assert "intruder@a.example" not in {u["email"] for u in listed}


def test_tenant_admin_cannot_list_all_tenants(stack: Stack, two_tenants: dict[str, Any]) -> None:
    reply = stack.call("GET", "/v1/tenants", token=two_tenants["admin"])
    assert reply.status in (403, 404)
    assert two_tenants["b"]["id"].encode() not in reply.body
