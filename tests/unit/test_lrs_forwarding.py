"""Forwarding a tenant's statements to an external LRS: settings (PUT/GET/DELETE …/xapi-forwarding), the
`StatementsStored` subscriber that queues deliveries, and the SQS handler that POSTs them. The external LRS
is a real HTTP server on a thread; the queue is moto's SQS, pumped into the app's handler as `make run` does."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.unit.callcount import counting
from tests.unit.course_helpers import Stream
from tests.unit.lrs_helpers import new_id, statement

Answer = Callable[[list[dict[str, Any]]], tuple[int, Any]]


@dataclass
class ExternalLrs:
    """What the external LRS received, and how it answers (default: 200 with the ids)."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)  # used one per request, then the default
    delay: float = 0.0

    @property
    def statements(self) -> list[dict[str, Any]]:
        return [doc for r in self.received for doc in r["body"]]


def _ok(docs: list[dict[str, Any]]) -> tuple[int, Any]:
    return 200, [d["id"] for d in docs]


def status(code: int, body: Any = None) -> Answer:
    return lambda docs: (code, body if body is not None else {"error": f"status {code}"})


@pytest.fixture()
def external() -> Iterator[ExternalLrs]:
    lrs = ExternalLrs(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            lrs.received.append({"path": self.path, "body": body,
                                 "headers": {k.lower(): v for k, v in self.headers.items()}})
            time.sleep(lrs.delay)
            code, answer = (lrs.answers.pop(0) if lrs.answers else _ok)(body)
            payload = json.dumps(answer).encode()
            self.send_response(code)
            if code in (301, 302, 307):
                self.send_header("Location", "http://127.0.0.1:9/elsewhere/")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    lrs.url = f"http://127.0.0.1:{server.server_port}/xapi/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield lrs
    finally:
        server.shutdown()
        server.server_close()


def settings_path(lrs: Any) -> str:
    return f"/v1/tenants/{lrs.tenant_id}/xapi-forwarding"


def configure(lrs: Any, external: ExternalLrs, **overrides: Any) -> dict[str, Any]:
    body = {"endpoint": external.url, "username": "onramp", "password": "s3cret-pass", "enabled": True, **overrides}
    resp = lrs.api.call("PUT", settings_path(lrs), lrs.admin, body)
    assert resp.status_code == 200, resp.body
    return dict(json.loads(resp.body))


def read_settings(lrs: Any) -> dict[str, Any]:
    resp = lrs.api.call("GET", settings_path(lrs), lrs.admin)
    assert resp.status_code == 200, resp.body
    return dict(json.loads(resp.body))


class Pump:
    """The stream into the consumer, and the forwarding queue into `on_xapi_forwarding` (chalicelib.localpump)."""

    def __init__(self, api: Any) -> None:
        from app import app
        from chalicelib import localpump

        self.app, self.stream = app, Stream(api)
        self.state = localpump.PumpState(err=io.StringIO())
        self.source = next(s for s in localpump.queue_handlers(app) if s.name == "on_xapi_forwarding")

    def events(self) -> int:
        return self.stream.drain()

    def deliveries(self) -> int:
        from chalicelib import localpump

        return localpump.pump_queue(self.app, self.state, self.source)

    @property
    def said(self) -> str:
        assert isinstance(self.state.err, io.StringIO)
        return self.state.err.getvalue()


@pytest.fixture()
def pump(api: Any) -> Pump:
    return Pump(api)


def queue_depth(dead: bool = False) -> tuple[int, int]:
    from chalicelib import aws
    from chalicelib.config import settings
    from chalicelib.store import table

    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=table.forwarding_dlq_name() if dead else settings().forwarding_queue_name)
    attrs = sqs.get_queue_attributes(QueueUrl=url["QueueUrl"], AttributeNames=["All"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


def store(lrs: Any, *docs: dict[str, Any]) -> list[str]:
    resp = lrs.request("POST", "/statements", list(docs))
    assert resp.status_code == 200, resp.body
    return list(json.loads(resp.body))


@pytest.fixture()
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.lrs import outbound

    monkeypatch.setattr(outbound, "BACKOFF_SECONDS", (0,))


# -- settings ----------------------------------------------------------------------------------------
def test_settings_are_kept_without_ever_returning_the_secret(lrs: Any, external: ExternalLrs) -> None:
    from chalicelib.lrs import forwarding

    made = configure(lrs, external)
    assert made["endpoint"] == external.url and made["auth"] == "basic" and made["username"] == "onramp"
    assert made["hasSecret"] is True and made["enabled"] is True and made["lastError"] is None
    got = lrs.api.call("GET", settings_path(lrs), lrs.admin)
    assert json.loads(got.body) == made and "s3cret-pass" not in got.body.decode()
    assert got.headers["Cache-Control"] == "no-store"
    item = forwarding.load(lrs.tenant_id)
    assert item is not None and "s3cret-pass" not in item.secret_box
    assert forwarding.unseal(lrs.tenant_id, item.secret_box) == "s3cret-pass"
    with pytest.raises(forwarding.SecretUnreadable):  # bound to its tenant
        forwarding.unseal("another-tenant", item.secret_box)
    # a PUT without a secret keeps the stored one; a token switches to Bearer
    kept = configure(lrs, external, password=None, enabled=False)
    assert kept["hasSecret"] and kept["enabled"] is False
    assert forwarding.unseal(lrs.tenant_id, forwarding.load(lrs.tenant_id).secret_box) == "s3cret-pass"  # type: ignore[union-attr]
    bearer = configure(lrs, external, username=None, password=None, token="tok-123")
    assert bearer["auth"] == "bearer" and bearer["username"] is None
    assert lrs.api.call("DELETE", settings_path(lrs), lrs.admin).status_code == 204
    assert lrs.api.call("GET", settings_path(lrs), lrs.admin).status_code == 404
    assert lrs.api.call("DELETE", settings_path(lrs), lrs.admin).status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"endpoint": "ftp://lrs.example.com/xapi/"}, "endpoint"),
    ({"endpoint": "lrs.example.com/xapi/"}, "endpoint"),
    ({"endpoint": "http://lrs.example.com/xapi/"}, "endpoint"),  # http only to localhost
    ({"endpoint": "https://u:p@lrs.example.com/xapi/"}, "endpoint"),
    ({"endpoint": "https://lrs.example.com/xapi/?x=1"}, "endpoint"),
    ({"endpoint": "https://lrs.example.com:99999/"}, "endpoint"),
    ({"endpoint": ""}, "endpoint"),
    ({"endpoint": "https://lrs.example.com/", "token": "t", "username": "u"}, "username"),
    ({"endpoint": "https://lrs.example.com/", "password": "p"}, "username"),
    ({"endpoint": "https://lrs.example.com/", "username": "u"}, "password"),  # nothing stored to keep
    ({"endpoint": "https://lrs.example.com/"}, "username"),
    ({"endpoint": "https://lrs.example.com/", "username": "a:b", "password": "p"}, "username"),
    ({"endpoint": "https://lrs.example.com/", "token": "t", "secret": "x"}, "secret"),
    ({"endpoint": "https://lrs.example.com/", "token": "t", "enabled": "maybe"}, "enabled"),
])
def test_bad_settings_are_a_400_naming_the_field(lrs: Any, body: dict[str, Any], field: str) -> None:
    resp = lrs.api.call("PUT", settings_path(lrs), lrs.admin, body)
    assert resp.status_code == 400, resp.body
    problem = json.loads(resp.body)
    assert field in [e["field"] for e in problem["errors"]], problem
    assert lrs.api.call("GET", settings_path(lrs), lrs.admin).status_code == 404  # nothing written


