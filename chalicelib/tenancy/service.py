"""Tenants: create from a template, read, change, list, suspend/resume, sandboxes."""

from __future__ import annotations

import copy
from functools import partial
from typing import Any

from pynamodb.models import Model

from chalicelib import observability
from chalicelib.auth.principal import Principal, TenantContext
from chalicelib.clock import new_id, utcnow_iso
from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.events.outbox import event_item
from chalicelib.store import keys, pagination
from chalicelib.store.models import Item, SlugClaim, Tenant, plain
from chalicelib.store.tx import Tx, TxConflict
from chalicelib.tenancy import cache, templates
from chalicelib.tenancy.branding import live_kit_of


def to_json(t: Tenant) -> dict[str, Any]:
    return {
        "id": t.id, "name": t.name, "slug": t.slug, "template": t.template, "kind": t.kind,
        "status": t.status, "parentTenantId": t.parent_id, "sandboxOf": t.sandbox_of,
        "sandboxId": t.sandbox_id, "region": t.region, "branding": plain(t.branding),
        "settings": plain(t.settings), "starterCatalog": list(t.starter_catalog or []),
        "createdAt": t.created_at, "updatedAt": t.updated_at,
    }


def _slug_taken(slug: str) -> Conflict:
    return Conflict(f"The slug `{slug}` is already taken.",
                    errors=[field_error("slug", "already taken")])


def new_tenant(name: str, slug: str, template: dict[str, Any], *, parent_id: str | None = None,
                sandbox_of: str | None = None, branding: dict[str, Any] | None = None,
                co_brand: dict[str, Any] | None = None) -> Tenant:
    now = utcnow_iso()
    tenant_id = new_id("tn")
    merged = {**template["branding"], "displayName": name, **(branding or {})}
    return Tenant(
        PK=keys.tenant_pk(tenant_id), SK=keys.TENANT_SK,
        GSI1PK=keys.child_tenants_gsi1pk(parent_id) if parent_id else None,
        GSI1SK=keys.tenant_slug_sk(slug) if parent_id else None,
        GSI2PK=keys.all_tenants_gsi2pk(), GSI2SK=keys.tenant_slug_sk(slug),
        id=tenant_id, name=name, slug=slug, template=template["id"], kind=template["kind"],
        status="active", parent_id=parent_id, sandbox_of=sandbox_of, region=template["region"],
        branding=merged, co_brand=co_brand,
        settings={"roles": copy.deepcopy(template["roles"]), "reminders": copy.deepcopy(template["reminders"])},
        starter_catalog=list(template["starterCatalog"]), created_at=now, updated_at=now, version=1,
    )


def _parent_for(principal: Principal, requested: str | None) -> str | None:
    if principal.is_operator:
        return requested
    if principal.is_partner_admin:
        if requested not in (None, principal.tenant_id):
            raise Forbidden("A partner creates tenants only as its own customers.")
        return principal.tenant_id
    raise Forbidden("Only the operator and partner admins create tenants.")


def create_tenant(principal: Principal, body: Any, correlation_id: str = "") -> dict[str, Any]:
    template = templates.get(body.template)
    if template is None:
        raise ValidationFailed(f"Unknown template `{body.template}`; choose one of {templates.names()}.",
                               errors=[field_error("template", "unknown")])
    parent_id = _parent_for(principal, body.parentTenantId)
    if parent_id:
        parent = cache.tenant_record(parent_id)
        if parent is None or parent.kind != "partner" or parent.sandbox_of:
            raise ValidationFailed("parentTenantId must be a partner tenant.",
                                   errors=[field_error("parentTenantId", "not a partner tenant")])
    branding = body.branding.model_dump(exclude_none=True) if body.branding else None
    co_brand = live_kit_of(parent_id) if parent_id else None  # a partner's customer starts with its live kit
    tenant = new_tenant(body.name, body.slug, template, parent_id=parent_id, branding=branding, co_brand=co_brand)
    _insert(tenant, principal, correlation_id)
    observability.count("TenantCreated")
    return to_json(tenant)


