"""Asynchronous certificate exports: a large tenant's export is built in the background, chunk by chunk.

Why the SQS chain of the user imports (users/import_job.py) and not an outbox step on the table's stream:
an export is a long sequential walk of one cursor (the claims' GSI1 Query) with no domain transaction per
chunk. On the uploads queue each invocation has up to 15 minutes, retries go to the queue's DLQ, and the
work does not hold up the table stream's shard, whose other records (completions, issuing) would wait
behind a 100,000-row export.

`start` writes the export item (`CertificateExport`, status running) and sends
`{"certificateExport": {"tenantId", "exportId", "chunk": 0}}`. An invocation writes chunks of CHUNK_ROWS
rows while it has used less than TIME_SHARE of its time, then sends itself the next chunk's message. Chunk n
is an S3 object (`certificate_export_part_key`, overwritten the same by a redelivery) and is recorded on the
item (chunks, rows, cursor = the Query's LastEvaluatedKey) on condition that the item has exactly n chunks,
so a redelivered message never counts a chunk twice. When the cursor runs out the chunks are concatenated
into `certificate_export_key` with an S3 multipart upload (parts of at least PART_BYTES: S3's minimum is
5 MiB except for the last part), the item becomes completed and the chunk objects are deleted.
"""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib import aws, observability
from chalicelib.auth.principal import TenantContext
from chalicelib.certification.exports import COLUMNS, _get, row
from chalicelib.clock import new_id, utcnow_iso
from chalicelib.config import settings
from chalicelib.errors import NotFound
from chalicelib.store import keys
from chalicelib.store.models import CertificateClaim, CertificateExport, Item

CHUNK_ROWS = 1000  # 10 BatchGetItems of 100 certificates + part of one claims Query page
PART_BYTES = 8 * 1024 * 1024  # multipart part size (S3: at least 5 MiB, except the last part)
TIME_SHARE = 0.6  # of the invocation's remaining time, then hand on
URL_SECONDS = 900
CONTENT_TYPES = {"csv": "text/csv", "json": "application/json"}
_queue_urls: dict[str, str] = {}


def start(ctx: TenantContext, fmt: str, program_id: str | None) -> dict[str, Any]:
    """The export item (1 PutItem) and the first chunk's message; the status document."""
    now, export_id = utcnow_iso(), new_id("ex")
    item = CertificateExport(PK=keys.certificate_export_pk(ctx.tenant_id, export_id), SK=keys.CERT_EXPORT_SK,
                             id=export_id, tenant_id=ctx.tenant_id, format=fmt, program_id=program_id,
                             status="running", requested_by=ctx.principal.subject, created_at=now, updated_at=now)
    item.save(condition=Item.PK.does_not_exist())
    _send(item)
    observability.count("CertificateExportStarted")
    return to_json(item)


def load(tenant_id: str, export_id: str) -> CertificateExport:
    try:
        return CertificateExport.get(keys.certificate_export_pk(tenant_id, export_id), keys.CERT_EXPORT_SK)
    except (CertificateExport.DoesNotExist, ValueError):
        raise NotFound("No such export.") from None


def to_json(item: CertificateExport, url: str | None = None) -> dict[str, Any]:
    doc = {"id": item.id, "status": item.status, "format": item.format, "certificationId": item.program_id,
           "rows": int(item.rows), "chunks": int(item.chunks), "createdAt": item.created_at,
           "completedAt": item.completed_at}
    if url is not None:
        doc.update({"url": url, "expiresIn": URL_SECONDS, "sizeBytes": int(item.size_bytes or 0)})
    return doc


def status(ctx: TenantContext, export_id: str) -> dict[str, Any]:
    """The export's status (its requester and the tenant's admins; others 404): 1 GetItem; when completed, a
    presigned GET URL of the file (signed locally, no request)."""
    if not keys.is_safe(export_id):
        raise NotFound("No such export.")
    item = load(ctx.tenant_id, export_id)
    if not (ctx.acts_as_admin or item.requested_by == ctx.principal.subject):
        raise NotFound("No such export.")
    url = None
    if item.status == "completed" and item.object_key:
        url = str(aws.s3().generate_presigned_url("get_object", ExpiresIn=URL_SECONDS, Params={
            "Bucket": settings().bucket_name, "Key": item.object_key}))
    return to_json(item, url)


# -- the worker (uploads queue) ------------------------------------------------------------------------------
def handle_message(body: dict[str, Any], context: Any = None) -> bool:
    """Run an export's chunk message; False when the message is not an export's."""
    message = body.get("certificateExport")
    if not isinstance(message, dict):
        return False
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    seconds = float(remaining()) / 1000 if callable(remaining) else 60.0
    run(str(message["tenantId"]), str(message["exportId"]), int(message["chunk"]),
        time.monotonic() + TIME_SHARE * seconds)
    return True


