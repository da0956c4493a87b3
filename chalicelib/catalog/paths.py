"""Learning paths: ordered courses of the tenant's catalog, each possibly requiring earlier ones.

Enrolling in a path enrolls the learner in each of its courses (`enrollment.service`), recording the
courses each one requires, which starting an attempt enforces. Progress is computed from the learner's
enrollments (one Query). A `CourseCompleted` event advances the paths that contain the course (the
`CPATHS` index); the first time all of a path's courses are complete, one conditional write records it
and emits `PathCompleted` — once per recertification cycle (the cycle of the enrollments that completed it).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from pynamodb.models import Model

from chalicelib.auth.principal import TenantContext
from chalicelib.clock import new_id, utcnow_iso
from chalicelib.errors import Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.events.consumer import EventEnvelope, subscribe
from chalicelib.events.outbox import event_item
from chalicelib.store import keys, pagination
from chalicelib.store.models import CatalogEntry, Enrollment, Item, LearningPath, PathCompletion, PathMember, plain
from chalicelib.store.tx import Tx, TxConflict


def to_json(p: LearningPath) -> dict[str, Any]:
    return {"id": p.id, "tenantId": p.tenant_id, "title": p.title, "description": p.description,
            "courses": [plain(c) for c in p.courses or []], "createdAt": p.created_at, "updatedAt": p.updated_at}


def load_path(tenant_id: str, path_id: str) -> LearningPath:
    try:
        return LearningPath.get(keys.path_pk(tenant_id, path_id), keys.PATH_SK)
    except (Model.DoesNotExist, ValueError):
        raise NotFound("No such learning path.") from None


def _courses(ctx: TenantContext, body: Any) -> list[dict[str, Any]]:
    """The path's courses in order, each in the tenant's catalog, prerequisites only on earlier ones."""
    ids = [c.courseId for c in body.courses]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("A course appears twice in the path.", errors=[field_error("courses", "duplicate")])
    entries = {e.course_id: e for e in CatalogEntry.batch_get(
        [(keys.catalog_pk(ctx.tenant_id), keys.catalog_course_sk(i)) for i in ids])}
    out = []
    for index, course in enumerate(body.courses):
        where = f"courses.{index}"
        if course.courseId not in entries:
            raise ValidationFailed(f"{course.courseId} is not in this tenant's catalog.",
                                   errors=[field_error(f"{where}.courseId", "not in the catalog")])
        for required in course.prerequisites:
            if required not in ids[:index]:
                raise ValidationFailed("A prerequisite must be an earlier course of the path.",
                                       errors=[field_error(f"{where}.prerequisites", f"{required} is not earlier")])
        out.append({"courseId": course.courseId, "title": entries[course.courseId].title,
                    "prerequisites": list(course.prerequisites)})
    return out


def create_path(ctx: TenantContext, body: Any) -> dict[str, Any]:
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins create learning paths.")
    courses = _courses(ctx, body)
    now, path_id = utcnow_iso(), new_id("lp")
    path = LearningPath(PK=keys.path_pk(ctx.tenant_id, path_id), SK=keys.PATH_SK,
                        GSI1PK=keys.paths_gsi1pk(ctx.tenant_id), GSI1SK=keys.paths_gsi1sk(now, path_id),
                        id=path_id, tenant_id=ctx.tenant_id, title=body.title, description=body.description,
                        courses=courses, created_by=ctx.principal.subject, created_at=now, updated_at=now, version=1)
    tx = Tx()
    tx.put(path, Item.PK.does_not_exist(), "path")
    for course in courses:
        tx.put(PathMember(PK=keys.path_pk(ctx.tenant_id, path_id), SK=keys.path_member_sk(course["courseId"]),
                          GSI2PK=keys.course_paths_gsi2pk(ctx.tenant_id, course["courseId"]),
                          GSI2SK=keys.course_path_gsi2sk(path_id), path_id=path_id, course_id=course["courseId"]))
    tx.put(event_item(ctx.tenant_id, "PathCreated", {"path": to_json(path)}, actor=ctx.principal.subject,
                      correlation_id=ctx.correlation_id))
    tx.commit()
    return to_json(path)


def get_path(ctx: TenantContext, path_id: str) -> dict[str, Any]:
    return to_json(load_path(ctx.tenant_id, path_id))


def list_paths(ctx: TenantContext, query: Any) -> dict[str, Any]:
    listing = partial(LearningPath.gsi1.query, keys.paths_gsi1pk(ctx.tenant_id))
    return pagination.page(listing, f"paths|{ctx.tenant_id}", query, to_json, LearningPath)


def update_path(ctx: TenantContext, path_id: str, body: Any) -> dict[str, Any]:
    """Title and description; the course list of a path is fixed once learners may be on it."""
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins change learning paths.")
    path = load_path(ctx.tenant_id, path_id)
    fields = body.model_fields_set & {"title", "description"}
    if "title" in fields and not body.title:
        raise ValidationFailed("title cannot be null.", errors=[field_error("title", "null")])
    if fields:
        actions = [getattr(LearningPath, f).set(getattr(body, f)) for f in sorted(fields)]
        path.update(actions=[*actions, LearningPath.updated_at.set(utcnow_iso())], condition=Item.PK.exists())
    return to_json(path)


# -- progress -------------------------------------------------------------------------------------------
def _user_enrollments(tenant_id: str, user_id: str) -> dict[str, Enrollment]:
    found: dict[str, Enrollment] = {}
    for e in Enrollment.gsi1.query(keys.user_enrollments_gsi1pk(tenant_id, user_id)):
        if isinstance(e, Enrollment):
            found[e.course_id] = e
    return found


def progress_of(path: LearningPath, enrollments: dict[str, Enrollment]) -> dict[str, Any]:
    steps, done = [], set()
    for course in (plain(c) for c in path.courses or []):
        e = enrollments.get(course["courseId"])
        status = e.status if e else "not_enrolled"
        if status == "completed":
            done.add(course["courseId"])
        steps.append({**course, "status": status, "enrollmentId": e.id if e else None,
                      "version": int(e.version) if e else None,
                      "score": None if e is None or e.score is None else float(e.score),
                      "locked": any(r not in done for r in course.get("prerequisites") or [])})
    total = len(steps)
    return {"pathId": path.id, "title": path.title, "completedCourses": len(done), "totalCourses": total,
            "percent": round(100 * len(done) / total) if total else 0,
            "status": "completed" if total and len(done) == total else
            ("in_progress" if any(s["status"] != "not_enrolled" for s in steps) else "not_started"),
            "courses": steps}


def progress(ctx: TenantContext, user_id: str, path_id: str) -> dict[str, Any]:
    from chalicelib.enrollment.service import can_see_user

    if not keys.is_safe(user_id) or not can_see_user(ctx, user_id):
        raise NotFound("No such user.")
    path = load_path(ctx.tenant_id, path_id)
    return {"userId": user_id, **progress_of(path, _user_enrollments(ctx.tenant_id, user_id))}


@subscribe("CourseCompleted")
def _on_course_completed(event: EventEnvelope) -> None:
    tenant_id, detail = event.tenant_id, event.detail
    if not tenant_id:
        return
    members = [m for m in PathMember.gsi2.query(keys.course_paths_gsi2pk(tenant_id, detail["courseId"]))
               if isinstance(m, PathMember)]
    if not members:
        return
    enrollments = _user_enrollments(tenant_id, detail["userId"])
    for member in members:
        path = load_path(tenant_id, member.path_id)
        if progress_of(path, enrollments)["status"] == "completed":
            _record_completion(tenant_id, detail["userId"], path, event, completion_cycle(path, enrollments))


def completion_cycle(path: LearningPath, enrollments: dict[str, Enrollment]) -> int:
    """The recertification cycle a completed path counts for: the lowest cycle among the (latest) enrollments
    that completed its courses (no cycle = 1), so cycle n is recorded only once every course is done in it."""
    return min((int(enrollments[c["courseId"]].cycle or 1) for c in (plain(x) for x in path.courses or [])
                if c["courseId"] in enrollments), default=1)


def _record_completion(tenant_id: str, user_id: str, path: LearningPath, cause: EventEnvelope,
                       cycle: int = 1) -> None:
    """Once per path and cycle (`path_done_cycle_sk`; cycle 1 keeps the plain `PATHDONE#<p>`)."""
    now = utcnow_iso()
    tx = Tx()
    tx.put(PathCompletion(PK=keys.user_pk(tenant_id, user_id), SK=keys.path_done_cycle_sk(path.id, cycle),
                          path_id=path.id, completed_at=now, cycle=cycle if cycle > 1 else None),
           Item.PK.does_not_exist(), "done")
    tx.put(event_item(tenant_id, "PathCompleted", {"userId": user_id, "pathId": path.id, "title": path.title,
                                                   "cycle": cycle, "at": now}, actor=cause.actor,
                      correlation_id=cause.correlation_id))
    try:
        tx.commit()
    except TxConflict:
        pass  # recorded before (a redelivered or concurrent completion)
