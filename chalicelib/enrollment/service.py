"""Enrollments of users in courses and learning paths, by a person (self, manager, admin) or by the platform
(`enroll_automatically`: rules, CRM, imports, recertification).

One enrollment per user and course, enforced by a claim item in the user's partition written in the
same transaction; enrolling again returns the existing enrollment. An enrollment pins the content
version it starts on: new enrollments take the latest published version, learners in progress stay.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from pynamodb.models import Model

from chalicelib import observability
from chalicelib.auth.principal import TenantContext
from chalicelib.catalog.catalog import load_entry
from chalicelib.clock import new_id, utcnow_iso
from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.events.outbox import event_item
from chalicelib.store import keys, pagination
from chalicelib.store.models import CatalogEntry, Enrollment, EnrollmentClaim, Item, User, plain
from chalicelib.store.tx import Tx, TxConflict
from chalicelib.users.service import load_user


def overdue(e: Enrollment, today: str | None = None) -> bool:
    """Past its due date and not finished (completed, withdrawn or expired)."""
    from chalicelib.clock import utcnow

    day = today or utcnow().date().isoformat()
    return bool(e.due_date) and str(e.due_date) < day and e.status not in ("completed", "withdrawn", "expired")


def to_json(e: Enrollment) -> dict[str, Any]:
    return {
        "id": e.id, "tenantId": e.tenant_id, "userId": e.user_id, "courseId": e.course_id,
        "courseOwner": e.course_owner, "version": int(e.version), "source": e.source, "status": e.status,
        "dueDate": e.due_date, "overdue": overdue(e), "pathId": e.path_id, "requires": list(e.requires or []),
        "attemptId": e.attempt_id,
        "score": None if e.score is None else float(e.score), "completedAt": e.completed_at,
        "createdAt": e.created_at, "updatedAt": e.updated_at,
    }


def _source(ctx: TenantContext, user: User, self_enroll_allowed: bool) -> str:
    p = ctx.principal
    if ctx.acts_as_admin:
        return "self" if user.id == p.subject else "manager"
    if user.id == p.subject:
        if not self_enroll_allowed:
            raise Forbidden("This course does not allow self-enrollment.")
        return "self"
    if p.has_role("manager") and user.manager_id == p.subject:
        return "manager"
    raise Forbidden("Managers enroll only their own reports.")


def enroll(ctx: TenantContext, body: Any) -> tuple[dict[str, Any], bool]:
    """(enrollment, created): a second enrollment of the same user in the same course returns the first.
    A path enrollment enrolls in each of the path's courses: ({pathId, enrollments}, any created)."""
    if (body.courseId is None) == (body.pathId is None):
        raise ValidationFailed("Give exactly one of courseId and pathId.",
                               errors=[field_error("courseId", "exactly one of courseId and pathId")])
    try:
        user = load_user(ctx.tenant_id, body.userId)
    except NotFound:
        raise ValidationFailed("userId must be a user of this tenant.",
                               errors=[field_error("userId", "no such user")]) from None
    if user.status != "active":
        raise ValidationFailed("The user is deactivated.", errors=[field_error("userId", "deactivated")])
    due = body.dueDate.isoformat() if body.dueDate else None
    if body.pathId is None:
        return _enroll_course(ctx, user, body.courseId, due, "courseId")
    return _enroll_path(ctx, user, body.pathId, due)


def enroll_automatically(ctx: TenantContext, user: User, *, course_id: str | None = None,
                         path_id: str | None = None, source: str, due: str | None = None,
                         entry: CatalogEntry | None = None, cycle: int | None = None) -> tuple[dict[str, Any], bool]:
    """The platform enrolls a user (`source`: rule, crm, import, recertification): no role check, the same
    one-per-user-and-course claim. `entry` saves the catalog read when the caller has it (a rule's back-fill).
    `cycle` > 1 (recertification): one enrollment per user, course and cycle, so a learner who completed the
    course before is enrolled again, once."""
    if path_id is not None:
        return _enroll_path(ctx, user, path_id, due, source=source, cycle=cycle)
    assert course_id is not None
    return _enroll_course(ctx, user, course_id, due, "courseId", source=source, entry=entry, cycle=cycle)



