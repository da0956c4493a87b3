"""SCIM Users over the platform's users (users.service does every write, so events and index entries follow).

The mapping is user_mapping's (docs/scim.md): userName = the user's username (unique per tenant, case-blind),
emails[primary, else first] (else a userName that is an email) = email, the rest of the profile as written.
"""

from __future__ import annotations

from typing import Any

from pynamodb.models import Model

from chalicelib.auth.principal import TenantContext
from chalicelib.errors import Conflict, NotFound
from chalicelib.scim import protocol, search, user_mapping
from chalicelib.scim.protocol import ScimError
from chalicelib.store import keys
from chalicelib.store.models import EmailClaim, User, UsernameClaim, plain
from chalicelib.users import service as users

SOURCE = "scim"
PROFILE = ("username", "email", "displayName", "salesRole", "region", "department", "managerId")
# our field -> the SCIM attribute named in errors
SCIM_NAMES = {"username": "userName", "email": "emails", "displayName": "displayName", "salesRole": "title",
              "region": "addresses.region", "department": "department", "managerId": "manager.value",
              "hireDate": "hireDate", "sourceProfile": "the user"}


def _hidden(user: User) -> bool:
    """Deleted through SCIM (and not reactivated since): RFC 7644 §3.6 has it gone for SCIM."""
    return user.deprovisioned_by == SOURCE and user.status != "active"


def _load(tenant_id: str, user_id: str) -> User:
    if not keys.is_safe(user_id):
        raise NotFound("No such user.")
    user = users.load_user(tenant_id, user_id)
    if _hidden(user):
        raise NotFound("No such user.")
    return user


def _external_id(user: User) -> str | None:
    value = (plain(user.external_ids) or {}).get(SOURCE)
    return str(value) if value else None


def _profile(user: User) -> dict[str, Any] | None:
    return dict(user.source_profile) if isinstance(user.source_profile, dict) else None


def to_resource(user: User, base: str) -> Any:
    return user_mapping.to_resource(users.to_json(user), _external_id(user), _profile(user), base)


def _schema_body(model_name: str, data: dict[str, Any]) -> Any:
    """Our request model (CreateUser/UpdateUser) from mapped values; its errors name the SCIM attribute."""
    from pydantic import ValidationError

    from chalicelib.api import schemas

    try:
        return getattr(schemas, model_name).model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err.get("loc") else ""
        raise ScimError(400, "invalidValue", f"{SCIM_NAMES.get(field, field)}: {err['msg']}.") from None


def _render(doc: dict[str, Any], external_id: str | None, profile: dict[str, Any] | None, request: Any,
            base: str) -> dict[str, Any]:
    return protocol.dump(user_mapping.to_resource(doc, external_id, profile, base), "RESOURCE_QUERY_RESPONSE",
                         protocol.response_parameters(request))


def get_user(ctx: TenantContext, user_id: str, request: Any) -> dict[str, Any]:
    user = _load(ctx.tenant_id, user_id)
    return protocol.dump(to_resource(user, protocol.base_url(request, ctx.tenant_id)), "RESOURCE_QUERY_RESPONSE",
                         protocol.response_parameters(request))


def create_user(ctx: TenantContext, request: Any) -> dict[str, Any]:
    m = protocol.models()
    resource = protocol.parse(m.User, request.raw_body or b"", "RESOURCE_CREATION_REQUEST")
    wanted = user_mapping.from_resource(resource)
    base = protocol.base_url(request, ctx.tenant_id)
    body = _schema_body("ProvisionUser", {k: wanted[k] for k in (*PROFILE, "sourceProfile") if wanted[k] is not None})
    external = wanted["externalId"]
    try:
        doc = users.create_user(ctx, body, external=(SOURCE, external) if external else None)
    except Conflict as exc:
        returning = _deleted_user_named(ctx.tenant_id, exc, wanted)
        if returning is None:
            raise
        # a user deleted through SCIM and provisioned again: the same person, history kept
        users.set_deprovisioned(ctx, returning.id, SOURCE, False)
        doc, external = _apply(ctx, users.load_user(ctx.tenant_id, returning.id), wanted)
        return _render(doc, external, wanted["sourceProfile"], request, base)
    if not wanted["active"]:
        doc = users.set_status(ctx, doc["id"], "deactivated")
    return _render(doc, external, wanted["sourceProfile"], request, base)


def _deleted_user_named(tenant_id: str, exc: Conflict, wanted: dict[str, Any]) -> User | None:
    """The user SCIM deleted that has this userName (or, for a user without one, this email)."""
    fields = {e.get("field") for e in exc.errors}
    found = _by_username(tenant_id, wanted["username"]) if "username" in fields else []
    if not found and "email" in fields and wanted["email"]:
        found = _by_email(tenant_id, wanted["email"])
    return found[0] if found and _hidden(found[0]) else None


