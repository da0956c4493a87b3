"""The SCIM 2.0 service of a tenant, checked by scim2-tester (the python-scim project's RFC 7643/7644 checker)
over HTTP against the running stack: every check must pass (skips only where the RFC makes a feature optional)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urljoin

import pytest

pytestmark = pytest.mark.integration


def _client(base: str, token: str) -> Any:
    """A scim2-client engine over `requests` (scim2-client's own engines need httpx2 or werkzeug)."""
    import requests
    from scim2_client import BaseSyncSCIMClient

    class RequestsSCIMClient(BaseSyncSCIMClient):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.session = requests.Session()
            self.session.headers["Authorization"] = f"Bearer {token}"

        def _url(self, url: str) -> str:
            return urljoin(base + "/", url.lstrip("/"))

        def _stays_under_base_url(self, endpoint: str) -> bool:
            return self._url(endpoint).startswith(base + "/")

        def _parse_json(self, response: Any) -> Any:
            return response.json()

        def request(self, method: str, url: str, **kwargs: Any) -> Any:
            return self.session.request(method, self._url(url), timeout=30, **kwargs)

    return RequestsSCIMClient()


def test_scim2_tester_passes_every_check(stack: Any) -> None:
    from scim2_tester import Status, check_server

    tenant = stack.make_tenant(f"scim-{uuid.uuid4().hex[:8]}")["id"]
    made = stack.call("POST", f"/v1/tenants/{tenant}/scim-tokens", {"name": "scim2-tester"}, stack.operator)
    assert made.status == 201, made.body
    client = _client(f"{stack.api}/v1/tenants/{tenant}/scim/v2", made.json()["token"])
    results = check_server(client)
    failed = [f"{r.title}: {r.reason}" for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED)]
    assert not failed, "\n".join(failed)
    skipped = {r.title for r in results if r.status == Status.SKIPPED}
    assert skipped <= {"search_with_attributes"}, skipped  # POST /.search at the root: optional, answered 501
    assert sum(r.status == Status.SUCCESS for r in results) >= 130
