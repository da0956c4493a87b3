"""The local stack's event pump: what Lambda's event source mappings do deployed, for `onramp dev`.

`chalice local` serves HTTP routes only. Deployed, Lambda reads the table's stream, the uploads queue and
the xAPI forwarding queue and invokes `on_table_change`, `on_package_uploaded` and `on_xapi_forwarding`;
locally this pump does it, in the dev server's process, through `chalice.test.Client` (so Chalice's own
event wrappers run, as in Lambda):

- every `@app.on_dynamodb_record` handler reads the table's stream (its shards from LATEST when the pump
  starts, shards that appear later from their start), `batch_size` records at a time, filtered by the
  `FilterCriteria` infra/ gives the function. A failure (an exception, or a `batchItemFailures` answer) is
  retried from the failed record up to the function's `MaximumRetryAttempts`, then skipped (deployed, the
  DLQ gets it);
- every `@app.on_sqs_message` handler gets the messages of its queue (long-polled, at most 1 s) in Lambda's
  SQS event shape; handled messages are deleted, failed ones stay for redelivery (and end in the queue's
  DLQ after its maxReceiveCount).

A handler that is not registered is not fed. Errors go to stderr and never stop the server.
`pump_once(app, state)` does one pass, synchronously (tests).
"""

from __future__ import annotations

import base64
import functools
import json
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

POLL_SECONDS = 0.5  # between passes over the stream, and after a failed AWS call
QUEUE_WAIT_SECONDS = 1  # SQS long poll
PROJECT_DIR = Path(__file__).resolve().parents[1]  # .chalice/config.json: the functions' environment


# -- the sources the app registered ------------------------------------------------------------------
def stream_handlers(app: Any) -> list[Any]:
    from chalice.app import DynamoDBEventConfig

    return [s for s in app.event_sources if isinstance(s, DynamoDBEventConfig)]


def queue_handlers(app: Any) -> list[Any]:
    from chalice.app import SQSEventConfig

    return [s for s in app.event_sources if isinstance(s, SQSEventConfig)]


def _queue_name(source: Any) -> str:
    return str(source.queue or str(source.queue_arn).rsplit(":", 1)[-1])


@functools.cache
def _event_source_settings(handler: str) -> dict[str, Any]:
    """What infra/ sets on a function's event source (FilterCriteria, MaximumRetryAttempts...)."""
    from chalice.utils import to_cfn_resource_name

    from chalicelib.store.table import template

    function = template()["Resources"].get(to_cfn_resource_name(handler), {})
    merged: dict[str, Any] = {}
    for event in function.get("Properties", {}).get("Events", {}).values():
        merged.update(event.get("Properties", {}))
    return merged


# -- Lambda's event filtering (the subset infra/ uses: exact values, prefix, exists) -------------------
def _value_matches(rule: Any, value: Any, present: bool) -> bool:
    if isinstance(rule, dict):
        if "exists" in rule:
            return bool(rule["exists"]) == present
        if "prefix" in rule:
            return present and isinstance(value, str) and value.startswith(rule["prefix"])
        return True  # an operator this pump does not know: let the record through
    values = value if isinstance(value, list) else [value]
    return present and rule in values


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """Does `event` pass an EventBridge-style filter `pattern` (as Lambda's FilterCriteria use)?"""
    for key, rule in pattern.items():
        present = key in event
        value = event.get(key)
        if isinstance(rule, dict):
            if not isinstance(value, dict) or not matches(rule, value):
                return False
        elif not any(_value_matches(r, value, present) for r in rule):
            return False
    return True


