"""Each tenant's catalog: one entry per course it sees, with the tenant's own customisations.

Entries are materialised so a catalog page is one Query whatever the library's size: a tenant's own
courses get theirs when created; shared-library courses when granted (to the tenant, or to a partner
and so to its customers); a partner's courses shared with customers likewise. New versions and course
changes fan out to the entries of the tenants that see the course (the `VIEWERS` index), through the
stream, at a cost proportional to those tenants. An entry's overlay (title, description, intro text,
hidden lessons) is never touched by the fan-out: customisations survive content updates.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from pynamodb.exceptions import PutError
from pynamodb.models import Model

from chalicelib.auth.principal import TenantContext
from chalicelib.catalog import courses
from chalicelib.clock import utcnow_iso
from chalicelib.errors import Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.events.consumer import EventEnvelope, subscribe
from chalicelib.store import keys, pagination
from chalicelib.store.models import CatalogEntry, Course, CourseGrant, Item, PackageGrant, PackageMember, Tenant, plain
from chalicelib.store.tx import Tx, TxConflict
from chalicelib.tenancy import cache

OVERLAY_FIELDS = ("title", "description", "introText", "hiddenLessons")


def entry_json(e: CatalogEntry) -> dict[str, Any]:
    overlay = plain(e.overlay) if e.overlay else {}
    latest = plain(e.latest) if e.latest else None
    hidden = set(overlay.get("hiddenLessons") or [])
    if latest:
        latest["scos"] = [s for s in latest.get("scos", []) if s["id"] not in hidden]
    return {
        "id": e.course_id, "owner": e.owner, "source": e.source,
        "title": overlay.get("title") or e.title, "description": overlay.get("description", e.description),
        "introText": overlay.get("introText"), "allowSelfEnroll": bool(e.allow_self_enroll),
        "latestVersion": None if e.latest_version is None else int(e.latest_version), "latest": latest,
        "base": {"title": e.title, "description": e.description}, "overlay": overlay, "updatedAt": e.updated_at,
    }


def load_entry(tenant_id: str, course_id: str) -> CatalogEntry:
    try:
        return CatalogEntry.get(keys.catalog_pk(tenant_id), keys.catalog_course_sk(course_id))
    except (Model.DoesNotExist, ValueError):
        raise NotFound("No such course in this tenant's catalog.") from None


def _published_only(ctx: TenantContext) -> bool:
    """Learners see what they can take; admins and managers see drafts-only courses too."""
    return not (ctx.acts_as_admin or ctx.principal.has_role("manager"))


def list_catalog(ctx: TenantContext, query: Any) -> dict[str, Any]:
    condition = CatalogEntry.latest_version.exists() if _published_only(ctx) else None
    listing = partial(CatalogEntry.query, keys.catalog_pk(ctx.tenant_id),
                      CatalogEntry.SK.startswith(keys.catalog_course_prefix()), filter_condition=condition)
    return pagination.page(listing, f"catalog|{ctx.tenant_id}", query, entry_json, CatalogEntry)


def get_catalog_course(ctx: TenantContext, course_id: str) -> dict[str, Any]:
    entry = load_entry(ctx.tenant_id, course_id)
    if _published_only(ctx) and entry.latest_version is None:
        raise NotFound("No such course in this tenant's catalog.")
    return entry_json(entry)


def customise(ctx: TenantContext, course_id: str, body: Any) -> dict[str, Any]:
    """PATCH of a tenant course: the owner changes its own course; others set their overlay."""
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins change courses.")
    entry = load_entry(ctx.tenant_id, course_id)
    if entry.source == "own":
        course = courses.change_course(ctx.tenant_id, course_id, body, ctx.principal.subject, ctx.correlation_id)
        return entry_json(courses.own_entry(course))
    fields = set(body.model_fields_set)
    owner_only = fields - set(OVERLAY_FIELDS) - {"allowSelfEnroll"}
    if owner_only:
        name = sorted(owner_only)[0]
        raise ValidationFailed(f"`{name}` belongs to the course's owner; a tenant customises "
                               f"{', '.join(OVERLAY_FIELDS)} and allowSelfEnroll.",
                               errors=[field_error(name, "set by the course's owner")])
    overlay = plain(entry.overlay) if entry.overlay else {}
    for name in fields & set(OVERLAY_FIELDS):
        value = getattr(body, name)
        if value is None:
            overlay.pop(name, None)
        else:
            overlay[name] = list(value) if name == "hiddenLessons" else value
    actions: list[Any] = [CatalogEntry.overlay.set(overlay), CatalogEntry.updated_at.set(utcnow_iso())]
    if "allowSelfEnroll" in fields:
        actions.append(CatalogEntry.allow_self_enroll.set(bool(body.allowSelfEnroll)))
    entry.update(actions=actions, condition=CatalogEntry.PK.exists())
    return entry_json(entry)


# -- grants (shared library -> tenants) -----------------------------------------------------------------
def grant(course_id: str, body: Any, actor: str, correlation_id: str = "") -> dict[str, Any]:
    course = courses.load_course(keys.LIBRARY, course_id)
    grantee = _grantee(body.tenantId)
    include = bool(body.includeCustomers) and grantee.kind == "partner"
    now = utcnow_iso()
    record = CourseGrant(PK=keys.course_pk(keys.LIBRARY, course_id), SK=keys.grant_sk(grantee.id),
                         GSI1PK=keys.grants_gsi1pk(grantee.id), GSI1SK=keys.catalog_course_sk(course_id),
                         course_id=course_id, grantee_id=grantee.id, include_customers=include,
                         granted_by=actor, created_at=now)
    _put_grant(record, CourseGrant.include_customers != include, "CourseGranted",
               {"courseId": course_id, "tenantId": grantee.id, "includeCustomers": include}, actor, correlation_id)
    materialise(course, [grantee.id], "library")
    return {"courseId": course_id, "tenantId": grantee.id, "includeCustomers": include, "createdAt": now}


def grant_package(package: str, body: Any, actor: str, correlation_id: str = "") -> dict[str, Any]:
    """Entitle a tenant (or a partner and its customers) to a named content package: every library course
    in it now, and every course that joins it later."""
    grantee = _grantee(body.tenantId)
    include = bool(body.includeCustomers) and grantee.kind == "partner"
    now = utcnow_iso()
    record = PackageGrant(PK=keys.package_pk(package), SK=keys.grant_sk(grantee.id),
                          GSI1PK=keys.grants_gsi1pk(grantee.id), GSI1SK=keys.package_grant_gsi1sk(package),
                          package=package, grantee_id=grantee.id, include_customers=include, granted_by=actor,
                          created_at=now)
    _put_grant(record, PackageGrant.include_customers != include, "PackageGranted",
               {"package": package, "tenantId": grantee.id, "includeCustomers": include}, actor, correlation_id)
    package_courses = _package_courses(package)
    for course in package_courses:
        materialise(course, [grantee.id], "library")
    return {"package": package, "tenantId": grantee.id, "includeCustomers": include, "createdAt": now,
            "courses": [c.id for c in package_courses]}


def _put_grant(record: Item, changed: Any, event_type: str, detail: dict[str, Any], actor: str,
               correlation_id: str) -> None:
    """A grant with its event; granting again (unchanged) writes nothing and raises no second event."""
    tx = Tx()
    tx.put(record, Item.PK.does_not_exist() | changed, "grant")
    tx.put(courses.event(keys.LIBRARY, event_type, detail, actor, correlation_id))
    try:
        tx.commit()
    except TxConflict:
        pass


def get_package(package: str) -> dict[str, Any]:
    """A package's member courses and the tenants granted it (one Query of its partition)."""
    members, grants = [], []
    for item in Item.query(keys.package_pk(package)):
        if isinstance(item, PackageMember):
            members.append(item.course_id)
        elif isinstance(item, PackageGrant):
            grants.append({"tenantId": item.grantee_id, "includeCustomers": bool(item.include_customers),
                           "createdAt": item.created_at})
    return {"package": package, "courses": members, "grants": grants}


