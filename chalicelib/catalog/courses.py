"""Courses and their content versions, for a tenant's private library or the operator's shared one.

A course is owned by a tenant or by the shared library (`keys.LIBRARY`). Its versions are immutable
content (draft -> published -> retired); publishing a version retires the one it replaces, and
learners already on a version stay on it. What tenants see is their catalog (`catalog.catalog`).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from pynamodb.models import Model

from chalicelib import observability
from chalicelib.clock import new_id, utcnow_iso
from chalicelib.errors import Conflict, NotFound, ValidationFailed, field_error
from chalicelib.events.outbox import event_item
from chalicelib.store import keys, pagination
from chalicelib.store.models import CatalogEntry, Course, CourseSlugClaim, CourseVersion, Item, PackageMember, plain
from chalicelib.store.tx import Tx, TxConflict

LIBRARY = keys.LIBRARY


def to_json(c: Course) -> dict[str, Any]:
    return {
        "id": c.id, "owner": c.owner, "slug": c.slug, "title": c.title, "description": c.description,
        "status": c.status, "allowSelfEnroll": bool(c.allow_self_enroll),
        "shareWithCustomers": bool(c.share_with_customers), "packages": list(c.packages or []),
        "latestVersion": _int(c.latest_version),
        "latest": plain(c.latest) if c.latest else None, "createdAt": c.created_at, "updatedAt": c.updated_at,
    }


def version_json(v: CourseVersion) -> dict[str, Any]:
    return {
        "courseId": v.course_id, "number": int(v.number), "status": v.status, "format": v.format,
        "edition": v.edition, "packageTitle": v.package_title, "scos": [plain(s) for s in v.scos or []],
        "navigation": {"choice": bool(v.choice), "flow": bool(v.flow)}, "fileCount": int(v.file_count),
        "totalBytes": int(v.total_bytes), "uploadId": v.upload_id, "createdAt": v.created_at,
        "publishedAt": v.published_at, "retiredAt": v.retired_at,
    }


def summary(v: CourseVersion) -> dict[str, Any]:
    """What a catalog entry keeps of the latest published version."""
    return {"number": int(v.number), "format": v.format, "edition": v.edition, "packageTitle": v.package_title,
            "scoCount": len(v.scos or []), "publishedAt": v.published_at,
            "scos": [{"id": s["id"], "title": s["title"]} for s in (plain(x) for x in v.scos or [])]}


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def event(owner: str, event_type: str, detail: dict[str, Any], actor: str, correlation_id: str) -> Item:
    return event_item(None if owner == LIBRARY else owner, event_type, detail, actor=actor,
                      correlation_id=correlation_id)


# -- courses --------------------------------------------------------------------------------------------
def own_entry(course: Course) -> CatalogEntry:
    """The owner's own catalog entry of a tenant course (library courses reach tenants by grants)."""
    return entry_for(course, course.owner, "own")


def entry_for(course: Course, tenant_id: str, source: str) -> CatalogEntry:
    return CatalogEntry(
        PK=keys.catalog_pk(tenant_id), SK=keys.catalog_course_sk(course.id),
        GSI2PK=keys.viewers_gsi2pk(course.owner, course.id), GSI2SK=keys.viewer_gsi2sk(tenant_id),
        tenant_id=tenant_id, course_id=course.id, owner=course.owner, source=source, title=course.title,
        description=course.description, allow_self_enroll=bool(course.allow_self_enroll),
        latest_version=course.latest_version, latest=course.latest, overlay={}, updated_at=utcnow_iso())


def base_actions(course: Course) -> list[Any]:
    """Refresh an entry's copy of the owner's fields (its overlay is left alone)."""
    return [CatalogEntry.title.set(course.title), CatalogEntry.description.set(course.description),
            CatalogEntry.allow_self_enroll.set(bool(course.allow_self_enroll)),
            CatalogEntry.latest_version.set(course.latest_version), CatalogEntry.latest.set(course.latest),
            CatalogEntry.updated_at.set(utcnow_iso())]


def _refresh_own_entry(tx: Tx, course: Course) -> None:
    if course.owner != LIBRARY:
        tx.update(own_entry(course), base_actions(course), None, "entry")


def _library_only(owner: str, name: str, value: Any) -> None:
    """Slugs (template starter catalogs) and content packages are notions of the shared library."""
    if value and owner != LIBRARY:
        raise ValidationFailed(f"{name} is for shared-library courses.", errors=[field_error(name, "library only")])