@pytest.mark.parametrize("url", ["http://localhost:8080/xapi/", "https://127.0.0.1/xapi/", "https://10.1.2.3/",
                                 "https://169.254.169.254/latest/", "https://[::1]/", "https://lrs.localhost/"])
def test_deployed_the_endpoint_must_be_a_public_https_host(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    from chalicelib.config import settings
    from chalicelib.errors import ValidationFailed
    from chalicelib.lrs import forwarding

    monkeypatch.setenv("ONRAMP_STAGE", "prod-eu")
    settings.cache_clear()
    try:
        with pytest.raises(ValidationFailed) as err:
            forwarding.endpoint(url)
        assert err.value.errors[0]["field"] == "endpoint"
        assert forwarding.endpoint("https://LRS.example.com/xapi") == "https://lrs.example.com/xapi/"
    finally:
        monkeypatch.undo()
        settings.cache_clear()


def test_only_admins_manage_forwarding(api: Any, lrs: Any, external: ExternalLrs) -> None:
    _, manager = api.user_token(lrs.tenant_id, ["manager"])
    for method, body in (("PUT", {"endpoint": external.url, "token": "t"}), ("GET", None), ("DELETE", None)):
        assert api.call(method, settings_path(lrs), manager, body).status_code == 403, method


# -- deliveries --------------------------------------------------------------------------------------
def test_a_statement_stored_in_the_tenants_lrs_arrives_at_the_external_one_with_its_id(
        lrs: Any, external: ExternalLrs, pump: Pump) -> None:
    configure(lrs, external)
    sid = new_id()
    assert lrs.request("PUT", f"/statements?statementId={sid}", statement()).status_code == 204
    assert pump.events() > 0
    assert queue_depth() == (1, 0)
    assert pump.deliveries() == 1
    assert queue_depth() == (0, 0)  # handled: deleted
    (request,) = external.received
    assert request["path"] == "/xapi/statements"
    assert request["headers"]["x-experience-api-version"] == "1.0.3"
    assert request["headers"]["authorization"] == "Basic b25yYW1wOnMzY3JldC1wYXNz"  # onramp:s3cret-pass
    (doc,) = request["body"]
    stored = json.loads(lrs.request("GET", f"/statements?statementId={sid}").body)
    assert doc == stored and doc["id"] == sid  # as stored: id, stored, authority, timestamp, version
    shown = read_settings(lrs)
    assert shown["lastDeliveredAt"] and shown["lastError"] is None


def test_a_batch_is_one_message_of_ids_and_one_post_with_a_bearer_token(
        lrs: Any, external: ExternalLrs, pump: Pump) -> None:
    from chalicelib import aws
    from chalicelib.config import settings

    configure(lrs, external, username=None, password=None, token="tok-123")
    ids = store(lrs, *[statement(object={"id": f"http://example.com/a/{n}"}) for n in range(5)])
    pump.events()
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=settings().forwarding_queue_name)["QueueUrl"]
    (message,) = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]
    body = json.loads(message["Body"])
    assert body["tenantId"] == lrs.tenant_id and body["statementIds"] == ids  # ids only: SQS's 256 KB is safe
    assert pump.deliveries() == 1
    (request,) = external.received
    assert request["headers"]["authorization"] == "Bearer tok-123"
    assert [d["id"] for d in request["body"]] == ids


