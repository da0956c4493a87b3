"""The local event pump (chalicelib/localpump.py): the table's stream and the uploads queue feed a Chalice
app's handlers as Lambda would, in-process with moto, and once over a moto server (as `onramp dev` runs)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from chalice import Chalice

from chalicelib import localpump
from chalicelib.localpump import EventPump, PumpState, pump_once

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Calls:
    table_events: list[dict[str, Any]] = field(default_factory=list)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    fail_uploads: bool = False


def make_app(calls: Calls, *, stream: bool = True, queue: bool = True) -> Chalice:
    """A throwaway app with handlers named as app.py names them (infra/'s filters apply by that name)."""
    from chalicelib.config import settings
    from chalicelib.events import consumer

    app = Chalice(app_name="pump-test")
    if stream:
        @app.on_dynamodb_record(stream_arn="arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/s", batch_size=100)
        def on_table_change(event: Any) -> dict[str, Any]:
            records = event.to_dict()["Records"]
            calls.table_events.append(event.to_dict())
            return consumer.handle_records(records)

    if queue:
        @app.on_sqs_message(queue=settings().uploads_queue_name, batch_size=1)
        def on_package_uploaded(event: Any) -> None:
            for record in event:
                calls.uploads.append({"body": json.loads(record.body), "event": event.to_dict()})
            if calls.fail_uploads:
                raise RuntimeError("ingest failed")

    return app


@contextlib.contextmanager
def subscribed(handler: Callable[[Any], None]) -> Iterator[str]:
    """`handler` subscribed to a fresh event type for the duration."""
    from chalicelib.events import consumer

    event_type = f"PumpTest{uuid.uuid4().hex[:8]}"
    consumer.subscribe(event_type)(handler)
    try:
        yield event_type
    finally:
        consumer._HANDLERS[event_type].remove(handler)
        if not consumer._HANDLERS[event_type]:
            del consumer._HANDLERS[event_type]


def write_event(event_type: str, detail: dict[str, Any]) -> str:
    from chalicelib.events.outbox import event_item

    item = event_item("t-pump", event_type, detail)
    item.save()
    return str(item.id)


def queue_url() -> str:
    from chalicelib import aws
    from chalicelib.config import settings

    return str(aws.client("sqs").get_queue_url(QueueName=settings().uploads_queue_name)["QueueUrl"])


def queue_depth(url: str) -> tuple[int, int]:
    from chalicelib import aws

    attrs = aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture()
def calls() -> Calls:
    return Calls()


@pytest.fixture()
def app(aws: None, calls: Calls) -> Chalice:
    return make_app(calls)


@pytest.fixture()
def state() -> PumpState:
    return PumpState(err=io.StringIO())


def said(state: PumpState) -> str:
    assert isinstance(state.err, io.StringIO)
    return state.err.getvalue()


# -- the table's stream --------------------------------------------------------------------------------
def test_an_outbox_event_reaches_its_subscriber_in_lambdas_event_shape(app: Chalice, calls: Calls,
                                                                        state: PumpState) -> None:
    from chalicelib import aws
    from chalicelib.config import settings

    got: list[Any] = []
    with subscribed(got.append) as event_type:
        pump_once(app, state)  # the stream from LATEST: what is written from now on
        event_id = write_event(event_type, {"n": 1})
        assert pump_once(app, state) == 1
        assert pump_once(app, state) == 0  # delivered once
    assert [(e.id, e.type, e.tenant_id, e.detail) for e in got] == [(event_id, event_type, "t-pump", {"n": 1})]
    (record,) = calls.table_events[0]["Records"]
    stream_arn = aws.dynamodb().describe_table(TableName=settings().table_name)["Table"]["LatestStreamArn"]
    assert record["eventSourceARN"] == stream_arn
    assert record["eventName"] == "INSERT" and record["eventSource"] == "aws:dynamodb"
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert record["dynamodb"]["NewImage"]["type"] == {"S": "Event"}
    assert record["dynamodb"]["SequenceNumber"] and record["dynamodb"]["Keys"]["PK"]["S"]
    json.dumps(calls.table_events)  # what Lambda hands over is JSON


def test_the_stream_starts_at_latest(aws: None, calls: Calls, state: PumpState) -> None:
    app = make_app(calls, queue=False)
    got: list[Any] = []
    with subscribed(got.append) as event_type:
        write_event(event_type, {"before": True})
        assert pump_once(app, state) == 0
        write_event(event_type, {"before": False})
        assert pump_once(app, state) == 1
    assert [e.detail for e in got] == [{"before": False}]


def test_only_what_infras_filter_passes_reaches_the_handler(app: Chalice, calls: Calls, state: PumpState) -> None:
    from chalicelib import aws
    from chalicelib.config import settings

    pump_once(app, state)
    ddb = aws.dynamodb()
    ddb.put_item(TableName=settings().table_name, Item={"PK": {"S": "X#1"}, "SK": {"S": "X"}, "type": {"S": "Other"}})
    ddb.update_item(TableName=settings().table_name, Key={"PK": {"S": "X#1"}, "SK": {"S": "X"}},
                    UpdateExpression="SET n = :n", ExpressionAttributeValues={":n": {"N": "1"}})
    assert pump_once(app, state) == 0
    assert calls.table_events == []


def test_a_failing_record_is_retried_then_skipped(app: Chalice, calls: Calls, state: PumpState) -> None:
    from chalicelib.events import consumer

    attempts: list[str] = []

    def flaky(event: Any) -> None:
        attempts.append(event.detail["n"])
        if event.detail["n"] == "bad":
            raise RuntimeError("subscriber failed")

    retries = localpump._event_source_settings("on_table_change")["MaximumRetryAttempts"]
    with subscribed(flaky) as event_type:
        pump_once(app, state)
        write_event(event_type, {"n": "bad"})
        for _ in range(retries + 1):  # the first delivery and every retry
            assert pump_once(app, state) == 1
        assert pump_once(app, state) == 0
        write_event(event_type, {"n": "good"})
        assert pump_once(app, state) == 1
    assert attempts == ["bad"] * (retries + 1) + ["good"]
    assert consumer.subscribers(event_type) == []
    assert f"retry 1 of {retries}" in said(state) and "skipping the batch" in said(state)


def test_a_handler_that_raises_does_not_stop_the_pump(aws: None, state: PumpState) -> None:
    app = Chalice(app_name="pump-test")

    @app.on_dynamodb_record(stream_arn="arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/s")
    def on_table_change(event: Any) -> None:
        raise ValueError("boom")

    with subscribed(lambda e: None) as event_type:
        pump_once(app, state)
        write_event(event_type, {})
        assert pump_once(app, state) == 1
    assert "on_table_change raised: ValueError: boom" in said(state) and "Traceback" in said(state)


# -- the uploads queue ---------------------------------------------------------------------------------
def test_an_upload_reaches_the_queue_and_the_handler(app: Chalice, calls: Calls, state: PumpState) -> None:
    from chalicelib import aws
    from chalicelib.config import settings

    cfg = settings()
    url = queue_url()
    assert pump_once(app, state) == 1  # S3's s3:TestEvent from setting the notification: handlers see it too
    assert calls.uploads[0]["body"]["Event"] == "s3:TestEvent"
    s3 = aws.s3()
    s3.put_object(Bucket=cfg.bucket_name, Key="content/not/an/upload.html", Body=b"x")
    assert queue_depth(url) == (0, 0)
    s3.put_object(Bucket=cfg.bucket_name, Key=f"{cfg.uploads_prefix}t-1/c-1/up-1.zip", Body=b"PK")
    assert queue_depth(url) == (1, 0)
    assert pump_once(app, state) == 1
    assert queue_depth(url) == (0, 0)  # handled: deleted
    upload = calls.uploads[1]
    (s3_record,) = upload["body"]["Records"]
    assert s3_record["eventName"].startswith("ObjectCreated:")
    assert s3_record["s3"]["bucket"]["name"] == cfg.bucket_name
    from urllib.parse import unquote_plus

    assert unquote_plus(s3_record["s3"]["object"]["key"]) == "uploads/t-1/c-1/up-1.zip"
    (record,) = upload["event"]["Records"]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"].endswith(f":{cfg.uploads_queue_name}")
    assert record["messageId"] and record["receiptHandle"] and record["attributes"]["ApproximateReceiveCount"] == "1"
    assert pump_once(app, state) == 0


def test_a_failed_upload_is_redelivered_then_dead_lettered(app: Chalice, calls: Calls, state: PumpState) -> None:
    from chalicelib import aws
    from chalicelib.config import settings
    from chalicelib.store import table

    sqs = aws.client("sqs")
    url = queue_url()
    pump_once(app, state)  # the test event
    calls.fail_uploads = True
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "0"})  # redeliver at once
    aws.s3().put_object(Bucket=settings().bucket_name, Key="uploads/t-1/c-1/up-2.zip", Body=b"PK")
    max_receives = table.template()["Resources"]["UploadsQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    for _ in range(max_receives):
        assert pump_once(app, state) == 1
    assert pump_once(app, state) == 0  # moved to the DLQ on the next receive
    dlq = sqs.get_queue_url(QueueName=table.uploads_dlq_name())["QueueUrl"]
    (dead,) = sqs.receive_message(QueueUrl=dlq)["Messages"]
    assert "up-2.zip" in dead["Body"]
    assert "on_package_uploaded raised" in said(state) and "RuntimeError: ingest failed" in said(state)


def test_handlers_that_are_not_registered_are_skipped(aws: None, calls: Calls, state: PumpState) -> None:
    assert pump_once(make_app(calls, stream=False, queue=False), state) == 0
    only_stream = make_app(calls, queue=False)
    assert localpump.describe(only_stream) == "table stream"
    assert pump_once(only_stream, state) == 0
    assert queue_depth(queue_url())[0] == 1  # the test event, left for a handler that does not exist
    assert localpump.describe(make_app(calls)) == "table stream + uploads queue"
    assert said(state) == ""


def test_a_missing_queue_is_said_once(aws: None, calls: Calls, state: PumpState) -> None:
    from chalicelib import aws as clients

    clients.client("sqs").delete_queue(QueueUrl=queue_url())
    app = make_app(calls, stream=False)
    assert pump_once(app, state) == 0
    assert pump_once(app, state) == 0
    assert said(state).count("does not exist") == 1


# -- the background pump -------------------------------------------------------------------------------
def test_the_background_pump_delivers_and_stops(app: Chalice, calls: Calls) -> None:
    from chalicelib.config import settings

    err = io.StringIO()
    got: list[Any] = []
    with subscribed(got.append) as event_type:
        pump = EventPump(app, err=err).start()
        try:
            write_event(event_type, {"n": 1})
            from chalicelib import aws

            aws.s3().put_object(Bucket=settings().bucket_name, Key="uploads/t/c/u.zip", Body=b"PK")
            deadline = time.monotonic() + 10
            while (not got or len(calls.uploads) < 2) and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            started = time.monotonic()
            pump.stop()
            stopped_in = time.monotonic() - started
    assert len(got) == 1 and len(calls.uploads) == 2
    assert stopped_in < 3 and not any(t.name.startswith("event-pump") for t in __import__("threading").enumerate())
    assert err.getvalue() == "event pump: table stream + uploads queue\n"


# -- setup ---------------------------------------------------------------------------------------------
def test_setup_is_idempotent_and_matches_infra(aws: None) -> None:
    from chalicelib import aws as clients
    from chalicelib.config import settings
    from chalicelib.store import table

    cfg = settings()
    assert table.ensure_table() is False and table.ensure_bucket() is False  # the fixture made them
    assert table.ensure_table() is False and table.ensure_bucket() is False
    url = queue_url()
    assert queue_depth(url) == (1, 0)  # one s3:TestEvent: the notification was not put again
    assert table.ensure_upload_notifications(table.ensure_upload_queues()) is False
    attrs = clients.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    props = table.template()["Resources"]["UploadsQueue"]["Properties"]
    redrive = json.loads(attrs["RedrivePolicy"])
    assert redrive["maxReceiveCount"] == props["RedrivePolicy"]["maxReceiveCount"] == 3
    assert redrive["deadLetterTargetArn"].endswith(f":{table.uploads_dlq_name()}")
    assert attrs["VisibilityTimeout"] == str(props["VisibilityTimeout"])
    (config,) = clients.s3().get_bucket_notification_configuration(Bucket=cfg.bucket_name)["QueueConfigurations"]
    assert config["QueueArn"] == attrs["QueueArn"] and config["Events"] == ["s3:ObjectCreated:*"]
    assert config["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": cfg.uploads_prefix}]