def _enroll_path(ctx: TenantContext, user: User, path_id: str, due: str | None,
                 source: str | None = None, cycle: int | None = None) -> tuple[dict[str, Any], bool]:
    from chalicelib.catalog.paths import load_path

    try:
        path = load_path(ctx.tenant_id, path_id)
    except NotFound:
        raise ValidationFailed("pathId must be a learning path of this tenant.",
                               errors=[field_error("pathId", "no such path")]) from None
    made, any_created = [], False
    for course in (plain(c) for c in path.courses or []):
        doc, created = _enroll_course(ctx, user, course["courseId"], due, "pathId", path_id=path.id,
                                      requires=list(course.get("prerequisites") or []), source=source,
                                      cycle=cycle)
        made.append(doc)
        any_created = any_created or created
    return {"pathId": path.id, "userId": user.id, "enrollments": made}, any_created


def enrollable(tenant_id: str, course_id: str, field: str) -> CatalogEntry:
    """The catalog entry of a course one can be enrolled in (400 naming `field` otherwise)."""
    try:
        entry = load_entry(tenant_id, course_id)
    except NotFound:
        raise ValidationFailed(f"{course_id} is not a course in this tenant's catalog.",
                               errors=[field_error(field, "not in the catalog")]) from None
    if entry.latest_version is None:
        raise ValidationFailed(f"{course_id} has no published version yet.",
                               errors=[field_error(field, "no published version")])
    return entry


def _enroll_course(ctx: TenantContext, user: User, course_id: str, due: str | None, field: str, *,
                   path_id: str | None = None, requires: list[str] | None = None, source: str | None = None,
                   entry: CatalogEntry | None = None, cycle: int | None = None) -> tuple[dict[str, Any], bool]:
    entry = entry or enrollable(ctx.tenant_id, course_id, field)
    cycle = cycle if cycle and cycle > 1 else None
    source = source or _source(ctx, user, bool(entry.allow_self_enroll))
    now = utcnow_iso()
    enrollment_id = new_id("en")
    enrollment = Enrollment(
        PK=keys.enrollment_pk(ctx.tenant_id, enrollment_id), SK=keys.ENROLLMENT_SK, id=enrollment_id,
        tenant_id=ctx.tenant_id, user_id=user.id, course_id=entry.course_id, course_owner=entry.owner,
        version=int(entry.latest_version), source=source, status="enrolled", due_date=due, path_id=path_id,
        requires=requires or None, cycle=cycle, created_by=ctx.principal.subject, created_at=now, updated_at=now)
    enrollment.GSI1PK = keys.user_enrollments_gsi1pk(ctx.tenant_id, user.id)
    enrollment.GSI1SK = keys.user_enrollments_gsi1sk(now, enrollment.id)
    enrollment.GSI2PK = keys.course_enrollments_gsi2pk(ctx.tenant_id, entry.course_id)
    enrollment.GSI2SK = keys.user_enrollments_gsi1sk(now, enrollment.id)
    tx = Tx()
    tx.put(EnrollmentClaim(PK=keys.user_pk(ctx.tenant_id, user.id),
                           SK=keys.enrollment_cycle_claim_sk(entry.course_id, cycle), enrollment_id=enrollment.id),
           Item.PK.does_not_exist(), "claim")
    tx.put(enrollment, Item.PK.does_not_exist(), "enrollment")
    tx.put(event_item(ctx.tenant_id, "EnrollmentCreated", {"enrollment": to_json(enrollment)},
                      actor=ctx.principal.subject, correlation_id=ctx.correlation_id))
    try:
        tx.commit()
    except TxConflict:
        return to_json(existing(ctx.tenant_id, user.id, entry.course_id, cycle)), False
    observability.count("EnrollmentCreated")
    return to_json(enrollment), True


def existing(tenant_id: str, user_id: str, course_id: str, cycle: int | None = None) -> Enrollment:
    """The user's enrollment in a course (of a recertification cycle, if given) (NotFound if none)."""
    try:
        claim = EnrollmentClaim.get(keys.user_pk(tenant_id, user_id), keys.enrollment_cycle_claim_sk(course_id, cycle))
    except (Model.DoesNotExist, ValueError):
        raise NotFound("No enrollment in that course.") from None
    return load_enrollment(tenant_id, claim.enrollment_id)


def load_enrollment(tenant_id: str, enrollment_id: str) -> Enrollment:
    try:
        return Enrollment.get(keys.enrollment_pk(tenant_id, enrollment_id), keys.ENROLLMENT_SK)
    except (Model.DoesNotExist, ValueError):
        raise NotFound("No such enrollment.") from None


