"""The stream consumer: event items from the table's stream, dispatched to subscribed handlers.

Capabilities subscribe with `@subscribe("UserCreated")`; a handler gets an `EventEnvelope`. A failing
record is reported back as a batch item failure so the stream retries it (and only it, and the rest
of its shard after it), and it lands in the on-failure destination after the retry limit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_HANDLERS: dict[str, list[Callable[[EventEnvelope], None]]] = defaultdict(list)
# The modules whose `@subscribe` handlers the consumer runs (imported on the first batch, not at cold start).
SUBSCRIBER_MODULES = ("chalicelib.catalog.catalog", "chalicelib.catalog.paths", "chalicelib.content.xapi",
                      "chalicelib.lrs.outbound", "chalicelib.enrollment.rules",
                      "chalicelib.certification.issue", "chalicelib.partners.lead_cards",
                      "chalicelib.partners.brandkit_review", "chalicelib.partners.onboarding_events")
_loaded = False


def load_subscribers() -> None:
    global _loaded
    if not _loaded:
        import importlib

        for name in SUBSCRIBER_MODULES:
            importlib.import_module(name)
        _loaded = True


@dataclass(frozen=True)
class EventEnvelope:
    id: str
    type: str
    tenant_id: str | None
    occurred_at: str
    actor: str | None
    correlation_id: str | None
    detail: dict[str, Any]


def subscribe(event_type: str) -> Callable[[Callable[[EventEnvelope], None]], Callable[[EventEnvelope], None]]:
    def register(fn: Callable[[EventEnvelope], None]) -> Callable[[EventEnvelope], None]:
        _HANDLERS[event_type].append(fn)
        return fn

    return register


def subscribers(event_type: str) -> list[Callable[[EventEnvelope], None]]:
    return list(_HANDLERS.get(event_type, []))


def _deserialise(attr: dict[str, Any]) -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer().deserialize(attr)


def envelope(new_image: dict[str, Any]) -> EventEnvelope | None:
    """An event from a stream record's NewImage (DynamoDB JSON); None for non-event items."""
    if new_image.get("type", {}).get("S") != "Event":
        return None
    from chalicelib.store.models import plain

    item = {k: _deserialise(v) for k, v in new_image.items()}
    return EventEnvelope(
        id=item["id"], type=item["event_type"], tenant_id=item.get("tenant_id"),
        occurred_at=item["occurred_at"], actor=item.get("actor"),
        correlation_id=item.get("correlation_id"), detail=plain(item.get("detail") or {}),
    )


def handle_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Dispatch INSERTed events; returns the Lambda partial-batch response."""
    load_subscribers()
    failures = []
    for record in records:
        if record.get("eventName") != "INSERT":
            continue
        event = envelope(record.get("dynamodb", {}).get("NewImage", {}))
        if event is None:
            continue
        try:
            for handler in subscribers(event.type):
                handler(event)
        except Exception:  # noqa: BLE001 - any failure: report it and let the stream retry this record
            from chalicelib.observability import logger

            logger().exception("event handler failed", extra={"event_id": event.id, "event_type": event.type})
            failures.append({"itemIdentifier": record.get("dynamodb", {}).get("SequenceNumber", "")})
            break  # records of a shard are ordered: stop here, the rest follow on the retry
    return {"batchItemFailures": failures}