def run(tenant_id: str, export_id: str, chunk: int, deadline: float) -> None:
    try:
        item = load(tenant_id, export_id)
    except NotFound:
        observability.logger().warning("certificate export not found", extra={"exportId": export_id})
        return
    # chunk n recorded already: a delivery of this message did it and may have died before handing on
    if item.status == "running" and int(item.chunks) in (chunk, chunk + 1):
        _continue(item, deadline)


def _read_all(item: CertificateExport) -> bool:
    return int(item.chunks) > 0 and item.cursor is None


def _continue(item: CertificateExport, deadline: float) -> None:
    """At least one chunk (every invocation makes progress), more while time allows, then hand on."""
    while not _read_all(item):
        if not _chunk(item):
            return  # another delivery recorded this chunk; it goes on from there
        if not _read_all(item) and time.monotonic() >= deadline:
            _send(item)
            return
    _finish(item)


def _chunk(item: CertificateExport) -> bool:
    """Chunk n: a page of claims (GSI1, from the cursor), their certificates, the rows into S3, recorded."""
    number = int(item.chunks)
    cond = (CertificateClaim.GSI1SK.startswith(keys.tenant_certificates_gsi1sk(item.program_id))
            if item.program_id else None)
    claims = CertificateClaim.gsi1.query(keys.tenant_certificates_gsi1pk(item.tenant_id), cond, limit=CHUNK_ROWS,
                                         last_evaluated_key=json.loads(item.cursor) if item.cursor else None)
    ids = [c.certificate_id for c in claims if isinstance(c, CertificateClaim)]
    cursor = json.dumps(claims.last_evaluated_key) if claims.last_evaluated_key else None
    rows = [row(c) for i in range(0, len(ids), 100) for c in _get(item.tenant_id, ids[i:i + 100])]
    aws.s3().put_object(Bucket=settings().bucket_name, Body=_render(item, number, rows).encode(),
                        Key=keys.certificate_export_part_key(item.tenant_id, item.id, number))
    actions: list[Any] = [CertificateExport.chunks.set(number + 1), CertificateExport.rows.add(len(rows)),
                          CertificateExport.updated_at.set(utcnow_iso()),
                          CertificateExport.cursor.set(cursor) if cursor else CertificateExport.cursor.remove()]
    try:
        item.update(actions=actions, condition=(CertificateExport.chunks == number)
                    & (CertificateExport.status == "running"))
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    observability.count("CertificateExportRows", len(rows))
    return True


def _render(item: CertificateExport, number: int, rows: list[dict[str, Any]]) -> str:
    """Chunk n's text: CSV rows (chunk 0 with the header), or JSON array elements (chunk 0 opens the object;
    a comma before a chunk's first row when rows came before it; the end closes it)."""
    if item.format == "json":
        body = ",".join(json.dumps(r, separators=(",", ":")) for r in rows)
        return ('{"items":[' if number == 0 else "") + ("," if rows and int(item.rows) else "") + body
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    if number == 0:
        writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows)
    return out.getvalue()


def _finish(item: CertificateExport) -> None:
    """The chunks concatenated into the export's file (multipart upload), chunk objects deleted, completed."""
    s3, bucket = aws.s3(), settings().bucket_name
    key = keys.certificate_export_key(item.tenant_id, item.id, item.format)
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType=CONTENT_TYPES[item.format])["UploadId"]
    parts: list[dict[str, Any]] = []
    buffer, size = bytearray(), 0

    def flush() -> None:
        tag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=len(parts) + 1,
                             Body=bytes(buffer))["ETag"]
        parts.append({"ETag": tag, "PartNumber": len(parts) + 1})
        buffer.clear()

    chunk_keys = [keys.certificate_export_part_key(item.tenant_id, item.id, n) for n in range(int(item.chunks))]
    try:
        for chunk_key in chunk_keys:
            buffer += s3.get_object(Bucket=bucket, Key=chunk_key)["Body"].read()
            if len(buffer) >= PART_BYTES:
                size += len(buffer)
                flush()
        if item.format == "json":
            buffer += b"]}"
        size += len(buffer)
        if buffer or not parts:
            flush()
        s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})
    except Exception:
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload)
        raise
    now = utcnow_iso()
    try:
        item.update(actions=[CertificateExport.status.set("completed"), CertificateExport.object_key.set(key),
                             CertificateExport.size_bytes.set(size), CertificateExport.completed_at.set(now),
                             CertificateExport.updated_at.set(now)],
                    condition=CertificateExport.status == "running")
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return
    # after the item says completed (a redelivered finish must still find the chunks)
    for i in range(0, len(chunk_keys), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk_keys[i:i + 1000]],
                                                 "Quiet": True})
    observability.count("CertificateExportCompleted")


def _send(item: CertificateExport) -> None:
    sqs, name = aws.client("sqs"), settings().uploads_queue_name
    if name not in _queue_urls:
        _queue_urls[name] = str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
    message = {"certificateExport": {"tenantId": item.tenant_id, "exportId": item.id, "chunk": int(item.chunks)}}
    sqs.send_message(QueueUrl=_queue_urls[name], MessageBody=json.dumps(message))