def _membership(tx: Tx, course_id: str, before: list[str], after: list[str]) -> None:
    """The course's member items in the packages it joins or leaves (same transaction as the course)."""
    for name in sorted(set(before) - set(after)):
        tx.delete(PackageMember(PK=keys.package_pk(name), SK=keys.package_course_sk(course_id)))
    for name in sorted(set(after) - set(before)):
        tx.put(PackageMember(PK=keys.package_pk(name), SK=keys.package_course_sk(course_id), package=name,
                             course_id=course_id))


def create_course(owner: str, actor: str, body: Any, correlation_id: str = "") -> dict[str, Any]:
    _library_only(owner, "slug", body.slug)
    _library_only(owner, "packages", body.packages)
    now = utcnow_iso()
    course = Course(id=new_id("cs"), owner=owner, slug=body.slug, title=body.title, description=body.description,
                    status="active", allow_self_enroll=bool(body.allowSelfEnroll),
                    share_with_customers=bool(body.shareWithCustomers), packages=sorted(set(body.packages or [])),
                    latest_version=None, latest=None,
                    next_version=1, created_by=actor, created_at=now, updated_at=now, version=1)
    course.PK, course.SK = keys.course_pk(owner, course.id), keys.COURSE_SK
    course.GSI1PK, course.GSI1SK = keys.courses_gsi1pk(owner), keys.courses_gsi1sk(now, course.id)
    tx = Tx()
    tx.put(course, Item.PK.does_not_exist(), "course")
    if owner == LIBRARY and body.slug:
        tx.put(CourseSlugClaim(PK=keys.library_slug_pk(body.slug), SK=keys.COURSE_SLUG_SK, course_id=course.id),
               Item.PK.does_not_exist(), "slug")
    if owner != LIBRARY:
        tx.put(own_entry(course))
    _membership(tx, course.id, [], list(course.packages or []))
    tx.put(event(owner, "CourseCreated", {"course": to_json(course)}, actor, correlation_id))
    try:
        tx.commit()
    except TxConflict as exc:
        if "slug" in exc.labels:
            raise Conflict(f"A library course with slug `{body.slug}` exists.",
                           errors=[field_error("slug", "already taken")]) from None
        raise
    observability.count("CourseCreated")
    return to_json(course)


def load_course(owner: str, course_id: str) -> Course:
    try:
        return Course.get(keys.course_pk(owner, course_id), keys.COURSE_SK)
    except (Model.DoesNotExist, ValueError):
        raise NotFound("No such course.") from None


def library_course_by_slug(slug: str) -> Course | None:
    try:
        claim = CourseSlugClaim.get(keys.library_slug_pk(slug), keys.COURSE_SLUG_SK)
    except (Model.DoesNotExist, ValueError):
        return None
    return load_course(LIBRARY, claim.course_id)


def get_course(owner: str, course_id: str) -> dict[str, Any]:
    return to_json(load_course(owner, course_id))


def list_courses(owner: str, query: Any) -> dict[str, Any]:
    listing = partial(Course.gsi1.query, keys.courses_gsi1pk(owner))
    return pagination.page(listing, f"courses|{owner}", query, to_json, Course)


_FIELDS = {"title": "title", "description": "description", "allowSelfEnroll": "allow_self_enroll",
           "shareWithCustomers": "share_with_customers", "status": "status", "packages": "packages"}


def update_course(owner: str, course_id: str, body: Any, actor: str, correlation_id: str = "") -> dict[str, Any]:
    return to_json(change_course(owner, course_id, body, actor, correlation_id))


def change_course(owner: str, course_id: str, body: Any, actor: str, correlation_id: str = "") -> Course:
    course = load_course(owner, course_id)
    fields = set(body.model_fields_set) & set(_FIELDS)
    if "title" in fields and not body.title:
        raise ValidationFailed("title cannot be null.", errors=[field_error("title", "null")])
    if "packages" in fields:
        _library_only(owner, "packages", body.packages)
        body.packages = sorted(set(body.packages or []))
    if not fields:
        return course
    before = list(course.packages or [])
    for name in fields:
        setattr(course, _FIELDS[name], getattr(body, name))
    expected = course.version
    course.version, course.updated_at = expected + 1, utcnow_iso()
    tx = Tx()
    tx.put(course, Course.version == expected, "course")
    _refresh_own_entry(tx, course)
    _membership(tx, course.id, before, list(course.packages or []))
    tx.put(event(owner, "CourseUpdated", {"course": to_json(course), "changed": sorted(fields)}, actor,
                 correlation_id))
    _commit(tx)
    return course


def _commit(tx: Tx) -> None:
    try:
        tx.commit()
    except TxConflict:
        raise Conflict("The course changed while this request ran; retry it.") from None


