"""Bring a user to what a CRM record says: match (external id, then email), create, update, (de)activate.

Only users.service writes users, so every change raises the user events enrollment rules follow. A
source reactivates only a user it deactivated itself (an admin's deactivation stands).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.auth.principal import TenantContext
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.integrations.crm import mapping
from chalicelib.integrations.crm.mapping import Wanted
from chalicelib.lazy import lazy
from chalicelib.store.models import CrmRecord, User

users = lazy("chalicelib.users.service")


@dataclass
class Outcome:
    event_id: str
    # created linked updated deactivated reactivated unchanged pending ignored stale replayed duplicate error
    status: str
    user_id: str | None = None
    detail: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"eventId": self.event_id, "status": self.status}
        doc.update({k: v for k, v in (("userId", self.user_id), ("detail", self.detail),
                                      ("errors", self.errors)) if v})
        return doc


def _validated(model_name: str, doc: dict[str, Any], want: Wanted) -> Any:
    from pydantic import ValidationError

    from chalicelib.api import schemas

    try:
        return getattr(schemas, model_name).model_validate(doc)
    except ValidationError as exc:
        errors = mapping.field_errors(exc, want)
        names = ", ".join(sorted({e["field"] for e in errors}))
        raise ValidationFailed(f"The record's values are not valid for a user: {names}.", errors=errors) from None


def _linked(tenant_id: str, record: CrmRecord) -> User | None:
    """The user the record is linked to. A record without one has no user by its external id either, but
    after a failure between the user's creation and the record's write: then the email finds the user, or
    the external-id claim turns the creation into a Conflict that finds it (`_match_or_create`)."""
    if not record.user_id:
        return None
    try:
        return users.load_user(tenant_id, record.user_id)  # type: ignore[no-any-return]
    except NotFound:
        return None


def _manager(tenant_id: str, source: str, record_id: str, want: Wanted) -> str | None:
    """The user linked to the manager's record in the same CRM (None until that record is synced)."""
    crm_id = want.fields.get("manager")
    if not crm_id or crm_id == record_id:
        return None
    manager = users.find_by_external_id(tenant_id, source, crm_id)
    return manager.id if manager is not None and manager.status == "active" else None


def _match_or_create(ctx: TenantContext, source: str, record_id: str, want: Wanted,
                     manager_id: str | None) -> tuple[User | None, str]:
    """(the existing user now linked, "linked") or (None, the created user's id)."""
    email = str(want.fields["email"])
    found = users.find_by_email(ctx.tenant_id, email)
    if found is None:
        body = _validated("CreateUser", mapping.create_body(want, manager_id), want)
        try:
            return None, str(users.create_user(ctx, body, external=(source, record_id))["id"])
        except Conflict as exc:  # another delivery made it meanwhile: go on with that user
            names = {e.get("field") for e in exc.errors}
            found = (users.find_by_external_id(ctx.tenant_id, source, record_id) if "externalId" in names
                     else users.find_by_email(ctx.tenant_id, email))
            if found is None:
                raise
    users.link_external_id(ctx, found.id, source, record_id)
    return found, "linked"


def bring_user(ctx: TenantContext, source: str, record: CrmRecord, want: Wanted, event_id: str) -> Outcome:
    tenant_id = ctx.tenant_id
    user = _linked(tenant_id, record)
    status = ""
    manager_id = _manager(tenant_id, source, record.record_id, want)
    if user is None:
        if want.inactive:
            return Outcome(event_id, "ignored", detail="inactive or deleted in the CRM, and no user has it")
        if not want.fields.get("email"):
            return Outcome(event_id, "pending", detail="kept until the record's email is known")
        user, created = _match_or_create(ctx, source, record.record_id, want, manager_id)
        if user is None:
            record.user_id = created
            return Outcome(event_id, "created", created)
        status = "linked"
    record.user_id = user.id
    changes = mapping.patch(user, want, manager_id)
    if changes:
        users.update_user(ctx, user.id, _validated("UpdateUser", changes, want))
        status = status or "updated"
    if want.inactive and user.status == "active":
        users.set_status(ctx, user.id, "deactivated")
        record.deactivated_by_source, status = True, "deactivated"
    elif not want.inactive and user.status == "deactivated" and record.deactivated_by_source:
        users.set_status(ctx, user.id, "active")
        record.deactivated_by_source, status = False, "reactivated"
    return Outcome(event_id, status or "unchanged", user.id)