def _passes(filters: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    return not filters or any(matches(f, record) for f in filters)


def _filters(settings: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(f["Pattern"]) for f in settings.get("FilterCriteria", {}).get("Filters", [])]


# -- event shapes --------------------------------------------------------------------------------------
def _lambda_json(value: Any) -> Any:
    """boto3 decodes what Lambda hands over as JSON: binary attributes (B, BS) back to base64."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {k: _lambda_json(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_lambda_json(v) for v in value]
    return value


def stream_record(raw: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it: eventSourceARN added, the creation time in epoch seconds."""
    record = _lambda_json(raw)
    created = raw.get("dynamodb", {}).get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        record["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
    record["eventSourceARN"] = stream_arn
    return dict(record)


def _message_attribute(attr: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"dataType": attr["DataType"], "stringListValues": [], "binaryListValues": []}
    if "StringValue" in attr:
        out["stringValue"] = attr["StringValue"]
    if "BinaryValue" in attr:
        out["binaryValue"] = base64.b64encode(attr["BinaryValue"]).decode("ascii")
    return out


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """A ReceiveMessage message as Lambda's SQS event record."""
    record = {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {k: _message_attribute(v) for k, v in message.get("MessageAttributes", {}).items()},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _sqs_filter_view(record: dict[str, Any]) -> dict[str, Any]:
    """What an SQS filter pattern sees: the body as JSON when it is JSON."""
    try:
        body = json.loads(record["body"])
    except ValueError:
        body = record["body"]
    return {**record, "body": body}


def _failed_ids(result: Any) -> list[str]:
    if isinstance(result, dict) and isinstance(result.get("batchItemFailures"), list):
        return [str(f.get("itemIdentifier", "")) for f in result["batchItemFailures"] if isinstance(f, dict)]
    return []


# -- state ---------------------------------------------------------------------------------------------
@dataclass
class _Shard:
    iterator: str | None  # None: closed and read to its end
    parent: str | None = None
    attempts: int = 0


@dataclass
class _StreamReader:
    handler: str
    batch_size: int
    filters: list[dict[str, Any]]
    max_retries: int
    report_failures: bool
    shards: dict[str, _Shard] = field(default_factory=dict)
    primed: bool = False


@dataclass
class PumpState:
    """Where the pump is: per stream handler its shard positions; the queues' URLs; what was said once."""

    stream_arn: str | None = None
    readers: dict[str, _StreamReader] = field(default_factory=dict)
    queues: dict[str, tuple[str, str]] = field(default_factory=dict)  # handler -> (url, arn)
    said: dict[str, str] = field(default_factory=dict)
    client: Any = None
    invoke_lock: threading.Lock = field(default_factory=threading.Lock)
    err: TextIO | None = None

    def say(self, key: str, message: str) -> None:
        """One line on stderr, not repeated while the same thing keeps happening."""
        if self.said.get(key) != message:
            self.said[key] = message
            print(f"event pump: {message}", file=self.err or sys.stderr, flush=True)

    def clear(self, key: str) -> None:
        self.said.pop(key, None)


def _client(app: Any, state: PumpState) -> Any:
    if state.client is None:
        from chalice.test import Client

        from chalicelib.config import settings

        # as `onramp jobs run`: the stage's function environment from .chalice/config.json
        state.client = Client(app, stage_name=settings().stage, project_dir=str(PROJECT_DIR))
    return state.client


def _invoke(app: Any, state: PumpState, handler: str, records: list[dict[str, Any]]) -> Any:
    """Invoke a handler as Lambda would; one at a time (the test client swaps os.environ while it runs)."""
    with state.invoke_lock:
        return _client(app, state).lambda_.invoke(handler, {"Records": records}).payload


def _report(state: PumpState, what: str, exc: BaseException) -> None:
    out = state.err or sys.stderr
    print(f"event pump: {what}: {type(exc).__name__}: {exc}", file=out, flush=True)
    traceback.print_exception(exc, file=out)


# -- the table's stream --------------------------------------------------------------------------------
def _reader(state: PumpState, source: Any) -> _StreamReader:
    reader = state.readers.get(source.name)
    if reader is None:
        settings = _event_source_settings(source.name)
        reader = state.readers[source.name] = _StreamReader(
            handler=source.name, batch_size=int(source.batch_size), filters=_filters(settings),
            max_retries=int(settings.get("MaximumRetryAttempts", 0)),
            report_failures="ReportBatchItemFailures" in settings.get("FunctionResponseTypes", []))
    return reader


def _stream_arn(state: PumpState) -> str | None:
    if state.stream_arn is None:
        from chalicelib import aws
        from chalicelib.config import settings

        table = aws.dynamodb().describe_table(TableName=settings().table_name)["Table"]
        state.stream_arn = table.get("LatestStreamArn")
    return state.stream_arn


def _shards(streams: Any, arn: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    start: dict[str, str] = {}
    while True:
        desc = streams.describe_stream(StreamArn=arn, **start)["StreamDescription"]
        found.extend(desc.get("Shards", []))
        if not desc.get("LastEvaluatedShardId"):
            return found
        start = {"ExclusiveStartShardId": desc["LastEvaluatedShardId"]}


def _discover(streams: Any, arn: str, reader: _StreamReader) -> None:
    """New shards: at LATEST when the pump starts (what is there is old), from their start after."""
    for shard in _shards(streams, arn):
        shard_id = shard["ShardId"]
        if shard_id in reader.shards:
            continue
        position = "LATEST" if not reader.primed else "TRIM_HORIZON"
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType=position)
        reader.shards[shard_id] = _Shard(iterator.get("ShardIterator"), shard.get("ParentShardId"))
    reader.primed = True


def _after_failure(streams: Any, arn: str, state: PumpState, reader: _StreamReader, shard_id: str,
                   failed_at: str, next_iterator: str | None) -> None:
    shard = reader.shards[shard_id]
    shard.attempts += 1
    if shard.attempts > reader.max_retries:
        state.say(f"stream:{reader.handler}", f"{reader.handler} failed {shard.attempts} times at sequence "
                  f"{failed_at}; skipping the batch (deployed, it goes to the stream's DLQ)")
        shard.iterator, shard.attempts = next_iterator, 0
        return
    state.say(f"stream:{reader.handler}", f"{reader.handler} failed at sequence {failed_at}; "
              f"retry {shard.attempts} of {reader.max_retries}")
    shard.iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                                ShardIteratorType="AT_SEQUENCE_NUMBER",
                                                SequenceNumber=failed_at)["ShardIterator"]


def _deliver(app: Any, state: PumpState, reader: _StreamReader, records: list[dict[str, Any]]) -> str | None:
    """Invoke the handler with a batch; the sequence number it failed at, if it did."""
    try:
        result = _invoke(app, state, reader.handler, records)
    except Exception as exc:  # noqa: BLE001 - the handler's failure: retried, never the pump's end
        _report(state, f"{reader.handler} raised", exc)
        return str(records[0]["dynamodb"]["SequenceNumber"])
    failed = _failed_ids(result) if reader.report_failures else []
    if not failed:
        return None
    sequence_numbers = [str(r["dynamodb"]["SequenceNumber"]) for r in records]
    return failed[0] if failed[0] in sequence_numbers else sequence_numbers[0]  # Lambda: an unknown id fails all


def _read_shard(app: Any, streams: Any, arn: str, state: PumpState, reader: _StreamReader, shard_id: str) -> int:
    shard = reader.shards[shard_id]
    if shard.iterator is None:
        return 0
    page = streams.get_records(ShardIterator=shard.iterator, Limit=reader.batch_size)
    next_iterator = page.get("NextShardIterator")
    records = [stream_record(r, arn) for r in page.get("Records", [])]
    batch = [r for r in records if _passes(reader.filters, r)]
    if batch:
        failed_at = _deliver(app, state, reader, batch)
        if failed_at is not None:
            _after_failure(streams, arn, state, reader, shard_id, failed_at, next_iterator)
            return len(batch)
        state.clear(f"stream:{reader.handler}")
    shard.iterator, shard.attempts = next_iterator, 0
    return len(batch)


def _parent_pending(reader: _StreamReader, shard: _Shard) -> bool:
    parent = reader.shards.get(shard.parent or "")
    return parent is not None and parent.iterator is not None


def pump_stream(app: Any, state: PumpState) -> int:
    """One pass over the table's stream for every stream handler; how many records they were given."""
    sources = stream_handlers(app)
    if not sources:
        return 0
    from chalicelib import aws

    arn = _stream_arn(state)
    if arn is None:
        state.say("stream", "the table has no stream; stream handlers are not fed")
        return 0
    streams = aws.client("dynamodbstreams")
    delivered = 0
    for source in sources:
        reader = _reader(state, source)
        _discover(streams, arn, reader)
        for shard_id, shard in list(reader.shards.items()):
            if not _parent_pending(reader, shard):  # a shard's records follow its parent's
                delivered += _read_shard(app, streams, arn, state, reader, shard_id)
    return delivered


# -- the queues ----------------------------------------------------------------------------------------
def _queue(state: PumpState, source: Any) -> tuple[str, str] | None:
    found = state.queues.get(source.name)
    if found is None:
        from chalicelib import aws
        from chalicelib.store.table import queue_arn

        sqs = aws.client("sqs")
        try:
            url = str(sqs.get_queue_url(QueueName=_queue_name(source))["QueueUrl"])
        except sqs.exceptions.QueueDoesNotExist:
            state.say(f"queue:{source.name}", f"queue {_queue_name(source)} does not exist; "
                      f"{source.name} is not fed")
            return None
        found = state.queues[source.name] = (url, queue_arn(url))
        state.clear(f"queue:{source.name}")
    return found


def _settle(sqs: Any, url: str, done: list[dict[str, Any]]) -> None:
    if done:
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "ReceiptHandle": r["receiptHandle"]} for n, r in enumerate(done)])


