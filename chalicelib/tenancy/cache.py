"""A short per-container cache of tenant status and hierarchy, so authorisation costs no read."""

from __future__ import annotations

import time
from dataclasses import dataclass

from chalicelib.config import settings
from chalicelib.store import keys

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


def tenant_record(tenant_id: str) -> TenantRecord | None:
    now = time.monotonic()
    hit = _entries.get(tenant_id)
    if hit and hit[0] > now:
        return hit[1]
    record = _load(tenant_id)
    if len(_entries) >= _MAX_ENTRIES:
        _entries.clear()
    _entries[tenant_id] = (now + settings().tenant_cache_seconds, record)
    return record


def forget(tenant_id: str) -> None:
    """Drop one entry (this container changed the tenant; others see it within the cache TTL)."""
    _entries.pop(tenant_id, None)


def reset() -> None:
    _entries.clear()
