"""Users: create, read, list, change, deactivate; email unique per tenant; events in the outbox.

Besides the profile, a user's write keeps in the same transaction:
- the email claim (unique per tenant) and, for provisioned users, the source's external-id claim;
- index entries under each attribute value (salesRole, region, department, each group) and the hire
  date, so that enrollment rules find the users they match at a cost proportional to the matches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from pynamodb.exceptions import PutError
from pynamodb.models import Model

from chalicelib import observability
from chalicelib.auth.passwords import hash_password
from chalicelib.auth.principal import TenantContext
from chalicelib.clock import new_id, utcnow_iso
from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.events.outbox import event_item
from chalicelib.store import keys, pagination
from chalicelib.store.models import EmailClaim, ExternalIdClaim, Item, User, UserIndexEntry, UsernameClaim, plain
from chalicelib.store.tx import Tx, TxConflict

PROFILE_FIELDS = {"displayName": "display_name", "salesRole": "sales_role", "region": "region",
                  "department": "department", "managerId": "manager_id", "hireDate": "hire_date"}


def to_json(u: User) -> dict[str, Any]:
    return {
        "id": u.id, "tenantId": u.tenant_id, "email": u.email, "username": u.username,
        "displayName": u.display_name,
        "roles": list(u.roles), "status": u.status, "salesRole": u.sales_role, "region": u.region,
        "department": u.department, "managerId": u.manager_id, "hireDate": u.hire_date,
        "groups": sorted(u.groups or ()),
        "hasPassword": bool(u.password_hash), "createdAt": u.created_at, "updatedAt": u.updated_at,
        "version": u.version,
    }


def _email_taken(email: str) -> Conflict:
    return Conflict(f"A user with email `{email}` already exists in this tenant.",
                    errors=[field_error("email", "already in use")])


def _no_manager() -> ValidationFailed:
    return ValidationFailed("managerId must be an active user of this tenant.",
                            errors=[field_error("managerId", "no such user")])


def _set_indexes(user: User) -> None:
    user.GSI1PK = keys.users_gsi1pk(user.tenant_id)
    user.GSI1SK = keys.user_list_sk(user.email, user.username or user.id)
    if user.manager_id:
        user.GSI2PK = keys.reports_gsi2pk(user.tenant_id, user.manager_id)
        user.GSI2SK = keys.user_list_sk(user.email, user.username or user.id)
    else:
        user.GSI2PK = user.GSI2SK = None


def _check_manager(tx: Tx, tenant_id: str, manager_id: str | None) -> None:
    if manager_id:
        tx.check(User, keys.user_pk(tenant_id, manager_id), keys.USER_SK,
                 User.status == "active", "manager")


def _event(ctx: TenantContext, event_type: str, detail: dict[str, Any]) -> Item:
    return event_item(ctx.tenant_id, event_type, detail, actor=ctx.principal.subject,
                      correlation_id=ctx.correlation_id)


INDEXED_ATTRIBUTES = {"salesRole": "sales_role", "region": "region", "department": "department"}


def index_entries(user: User) -> dict[tuple[str, str], UserIndexEntry]:
    """Every index entry the user should have, by (PK, SK)."""
    entries = [UserIndexEntry(PK=keys.user_attribute_pk(user.tenant_id, name, value),
                              SK=keys.user_attribute_sk(user.id), user_id=user.id)
               for name, attr in INDEXED_ATTRIBUTES.items() if (value := getattr(user, attr))]
    entries += [UserIndexEntry(PK=keys.user_attribute_pk(user.tenant_id, "group", group),
                               SK=keys.user_attribute_sk(user.id), user_id=user.id) for group in user.groups or ()]
    if user.hire_date:
        entries.append(UserIndexEntry(PK=keys.users_by_hire_date_pk(user.tenant_id),
                                      SK=keys.users_by_hire_date_sk(user.hire_date, user.id), user_id=user.id))
    return {(e.PK, e.SK): e for e in entries}


def _write_index(tx: Tx, user: User, before: dict[tuple[str, str], UserIndexEntry]) -> None:
    """Delete the entries the user no longer has and put the new ones (unchanged ones are not written)."""
    after = index_entries(user)
    for key in sorted(before.keys() - after.keys()):
        tx.delete(before[key])
    for key in sorted(after.keys() - before.keys()):
        tx.put(after[key])


def _claim_username(tx: Tx, user: User, old_email: str | None = None) -> None:
    """The username's claim; a username that is an email must not be another user's email either."""
    username = user.username or ""
    tx.put(UsernameClaim(PK=keys.username_pk(user.tenant_id, username), SK=keys.USERNAME_SK, user_id=user.id),
           Item.PK.does_not_exist(), "username")
    if "@" in username and username.lower() not in {(user.email or "").lower(), (old_email or "").lower()}:
        tx.check(EmailClaim, keys.email_pk(user.tenant_id, username), keys.EMAIL_SK,
                 EmailClaim.PK.does_not_exist() | (EmailClaim.user_id == user.id), "username")


def create_user(ctx: TenantContext, body: Any, external: tuple[str, str] | None = None) -> dict[str, Any]:
    """Create a user; `external` = (source, id) records a provisioning source's id for it (unique). A
    `ProvisionUser` body also brings a username (unique) and may leave the email out."""
    now = utcnow_iso()
    user = User(id=new_id("us"), tenant_id=ctx.tenant_id, email=body.email, display_name=body.displayName,
                roles=list(body.roles), status="active", sales_role=body.salesRole, region=body.region,
                department=body.department, manager_id=body.managerId,
                hire_date=body.hireDate.isoformat() if body.hireDate else None,
                password_hash=hash_password(body.password) if body.password else None,
                created_at=now, updated_at=now, version=1)
    user.PK, user.SK = keys.user_pk(ctx.tenant_id, user.id), keys.USER_SK
    _set_indexes(user)
    if external:
        user.external_ids = {external[0]: external[1]}
    user.username, user.source_profile = getattr(body, "username", None), getattr(body, "sourceProfile", None)
    tx = Tx()
    tx.put(user, Item.PK.does_not_exist(), "user")
    if user.email:
        tx.put(EmailClaim(PK=keys.email_pk(ctx.tenant_id, user.email), SK=keys.EMAIL_SK, user_id=user.id),
               Item.PK.does_not_exist(), "email")
    if user.username:
        _claim_username(tx, user)
    if external:
        source, external_id = external
        tx.put(ExternalIdClaim(PK=keys.external_id_pk(ctx.tenant_id, source, external_id), SK=keys.EXTID_SK,
                               user_id=user.id), Item.PK.does_not_exist(), "external")
    _check_manager(tx, ctx.tenant_id, user.manager_id)
    _write_index(tx, user, {})
    tx.put(_event(ctx, "UserCreated", {"user": _public(user)}))
    _commit(tx, user)
    observability.count("UserCreated")
    return to_json(user)


def _public(user: User) -> dict[str, Any]:
    doc = to_json(user)
    doc.pop("hasPassword")
    return doc


def _commit(tx: Tx, user: User) -> None:
    try:
        tx.commit()
    except TxConflict as exc:
        if "email" in exc.labels:
            raise _email_taken(user.email or "") from None
        if "username" in exc.labels:
            raise Conflict(f"The username `{user.username}` is taken in this tenant (by a user's username or email).",
                           errors=[field_error("username", "already in use")]) from None
        if "manager" in exc.labels:
            raise _no_manager() from None
        if "external" in exc.labels:
            raise Conflict("Another user already has that external id.",
                           errors=[field_error("externalId", "already in use")]) from None
        raise Conflict("The user changed while this request ran; retry it.") from None


def load_user(tenant_id: str, user_id: str) -> User:
    try:
        return User.get(keys.user_pk(tenant_id, user_id), keys.USER_SK)
    except (Model.DoesNotExist, ValueError):
        raise NotFound("No such user.") from None


def find_by_external_id(tenant_id: str, source: str, external_id: str) -> User | None:
    """The user a provisioning source knows by `external_id` (None if none): 2 GetItem."""
    try:
        claim = ExternalIdClaim.get(keys.external_id_pk(tenant_id, source, external_id), keys.EXTID_SK)
    except (Model.DoesNotExist, ValueError):
        return None
    try:
        return load_user(tenant_id, claim.user_id)
    except NotFound:
        return None


def find_by_email(tenant_id: str, email: str) -> User | None:
    """The tenant's user with this email, any case (None if none): 2 GetItem (the email claim, the user)."""
    try:
        claim = EmailClaim.get(keys.email_pk(tenant_id, email), keys.EMAIL_SK)
    except (Model.DoesNotExist, ValueError):
        return None
    try:
        return load_user(tenant_id, claim.user_id)
    except NotFound:
        return None


