"""SCIM Groups: a Group item (displayName unique per tenant, externalId) whose members are the users'
`groups` (users.service.change_groups keeps each member's index entry and emits UserUpdated, which the
enrollment rules act on). A group's members are one Query of its index partition."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pynamodb.models import Model

from chalicelib.auth.principal import TenantContext
from chalicelib.clock import new_id, utcnow_iso
from chalicelib.errors import Conflict, NotFound
from chalicelib.events.outbox import event_item
from chalicelib.scim import protocol, search
from chalicelib.scim.protocol import ScimError
from chalicelib.store import keys
from chalicelib.store.models import Group, GroupNameClaim, Item, User, UserIndexEntry
from chalicelib.store.tx import Tx, TxConflict
from chalicelib.users import service as users

MAX_MEMBERS_PER_REQUEST = 100  # new members are checked with one BatchGetItem


def _load(tenant_id: str, group_id: str) -> Group:
    try:
        if not keys.is_safe(group_id):
            raise Model.DoesNotExist
        return Group.get(keys.group_pk(tenant_id, group_id), keys.GROUP_SK)
    except Model.DoesNotExist:
        raise NotFound("No such group.") from None


def member_ids(tenant_id: str, group_id: str) -> list[str]:
    """The group's members: one Query of its index partition (more pages for a very large group)."""
    entries = UserIndexEntry.query(keys.user_attribute_pk(tenant_id, "group", group_id))
    return [e.user_id for e in entries if isinstance(e, UserIndexEntry)]


def to_resource(group: Group, members: list[str] | None, base: str) -> Any:
    m = protocol.models()
    sm = m.sm
    return m.Group(
        id=group.id, external_id=group.external_id, display_name=group.display_name,
        members=[sm.GroupMember(value=u, ref=f"{base}/Users/{u}", type="User") for u in members or []] or None,
        meta=sm.Meta(resource_type="Group", created=group.created_at, last_modified=group.updated_at,
                     version=protocol.etag(group.version), location=f"{base}/Groups/{group.id}"))


def _render(group: Group, members: list[str] | None, base: str, request: Any = None) -> dict[str, Any]:
    return protocol.dump(to_resource(group, members, base), "RESOURCE_QUERY_RESPONSE",
                         protocol.response_parameters(request))


def _event(ctx: TenantContext, event_type: str, group: Group, **extra: Any) -> Item:
    detail = {"groupId": group.id, "displayName": group.display_name, **extra}
    return event_item(ctx.tenant_id, event_type, detail, actor=ctx.principal.subject,
                      correlation_id=ctx.correlation_id)


def _name_claim(tenant_id: str, group: Group) -> GroupNameClaim:
    return GroupNameClaim(PK=keys.group_name_pk(tenant_id, group.display_name), SK=keys.GROUP_NAME_SK,
                          group_id=group.id)


def _commit(tx: Tx, name: str) -> None:
    try:
        tx.commit()
    except TxConflict as exc:
        if "name" in exc.labels:
            raise ScimError(409, "uniqueness", f"A group named `{name}` already exists.") from None
        raise Conflict("The group changed while this request ran; retry it.") from None


def _check_users(tenant_id: str, user_ids: Iterable[str]) -> None:
    """Every new member is a user of the tenant (one BatchGetItem); otherwise 400, nothing written."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return
    if len(wanted) > MAX_MEMBERS_PER_REQUEST or not all(keys.is_safe(u) for u in wanted):
        raise ScimError(400, "invalidValue", f"members: at most {MAX_MEMBERS_PER_REQUEST} new user ids a request.")
    found = {u.id for u in User.batch_get([(keys.user_pk(tenant_id, u), keys.USER_SK) for u in wanted])}
    missing = [u for u in wanted if u not in found]
    if missing:
        raise ScimError(400, "invalidValue", f"members: no such user: {', '.join(missing)}.")


def _members_of(resource: Any) -> list[str]:
    return list(dict.fromkeys(str(m.value) for m in resource.members or [] if m.value))


def _set_members(ctx: TenantContext, group_id: str, before: list[str], after: list[str]) -> bool:
    """Each member added or removed is one user write (users.change_groups); new members checked first."""
    added, removed = [u for u in after if u not in before], [u for u in before if u not in after]
    for user_id in added:
        users.change_groups(ctx, user_id, add=[group_id])
    for user_id in removed:
        try:
            users.change_groups(ctx, user_id, remove=[group_id])
        except NotFound:  # a member deleted meanwhile: its entry went with it
            pass
    return bool(added or removed)


def create_group(ctx: TenantContext, request: Any) -> dict[str, Any]:
    m = protocol.models()
    resource = protocol.parse(m.Group, request.raw_body or b"", "RESOURCE_CREATION_REQUEST")
    members = _members_of(resource)
    _check_users(ctx.tenant_id, members)
    now, group_id, name = utcnow_iso(), new_id("gr"), _name(resource.display_name)
    group = Group(PK=keys.group_pk(ctx.tenant_id, group_id), SK=keys.GROUP_SK, GSI1PK=keys.groups_gsi1pk(ctx.tenant_id),
                  GSI1SK=keys.group_name_sk(name, group_id), id=group_id, tenant_id=ctx.tenant_id,
                  display_name=name, external_id=resource.external_id, created_at=now, updated_at=now, version=1)
    tx = Tx()
    tx.put(group, Item.PK.does_not_exist(), "group")
    tx.put(_name_claim(ctx.tenant_id, group), Item.PK.does_not_exist(), "name")
    tx.put(_event(ctx, "GroupCreated", group))
    _commit(tx, group.display_name)
    _set_members(ctx, group.id, [], members)
    return _render(group, members, protocol.base_url(request, ctx.tenant_id), request)


def _name(value: Any) -> str:
    name = str(value or "").strip()
    if not name or len(name) > 256:
        raise ScimError(400, "invalidValue", "displayName: 1 to 256 characters.")
    return name


def get_group(ctx: TenantContext, group_id: str, request: Any) -> dict[str, Any]:
    group = _load(ctx.tenant_id, group_id)
    return _render(group, member_ids(ctx.tenant_id, group.id), protocol.base_url(request, ctx.tenant_id), request)


def _update(ctx: TenantContext, group: Group, resource: Any, members_before: list[str]) -> list[str]:
    """Rename / re-key the group (one transaction, version-checked) and change its members."""
    name, old_name = _name(resource.display_name), group.display_name
    members = _members_of(resource)
    _check_users(ctx.tenant_id, [u for u in members if u not in members_before])
    changed = sorted({"displayName"} if name != old_name else set()
                     | ({"externalId"} if resource.external_id != group.external_id else set()))
    if changed or set(members) != set(members_before):  # membership too: the group's ETag moves
        expected = group.version
        group.display_name, group.external_id = name, resource.external_id
        group.GSI1SK = keys.group_name_sk(name, group.id)
        group.version, group.updated_at = expected + 1, utcnow_iso()
        tx = Tx()
        tx.put(group, Group.version == expected, "group")
        if name.lower() != old_name.lower():
            tx.delete(GroupNameClaim(PK=keys.group_name_pk(ctx.tenant_id, old_name), SK=keys.GROUP_NAME_SK),
                      GroupNameClaim.group_id == group.id, "old-name")
            tx.put(_name_claim(ctx.tenant_id, group), Item.PK.does_not_exist(), "name")
        tx.put(_event(ctx, "GroupUpdated", group, changed=changed or ["members"]))
        _commit(tx, name)
    _set_members(ctx, group.id, members_before, members)
    return members


def replace_group(ctx: TenantContext, group_id: str, request: Any) -> dict[str, Any]:
    m = protocol.models()
    group = _load(ctx.tenant_id, group_id)
    protocol.check_if_match(request, group.version)
    resource = protocol.parse(m.Group, request.raw_body or b"", "RESOURCE_REPLACEMENT_REQUEST")
    members = _update(ctx, group, resource, member_ids(ctx.tenant_id, group.id))
    return _render(group, members, protocol.base_url(request, ctx.tenant_id), request)


def patch_group(ctx: TenantContext, group_id: str, request: Any) -> dict[str, Any]:
    m = protocol.models()
    group = _load(ctx.tenant_id, group_id)
    protocol.check_if_match(request, group.version)
    patch = protocol.parse(m.sm.PatchOp[m.Group], request.raw_body or b"", "RESOURCE_PATCH_REQUEST")
    base = protocol.base_url(request, ctx.tenant_id)
    before = member_ids(ctx.tenant_id, group.id)
    resource = to_resource(group, before, base)
    with protocol.scim_errors():
        patch.patch(resource, m.policy)
    members = _update(ctx, group, resource, before)
    return _render(group, members, base, request)


def delete_group(ctx: TenantContext, group_id: str, request: Any) -> None:
    """Members leave it first (each a user write with its event), then the group and its name go."""
    group = _load(ctx.tenant_id, group_id)
    protocol.check_if_match(request, group.version)
    _set_members(ctx, group.id, member_ids(ctx.tenant_id, group.id), [])
    tx = Tx()
    tx.delete(group, Group.version == group.version, "group")
    tx.delete(_name_claim(ctx.tenant_id, group), GroupNameClaim.group_id == group.id, "name-claim")
    tx.put(_event(ctx, "GroupDeleted", group))
    _commit(tx, group.display_name)


def _by_name(tenant_id: str, name: str) -> list[Group]:
    try:
        claim = GroupNameClaim.get(keys.group_name_pk(tenant_id, name), keys.GROUP_NAME_SK)
        return [_load(tenant_id, claim.group_id)]
    except (Model.DoesNotExist, NotFound):
        return []


def _by_id(tenant_id: str, group_id: str) -> list[Group]:
    try:
        return [_load(tenant_id, group_id)]
    except NotFound:
        return []


def _wants_members(query: Any) -> bool:
    def names(paths: Any) -> set[str]:
        return {str(p).lower().rsplit(":", 1)[-1].split(".")[0] for p in paths or []}

    if query.filter and "members" in str(query.filter).lower():
        return True
    if query.attributes:
        return "members" in names(query.attributes)
    return "members" not in names(query.excluded_attributes)


def list_groups(ctx: TenantContext, request: Any) -> dict[str, Any]:
    m = protocol.models()
    query = protocol.search_request(m.Group, request.query_params)
    tenant, base = ctx.tenant_id, protocol.base_url(request, ctx.tenant_id)
    lookups: search.Lookups = {
        ("displayname", "eq"): lambda v: _by_name(tenant, v),
        ("id", "eq"): lambda v: _by_id(tenant, v),
        ("displayname", "sw"): lambda v: Group.gsi1.query(keys.groups_gsi1pk(tenant),
                                                          Group.GSI1SK.startswith(keys.group_name_sk(v))),
    }
    found = search.candidates(query.filter.ast, lookups, str(m.sm.Group.__schema__)) if query.filter else None
    items = found if found is not None else Group.gsi1.query(keys.groups_gsi1pk(tenant))
    # members cost a Query per group: read for every candidate only when the filter names them, else for the page
    by_filter = bool(query.filter) and "members" in str(query.filter).lower()
    pairs = ((g, to_resource(g, member_ids(tenant, g.id) if by_filter else None, base))
             for g in items if isinstance(g, Group))
    match = query.filter.match if query.filter else (lambda r: True)
    page, total = search.window(pairs, lambda pair: bool(match(pair[1])), query.start_index, query.count)
    if _wants_members(query) and not by_filter:
        page = [(g, to_resource(g, member_ids(tenant, g.id), base)) for g, _ in page]
    return protocol.list_response(m.Group, [r for _, r in page], total, query)