def pump_queue(app: Any, state: PumpState, source: Any, wait_seconds: float = 0) -> int:
    """Receive one batch from a handler's queue and invoke the handler; how many messages it was given."""
    from chalicelib import aws
    from chalicelib.config import settings

    queue = _queue(state, source)
    if queue is None:
        return 0
    url, arn = queue
    sqs = aws.client("sqs")
    messages = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=max(1, min(int(source.batch_size), 10)),
        WaitTimeSeconds=int(wait_seconds), MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"],
    ).get("Messages", [])
    records = [sqs_record(m, arn, settings().region) for m in messages]
    filters = _filters(_event_source_settings(source.name))
    batch = [r for r in records if _passes(filters, _sqs_filter_view(r))]
    _settle(sqs, url, [r for r in records if r not in batch])  # filtered out: Lambda drops them
    if not batch:
        return 0
    try:
        result = _invoke(app, state, source.name, batch)
    except Exception as exc:  # noqa: BLE001 - the handler's failure: the messages are redelivered
        _report(state, f"{source.name} raised (the message stays on {_queue_name(source)} for redelivery)", exc)
        return len(batch)
    failed = set(_failed_ids(result))
    _settle(sqs, url, [r for r in batch if r["messageId"] not in failed])
    return len(batch)


# -- one pass, and the background pump -----------------------------------------------------------------
def _guarded(state: PumpState, key: str, step: Callable[[], int]) -> int:
    """A pass that fails on AWS (the emulator going away...) is said once and tried again later."""
    try:
        count = step()
    except Exception as exc:  # noqa: BLE001 - the pump never takes the dev server down
        state.say(key, f"{key} failed: {type(exc).__name__}: {exc}")
        return 0
    state.clear(key)
    return count


