"""A short per-container cache of tenant status and hierarchy, so authorisation costs no read."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from chalicelib.config import settings
from chalicelib.store import keys

K = TypeVar("K")
V = TypeVar("V")
_MAX_ENTRIES = 2048
_entries: dict[str, tuple[float, TenantRecord | None]] = {}


@dataclass(frozen=True)
class TenantRecord:
    id: str
    status: str
    kind: str
    parent_id: str | None
    sandbox_of: str | None


def _load(tenant_id: str) -> TenantRecord | None:
    from chalicelib.store.models import Tenant

    if not keys.is_safe(tenant_id):
        return None
    try:
        item = Tenant.get(keys.tenant_pk(tenant_id), keys.TENANT_SK)
    except Tenant.DoesNotExist:
        return None
    return TenantRecord(item.id, item.status, item.kind, item.parent_id, item.sandbox_of)


def ttl_get(entries: dict[K, tuple[float, V]], key: K, load: Callable[[], V], max_entries: int) -> V:
    """A per-container cache entry, reloaded after `tenant_cache_seconds` (so changes made by other
    containers are seen within that time); the whole cache is dropped when it outgrows `max_entries`."""
    now = time.monotonic()
    hit = entries.get(key)
    if hit and hit[0] > now:
        return hit[1]
    value = load()
    if len(entries) >= max_entries:
        entries.clear()
    entries[key] = (now + settings().tenant_cache_seconds, value)
    return value


def tenant_record(tenant_id: str) -> TenantRecord | None:
    return ttl_get(_entries, tenant_id, lambda: _load(tenant_id), _MAX_ENTRIES)


def is_partner(tenant_id: str | None) -> bool:
    """Whether a tenant is a partner, from this cache (stream subscribers filter partners' events with it)."""
    record = tenant_record(tenant_id) if tenant_id else None
    return record is not None and record.kind == "partner"


def forget(tenant_id: str) -> None:
    """Drop one entry (this container changed the tenant; others see it within the cache TTL)."""
    _entries.pop(tenant_id, None)


def reset() -> None:
    _entries.clear()