def link_external_id(ctx: TenantContext, user_id: str, source: str, external_id: str) -> None:
    """Record a source's id for an existing user (a CRM record matched by email); the same link again is a
    no-op, a link to another user a Conflict."""
    claim = ExternalIdClaim(PK=keys.external_id_pk(ctx.tenant_id, source, external_id), SK=keys.EXTID_SK,
                            user_id=user_id)
    try:
        claim.save(Item.PK.does_not_exist() | (ExternalIdClaim.user_id == user_id))
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict("Another user already has that external id.",
                           errors=[field_error("externalId", "already in use")]) from None
        raise


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


def users_page(tenant_id: str, limit: int, last: dict[str, Any] | None) -> tuple[list[User], dict[str, Any] | None]:
    """A page of the tenant's users by email (1 Query) from a raw last-evaluated key, for background walks."""
    results = User.gsi1.query(keys.users_gsi1pk(tenant_id), limit=limit, last_evaluated_key=last)
    return [u for u in results if isinstance(u, User)], results.last_evaluated_key


def _check_patch(user: User, body: Any, fields: set[str]) -> None:
    if "managerId" in fields and body.managerId == user.id:
        raise ValidationFailed("A user cannot be their own manager.",
                               errors=[field_error("managerId", "self")])
    has_username = getattr(body, "username", None) if "username" in fields else user.username
    for required in ("displayName", "roles") + (() if has_username else ("email",)):
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
    if "username" in fields:
        user.username = body.username
    if "sourceProfile" in fields:
        user.source_profile = body.sourceProfile