def _insert(tenant: Tenant, principal: Principal, correlation_id: str) -> None:
    tx = Tx()
    tx.put(tenant, Item.PK.does_not_exist(), "tenant")
    tx.put(SlugClaim(PK=keys.slug_pk(tenant.slug), SK=keys.SLUG_SK, tenant_id=tenant.id),
           Item.PK.does_not_exist(), "slug")
    if tenant.parent_id:
        tx.check(Tenant, keys.tenant_pk(tenant.parent_id), keys.TENANT_SK,
                 (Tenant.kind == "partner") & (Tenant.status == "active"), "parent")
    tx.put(event_item(tenant.id, "TenantCreated",
                      {"tenantId": tenant.id, "slug": tenant.slug, "template": tenant.template,
                       "kind": tenant.kind, "parentTenantId": tenant.parent_id,
                       "sandboxOf": tenant.sandbox_of},
                      actor=principal.subject, correlation_id=correlation_id))
    try:
        tx.commit()
    except TxConflict as exc:
        if "slug" in exc.labels:
            raise _slug_taken(tenant.slug) from None
        raise Conflict("The parent partner is not active.",
                       errors=[field_error("parentTenantId", "not an active partner")]) from None


def load_tenant(tenant_id: str) -> Tenant:
    try:
        return Tenant.get(keys.tenant_pk(tenant_id), keys.TENANT_SK)
    except Model.DoesNotExist:
        raise NotFound("No such tenant.") from None


def get_tenant(ctx: TenantContext) -> dict[str, Any]:
    return to_json(load_tenant(ctx.tenant_id))


def list_tenants(principal: Principal, query: Any) -> dict[str, Any]:
    parent = query.parentTenantId
    if principal.is_partner_admin and not principal.is_operator:
        if parent not in (None, principal.tenant_id):
            raise NotFound("No such tenant.")
        parent = principal.tenant_id
    elif not principal.is_operator:
        raise Forbidden("Only the operator and partner admins list tenants.")
    listing = (partial(Tenant.gsi1.query, keys.child_tenants_gsi1pk(parent)) if parent
               else partial(Tenant.gsi2.query, keys.all_tenants_gsi2pk()))
    return pagination.page(listing, f"tenants|{parent or '*'}", query, to_json, Tenant)


def update_tenant(ctx: TenantContext, body: Any) -> dict[str, Any]:
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins change a tenant.")
    tenant = load_tenant(ctx.tenant_id)
    fields = body.model_fields_set
    if "name" in fields and body.name:
        tenant.name = body.name
    if "branding" in fields and body.branding:
        tenant.branding = {**plain(tenant.branding), **body.branding.model_dump(exclude_none=True)}
    if "region" in fields and body.region:
        tenant.region = body.region
    if "reminderDays" in fields and body.reminderDays:
        tenant.settings = {**plain(tenant.settings),
                           "reminders": {"certificationExpiryDays": sorted(set(body.reminderDays), reverse=True)}}
    return to_json(_save(tenant, ctx, "TenantUpdated", {"fields": sorted(fields)}))


def _save(tenant: Tenant, ctx: TenantContext, event_type: str, detail: dict[str, Any]) -> Tenant:
    expected = tenant.version
    tenant.version = expected + 1
    tenant.updated_at = utcnow_iso()
    tx = Tx()
    tx.put(tenant, Tenant.version == expected, "tenant")
    tx.put(event_item(tenant.id, event_type, {"tenantId": tenant.id, **detail},
                      actor=ctx.principal.subject, correlation_id=ctx.correlation_id))
    try:
        tx.commit()
    except TxConflict:
        raise Conflict("The tenant changed while this request ran; retry it.") from None
    cache.forget(tenant.id)
    return tenant


def set_status(ctx: TenantContext, status: str) -> dict[str, Any]:
    if ctx.relation not in ("operator", "customer"):
        raise Forbidden("Only the operator or the owning partner suspends and resumes a tenant.")
    tenant = load_tenant(ctx.tenant_id)
    if tenant.status == status:
        return to_json(tenant)
    if tenant.status == "retired":
        raise Conflict("A retired tenant cannot change status.")
    tenant.status = status
    event = "TenantSuspended" if status == "suspended" else "TenantResumed"
    return to_json(_save(tenant, ctx, event, {"status": status}))
