"""Forwarding over the running stack (`make run`): a statement POSTed to a tenant's LRS reaches an external LRS
(an HTTP server in this process) through the stream, the forwarding queue and the delivery handler that the
local pump feeds, as Lambda does deployed."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration
WAIT_SECONDS = 30.0


@pytest.fixture()
def external() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({"path": self.path, "auth": self.headers["Authorization"], "body": body})
            payload = json.dumps([d["id"] for d in body]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/lrs/xapi/", received
    finally:
        server.shutdown()
        server.server_close()


def test_a_stored_statement_is_forwarded_to_the_external_lrs(stack: Stack,
                                                             external: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = external
    slug = f"fwd-{uuid.uuid4().hex[:8]}"
    tenant = stack.make_tenant(slug)
    stack.make_user(tenant["id"], f"admin@{slug}.example", ["admin"], password="correct-horse-battery")
    admin = stack.login(tenant["id"], f"admin@{slug}.example", "correct-horse-battery")
    t = f"/v1/tenants/{tenant['id']}"
    settings = stack.call("PUT", f"{t}/xapi-forwarding", {"endpoint": url, "token": "ext-token"}, admin)
    assert settings.status == 200, settings.body
    cred = stack.call("POST", f"{t}/xapi-credentials", {"name": "LMS", "scopes": ["all"]}, admin).json()
    auth = "Basic " + base64.b64encode(f"{cred['key']}:{cred['secret']}".encode()).decode()
    statement = {"actor": {"mbox": f"mailto:rep@{slug}.example"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
                 "object": {"id": "https://onramp.example/roleplays/objections"}}
    stored = stack.call("POST", f"{t}/xapi/statements", statement,
                        headers={"Authorization": auth, "X-Experience-API-Version": "1.0.3"})
    assert stored.status == 200, stored.body
    (statement_id,) = stored.json()
    deadline = time.monotonic() + WAIT_SECONDS
    while not received and time.monotonic() < deadline:
        time.sleep(0.2)
    assert received, f"nothing forwarded in {WAIT_SECONDS:.0f}s:\n{stack.output()[-3000:]}"
    (request,) = received
    assert request["path"] == "/lrs/xapi/statements" and request["auth"] == "Bearer ext-token"
    assert [d["id"] for d in request["body"]] == [statement_id]
    deadline = time.monotonic() + 5
    while not (shown := stack.call("GET", f"{t}/xapi-forwarding", token=admin).json())["lastDeliveredAt"]:
        assert time.monotonic() < deadline, shown
        time.sleep(0.1)
    assert shown["lastError"] is None and shown["hasSecret"] is True
