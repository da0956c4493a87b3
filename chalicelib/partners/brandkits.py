"""Partner brand kits: a draft, immutable submitted versions, their audit trail (docs/partners.md, Co-branding).

Everything of one partner's kit lives in one partition (keys.brand_kit_pk): the draft its admins edit, the
versions they submit (each frozen at submission) and one audit entry per action. The operator's review and
the live kit are in partners.brandkit_review.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from pynamodb.models import Model

from chalicelib.auth.principal import TenantContext
from chalicelib.clock import new_id, utcnow_iso
from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.events.outbox import event_item
from chalicelib.store import keys, pagination
from chalicelib.store.models import BrandKitAuditEntry, BrandKitDraft, BrandKitVersion, Item
from chalicelib.store.tx import Tx, TxConflict
from chalicelib.tenancy import branding


# -- who may do what ------------------------------------------------------------------------------------
def partner_scope(ctx: TenantContext) -> None:
    """The path names a partner the caller may see (its own admins, the operator); anyone else 404/403."""
    if ctx.tenant_kind != "partner":
        raise NotFound("No such partner.")
    if ctx.relation not in ("own", "operator"):
        raise NotFound("No such partner.")
    if not ctx.acts_as_admin:
        raise Forbidden("Only the partner's admins and the operator see its brand kit.")


def _partner_admin(ctx: TenantContext) -> None:
    partner_scope(ctx)
    if ctx.relation != "own":
        raise Forbidden("Only the partner's own admins edit and submit its brand kit.")


# -- validation ----------------------------------------------------------------------------------------
def validated(kit: dict[str, Any]) -> dict[str, Any]:
    """The kit, or a 400 naming every field whose placeholders or colour contrast are wrong (the schema has
    already named the missing and malformed ones)."""
    errors = [field_error(field, why, "#/" + field.replace(".", "/"))
              for field, why in branding.colour_problems(kit["colors"])]
    for field in branding.PLACEHOLDERS:
        group, name = field.split(".")
        text = (kit.get(group) or {}).get(name)
        problem = branding.placeholder_problem(field, text) if text else None
        if problem:
            errors.append(field_error(field, problem, "#/" + field.replace(".", "/")))
    if errors:
        raise ValidationFailed("The brand kit is invalid: " + ", ".join(e["field"] for e in errors) + ".",
                               errors=errors)
    return kit


# -- items and their JSON --------------------------------------------------------------------------------
def _kit(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else dict(json.loads(value))


def audit_entry(partner_id: str, action: str, actor: str, at: str, version: int | None = None,
                comments: list[str] | None = None, step: int = 0) -> BrandKitAuditEntry:
    """`step` orders the entries one transaction writes at the same instant (approved, then went_live)."""
    return BrandKitAuditEntry(PK=keys.brand_kit_pk(partner_id),
                              SK=keys.brand_kit_audit_sk(at, f"{step}{new_id('ba')}"),
                              partner_id=partner_id, action=action, version=version, actor=actor, at=at,
                              comments=comments or None)


def draft_json(draft: BrandKitDraft) -> dict[str, Any]:
    submitted = draft.submitted_revision is not None and int(draft.submitted_revision) == int(draft.revision)
    return {"partnerId": draft.partner_id, "kit": _kit(draft.kit), "revision": int(draft.revision),
            "status": "submitted" if submitted else "editing",
            "submittedVersion": int(draft.versions) if submitted else None, "versions": int(draft.versions),
            "updatedBy": draft.updated_by, "updatedAt": draft.updated_at}


def version_json(item: BrandKitVersion, with_kit: bool = True) -> dict[str, Any]:
    decisions = json.loads(item.decisions) if isinstance(item.decisions, str) else list(item.decisions or [])
    out = {"partnerId": item.partner_id, "version": int(item.version), "status": item.status,
           "submittedBy": item.submitted_by, "submittedAt": item.submitted_at, "decisions": decisions,
           "liveAt": item.live_at, "displayName": _kit(item.kit).get("displayName")}
    return {**out, "kit": _kit(item.kit)} if with_kit else out


def audit_json(entry: BrandKitAuditEntry) -> dict[str, Any]:
    return {"action": entry.action, "version": int(entry.version) if entry.version is not None else None,
            "actor": entry.actor, "at": entry.at, "comments": list(entry.comments or [])}


def _load_draft(partner_id: str) -> BrandKitDraft | None:
    try:
        return BrandKitDraft.get(keys.brand_kit_pk(partner_id), keys.BRAND_KIT_DRAFT_SK)
    except Model.DoesNotExist:
        return None


def number(version: str | int) -> int:
    """A path's version number; anything but 1-999999 is a 404."""
    if not str(version).isdigit() or not 0 < int(version) < 1_000_000:
        raise NotFound("No such brand kit version.")
    return int(version)


