"""Shared helpers of the LRS tests: a tenant with LRS credentials, xAPI requests with Basic auth."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

VERSION = {"X-Experience-API-Version": "1.0.3"}


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


@dataclass
class Lrs:
    api: Any
    tenant_id: str
    admin: str
    key: str
    secret: str

    @property
    def base(self) -> str:
        return f"/v1/tenants/{self.tenant_id}/xapi"

    def request(self, method: str, path: str, body: Any = None, *, auth: str | None = None,
                headers: dict[str, str] | None = None, raw: bytes | str | None = None,
                version: bool = True) -> Any:
        hdrs = {"Content-Type": "application/json", "Authorization": auth or basic(self.key, self.secret),
                **(VERSION if version else {}), **(headers or {})}
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        return self.api.client.http.request(method, self.base + path, headers=hdrs, body=payload)

    def credential(self, scopes: list[str]) -> str:
        made = self.api.call("POST", f"/v1/tenants/{self.tenant_id}/xapi-credentials", self.admin,
                             {"name": "scoped", "scopes": scopes})
        assert made.status_code == 201, made.body
        doc = json.loads(made.body)
        return basic(doc["key"], doc["secret"])


def make_lrs(api: Any, scopes: list[str] | None = None) -> Lrs:
    tenant = api.make_tenant()
    admin = api.tenant_admin(tenant["id"])
    made = api.call("POST", f"/v1/tenants/{tenant['id']}/xapi-credentials", admin,
                    {"name": "LMS", "scopes": scopes or ["all"]})
    assert made.status_code == 201, made.body
    doc = json.loads(made.body)
    return Lrs(api, tenant["id"], admin, doc["key"], doc["secret"])


def statement(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "actor": {"objectType": "Agent", "mbox": "mailto:learner@example.com", "name": "Learner"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
        "object": {"objectType": "Activity", "id": "http://example.com/courses/discovery-calls",
                   "definition": {"name": {"en-US": "Discovery calls"}}},
    }
    doc.update(overrides)
    return doc


def new_id() -> str:
    return str(uuid.uuid4())
