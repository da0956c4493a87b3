"""Users: create, read, list, change, deactivate; email unique per tenant; events in the outbox."""

from __future__ import annotations

from functools import partial
from typing import Any

from pynamodb.models import Model

from chalicelib import observability
from chalicelib.auth.passwords import hash_password
from chalicelib.auth.principal import TenantContext
from chalicelib.clock import new_id, utcnow_iso
from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.events.outbox import event_item
from chalicelib.store import keys, pagination
from chalicelib.store.models import EmailClaim, Item, User
from chalicelib.store.tx import Tx, TxConflict

PROFILE_FIELDS = {"displayName": "display_name", "salesRole": "sales_role", "region": "region",
                  "department": "department", "managerId": "manager_id", "hireDate": "hire_date"}


def to_json(u: User) -> dict[str, Any]:
    return {
        "id": u.id, "tenantId": u.tenant_id, "email": u.email, "displayName": u.display_name,
        "roles": list(u.roles), "status": u.status, "salesRole": u.sales_role, "region": u.region,
        "department": u.department, "managerId": u.manager_id, "hireDate": u.hire_date,
        "hasPassword": bool(u.password_hash), "createdAt": u.created_at, "updatedAt": u.updated_at,
    }


def _email_taken(email: str) -> Conflict:
    return Conflict(f"A user with email `{email}` already exists in this tenant.",
                    errors=[field_error("email", "already in use")])


def _no_manager() -> ValidationFailed:
    return ValidationFailed("managerId must be an active user of this tenant.",
                            errors=[field_error("managerId", "no such user")])


def _set_indexes(user: User) -> None:
    user.GSI1PK, user.GSI1SK = keys.users_gsi1pk(user.tenant_id), keys.user_email_sk(user.email)
    if user.manager_id:
        user.GSI2PK = keys.reports_gsi2pk(user.tenant_id, user.manager_id)
        user.GSI2SK = keys.user_email_sk(user.email)
    else:
        user.GSI2PK = user.GSI2SK = None


def _check_manager(tx: Tx, tenant_id: str, manager_id: str | None) -> None:
    if manager_id:
        tx.check(User, keys.user_pk(tenant_id, manager_id), keys.USER_SK,
                 User.status == "active", "manager")


def _event(ctx: TenantContext, event_type: str, detail: dict[str, Any]) -> Item:
    return event_item(ctx.tenant_id, event_type, detail, actor=ctx.principal.subject,
                      correlation_id=ctx.correlation_id)


def create_user(ctx: TenantContext, body: Any) -> dict[str, Any]:
    now = utcnow_iso()
    user = User(id=new_id("us"), tenant_id=ctx.tenant_id, email=body.email, display_name=body.displayName,
                roles=list(body.roles), status="active", sales_role=body.salesRole, region=body.region,
                department=body.department, manager_id=body.managerId,
                hire_date=body.hireDate.isoformat() if body.hireDate else None,
                password_hash=hash_password(body.password) if body.password else None,
                created_at=now, updated_at=now, version=1)
    user.PK, user.SK = keys.user_pk(ctx.tenant_id, user.id), keys.USER_SK
    _set_indexes(user)
    tx = Tx()
    tx.put(user, Item.PK.does_not_exist(), "user")
    tx.put(EmailClaim(PK=keys.email_pk(ctx.tenant_id, user.email), SK=keys.EMAIL_SK, user_id=user.id),
           Item.PK.does_not_exist(), "email")
    _check_manager(tx, ctx.tenant_id, user.manager_id)
    tx.put(_event(ctx, "UserCreated", {"user": _public(user)}))
    _commit(tx, user.email)
    observability.count("UserCreated")
    return to_json(user)


def _public(user: User) -> dict[str, Any]:
    doc = to_json(user)
    doc.pop("hasPassword")
    return doc


def _commit(tx: Tx, email: str) -> None:
    try:
        tx.commit()
    except TxConflict as exc:
        if "email" in exc.labels:
            raise _email_taken(email) from None
        if "manager" in exc.labels:
            raise _no_manager() from None
        raise Conflict("The user changed while this request ran; retry it.") from None


def load_user(tenant_id: str, user_id: str) -> User:
    try:
        return User.get(keys.user_pk(tenant_id, user_id), keys.USER_SK)
    except (Model.DoesNotExist, ValueError):
        raise NotFound("No such user.") from None