def _apply(ctx: TenantContext, user: User, wanted: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Make the user what `wanted` (from_resource) says, through the users service: the profile (and the
    SCIM profile kept), then the external id, then the status (each a no-op when unchanged)."""
    doc, current = users.to_json(user), _external_id(user)
    changed = {k: wanted[k] for k in PROFILE if wanted[k] != doc.get(k)}
    if wanted["sourceProfile"] != _profile(user):
        changed["sourceProfile"] = wanted["sourceProfile"]
    if changed:
        doc = users.update_user(ctx, user.id, _schema_body("UpdateProvisionedUser", changed))
    if wanted["externalId"] != current:
        doc = users.set_external_id(ctx, user.id, SOURCE, wanted["externalId"])
    status = "active" if wanted["active"] else "deactivated"
    if doc["status"] != status:
        doc = users.set_status(ctx, user.id, status)
    return doc, wanted["externalId"]


def replace_user(ctx: TenantContext, user_id: str, request: Any) -> dict[str, Any]:
    m = protocol.models()
    user = _load(ctx.tenant_id, user_id)
    protocol.check_if_match(request, user.version)
    resource = protocol.parse(m.User, request.raw_body or b"", "RESOURCE_REPLACEMENT_REQUEST")
    if resource.id is not None and resource.id != user.id:
        raise ScimError(400, "mutability", "id is immutable.")
    wanted = user_mapping.from_resource(resource)
    doc, external = _apply(ctx, user, wanted)
    return _render(doc, external, wanted["sourceProfile"], request, protocol.base_url(request, ctx.tenant_id))


def patch_user(ctx: TenantContext, user_id: str, request: Any) -> dict[str, Any]:
    m = protocol.models()
    user = _load(ctx.tenant_id, user_id)
    protocol.check_if_match(request, user.version)
    patch = protocol.parse(m.sm.PatchOp[m.User], request.raw_body or b"", "RESOURCE_PATCH_REQUEST")
    base = protocol.base_url(request, ctx.tenant_id)
    resource = to_resource(user, base)
    with protocol.scim_errors():
        patch.patch(resource, m.policy)
    wanted = user_mapping.from_resource(resource)
    doc, external = _apply(ctx, user, wanted)
    return _render(doc, external, wanted["sourceProfile"], request, base)


def delete_user(ctx: TenantContext, user_id: str, request: Any) -> None:
    """RFC 7644 §3.6: gone for SCIM (404 after); for the platform the user is deactivated, history kept."""
    user = _load(ctx.tenant_id, user_id)
    protocol.check_if_match(request, user.version)
    users.set_deprovisioned(ctx, user.id, SOURCE, True)


def _by_email(tenant_id: str, email: str) -> list[User]:
    try:
        claim = EmailClaim.get(keys.email_pk(tenant_id, email), keys.EMAIL_SK)
        return [users.load_user(tenant_id, claim.user_id)]
    except (Model.DoesNotExist, NotFound, ValueError):
        return []


def _by_username(tenant_id: str, username: str) -> list[User]:
    """The user with this userName: its username claim (2 GetItem); a user without a username answers to
    its email (a miss then costs one more GetItem, a hit two)."""
    try:
        claim = UsernameClaim.get(keys.username_pk(tenant_id, username), keys.USERNAME_SK)
        return [users.load_user(tenant_id, claim.user_id)]
    except (Model.DoesNotExist, NotFound, ValueError):
        pass
    if "@" not in username:
        return []
    return [u for u in _by_email(tenant_id, username) if not u.username]


def _by_id(tenant_id: str, user_id: str) -> list[User]:
    try:
        return [users.load_user(tenant_id, user_id)] if keys.is_safe(user_id) else []
    except NotFound:
        return []


def list_users(ctx: TenantContext, request: Any) -> dict[str, Any]:
    m = protocol.models()
    query = protocol.search_request(m.User, request.query_params)
    tenant, base = ctx.tenant_id, protocol.base_url(request, ctx.tenant_id)
    lookups: search.Lookups = {
        ("username", "eq"): lambda v: _by_username(tenant, v),
        ("id", "eq"): lambda v: _by_id(tenant, v),
        ("externalid", "eq"): lambda v: [u for u in [users.find_by_external_id(tenant, SOURCE, v)] if u],
    }
    found = search.candidates(query.filter.ast, lookups, str(m.sm.User.__schema__)) if query.filter else None
    items = found if found is not None else User.gsi1.query(keys.users_gsi1pk(tenant))
    resources = (to_resource(u, base) for u in items if isinstance(u, User) and not _hidden(u))
    page, total = search.window(resources, query.filter.match if query.filter else lambda r: True,
                                query.start_index, query.count)
    return protocol.list_response(m.User, page, total, query)