def pump_once(app: Any, state: PumpState | None = None, *, wait_seconds: float = 0) -> int:
    """One pass: the table's stream, then each handler's queue. Returns how many records and messages
    the handlers were given. Keep `state` between passes: a new state starts the stream at LATEST."""
    state = state if state is not None else PumpState()
    count = _guarded(state, "stream", functools.partial(pump_stream, app, state))
    for source in queue_handlers(app):
        count += _guarded(state, f"queue {source.name}",
                          functools.partial(pump_queue, app, state, source, wait_seconds))
    return count


def describe(app: Any) -> str:
    from chalicelib.config import settings

    parts = ["table stream"] if stream_handlers(app) else []
    for source in queue_handlers(app):
        name = _queue_name(source)
        known = {settings().uploads_queue_name: "uploads queue",
                 settings().forwarding_queue_name: "xAPI forwarding queue"}
        parts.append(known.get(name, f"queue {name}"))
    return " + ".join(parts) or "nothing to pump (no stream or queue handlers)"


class EventPump:
    """`pump_once` in the background, until `stop()`: the stream every POLL_SECONDS, the queues long-polled
    on a thread of their own."""

    def __init__(self, app: Any, err: TextIO | None = None) -> None:
        self.app = app
        self.state = PumpState(err=err)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> EventPump:
        from chalicelib import aws

        for service in ("dynamodb", "dynamodbstreams", "sqs"):
            aws.client(service)  # made here: boto3 makes clients from one session, not from two threads at once
        # positions the stream at LATEST now, so that what is written from here on is delivered
        _guarded(self.state, "stream", functools.partial(pump_stream, self.app, self.state))
        self.state.say("start", describe(self.app))
        self._threads = []
        if stream_handlers(self.app):
            self._threads.append(threading.Thread(target=self._run_stream, name="event-pump-stream", daemon=True))
        if queue_handlers(self.app):
            self._threads.append(threading.Thread(target=self._run_queues, name="event-pump-queues", daemon=True))
        for thread in self._threads:
            thread.start()
        return self

    def _run_stream(self) -> None:
        while not self._stop.is_set():
            if not _guarded(self.state, "stream", functools.partial(pump_stream, self.app, self.state)):
                self._stop.wait(POLL_SECONDS)

    def _run_queues(self) -> None:
        while not self._stop.is_set():
            for source in queue_handlers(self.app):
                started = time.monotonic()
                got = _guarded(self.state, f"queue {source.name}",
                               functools.partial(pump_queue, self.app, self.state, source, QUEUE_WAIT_SECONDS))
                if not got and time.monotonic() - started < POLL_SECONDS:
                    # nothing, and no long poll waited for it (no queue, a failure, an emulator that
                    # answers at once): don't spin
                    self._stop.wait(POLL_SECONDS)
                if self._stop.is_set():
                    return

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []
