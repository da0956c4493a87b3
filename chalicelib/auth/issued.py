"""Secret holders a tenant admin issues and revokes (API clients, LRS credentials, SCIM tokens): the item and
its event written together; the secret is shown once and only its hash is stored."""

from __future__ import annotations

from typing import Any

from chalicelib.auth.principal import TenantContext
from chalicelib.events.outbox import event_item
from chalicelib.store.models import Item
from chalicelib.store.tx import Tx


def issue(ctx: TenantContext, item: Item, event_type: str, detail: dict[str, Any], label: str) -> None:
    """Put a new holder (its key must be free) with its `<Thing>Created` event."""
    tx = Tx()
    tx.put(item, Item.PK.does_not_exist(), label)
    tx.put(event_item(ctx.tenant_id, event_type, detail, actor=ctx.principal.subject,
                      correlation_id=ctx.correlation_id))
    tx.commit()


def revoke(ctx: TenantContext, item: Any, event_type: str, detail: dict[str, Any], label: str) -> None:
    """Mark a holder revoked (once: a revoked one is left alone) with its `<Thing>Revoked` event."""
    if item.status == "revoked":
        return
    model = type(item)
    tx = Tx()
    tx.update(item, [model.status.set("revoked")], model.PK.exists(), label)
    tx.put(event_item(ctx.tenant_id, event_type, detail, actor=ctx.principal.subject,
                      correlation_id=ctx.correlation_id))
    tx.commit()
