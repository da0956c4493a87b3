"""Bulk user imports, the processing: the CSV's S3 event starts an import; chunks of rows follow, each
recorded once with the import's progress, handed on through the uploads queue. docs/provisioning.md.

Messages on the uploads queue (`on_package_uploaded` gives each one to `handle_message` first):
- the S3 `ObjectCreated` event of `uploads/user-imports/<tenant>/<import>.csv`: check and scan the file,
  awaiting_upload -> processing (or failed), then process chunks;
- `{"userImportChunk": {"tenantId", "importId", "chunk": n}}`: process chunk n and the ones after it.

An invocation processes chunks of at most CHUNK_ROWS rows while it has used less than TIME_SHARE of the
time it had, then sends itself the next chunk's message. A chunk's record and the import's progress are
written in one transaction on condition that the import has recorded exactly n chunks, so a redelivered
message never counts a chunk twice; a message whose chunk is already recorded only hands on again (its
first delivery may have died before it did).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any
from urllib.parse import unquote_plus

from pynamodb.exceptions import UpdateError

from chalicelib import aws, observability
from chalicelib.auth.principal import TenantContext, system_context
from chalicelib.clock import utcnow_iso
from chalicelib.config import settings
from chalicelib.errors import NotFound
from chalicelib.store import keys
from chalicelib.store.models import Item, UserImport, UserImportChunk
from chalicelib.store.tx import Tx, TxConflict
from chalicelib.users import import_csv
from chalicelib.users.import_rows import MAX_ERRORS_PER_ROW, Directory, RowProcessor, cells, is_blank
from chalicelib.users.imports import CONTENT_TYPE, load_import

CHUNK_ROWS = 200
TIME_SHARE = 0.6  # of the invocation's remaining time, then hand on
SUBJECT = "system:import"
REPORT_HEADER = "row,field,message,email\n"
_queue_urls: dict[str, str] = {}


def handle_message(body: dict[str, Any], context: Any = None) -> bool:
    """Run an import message; False when the message is not an import's (a package upload's)."""
    deadline = time.monotonic() + TIME_SHARE * _remaining_seconds(context)
    chunk = body.get("userImportChunk")
    if isinstance(chunk, dict):
        run(str(chunk["tenantId"]), str(chunk["importId"]), int(chunk["chunk"]), deadline)
        return True
    started = [parsed for record in body.get("Records", [])
               if str(record.get("eventName", "ObjectCreated")).startswith("ObjectCreated")
               and (parsed := keys.parse_user_import_object_key(
                   unquote_plus(record.get("s3", {}).get("object", {}).get("key", ""))))]
    for tenant_id, import_id in started:
        start(tenant_id, import_id, deadline)
    return bool(started)


def _remaining_seconds(context: Any) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return float(remaining()) / 1000 if callable(remaining) else 60.0


def _load(tenant_id: str, import_id: str) -> UserImport | None:
    try:
        return load_import(tenant_id, import_id)
    except NotFound:  # an object or message no import asked for: nothing to retry
        observability.logger().warning("user import not found", extra={"importId": import_id})
        return None


def start(tenant_id: str, import_id: str, deadline: float) -> None:
    item = _load(tenant_id, import_id)
    if item is None:
        return
    if item.status == "processing":  # a redelivered event: the start (and maybe chunk 0) was recorded
        _resume(item, 0, deadline)
        return
    if item.status != "awaiting_upload":
        return
    try:
        found = import_csv.scan(item.object_key)
    except import_csv.NotImportable as exc:
        _fail(item, str(exc))
        return
    now = utcnow_iso()
    try:
        item.update(actions=[
            UserImport.status.set("processing"), UserImport.sha256.set(found.sha256),
            UserImport.size_bytes.set(found.size), UserImport.columns.set(found.columns),
            UserImport.ignored_columns.set(found.ignored), UserImport.rows.set(found.rows),
            UserImport.offset.set(found.header_end), UserImport.updated_at.set(now)],
            condition=UserImport.status == "awaiting_upload")
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return  # another delivery of the event started it
        raise
    _continue(item, deadline)


def run(tenant_id: str, import_id: str, chunk: int, deadline: float) -> None:
    item = _load(tenant_id, import_id)
    if item is not None and item.status == "processing":
        _resume(item, chunk, deadline)


def _resume(item: UserImport, chunk: int, deadline: float) -> None:
    """Chunk `chunk` onwards; if it is recorded already, a delivery of this message did it and may have died
    before handing on: go on from the next. Anything else is a stale duplicate."""
    if int(item.chunks) in (chunk, chunk + 1):
        _continue(item, deadline)


def _continue(item: UserImport, deadline: float) -> None:
    """At least one chunk (so every invocation makes progress), more while time allows, then hand on."""
    ctx = system_context(item.tenant_id, SUBJECT, correlation_id=item.id)
    directory = Directory(item.tenant_id)
    while _left(item):
        if not _chunk(item, ctx, directory, deadline):
            return  # another delivery recorded this chunk; it goes on from there
        if _left(item) and time.monotonic() >= deadline:
            _send(item)
            return
    _finish(item)


def _left(item: UserImport) -> bool:
    return int(item.offset) < int(item.size_bytes or 0)


def _chunk(item: UserImport, ctx: TenantContext, directory: Directory, deadline: float) -> bool:
    records = import_csv.read(item.object_key, int(item.offset), int(item.next_row), CHUNK_ROWS)
    columns = list(item.columns or [])
    rows = [(record, cells(columns, record.cells)) for record in records]
    directory.prefetch({r[k] for _, r in rows for k in ("email", "managerEmail") if k in r},
                       {r["externalId"] for _, r in rows if "externalId" in r})
    processor = RowProcessor(ctx, directory)
    counts: Counter[str] = Counter()
    errors: list[str] = []
    end, next_row = int(item.offset), int(item.next_row)
    for n, (record, row) in enumerate(rows):
        if n and time.monotonic() >= deadline:
            break
        if not is_blank(record.cells):
            outcome = processor.apply(row)
            counts[outcome.kind] += 1
            errors += [import_csv.report_line(record.row, column, message, row.get("email", ""))
                       for column, message in outcome.errors[:MAX_ERRORS_PER_ROW]]
        end, next_row = record.end, record.row + 1
    return _record(item, end, next_row, counts, "".join(errors))


def _record(item: UserImport, end: int, next_row: int, counts: Counter[str], errors: str) -> bool:
    number, processed = int(item.chunks), sum(counts.values())
    tx = Tx()
    tx.put(UserImportChunk(PK=keys.user_import_pk(item.tenant_id, item.id), SK=keys.user_import_chunk_sk(number),
                           number=number,
                           first_row=int(item.next_row), rows=processed, errors_csv=errors or None),
           Item.PK.does_not_exist(), "chunk")
    tx.update(item, actions=[
        UserImport.chunks.set(number + 1), UserImport.offset.set(end), UserImport.next_row.set(next_row),
        UserImport.processed.add(processed), UserImport.created.add(counts["created"]),
        UserImport.updated.add(counts["updated"]), UserImport.unchanged.add(counts["unchanged"]),
        UserImport.failed.add(counts["failed"]), UserImport.updated_at.set(utcnow_iso())],
        condition=(UserImport.chunks == number) & (UserImport.status == "processing"), label="import")
    try:
        tx.commit()
    except TxConflict:
        return False
    item.chunks, item.offset, item.next_row = number + 1, end, next_row
    for name in ("created", "updated", "unchanged", "failed"):
        setattr(item, name, int(getattr(item, name)) + counts[name])
    item.processed = int(item.processed) + processed
    observability.count("UserImportRows", processed)
    return True


def _send(item: UserImport) -> None:
    sqs, name = aws.client("sqs"), settings().uploads_queue_name
    if name not in _queue_urls:
        _queue_urls[name] = str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
    message = {"userImportChunk": {"tenantId": item.tenant_id, "importId": item.id, "chunk": int(item.chunks)}}
    sqs.send_message(QueueUrl=_queue_urls[name], MessageBody=json.dumps(message))


def _finish(item: UserImport) -> None:
    """The error report (the chunks' error rows in file order) into S3, then completed."""
    report = "".join(c.errors_csv or "" for c in UserImportChunk.query(
        keys.user_import_pk(item.tenant_id, item.id), UserImportChunk.SK.startswith(keys.USER_IMPORT_CHUNK_PREFIX)))
    key = keys.user_import_report_key(item.tenant_id, item.id) if report else None
    if key:
        aws.s3().put_object(Bucket=settings().bucket_name, Key=key, Body=(REPORT_HEADER + report).encode(),
                            ContentType=CONTENT_TYPE)
    now = utcnow_iso()
    actions: list[Any] = [UserImport.status.set("completed"), UserImport.completed_at.set(now),
                          UserImport.updated_at.set(now)]
    try:
        item.update(actions=actions + ([UserImport.report_key.set(key)] if key else []),
                    condition=UserImport.status == "processing")
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return
    observability.count("UserImportCompleted")


def _fail(item: UserImport, problem: str) -> None:
    now = utcnow_iso()
    try:
        item.update(actions=[UserImport.status.set("failed"), UserImport.problem.set(problem),
                             UserImport.completed_at.set(now), UserImport.updated_at.set(now)],
                    condition=UserImport.status == "awaiting_upload")
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return
    observability.count("UserImportFailed")
