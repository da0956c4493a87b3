"""Deliveries of stored statements to a tenant's external LRS: outbox event -> SQS -> POST, with retries.

A `StatementsStored` event of a tenant that forwards becomes one message on the forwarding queue naming the
statement ids (never the statements: 99 of up to 48 KB would exceed SQS's 256 KB). `deliver` reads them
back (one BatchGetItem per 100) and POSTs them as stored, ids included, so a redelivery is a no-op at the
other end (xAPI: same id and content). A timeout, a connection error, a 5xx or a 429 raises `RetryLater`:
SQS delivers the message again after a backoff and, after maxReceiveCount, moves it to the DLQ. Another
4xx is a permanent rejection: logged with tenant and statement ids, recorded on the settings, dropped.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib import aws
from chalicelib.clock import utcnow_iso
from chalicelib.config import settings
from chalicelib.events.consumer import EventEnvelope, subscribe
from chalicelib.lrs import forwarding
from chalicelib.store import keys
from chalicelib.store.models import StatementRecord, XapiForwarding

MAX_POST_BYTES = 1_000_000  # per POST: an event's statements (up to 99 of 48 KB) may take several
BACKOFF_SECONDS = (30, 60, 120, 240, 480, 720)  # before the 2nd, 3rd... receive; then 720 s until the DLQ
_queue_urls: dict[str, str] = {}


class RetryLater(Exception):
    """The external LRS did not take the statements this time: the message is to be delivered again."""


# -- outbox event -> queue ----------------------------------------------------------------------------
def _queue_url() -> str:
    name = settings().forwarding_queue_name
    if name not in _queue_urls:
        _queue_urls[name] = str(aws.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])
    return _queue_urls[name]


@subscribe("StatementsStored")
def enqueue(event: EventEnvelope) -> None:
    """One delivery message per event, if the tenant forwards (one GetItem: a change of the settings
    applies to the next event, with no cache to wait for)."""
    ids = [str(s["id"]) for s in event.detail.get("statements", [])]
    if not event.tenant_id or not ids:
        return
    config = forwarding.load(event.tenant_id)
    if config is None or not config.enabled:
        return
    body = {"v": 1, "tenantId": event.tenant_id, "eventId": event.id, "statementIds": ids}
    aws.client("sqs").send_message(QueueUrl=_queue_url(), MessageBody=json.dumps(body))


# -- queue -> external LRS ----------------------------------------------------------------------------
def _statements(tenant_id: str, ids: list[str]) -> list[dict[str, Any]]:
    """The stored statements, in the message's order (pynamodb sends one BatchGetItem per 100 keys)."""
    wanted = list(dict.fromkeys(i.lower() for i in ids if keys.is_safe(i.lower())))
    found = {r.statement_id.lower(): r for r in StatementRecord.batch_get(
        [(keys.statement_pk(tenant_id, i), keys.STATEMENT_SK) for i in wanted])} if wanted else {}
    missing = [i for i in wanted if i not in found]
    if missing:  # statements are never deleted: a message naming another tenant's ids, or a bug
        _log("warning", "statements to forward are not stored", tenant_id, missing)
    from chalicelib.lrs.statements import document

    return [document(found[i]) for i in wanted if i in found]  # a large statement's JSON is in S3


def _chunks(docs: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    chunks: list[list[dict[str, Any]]] = [[]]
    size = 0
    for doc in docs:
        length = len(json.dumps(doc, separators=(",", ":"))) + 1
        if chunks[-1] and size + length > MAX_POST_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(doc)
        size += length
    return [c for c in chunks if c]


def _log(level: str, message: str, tenant_id: str, ids: list[str], **extra: Any) -> None:
    from chalicelib.observability import logger

    getattr(logger(), level)(message, extra={"tenant_id": tenant_id, "statement_ids": ids, **extra})


def _error(status: int | None, detail: str, ids: list[str]) -> dict[str, Any]:
    return {"at": utcnow_iso(), "status": status, "detail": detail[:500], "statementIds": ids[:100]}


def _post_all(config: XapiForwarding, secret: str, docs: list[dict[str, Any]]) -> list[tuple[int, str, list[str]]]:
    """POST every statement; the permanent rejections (status, detail, ids). Raises RetryLater."""
    from chalicelib.lrs import outbound_http

    rejected: list[tuple[int, str, list[str]]] = []
    pending = _chunks(docs)
    while pending:
        chunk = pending.pop(0)
        ids = [str(d["id"]) for d in chunk]
        status, detail = outbound_http.post_statements(config, secret, chunk)
        if status is None or status >= 500 or status == 429:
            forwarding.record_delivery(config.tenant_id, error=_error(status, detail, ids))
            _log("warning", "external LRS unavailable; the delivery will be retried", config.tenant_id, ids,
                 status=status, detail=detail)
            raise RetryLater(f"{config.endpoint}: {status or detail}")
        if status == 409 and len(chunk) > 1:  # one conflicting id rejects the batch: find it, keep the rest
            pending = [[d] for d in chunk] + pending
        elif status >= 300:
            rejected.append((status, detail, ids))
    return rejected


def deliver(message: dict[str, Any]) -> str:
    """One delivery message: "delivered", "rejected" (permanently, recorded), or "skipped" (forwarding
    is off or removed since). Raises RetryLater for SQS to deliver it again."""
    tenant_id, ids = str(message["tenantId"]), [str(i) for i in message.get("statementIds", [])]
    config = forwarding.load(tenant_id)
    if config is None or not config.enabled:
        return "skipped"
    docs = _statements(tenant_id, ids)
    if not docs:
        return "skipped"
    try:
        secret = forwarding.unseal(tenant_id, config.secret_box)
    except forwarding.SecretUnreadable as exc:
        forwarding.record_delivery(tenant_id, error=_error(None, str(exc), ids))
        _log("error", "xAPI forwarding secret unreadable; statements dropped", tenant_id, ids)
        return "rejected"
    rejected = _post_all(config, secret, docs)
    if not rejected:
        forwarding.record_delivery(tenant_id, delivered_at=utcnow_iso())
        return "delivered"
    dropped = [i for _, _, chunk_ids in rejected for i in chunk_ids]
    status, detail, _ = rejected[-1]
    _log("error", "external LRS rejected statements; dropped", tenant_id, dropped, status=status, detail=detail)
    forwarding.record_delivery(tenant_id, delivered_at=utcnow_iso() if len(dropped) < len(docs) else None,
                               error=_error(status, detail, dropped))
    return "rejected"


def handle_record(record: dict[str, Any]) -> str:
    """One SQS record of the forwarding queue (Lambda's event shape). On RetryLater the message is hidden
    for a growing delay (30 s, 1, 2, 4, 8, then 12 min) before SQS hands it out again, and the error raised."""
    try:
        return deliver(json.loads(record["body"]))
    except RetryLater:
        received = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        delay = BACKOFF_SECONDS[min(received, len(BACKOFF_SECONDS)) - 1]
        try:
            aws.client("sqs").change_message_visibility(QueueUrl=_queue_url(), ReceiptHandle=record["receiptHandle"],
                                                        VisibilityTimeout=delay)
        except Exception:  # noqa: BLE001 - no backoff then: the queue's own visibility timeout applies
            from chalicelib.observability import logger

            logger().exception("could not delay the forwarding retry")
        raise