def update_user(ctx: TenantContext, user_id: str, body: Any) -> dict[str, Any]:
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins change users.")
    user = load_user(ctx.tenant_id, user_id)
    fields = set(body.model_fields_set)
    if not fields:
        return to_json(user)
    _check_patch(user, body, fields)
    old_email, old_username, before = user.email, user.username, index_entries(user)
    _apply_patch(user, body, fields)
    changed = sorted(fields - {"password"}) + (["password"] if "password" in fields else [])

    def username_claims(tx: Tx) -> None:
        if (old_username or "").lower() == (user.username or "").lower():
            return
        if old_username:
            tx.delete(UsernameClaim(PK=keys.username_pk(ctx.tenant_id, old_username), SK=keys.USERNAME_SK),
                      UsernameClaim.user_id == user.id, "old-username")
        if user.username:
            _claim_username(tx, user, old_email)

    return to_json(_save(ctx, user, old_email, changed, "UserUpdated", before, also=username_claims))


def change_groups(ctx: TenantContext, user_id: str, add: Iterable[str] = (), remove: Iterable[str] = ()
                  ) -> dict[str, Any]:
    """Add the user to groups and remove them from others (SCIM Groups): the index entries follow, and a
    `UserUpdated` event with `changed: ["groups"]` lets enrollment rules react. No change, no write."""
    user = load_user(ctx.tenant_id, user_id)
    current = set(user.groups or ())
    wanted = (current | set(add)) - set(remove)
    if wanted == current:
        return to_json(user)
    before = index_entries(user)
    user.groups = wanted or None
    return to_json(_save(ctx, user, user.email, ["groups"], "UserUpdated", before))


def _save(ctx: TenantContext, user: User, old_email: str | None, changed: list[str], event_type: str,
          before: dict[tuple[str, str], UserIndexEntry] | None = None,
          also: Callable[[Tx], None] | None = None) -> User:
    _set_indexes(user)
    expected = user.version
    user.version, user.updated_at = expected + 1, utcnow_iso()
    tx = Tx()
    tx.put(user, User.version == expected, "user")
    if (user.email or "").lower() != (old_email or "").lower():
        if old_email:
            tx.delete(EmailClaim(PK=keys.email_pk(ctx.tenant_id, old_email), SK=keys.EMAIL_SK),
                      EmailClaim.user_id == user.id, "old-email")
        if user.email:
            tx.put(EmailClaim(PK=keys.email_pk(ctx.tenant_id, user.email), SK=keys.EMAIL_SK, user_id=user.id),
                   Item.PK.does_not_exist(), "email")
    if "managerId" in changed:
        _check_manager(tx, ctx.tenant_id, user.manager_id)
    if before is not None:
        _write_index(tx, user, before)
    if also is not None:
        also(tx)
    tx.put(_event(ctx, event_type, {"user": _public(user), "changed": changed}))
    _commit(tx, user)
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


def set_external_id(ctx: TenantContext, user_id: str, source: str, external_id: str | None) -> dict[str, Any]:
    """Change or clear a provisioning source's id for a user (SCIM `externalId`): its claim moves in the
    user's transaction; an id another user has is a Conflict (field externalId). No change, no write."""
    user = load_user(ctx.tenant_id, user_id)
    ids = dict(plain(user.external_ids) or {})  # a stored map comes back as a MapAttribute
    old = ids.get(source)
    if old == external_id:
        return to_json(user)

    def claims(tx: Tx) -> None:
        if old:
            tx.delete(ExternalIdClaim(PK=keys.external_id_pk(ctx.tenant_id, source, old), SK=keys.EXTID_SK),
                      ExternalIdClaim.user_id == user.id, "old-external")
        if external_id:
            tx.put(ExternalIdClaim(PK=keys.external_id_pk(ctx.tenant_id, source, external_id), SK=keys.EXTID_SK,
                                   user_id=user.id), Item.PK.does_not_exist(), "external")

    ids.pop(source, None)
    user.external_ids = {**ids, source: external_id} if external_id else (ids or None)
    return to_json(_save(ctx, user, user.email, ["externalId"], "UserUpdated", also=claims))


def set_deprovisioned(ctx: TenantContext, user_id: str, source: str, deprovisioned: bool) -> dict[str, Any]:
    """A provisioning source deletes a user (SCIM DELETE): deactivated, and hidden from that source while
    so; `deprovisioned=False` brings the user back, active. The history (enrollments, records) stays."""
    user = load_user(ctx.tenant_id, user_id)
    marker, status = (source, "deactivated") if deprovisioned else (None, "active")
    if user.deprovisioned_by == marker and user.status == status:
        return to_json(user)
    changed = ["status"] if user.status != status else []
    user.deprovisioned_by, user.status = marker, status
    event = "UserDeactivated" if deprovisioned else "UserReactivated"
    return to_json(_save(ctx, user, user.email, changed + ["deprovisionedBy"], event))