def test_filter_patterns() -> None:
    (pattern,) = localpump._filters(localpump._event_source_settings("on_table_change"))
    event = {"eventName": "INSERT", "dynamodb": {"NewImage": {"type": {"S": "Event"}}}}
    assert localpump.matches(pattern, event)
    assert not localpump.matches(pattern, {**event, "eventName": "MODIFY"})
    assert not localpump.matches(pattern, {"eventName": "INSERT", "dynamodb": {"NewImage": {"type": {"S": "User"}}}})
    assert not localpump.matches(pattern, {"eventName": "REMOVE", "dynamodb": {"OldImage": {}}})
    assert localpump.matches({"body": {"Event": [{"prefix": "s3:"}]}}, {"body": {"Event": "s3:TestEvent"}})
    assert not localpump.matches({"body": {"Event": [{"prefix": "s3:"}]}}, {"body": {"Records": []}})
    assert localpump.matches({"tags": ["a"]}, {"tags": ["b", "a"]})
    assert localpump.matches({"a": [{"exists": False}]}, {}) and not localpump.matches({"a": [{"exists": True}]}, {})


# -- over a moto server, as `onramp dev` runs it ---------------------------------------------------------
def _multipart(fields: dict[str, str], file_field: str, payload: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="p.zip"\r\n'
                 f"Content-Type: application/zip\r\n\r\n".encode() + payload + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def over_the_emulator() -> None:
    """Runs in a child process whose AWS endpoint is a moto server: prints what was delivered."""
    from chalicelib import aws
    from chalicelib.config import settings
    from chalicelib.store import table

    table.ensure_table()
    table.ensure_bucket()
    table.ensure_bucket()
    calls = Calls()
    app = make_app(calls)
    state = PumpState(err=sys.stderr)
    pump_once(app, state)  # stream at LATEST; the s3:TestEvent
    cfg = settings()
    key = "uploads/t-1/c-1/up-9.zip"
    post = aws.s3().generate_presigned_post(Bucket=cfg.bucket_name, Key=key)  # as clients upload
    body, content_type = _multipart(post["fields"], "file", b"PK\x03\x04")
    urllib.request.urlopen(urllib.request.Request(post["url"], data=body, headers={"Content-Type": content_type}))
    got: list[Any] = []
    with subscribed(got.append) as event_type:
        write_event(event_type, {"over": "http"})
        delivered = sum(pump_once(app, state) for _ in range(3))
    print(json.dumps({"delivered": delivered, "events": [e.detail for e in got],
                      "uploads": [u["body"] for u in calls.uploads], "depth": queue_depth(queue_url())}))


def test_over_a_moto_server(tmp_path: Path) -> None:
    from chalicelib.localstack import Emulator

    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    emulator = Emulator("127.0.0.1", port, tmp_path / "moto.log").start()
    try:
        emulator.wait_ready()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
        env.update({"AWS_ENDPOINT_URL": emulator.url, "ONRAMP_STAGE": "pumptest"})
        code = "from tests.unit.test_localpump import over_the_emulator; over_the_emulator()"
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)
    finally:
        emulator.stop()
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["events"] == [{"over": "http"}]
    (test_event, upload) = result["uploads"]
    assert test_event["Event"] == "s3:TestEvent"
    assert "up-9.zip" in upload["Records"][0]["s3"]["object"]["key"]
    assert result["delivered"] == 2 and result["depth"] == [0, 0]