def _grantee(tenant_id: str) -> Any:
    grantee = cache.tenant_record(tenant_id)
    if grantee is None or grantee.status == "retired":
        raise ValidationFailed("tenantId must be an existing tenant.",
                               errors=[field_error("tenantId", "no such tenant")])
    return grantee


def _package_courses(package: str) -> list[Course]:
    members = PackageMember.query(keys.package_pk(package), PackageMember.SK.startswith(keys.package_course_prefix()))
    return [courses.load_course(keys.LIBRARY, m.course_id) for m in members if isinstance(m, PackageMember)]


def _package_grants(package: str) -> list[PackageGrant]:
    found = PackageGrant.query(keys.package_pk(package), PackageGrant.SK.startswith(keys.package_grant_prefix()))
    return [g for g in found if isinstance(g, PackageGrant)]


def materialise(course: Course, tenant_ids: Iterable[str], source: str) -> int:
    """Give tenants an entry for a course; an existing entry (and its overlay) is kept."""
    made = 0
    for tenant_id in tenant_ids:
        try:
            courses.entry_for(course, tenant_id, source).save(condition=Item.PK.does_not_exist())
            made += 1
        except PutError as exc:  # only "already there" is expected
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
    return made


def _customers(partner_id: str) -> list[str]:
    return [t.id for t in Tenant.gsi1.query(keys.child_tenants_gsi1pk(partner_id)) if isinstance(t, Tenant)]


