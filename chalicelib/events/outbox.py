"""Event items written in the same transaction as the change they describe (the outbox)."""

from __future__ import annotations

import time
import zlib
from typing import Any

from chalicelib.clock import new_id, utcnow_iso
from chalicelib.store import keys
from chalicelib.store.models import Event

RETENTION_SECONDS = 30 * 24 * 3600


def event_item(tenant_id: str | None, event_type: str, detail: dict[str, Any], *,
               actor: str | None = None, correlation_id: str | None = None) -> Event:
    event_id = new_id("ev")
    at = utcnow_iso()
    shard = zlib.crc32(event_id.encode())  # spreads one tenant's events over keys.EVENT_SHARDS partitions
    return Event(
        PK=keys.event_pk(tenant_id, shard), SK=keys.event_sk(at, event_id),
        id=event_id, tenant_id=tenant_id, event_type=event_type, occurred_at=at, actor=actor,
        correlation_id=correlation_id, detail=detail, ttl=int(time.time()) + RETENTION_SECONDS,
    )
