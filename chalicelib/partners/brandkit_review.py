"""The operator's review of brand-kit versions, and the live kit on the partner's and its customers' tenants.

A version is decided once: the decision is a write conditional on `status = submitted`, so of two operators
racing one wins and the other gets a 409. Approving a version newer than the live one makes it live in the same
transaction (the partner's Tenant item, conditional on the live version being older: an older approval never
overrides a newer one); a stream subscriber then copies the live kit onto the partner's customers.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.auth.principal import TenantContext
from chalicelib.clock import utcnow_iso
from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.events.consumer import EventEnvelope, subscribe
from chalicelib.events.outbox import event_item
from chalicelib.partners import brandkits
from chalicelib.store import keys
from chalicelib.store.models import BrandKitVersion, Item, Tenant, plain
from chalicelib.store.tx import Tx, TxConflict
from chalicelib.tenancy import branding, cache

_ATTEMPTS = 3  # an approval re-reads when another approval changed the live kit in between


def _operator(ctx: TenantContext) -> None:
    brandkits.partner_scope(ctx)
    if ctx.relation != "operator":
        raise Forbidden("Only the operator reviews brand kits; a partner cannot approve its own.")


def _comments(body: Any) -> list[str]:
    given = [*(body.comments or []), *([body.comment] if body.comment else [])]
    if not given:
        raise ValidationFailed("Say what must change: `comments` (or `comment`) is required.",
                               errors=[field_error("comments", "required: at least one comment")])
    return given


def live_copy(item: BrandKitVersion, at: str) -> dict[str, Any]:
    """What goes onto Tenant items when a version goes live (tenancy.branding reads it)."""
    kit = brandkits._kit(item.kit)
    return {"partnerId": item.partner_id, "version": int(item.version), "approvedAt": at,
            "displayName": kit["displayName"], "logoUrl": kit["logoUrl"], "colors": kit["colors"],
            "emailTemplates": kit["emailTemplates"], "documentTemplate": kit["documentTemplate"],
            "support": kit["support"]}


def _read(partner_id: str, version: str) -> tuple[BrandKitVersion, Tenant]:
    """The version and the partner's Tenant item in one BatchGetItem."""
    found = Item.batch_get([(keys.brand_kit_pk(partner_id), keys.brand_kit_version_sk(brandkits.number(version))),
                            (keys.tenant_pk(partner_id), keys.TENANT_SK)])
    item = tenant = None
    for record in found:
        if isinstance(record, BrandKitVersion):
            item = record
        elif isinstance(record, Tenant):
            tenant = record
    if item is None or tenant is None:
        raise NotFound("No such brand kit version.")
    return item, tenant


def _undecided(item: BrandKitVersion) -> None:
    if item.status != "submitted":
        raise Conflict(f"Version {int(item.version)} was already decided ({item.status}).")


def _decide(item: BrandKitVersion, action: str, actor: str, at: str, comments: list[str]) -> list[dict[str, Any]]:
    decisions = list(item.decisions or []) + [{"action": action, "actor": actor, "at": at, "comments": comments}]
    item.status = "approved" if action == "approved" else "changes_requested"
    item.decisions = decisions
    return decisions


def approve(ctx: TenantContext, version: str) -> dict[str, Any]:
    _operator(ctx)
    for _ in range(_ATTEMPTS):
        item, tenant = _read(ctx.tenant_id, version)
        _undecided(item)
        live = plain(tenant.co_brand) if tenant.co_brand else None
        goes_live = live is None or int(live.get("version") or 0) < int(item.version)
        try:
            return _approve(ctx, item, goes_live)
        except TxConflict as exc:
            if "version" in exc.labels:
                raise Conflict(f"Version {version} was decided by someone else meanwhile.") from None
    raise Conflict("The live brand kit kept changing while this request ran; retry it.")


def _approve(ctx: TenantContext, item: BrandKitVersion, goes_live: bool) -> dict[str, Any]:
    partner_id, actor, now, number = ctx.tenant_id, ctx.principal.subject, utcnow_iso(), int(item.version)
    _decide(item, "approved", actor, now, [])
    tx = Tx().put(item, BrandKitVersion.status == "submitted", "version")
    tx.put(brandkits.audit_entry(partner_id, "approved", actor, now, number))
    if goes_live:
        item.live_at = now
        newer = Tenant.co_brand.does_not_exist() | (Tenant.co_brand["version"] < number)
        tx.update(Tenant(PK=keys.tenant_pk(partner_id), SK=keys.TENANT_SK),
                  [Tenant.co_brand.set(live_copy(item, now)), Tenant.version.add(1), Tenant.updated_at.set(now)],
                  (Tenant.kind == "partner") & newer, "live")
        tx.put(brandkits.audit_entry(partner_id, "went_live", actor, now, number, step=1))
    tx.put(event_item(partner_id, "BrandKitApproved", {"partnerId": partner_id, "version": number, "live": goes_live},
                      actor=actor, correlation_id=ctx.correlation_id))
    _commit(tx)
    cache.forget(partner_id)
    return brandkits.version_json(item)


def request_changes(ctx: TenantContext, version: str, body: Any) -> dict[str, Any]:
    _operator(ctx)
    comments = _comments(body)
    item = brandkits.load_version(ctx.tenant_id, version)
    _undecided(item)
    partner_id, actor, now, number = ctx.tenant_id, ctx.principal.subject, utcnow_iso(), int(item.version)
    _decide(item, "changes_requested", actor, now, comments)
    tx = Tx().put(item, BrandKitVersion.status == "submitted", "version")
    tx.put(brandkits.audit_entry(partner_id, "changes_requested", actor, now, number, comments))
    tx.put(event_item(partner_id, "BrandKitChangesRequested",
                      {"partnerId": partner_id, "version": number, "comments": comments},
                      actor=actor, correlation_id=ctx.correlation_id))
    try:
        _commit(tx)
    except TxConflict:
        raise Conflict(f"Version {version} was decided by someone else meanwhile.") from None
    return brandkits.version_json(item)


def _commit(tx: Tx) -> None:
    try:
        tx.commit()
    except TransactWriteError:  # a transaction conflict (not a condition): someone else wrote the same items
        raise Conflict("Another decision on this brand kit was being written; retry it.") from None


# -- the live kit on the partner's customers (stream) -------------------------------------------------------
def fan_out(partner_id: str) -> int:
    """Copy the partner's current live kit onto each of its customers (GSI1 "a parent's child tenants", page by
    page); idempotent and conditional on the kit version. The number of customers updated."""
    live = branding.live_kit_of(partner_id)
    if live is None:
        return 0
    updated = 0
    for child in Tenant.gsi1.query(keys.child_tenants_gsi1pk(partner_id)):
        if isinstance(child, Tenant) and branding.copy_live_kit(child.id, live):
            updated += 1
    return updated


@subscribe("BrandKitApproved")
def _on_approved(event: EventEnvelope) -> None:
    if event.detail.get("live"):
        fan_out(str(event.detail["partnerId"]))


@subscribe("TenantCreated")
def _on_tenant_created(event: EventEnvelope) -> None:
    """A new customer copied its partner's live kit at creation; this closes the window in which a newer
    approval fanned out before the customer was in the partner's index."""
    parent, tenant_id = event.detail.get("parentTenantId"), event.detail.get("tenantId")
    if parent and tenant_id:
        live = branding.live_kit_of(str(parent))
        if live is not None:
            branding.copy_live_kit(str(tenant_id), live)
