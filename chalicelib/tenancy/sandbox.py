"""Sandboxes: a tenant's own test tenant (same template and branding, its own data and clients).

Reset swaps in a fresh sandbox tenant and retires the old one in one transaction: the old one's
tokens stop working at once (its status is `retired`), and no Scan is needed to empty it.
"""

from __future__ import annotations

from typing import Any

from chalicelib.auth.principal import TenantContext
from chalicelib.clock import utcnow_iso
from chalicelib.errors import Conflict, Forbidden, NotFound
from chalicelib.events.outbox import event_item
from chalicelib.store import keys
from chalicelib.store.models import Item, SlugClaim, Tenant, plain
from chalicelib.store.tx import Tx, TxConflict
from chalicelib.tenancy import cache, templates
from chalicelib.tenancy.service import load_tenant, new_tenant, to_json


def _sandbox_slug(slug: str, generation: int) -> str:
    suffix = "-sandbox" if generation <= 1 else f"-sandbox{generation}"
    return slug[: 40 - len(suffix)].rstrip("-") + suffix


def _owner(ctx: TenantContext) -> Tenant:
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins manage the sandbox.")
    tenant = load_tenant(ctx.tenant_id)
    if tenant.sandbox_of:
        raise Conflict("A sandbox has no sandbox of its own.")
    return tenant


def get_sandbox(ctx: TenantContext) -> dict[str, Any]:
    tenant = load_tenant(ctx.tenant_id)
    if not tenant.sandbox_id:
        raise NotFound("This tenant has no sandbox yet; POST to create one.")
    return to_json(load_tenant(tenant.sandbox_id))


def create_sandbox(ctx: TenantContext) -> tuple[dict[str, Any], bool]:
    """The tenant's sandbox; (sandbox, created)."""
    owner = _owner(ctx)
    if owner.sandbox_id:
        return to_json(load_tenant(owner.sandbox_id)), False
    return to_json(_swap(ctx, owner, None)), True


def reset_sandbox(ctx: TenantContext) -> dict[str, Any]:
    owner = _owner(ctx)
    if not owner.sandbox_id:
        raise NotFound("This tenant has no sandbox to reset.")
    return to_json(_swap(ctx, owner, load_tenant(owner.sandbox_id)))


def _swap(ctx: TenantContext, owner: Tenant, old: Tenant | None) -> Tenant:
    generation = int(plain(owner.settings).get("sandboxGeneration", 0)) + 1
    template = templates.get(owner.template) or {}
    fresh = new_tenant(owner.name, _sandbox_slug(owner.slug, generation), template,
                        sandbox_of=owner.id, branding=plain(owner.branding))
    fresh.name = f"{owner.name} (sandbox)"
    tx = Tx()
    tx.put(fresh, Item.PK.does_not_exist(), "sandbox")
    tx.put(SlugClaim(PK=keys.slug_pk(fresh.slug), SK=keys.SLUG_SK, tenant_id=fresh.id),
           Item.PK.does_not_exist(), "slug")
    expected = owner.version
    owner.sandbox_id = fresh.id
    owner.settings = {**plain(owner.settings), "sandboxGeneration": generation}
    owner.version, owner.updated_at = expected + 1, utcnow_iso()
    tx.put(owner, Tenant.version == expected, "owner")
    if old is not None:
        tx.update(old, [Tenant.status.set("retired"), Tenant.updated_at.set(utcnow_iso())],
                  Tenant.sandbox_of == owner.id, "old")
        tx.delete(SlugClaim(PK=keys.slug_pk(old.slug), SK=keys.SLUG_SK))
    tx.put(event_item(owner.id, "SandboxReset" if old else "SandboxCreated",
                      {"tenantId": owner.id, "sandboxId": fresh.id, "retiredSandboxId": old.id if old else None},
                      actor=ctx.principal.subject, correlation_id=ctx.correlation_id))
    try:
        tx.commit()
    except TxConflict as exc:
        raise Conflict(f"The sandbox changed while this request ran ({', '.join(exc.labels)}); retry it.") from None
    for tenant_id in (owner.id, old.id if old else None):
        if tenant_id:
            cache.forget(tenant_id)
    return fresh