# -- versions -------------------------------------------------------------------------------------------
def load_version(owner: str, course_id: str, number: int) -> CourseVersion:
    try:
        return CourseVersion.get(keys.course_pk(owner, course_id), keys.version_sk(number))
    except (Model.DoesNotExist, ValueError):
        raise NotFound("No such version of this course.") from None


def get_version(owner: str, course_id: str, number: int) -> dict[str, Any]:
    return version_json(load_version(owner, course_id, number))


def list_versions(owner: str, course_id: str, query: Any) -> dict[str, Any]:
    if not query.cursor or not keys.is_safe(course_id):  # an unknown course is a 404, not an empty list
        load_course(owner, course_id)
    listing = partial(CourseVersion.query, keys.course_pk(owner, course_id),
                      CourseVersion.SK.startswith(keys.version_prefix()), scan_index_forward=False)
    return pagination.page(listing, f"versions|{owner}|{course_id}", query, version_json, CourseVersion)


def add_version(course: Course, info: Any, content_prefix: str, upload_id: str, actor: str) -> tuple[Tx, int]:
    """A transaction that adds a draft version from an inspected package (the ingest commits it)."""
    number = int(course.next_version or 1)
    version = CourseVersion(
        PK=keys.course_pk(course.owner, course.id), SK=keys.version_sk(number), course_id=course.id,
        owner=course.owner, number=number, status="draft", format=info.format, edition=info.edition,
        package_title=info.title, content_prefix=content_prefix, scos=[sco_json(s) for s in info.scos],
        choice=info.choice, flow=info.flow, file_count=len(info.files), total_bytes=info.total_bytes,
        upload_id=upload_id, created_by=actor, created_at=utcnow_iso())
    tx = Tx()
    tx.put(version, Item.PK.does_not_exist(), "version")
    tx.update(course, [Course.next_version.set(number + 1), Course.updated_at.set(utcnow_iso())],
              Course.next_version == number, "course")
    return tx, number


def sco_json(sco: Any) -> dict[str, Any]:
    doc = {"id": sco.id, "title": sco.title, "launch": sco.launch, "type": sco.scorm_type,
           "masteryScore": sco.mastery_score, "completionThreshold": sco.completion_threshold,
           "prerequisites": sco.prerequisites, "launchData": sco.launch_data, "moveOn": sco.move_on,
           "launchMethod": sco.launch_method, "activityId": sco.activity_id}
    return {k: v for k, v in doc.items() if v is not None}


def publish_version(owner: str, course_id: str, number: int, actor: str, correlation_id: str = "") -> dict[str, Any]:
    course = load_course(owner, course_id)
    version = load_version(owner, course_id, number)
    if version.status == "published":
        return version_json(version)
    if version.status != "draft":
        raise Conflict(f"Version {number} is {version.status}; only a draft is published.",
                       errors=[field_error("status", version.status)])
    now = utcnow_iso()
    version.status, version.published_at = "published", now
    previous = _int(course.latest_version)
    expected = course.version
    course.latest_version, course.latest = number, summary(version)
    course.version, course.updated_at = expected + 1, now
    tx = Tx()
    tx.update(version, [CourseVersion.status.set("published"), CourseVersion.published_at.set(now)],
              CourseVersion.status == "draft", "version")
    tx.put(course, Course.version == expected, "course")
    _refresh_own_entry(tx, course)
    if previous is not None and previous != number:
        retiring = CourseVersion(PK=keys.course_pk(owner, course_id), SK=keys.version_sk(previous))  # no read
        tx.update(retiring, [CourseVersion.status.set("retired"), CourseVersion.retired_at.set(now)],
                  CourseVersion.status == "published", "previous")
    tx.put(event(owner, "CourseVersionPublished",
                 {"courseId": course_id, "owner": owner, "version": number, "previousVersion": previous,
                  "course": to_json(course)}, actor, correlation_id))
    _commit(tx)
    observability.count("CourseVersionPublished")
    return version_json(version)


def retire_version(owner: str, course_id: str, number: int, actor: str, correlation_id: str = "") -> dict[str, Any]:
    course = load_course(owner, course_id)
    version = load_version(owner, course_id, number)
    if version.status == "retired":
        return version_json(version)
    if _int(course.latest_version) == number:
        raise Conflict("The latest published version is retired by publishing another one.",
                       errors=[field_error("number", "latest published version")])
    now = utcnow_iso()
    version.status, version.retired_at = "retired", now
    tx = Tx()
    tx.update(version, [CourseVersion.status.set("retired"), CourseVersion.retired_at.set(now)],
              CourseVersion.status != "retired", "version")
    tx.put(event(owner, "CourseVersionRetired", {"courseId": course_id, "owner": owner, "version": number},
                 actor, correlation_id))
    _commit(tx)
    return version_json(version)