@subscribe("CourseGranted")
def _on_granted(event: EventEnvelope) -> None:
    if event.detail.get("includeCustomers"):
        course = courses.load_course(keys.LIBRARY, event.detail["courseId"])
        materialise(course, _customers(event.detail["tenantId"]), "library")


@subscribe("PackageGranted")
def _on_package_granted(event: EventEnvelope) -> None:
    if event.detail.get("includeCustomers"):
        customers = _customers(event.detail["tenantId"])
        for course in _package_courses(event.detail["package"]):
            materialise(course, customers, "library")


@subscribe("CourseVersionPublished")
@subscribe("CourseUpdated")
@subscribe("CourseCreated")
def _on_course_changed(event: EventEnvelope) -> None:
    """Fan a course's new fields out to every tenant that sees it; share a partner's course with its
    customers; give a library course to the tenants granted its packages."""
    doc = event.detail["course"]
    course = courses.load_course(doc["owner"], doc["id"])
    if course.owner != keys.LIBRARY and course.share_with_customers:
        record = cache.tenant_record(course.owner)
        if record is not None and record.kind == "partner":
            materialise(course, _customers(course.owner), "partner")
    for package in course.packages or []:
        for grant in _package_grants(package):
            tenants = [grant.grantee_id] + (_customers(grant.grantee_id) if grant.include_customers else [])
            materialise(course, tenants, "library")
    if event.type == "CourseCreated":
        return
    for entry in CatalogEntry.gsi2.query(keys.viewers_gsi2pk(course.owner, course.id)):
        if isinstance(entry, CatalogEntry) and entry.tenant_id != course.owner:
            entry.update(actions=courses.base_actions(course), condition=CatalogEntry.PK.exists())


@subscribe("TenantCreated")
def _on_tenant_created(event: EventEnvelope) -> None:
    """A new tenant sees its template's starter courses, and what its partner shares with customers."""
    from chalicelib.tenancy import templates

    tenant_id = event.detail.get("tenantId") or event.tenant_id
    if not tenant_id:
        return
    template = templates.get(event.detail.get("template") or "") or {}
    for ref in template.get("starterCatalog") or []:
        slug = ref.removeprefix("library:")
        course = courses.library_course_by_slug(slug) if keys.is_safe(slug) else None
        if course is not None:
            materialise(course, [tenant_id], "library")
    parent = event.detail.get("parentTenantId")
    if parent:
        _inherit_from_partner(tenant_id, parent)


def _inherit_from_partner(tenant_id: str, partner_id: str) -> None:
    for record in Item.gsi1.query(keys.grants_gsi1pk(partner_id)):
        if isinstance(record, CourseGrant) and record.include_customers:
            materialise(courses.load_course(keys.LIBRARY, record.course_id), [tenant_id], "library")
        elif isinstance(record, PackageGrant) and record.include_customers:
            for member in _package_courses(record.package):
                materialise(member, [tenant_id], "library")
    for course in Course.gsi1.query(keys.courses_gsi1pk(partner_id)):
        if isinstance(course, Course) and course.share_with_customers:
            materialise(course, [tenant_id], "partner")

