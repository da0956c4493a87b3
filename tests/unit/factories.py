"""Test factories over the real HTTP surface: make_tenant(...), make_user(...) with overrides."""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any
from urllib.parse import urlencode

OPERATOR = ("operator-test", "operator-secret-for-tests")
_seq = itertools.count(1)


class Api:
    """A thin JSON client over chalice.test.Client with token helpers and factories."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._operator: str | None = None

    def call(self, method: str, path: str, token: str | None = None, body: Any = None,
             headers: dict[str, str] | None = None, raw: bytes | str | None = None) -> Any:
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        return self.client.http.request(method, path, headers=hdrs, body=payload)

    @staticmethod
    def json(response: Any) -> Any:
        return json.loads(response.body) if response.body else None

    def token_for_client(self, client_id: str, secret: str, scope: str | None = None) -> Any:
        form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
        auth = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        return self.client.http.post("/v1/oauth/token", body=urlencode(form), headers={
            "Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {auth}"})

    @property
    def operator(self) -> str:
        if self._operator is None:
            resp = self.token_for_client(*OPERATOR)
            assert resp.status_code == 200, resp.body
            self._operator = json.loads(resp.body)["access_token"]
        return self._operator

    def make_tenant(self, token: str | None = None, **overrides: Any) -> dict[str, Any]:
        n = next(_seq)
        body = {"name": f"Tenant {n}", "slug": f"tenant-{n}", "template": "sales-team", **overrides}
        resp = self.call("POST", "/v1/tenants", token or self.operator, body)
        assert resp.status_code == 201, resp.body
        return self.json(resp)

    def make_user(self, tenant_id: str, token: str | None = None, **overrides: Any) -> dict[str, Any]:
        n = next(_seq)
        body = {"email": f"user{n}@example.com", "displayName": f"User {n}", "roles": ["learner"], **overrides}
        resp = self.call("POST", f"/v1/tenants/{tenant_id}/users", token or self.operator, body)
        assert resp.status_code == 201, resp.body
        return self.json(resp)

    def login(self, tenant_id: str, email: str, password: str) -> str:
        resp = self.call("POST", f"/v1/tenants/{tenant_id}/sessions", None, {"email": email, "password": password})
        assert resp.status_code == 201, resp.body
        return str(self.json(resp)["access_token"])

    def tenant_admin(self, tenant_id: str) -> str:
        """A token of a fresh admin user of the tenant (the same path a person takes)."""
        n = next(_seq)
        email, password = f"admin{n}@example.com", "correct-horse-battery"
        self.make_user(tenant_id, roles=["admin"], email=email, password=password)
        return self.login(tenant_id, email, password)

    def user_token(self, tenant_id: str, roles: list[str], **overrides: Any) -> tuple[dict[str, Any], str]:
        n = next(_seq)
        email, password = f"person{n}@example.com", "correct-horse-battery"
        user = self.make_user(tenant_id, roles=roles, email=email, password=password, **overrides)
        return user, self.login(tenant_id, email, password)