def _visible(ctx: TenantContext, user: User) -> bool:
    p = ctx.principal
    if ctx.acts_as_admin or user.id == p.subject:
        return True
    return p.has_role("manager") and user.manager_id == p.subject


def get_user(ctx: TenantContext, user_id: str) -> dict[str, Any]:
    user = load_user(ctx.tenant_id, user_id)
    if not _visible(ctx, user):
        raise NotFound("No such user.")
    return to_json(user)


def list_users(ctx: TenantContext, query: Any) -> dict[str, Any]:
    manager_id = query.managerId
    if not ctx.acts_as_admin:
        if not ctx.principal.has_role("manager"):
            raise Forbidden("Learners do not list users.")
        manager_id = ctx.principal.subject  # a manager sees their own reports
    prefix = keys.user_email_sk(query.emailPrefix) if query.emailPrefix else None
    if manager_id:
        listing = partial(User.gsi2.query, keys.reports_gsi2pk(ctx.tenant_id, manager_id),
                          User.GSI2SK.startswith(prefix) if prefix else None)
    else:
        listing = partial(User.gsi1.query, keys.users_gsi1pk(ctx.tenant_id),
                          User.GSI1SK.startswith(prefix) if prefix else None)
    bound = f"users|{ctx.tenant_id}|{manager_id or '*'}|{query.emailPrefix or ''}"
    return pagination.page(listing, bound, query, to_json, User)


def _check_patch(user: User, body: Any, fields: set[str]) -> None:
    if "managerId" in fields and body.managerId == user.id:
        raise ValidationFailed("A user cannot be their own manager.",
                               errors=[field_error("managerId", "self")])
    for required in ("email", "displayName", "roles"):
        if required in fields and getattr(body, required) is None:
            raise ValidationFailed(f"{required} cannot be null.",
                                   errors=[field_error(required, "null")])


def _apply_patch(user: User, body: Any, fields: set[str]) -> None:
    for api_name, attr in PROFILE_FIELDS.items():
        if api_name in fields:
            value = getattr(body, api_name)
            setattr(user, attr, value.isoformat() if hasattr(value, "isoformat") else value)
    if "roles" in fields:
        user.roles = list(body.roles)
    if "password" in fields and body.password:
        user.password_hash = hash_password(body.password)
    if "email" in fields:
        user.email = body.email


def update_user(ctx: TenantContext, user_id: str, body: Any) -> dict[str, Any]:
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins change users.")
    user = load_user(ctx.tenant_id, user_id)
    fields = set(body.model_fields_set)
    if not fields:
        return to_json(user)
    _check_patch(user, body, fields)
    old_email = user.email
    _apply_patch(user, body, fields)
    changed = sorted(fields - {"password"}) + (["password"] if "password" in fields else [])
    return to_json(_save(ctx, user, old_email, changed, "UserUpdated"))


def _save(ctx: TenantContext, user: User, old_email: str, changed: list[str], event_type: str) -> User:
    _set_indexes(user)
    expected = user.version
    user.version, user.updated_at = expected + 1, utcnow_iso()
    tx = Tx()
    tx.put(user, User.version == expected, "user")
    if user.email.lower() != old_email.lower():
        tx.delete(EmailClaim(PK=keys.email_pk(ctx.tenant_id, old_email), SK=keys.EMAIL_SK),
                  EmailClaim.user_id == user.id, "old-email")
        tx.put(EmailClaim(PK=keys.email_pk(ctx.tenant_id, user.email), SK=keys.EMAIL_SK, user_id=user.id),
               Item.PK.does_not_exist(), "email")
    if "managerId" in changed:
        _check_manager(tx, ctx.tenant_id, user.manager_id)
    tx.put(_event(ctx, event_type, {"user": _public(user), "changed": changed}))
    _commit(tx, user.email)
    return user


def set_status(ctx: TenantContext, user_id: str, status: str) -> dict[str, Any]:
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins deactivate and reactivate users.")
    user = load_user(ctx.tenant_id, user_id)
    if user.status == status:
        return to_json(user)
    user.status = status
    event = "UserDeactivated" if status == "deactivated" else "UserReactivated"
    return to_json(_save(ctx, user, user.email, ["status"], event))