def can_see_user(ctx: TenantContext, user_id: str) -> bool:
    """Admins see everyone's learning; learners their own; managers their reports' (one read)."""
    if ctx.acts_as_admin or user_id == ctx.principal.subject:
        return True
    if not ctx.principal.has_role("manager"):
        return False
    try:
        return load_user(ctx.tenant_id, user_id).manager_id == ctx.principal.subject
    except NotFound:
        return False


def get_enrollment(ctx: TenantContext, enrollment_id: str) -> dict[str, Any]:
    enrollment = load_enrollment(ctx.tenant_id, enrollment_id)
    if not can_see_user(ctx, enrollment.user_id):
        raise NotFound("No such enrollment.")
    return to_json(enrollment)


def _status_filter(query: Any) -> Any:
    return Enrollment.status == query.status if getattr(query, "status", None) else None


def list_user_enrollments(ctx: TenantContext, user_id: str, query: Any) -> dict[str, Any]:
    if not keys.is_safe(user_id) or not can_see_user(ctx, user_id):
        raise NotFound("No such user.")
    if user_id != ctx.principal.subject and ctx.acts_as_admin and not query.cursor:
        load_user(ctx.tenant_id, user_id)  # an unknown user is a 404, as GET …/users/{userId} says
    listing = partial(Enrollment.gsi1.query, keys.user_enrollments_gsi1pk(ctx.tenant_id, user_id),
                      scan_index_forward=False, filter_condition=_status_filter(query))
    bound = f"enrollments|{ctx.tenant_id}|{user_id}|{getattr(query, 'status', None) or ''}"
    return pagination.page(listing, bound, query, to_json, Enrollment)


def list_enrollments(ctx: TenantContext, query: Any) -> dict[str, Any]:
    """`?userId=` (as the user's own listing) or `?courseId=` (admins: everyone enrolled, newest first)."""
    if (query.courseId is None) == (query.userId is None):
        raise ValidationFailed("Give exactly one of courseId and userId.",
                               errors=[field_error("courseId", "exactly one of courseId and userId")])
    if query.userId is not None:
        return list_user_enrollments(ctx, query.userId, query)
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins list a course's enrollments; managers list their reports' (userId).")
    listing = partial(Enrollment.gsi2.query, keys.course_enrollments_gsi2pk(ctx.tenant_id, query.courseId),
                      scan_index_forward=False, filter_condition=_status_filter(query))
    bound = f"course-enrollments|{ctx.tenant_id}|{query.courseId}|{query.status or ''}"
    return pagination.page(listing, bound, query, to_json, Enrollment)


def withdraw(ctx: TenantContext, enrollment_id: str) -> None:
    """Withdraw an enrollment (admins; managers for their reports). The user may be enrolled again later (a
    new enrollment); a completed one stays on the record. Withdrawing twice is the same as once."""
    enrollment = load_enrollment(ctx.tenant_id, enrollment_id)
    if not can_see_user(ctx, enrollment.user_id):
        raise NotFound("No such enrollment.")
    own = enrollment.user_id == ctx.principal.subject
    if not (ctx.acts_as_admin or (not own and ctx.principal.has_role("manager"))):
        raise Forbidden("Admins, and managers for their reports, withdraw enrollments.")
    if enrollment.status == "withdrawn":
        return
    if enrollment.status == "completed":
        raise Conflict("A completed enrollment stays on the learner's record.",
                       errors=[field_error("status", "completed")])
    now = utcnow_iso()
    tx = Tx()
    tx.update(enrollment, [Enrollment.status.set("withdrawn"), Enrollment.updated_at.set(now)],
              Enrollment.status == enrollment.status, "enrollment")
    tx.delete(EnrollmentClaim(PK=keys.user_pk(ctx.tenant_id, enrollment.user_id),
                              SK=keys.enrollment_cycle_claim_sk(enrollment.course_id, enrollment.cycle)),
              EnrollmentClaim.enrollment_id == enrollment.id, "claim")
    tx.put(event_item(ctx.tenant_id, "EnrollmentWithdrawn", {"enrollment": {**to_json(enrollment),
                                                                            "status": "withdrawn"}},
                      actor=ctx.principal.subject, correlation_id=ctx.correlation_id))
    try:
        tx.commit()
    except TxConflict:
        raise Conflict("The enrollment changed while this request ran; retry it.") from None