def load_version(partner_id: str, version: str | int) -> BrandKitVersion:
    try:
        return BrandKitVersion.get(keys.brand_kit_pk(partner_id), keys.brand_kit_version_sk(number(version)))
    except Model.DoesNotExist:
        raise NotFound("No such brand kit version.") from None


# -- the draft ---------------------------------------------------------------------------------------------
def get_draft(ctx: TenantContext) -> dict[str, Any]:
    partner_scope(ctx)
    draft = _load_draft(ctx.tenant_id)
    if draft is None:
        raise NotFound("This partner has no brand kit draft.")
    return draft_json(draft)


def put_draft(ctx: TenantContext, body: Any) -> dict[str, Any]:
    """Replace the draft (the partner's admins); conditional on the revision read, with an audit entry."""
    _partner_admin(ctx)
    kit = validated(body.model_dump(exclude_none=True))
    partner_id, actor, now = ctx.tenant_id, ctx.principal.subject, utcnow_iso()
    current = _load_draft(partner_id)
    draft = BrandKitDraft(PK=keys.brand_kit_pk(partner_id), SK=keys.BRAND_KIT_DRAFT_SK, partner_id=partner_id,
                          kit=kit, revision=int(current.revision) + 1 if current else 1,
                          versions=int(current.versions) if current else 0,
                          submitted_revision=current.submitted_revision if current else None,
                          updated_by=actor, updated_at=now)
    condition = (BrandKitDraft.revision == current.revision) if current else Item.PK.does_not_exist()
    tx = Tx().put(draft, condition, "draft").put(audit_entry(partner_id, "draft_saved", actor, now))
    try:
        tx.commit()
    except TxConflict:
        raise Conflict("The draft changed while this request ran; retry it.") from None
    return draft_json(draft)


def submit(ctx: TenantContext) -> tuple[dict[str, Any], bool]:
    """Freeze the draft as the next version (status submitted); (version, created). Submitting a draft that has
    not changed since its last submission returns that version (a retry is harmless)."""
    _partner_admin(ctx)
    partner_id, actor = ctx.tenant_id, ctx.principal.subject
    draft = _load_draft(partner_id)
    if draft is None:
        raise NotFound("This partner has no brand kit draft to submit.")
    if draft.submitted_revision is not None and int(draft.submitted_revision) == int(draft.revision):
        return version_json(load_version(partner_id, int(draft.versions))), False
    kit = validated(_kit(draft.kit))  # the rules may have tightened since the draft was saved
    number, now, expected = int(draft.versions) + 1, utcnow_iso(), draft.revision
    item = BrandKitVersion(PK=keys.brand_kit_pk(partner_id), SK=keys.brand_kit_version_sk(number),
                           partner_id=partner_id, version=number, kit=kit, status="submitted", submitted_by=actor,
                           submitted_at=now, decisions=[])
    draft.versions, draft.submitted_revision = number, draft.revision
    tx = Tx().put(item, Item.PK.does_not_exist(), "version")
    tx.put(draft, (BrandKitDraft.revision == expected) & (BrandKitDraft.versions == number - 1), "draft")
    tx.put(audit_entry(partner_id, "submitted", actor, now, number))
    tx.put(event_item(partner_id, "BrandKitSubmitted", {"partnerId": partner_id, "version": number},
                      actor=actor, correlation_id=ctx.correlation_id))
    try:
        tx.commit()
    except TxConflict:
        raise Conflict("The draft changed or was submitted while this request ran; retry it.") from None
    return version_json(item), True


# -- reads -------------------------------------------------------------------------------------------------
def list_versions(ctx: TenantContext, query: Any) -> dict[str, Any]:
    """The partner's versions, newest first (one Query per page; summaries without the kit)."""
    partner_scope(ctx)
    listing = partial(BrandKitVersion.query, keys.brand_kit_pk(ctx.tenant_id),
                      BrandKitVersion.SK.startswith(keys.brand_kit_versions_prefix()), scan_index_forward=False)
    return pagination.page(listing, f"brandkits|{ctx.tenant_id}", query,
                           lambda v: version_json(v, with_kit=False), BrandKitVersion)


def get_version(ctx: TenantContext, version: str) -> dict[str, Any]:
    partner_scope(ctx)
    return version_json(load_version(ctx.tenant_id, version))


def audit_trail(ctx: TenantContext, query: Any) -> dict[str, Any]:
    """Every action on the partner's kit, oldest first (one Query per page)."""
    partner_scope(ctx)
    listing = partial(BrandKitAuditEntry.query, keys.brand_kit_pk(ctx.tenant_id),
                      BrandKitAuditEntry.SK.startswith(keys.brand_kit_audit_prefix()))
    return pagination.page(listing, f"brandkit-audit|{ctx.tenant_id}", query, audit_json, BrandKitAuditEntry)