def test_nothing_is_queued_for_a_tenant_that_does_not_forward(api: Any, lrs: Any, external: ExternalLrs,
                                                              pump: Pump) -> None:
    store(lrs, statement())
    configure(lrs, external, enabled=False)
    store(lrs, statement())
    pump.events()
    assert queue_depth() == (0, 0) and external.received == []


def test_a_5xx_is_retried_then_delivered(lrs: Any, external: ExternalLrs, pump: Pump, no_backoff: None) -> None:
    configure(lrs, external)
    external.answers.append(status(503))
    (sid,) = store(lrs, statement())
    pump.events()
    assert pump.deliveries() == 1
    assert "RetryLater" in pump.said  # the handler raised: the message stays for redelivery
    assert queue_depth() == (1, 0)
    error = read_settings(lrs)["lastError"]
    assert error["status"] == 503 and error["statementIds"] == [sid]
    assert pump.deliveries() == 1
    assert queue_depth() == (0, 0)
    assert [d["id"] for d in external.statements] == [sid, sid]  # the same statement again: a no-op there
    assert read_settings(lrs)["lastDeliveredAt"] > error["at"]


def test_a_failed_delivery_is_hidden_for_the_backoff_not_the_queues_visibility_timeout(
        lrs: Any, external: ExternalLrs, pump: Pump, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.lrs import outbound

    monkeypatch.setattr(outbound, "BACKOFF_SECONDS", (1, 600))
    configure(lrs, external)
    external.answers.extend([status(500), status(500)])
    store(lrs, statement())
    pump.events()
    pump.deliveries()
    assert queue_depth() == (0, 1) and pump.deliveries() == 0  # hidden for BACKOFF_SECONDS[0]...
    time.sleep(1.2)
    assert queue_depth() == (1, 0)  # ...not for the queue's 720 s
    assert pump.deliveries() == 1  # the second receive fails too: now hidden for BACKOFF_SECONDS[1]
    time.sleep(1.2)
    assert queue_depth() == (0, 1)


def test_an_lrs_that_stays_down_sends_the_message_to_the_dlq(lrs: Any, external: ExternalLrs, pump: Pump,
                                                            no_backoff: None) -> None:
    from chalicelib.store import table

    configure(lrs, external)
    max_receives = table.template()["Resources"]["XapiForwardingQueue"]["Properties"]["RedrivePolicy"][
        "maxReceiveCount"]
    external.answers.extend(status(500) for _ in range(max_receives))
    store(lrs, statement())
    pump.events()
    for _ in range(max_receives):
        assert pump.deliveries() == 1
    assert pump.deliveries() == 0  # moved to the DLQ on the next receive
    assert queue_depth(dead=True) == (1, 0)


def test_timeouts_and_refused_connections_are_retried(lrs: Any, external: ExternalLrs,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.lrs import outbound, outbound_http

    configure(lrs, external)
    (sid,) = store(lrs, statement())
    message = {"tenantId": lrs.tenant_id, "statementIds": [sid]}
    monkeypatch.setattr(outbound_http, "TIMEOUT_SECONDS", 0.2)
    external.delay = 1.0
    with pytest.raises(outbound.RetryLater):
        outbound.deliver(message)
    assert read_settings(lrs)["lastError"]["status"] is None
    configure(lrs, external, endpoint="http://127.0.0.1:9/xapi/", password=None)  # nothing listens on 9
    with pytest.raises(outbound.RetryLater):
        outbound.deliver(message)
    assert "Connection" in read_settings(lrs)["lastError"]["detail"] or "refused" in read_settings(lrs)[
        "lastError"]["detail"]


def test_a_4xx_is_dropped_and_recorded(lrs: Any, external: ExternalLrs, pump: Pump,
                                       caplog: pytest.LogCaptureFixture) -> None:
    configure(lrs, external)
    external.answers.append(status(400, {"message": "statement rejected: bad extension"}))
    (sid,) = store(lrs, statement())
    pump.events()
    assert pump.deliveries() == 1
    assert queue_depth() == (0, 0)  # not retried: a permanent rejection does not loop
    assert len(external.received) == 1
    error = read_settings(lrs)["lastError"]
    assert error["status"] == 400 and error["statementIds"] == [sid] and "bad extension" in error["detail"]
    (logged,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert logged.getMessage() == "external LRS rejected statements; dropped"
    assert (logged.tenant_id, logged.statement_ids, logged.status) == (lrs.tenant_id, [sid], 400)


def test_a_conflict_in_a_batch_keeps_the_other_statements(lrs: Any, external: ExternalLrs) -> None:
    from chalicelib.lrs import outbound

    configure(lrs, external)
    ids = store(lrs, *[statement(object={"id": f"http://example.com/a/{n}"}) for n in range(3)])
    external.answers.extend([status(409), _ok, status(409), _ok])  # the batch, then one by one
    assert outbound.deliver({"tenantId": lrs.tenant_id, "statementIds": ids}) == "rejected"
    assert [[d["id"] for d in r["body"]] for r in external.received] == [ids, [ids[0]], [ids[1]], [ids[2]]]
    shown = read_settings(lrs)
    assert shown["lastError"]["status"] == 409 and shown["lastError"]["statementIds"] == [ids[1]]
    assert shown["lastDeliveredAt"]  # the two others went


def test_redirects_are_not_followed(lrs: Any, external: ExternalLrs) -> None:
    from chalicelib.lrs import outbound

    configure(lrs, external)
    (sid,) = store(lrs, statement())
    external.answers.append(status(302))
    assert outbound.deliver({"tenantId": lrs.tenant_id, "statementIds": [sid]}) == "rejected"
    assert len(external.received) == 1
    assert "redirected to http://127.0.0.1:9/elsewhere/" in read_settings(lrs)["lastError"]["detail"]


def test_settings_removed_or_disabled_after_queueing_stop_the_delivery(lrs: Any, external: ExternalLrs) -> None:
    from chalicelib.lrs import outbound

    configure(lrs, external)
    (sid,) = store(lrs, statement())
    message = {"tenantId": lrs.tenant_id, "statementIds": [sid]}
    configure(lrs, external, enabled=False, password=None)
    assert outbound.deliver(message) == "skipped"
    lrs.api.call("DELETE", settings_path(lrs), lrs.admin)
    assert outbound.deliver(message) == "skipped"
    assert external.received == []


def test_a_delivery_reads_only_its_own_tenants_statements(api: Any, lrs: Any, external: ExternalLrs) -> None:
    from chalicelib.lrs import outbound
    from tests.unit.lrs_helpers import make_lrs

    other = make_lrs(api)
    (theirs,) = store(other, statement())
    configure(lrs, external)
    assert outbound.deliver({"tenantId": lrs.tenant_id, "statementIds": [theirs]}) == "skipped"
    assert external.received == []  # another tenant's id is not in this tenant's partitions
    assert read_settings(lrs)["lastDeliveredAt"] is None


def test_dynamodb_calls_per_delivery(lrs: Any, external: ExternalLrs) -> None:
    """Queueing: the settings (1 GetItem). Delivering: settings, statements (1 BatchGetItem per 100), status."""
    from collections import Counter

    from chalicelib.events.consumer import EventEnvelope
    from chalicelib.lrs import outbound

    configure(lrs, external)
    ids = store(lrs, *[statement(object={"id": f"http://example.com/a/{n}"}) for n in range(10)])
    event = EventEnvelope(id="ev-1", type="StatementsStored", tenant_id=lrs.tenant_id, occurred_at="", actor=None,
                          correlation_id=None, detail={"statements": [{"id": i} for i in ids]})
    with counting() as queued:
        outbound.enqueue(event)
    assert queued.dynamodb == Counter({"GetItem": 1}) and queued.of("sqs")["SendMessage"] == 1
    with counting() as delivered:
        assert outbound.deliver({"tenantId": lrs.tenant_id, "statementIds": ids}) == "delivered"
    assert delivered.dynamodb == Counter({"GetItem": 1, "BatchGetItem": 1, "UpdateItem": 1})
