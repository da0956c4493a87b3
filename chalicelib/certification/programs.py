"""Certification programs: what a learner completes to be certified, for how long, and how to renew.

A program's partition holds the program and one `ProgramTarget` per course, path or xAPI activity it
counts (its requirements and its recertification training), each indexed by target (GSI2), so a completion
finds the programs it touches with one Query. Targets are checked against the tenant's catalog and paths
in one BatchGetItem, which also reads the tenant (its default reminder offsets).

Shared programs (the operator's, `/v1/library/certifications`) live under the library owner (`LIB#CERTPROG#<p>`,
ids `sp-…`), require shared-library courses only, and apply in every tenant whose catalog holds all their courses
(requirements and recertification course): docs/certifications.md, "Shared programs".
"""

from __future__ import annotations

from functools import partial
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.models import Model

from chalicelib.auth.principal import TenantContext
from chalicelib.certification.due import DEFAULT_REMINDER_DAYS
from chalicelib.clock import new_id, utcnow_iso
from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.events.outbox import event_item
from chalicelib.lrs.facets import value_hash
from chalicelib.store import keys, pagination
from chalicelib.store.models import (
    CatalogEntry,
    CertificationProgram,
    Course,
    Item,
    LearningPath,
    ProgramCounts,
    ProgramTarget,
    Tenant,
    plain,
)
from chalicelib.store.tx import Tx, TxConflict

STATUSES = ("active", "expiring", "expired", "recertifying", "renewed", "revoked")
SHARED_ID_PREFIX = "sp"  # the operator's shared programs: `sp-…` (a tenant's: `cp-…`)


def is_shared(program_id: str) -> bool:
    return program_id.startswith(SHARED_ID_PREFIX + "-")


def to_json(p: CertificationProgram, counts_in: ProgramCounts | None = None) -> dict[str, Any]:
    """A program; a shared one seen by a tenant carries that tenant's counts (`counts_in`) and `shared: true`."""
    recert = ({"courseId": p.recert_course_id} if p.recert_course_id else
              {"pathId": p.recert_path_id} if p.recert_path_id else None)
    counts = plain(p.counts) if p.counts else {}
    if counts_in is not None or is_shared(p.id):
        counts = {s: getattr(counts_in, s, None) for s in STATUSES}
    return {"id": p.id, "tenantId": None if is_shared(p.id) else p.tenant_id, "shared": is_shared(p.id),
            "name": p.name, "description": p.description,
            "requirements": [{k: v for k, v in plain(r).items() if k != "target"} for r in p.requirements or []],
            "validityDays": None if p.validity_days is None else int(p.validity_days),
            "reminderDays": [int(d) for d in plain(p.reminder_days or [])], "graceDays": int(p.grace_days or 0),
            "recertification": recert, "status": p.status,
            "counts": {s: int(counts.get(s) or 0) for s in STATUSES},
            "createdAt": p.created_at, "updatedAt": p.updated_at}


def load_program(tenant_id: str, program_id: str) -> CertificationProgram:
    """A tenant's program, or a shared one (by its `sp-` id: the issuer and the jobs load either this way;
    whether a shared program applies in the tenant is the caller's check: `applying`)."""
    owner = keys.LIBRARY if is_shared(program_id) else tenant_id
    try:
        return CertificationProgram.get(keys.cert_program_pk(owner, program_id), keys.CERT_PROGRAM_SK)
    except (Model.DoesNotExist, ValueError):
        raise NotFound("No such certification program.") from None


def require_reader(ctx: TenantContext) -> None:
    if not (ctx.acts_as_admin or ctx.principal.has_role("manager")):
        raise Forbidden("Admins and managers read certification programs.")


def _require_admin(ctx: TenantContext) -> None:
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins create and change certification programs.")


def target_of(requirement: dict[str, Any]) -> str:
    """The id a requirement is indexed by: the course, the path, or the activity's hash."""
    if requirement["kind"] == "statements":
        return keys.activity_target_id(value_hash(requirement["activityId"]))
    return str(requirement.get("courseId") or requirement["pathId"])


def _course_key(owner: str, course_id: str) -> tuple[str, str]:
    """Where a requirement's course is checked: the tenant's catalog entry, or the shared library's course."""
    if owner == keys.LIBRARY:
        return keys.course_pk(keys.LIBRARY, course_id), keys.COURSE_SK
    return keys.catalog_pk(owner), keys.catalog_course_sk(course_id)


def _lookup(owner: str, courses: set[str], paths: set[str], tenant: bool) -> dict[tuple[str, str], Item]:
    wanted = [_course_key(owner, c) for c in sorted(courses)]
    if owner != keys.LIBRARY:
        wanted += [(keys.path_pk(owner, p), keys.PATH_SK) for p in sorted(paths)]
        if tenant:
            wanted.append((keys.tenant_pk(owner), keys.TENANT_SK))
    return {(i.PK, i.SK): i for i in Item.batch_get(wanted)} if wanted else {}


class _Found:
    """The catalog entries (the library's courses), paths and tenant one BatchGetItem read; lookups raise a 400
    naming the field."""

    def __init__(self, owner: str, courses: set[str], paths: set[str], tenant: bool) -> None:
        self.tenant_id = self.owner = owner
        self.items = _lookup(owner, courses, paths, tenant)

    def course(self, cid: str, where: str) -> CatalogEntry | Course:
        entry = self.items.get(_course_key(self.owner, cid))
        if self.owner == keys.LIBRARY and not isinstance(entry, Course):
            raise ValidationFailed(f"{cid} is not a shared-library course.",
                                   errors=[field_error(where, "not in the shared library")])
        if not isinstance(entry, (CatalogEntry, Course)):
            raise ValidationFailed(f"{cid} is not in this tenant's catalog.",
                                   errors=[field_error(where, "not in the catalog")])
        return entry

    def path(self, pid: str, where: str) -> LearningPath:
        if self.owner == keys.LIBRARY:
            raise ValidationFailed("Shared programs count shared-library courses only.",
                                   errors=[field_error(where, "the shared library has no paths")])
        item = self.items.get((keys.path_pk(self.tenant_id, pid), keys.PATH_SK))
        if not isinstance(item, LearningPath):
            raise ValidationFailed(f"{pid} is not a learning path of this tenant.",
                                   errors=[field_error(where, "no such path")])
        return item

    def reminder_days(self) -> list[int]:
        tenant = self.items.get((keys.tenant_pk(self.tenant_id), keys.TENANT_SK))
        settings = plain(tenant.settings) if isinstance(tenant, Tenant) and tenant.settings else {}
        return list((settings.get("reminders") or {}).get("certificationExpiryDays") or DEFAULT_REMINDER_DAYS)


def _requirement(r: Any, where: str, found: _Found) -> dict[str, Any]:
    if found.owner == keys.LIBRARY and r.kind != "course":
        raise ValidationFailed("Shared programs count shared-library courses only.",
                               errors=[field_error(f"{where}.kind", "only course requirements in shared programs")])
    if r.kind == "course":
        doc: dict[str, Any] = {"kind": "course", "courseId": r.courseId,
                               "title": found.course(r.courseId, f"{where}.courseId").title}
        if r.minScore is not None:
            doc["minScore"] = r.minScore
        return doc
    if r.kind == "path":
        return {"kind": "path", "pathId": r.pathId, "title": found.path(r.pathId, f"{where}.pathId").title}
    doc = {"kind": "statements", "verb": r.verb, "activityId": r.activityId, "count": r.count}
    if r.withinDays is not None:
        doc["withinDays"] = r.withinDays
    return doc


def _check(owner: str, body: Any, fields: set[str], current: CertificationProgram | None
           ) -> tuple[list[dict[str, Any]] | None, dict[str, Any] | None, list[int] | None]:
    """(requirements, recertification, default reminder days) as stored, targets checked: 400 naming the field."""
    reqs = body.requirements if "requirements" in fields else None
    recert = body.recertification if "recertification" in fields else None
    courses = {r.courseId for r in reqs or [] if r.kind == "course"} | {getattr(recert, "courseId", None)}
    paths = {r.pathId for r in reqs or [] if r.kind == "path"} | {getattr(recert, "pathId", None)}
    need_tenant = current is None and body.reminderDays is None
    found = _Found(owner, {c for c in courses if c}, {p for p in paths if p}, need_tenant)
    stored: list[dict[str, Any]] | None = None
    if reqs is not None:
        stored, seen = [], set()
        for i, r in enumerate(reqs):
            doc = _requirement(r, f"requirements.{i}", found)
            if (target_of(doc), doc.get("verb")) in seen:
                raise ValidationFailed("A requirement appears twice.",
                                       errors=[field_error(f"requirements.{i}", "duplicate")])
            seen.add((target_of(doc), doc.get("verb")))
            stored.append(doc)
    recert_doc = None
    if recert is not None and recert.courseId:
        found.course(recert.courseId, "recertification.courseId")
        recert_doc = {"courseId": recert.courseId}
    elif recert is not None:
        found.path(str(recert.pathId), "recertification.pathId")
        recert_doc = {"pathId": recert.pathId}
    return stored, recert_doc, found.reminder_days() if need_tenant else None


def targets(program: CertificationProgram) -> dict[str, ProgramTarget]:
    """The index items a program needs: target id -> item (role requirement, recertification or both)."""
    roles: dict[str, set[str]] = {}
    for r in program.requirements or []:
        roles.setdefault(target_of(plain(r)), set()).add("requirement")
    recert = program.recert_course_id or program.recert_path_id
    if recert:
        roles.setdefault(recert, set()).add("recertification")
    return {t: ProgramTarget(PK=keys.cert_program_pk(program.tenant_id, program.id), SK=keys.program_target_sk(t),
                             GSI2PK=keys.programs_of_target_gsi2pk(program.tenant_id, t),
                             GSI2SK=keys.program_sk(program.id), program_id=program.id, target_id=t,
                             role="both" if len(r) == 2 else next(iter(r)))
            for t, r in roles.items()}


def create_program(ctx: TenantContext, body: Any) -> dict[str, Any]:
    _require_admin(ctx)
    return _create(ctx.tenant_id, body, ctx.principal.subject, ctx.correlation_id)


def _create(owner: str, body: Any, actor: str, correlation_id: str) -> dict[str, Any]:
    requirements, recert, default = _check(owner, body, set(body.model_fields_set) | {"requirements"}, None)
    now, program_id = utcnow_iso(), new_id(SHARED_ID_PREFIX if owner == keys.LIBRARY else "cp")
    reminders = sorted(set(body.reminderDays if body.reminderDays is not None else default or []), reverse=True)
    program = CertificationProgram(
        PK=keys.cert_program_pk(owner, program_id), SK=keys.CERT_PROGRAM_SK,
        GSI1PK=keys.cert_programs_gsi1pk(owner), GSI1SK=keys.cert_programs_gsi1sk(now, program_id),
        id=program_id, tenant_id=owner, name=body.name, description=body.description,
        requirements=requirements, validity_days=body.validityDays, reminder_days=reminders,
        grace_days=body.graceDays, recert_course_id=(recert or {}).get("courseId"),
        recert_path_id=(recert or {}).get("pathId"), status="active", counts={s: 0 for s in STATUSES},
        created_by=actor, created_at=now, updated_at=now, version=1)
    tx = Tx()
    tx.put(program, Item.PK.does_not_exist(), "program")
    for target in targets(program).values():
        tx.put(target)
    tx.put(event_item(None if owner == keys.LIBRARY else owner, "CertificationProgramCreated",
                      {"program": to_json(program)}, actor=actor, correlation_id=correlation_id))
    tx.commit()
    return to_json(program)


def get_program(ctx: TenantContext, program_id: str) -> dict[str, Any]:
    require_reader(ctx)
    program = load_program(ctx.tenant_id, program_id)
    if not is_shared(program_id):
        return to_json(program)
    shared = applying(ctx.tenant_id, [program])
    if not shared:
        raise NotFound("No such certification program.")
    return to_json(*shared[0])


def list_programs(ctx: TenantContext, query: Any) -> dict[str, Any]:
    """The tenant's own programs (paged), and on the first page the shared ones that apply (`shared: true`)."""
    require_reader(ctx)
    listing = partial(CertificationProgram.gsi1.query, keys.cert_programs_gsi1pk(ctx.tenant_id))
    page = pagination.page(listing, f"certifications|{ctx.tenant_id}", query, to_json, CertificationProgram)
    if not query.cursor:
        library = [p for p in CertificationProgram.gsi1.query(keys.cert_programs_gsi1pk(keys.LIBRARY))
                   if isinstance(p, CertificationProgram) and p.status == "active"]
        page["items"] = [to_json(p, c) for p, c in applying(ctx.tenant_id, library)] + page["items"]
    return page


def courses_of(program: CertificationProgram) -> set[str]:
    """The courses a shared program needs in a tenant's catalog: its requirements and recertification course."""
    found = {str(plain(r)["courseId"]) for r in program.requirements or [] if plain(r).get("courseId")}
    return found | ({str(program.recert_course_id)} if program.recert_course_id else set())


def applying(tenant_id: str, shared: list[CertificationProgram]
             ) -> list[tuple[CertificationProgram, ProgramCounts | None]]:
    """The shared programs that apply in the tenant (all their courses are in its catalog: granted), each with
    the tenant's counts item: ONE BatchGetItem (catalog entries + counts items), none without programs."""
    if not shared:
        return []
    wanted = {(keys.catalog_pk(tenant_id), keys.catalog_course_sk(c)) for p in shared for c in courses_of(p)}
    wanted |= {(keys.cert_program_pk(tenant_id, p.id), keys.CERT_COUNTS_SK) for p in shared}
    got = {(i.PK, i.SK): i for i in Item.batch_get(sorted(wanted))}
    result = []
    for p in shared:
        if all(isinstance(got.get((keys.catalog_pk(tenant_id), keys.catalog_course_sk(c))), CatalogEntry)
               for c in courses_of(p)):
            counts = got.get((keys.cert_program_pk(tenant_id, p.id), keys.CERT_COUNTS_SK))
            result.append((p, counts if isinstance(counts, ProgramCounts) else None))
    return result


# -- the operator's shared programs (`/v1/library/certifications`) ---------------------------------------
def create_library_program(body: Any, actor: str, correlation_id: str) -> dict[str, Any]:
    return _create(keys.LIBRARY, body, actor, correlation_id)


def _load_library(program_id: str) -> CertificationProgram:
    if not is_shared(program_id):
        raise NotFound("No such certification program.")
    return load_program(keys.LIBRARY, program_id)


def get_library_program(program_id: str) -> dict[str, Any]:
    """The operator's view: the definition (counts are per tenant, on the tenant's view)."""
    return to_json(_load_library(program_id))


def list_library_programs(query: Any) -> dict[str, Any]:
    listing = partial(CertificationProgram.gsi1.query, keys.cert_programs_gsi1pk(keys.LIBRARY))
    return pagination.page(listing, "certifications|library", query, to_json, CertificationProgram)


def update_library_program(program_id: str, body: Any) -> dict[str, Any]:
    return _update(keys.LIBRARY, _load_library(program_id), body)


_SIMPLE = {"name": "name", "description": "description", "validityDays": "validity_days",
           "graceDays": "grace_days", "status": "status"}


def _actions(program: CertificationProgram, body: Any, fields: set[str], requirements: list[dict[str, Any]] | None,
             recert: dict[str, Any] | None) -> list[Any]:
    """Apply the patch to `program` and return its update actions."""
    changes: dict[str, Any] = {attr: getattr(body, name) for name, attr in _SIMPLE.items() if name in fields}
    if "reminderDays" in fields:
        changes["reminder_days"] = sorted(set(body.reminderDays), reverse=True)
    if requirements is not None:
        changes["requirements"] = requirements
    if "recertification" in fields:
        changes.update(recert_course_id=(recert or {}).get("courseId"), recert_path_id=(recert or {}).get("pathId"))
    actions = []
    for attr, value in changes.items():
        setattr(program, attr, value)
        column = getattr(CertificationProgram, attr)
        actions.append(column.set(value) if value is not None else column.remove())
    return actions


def update_program(ctx: TenantContext, program_id: str, body: Any) -> dict[str, Any]:
    """A merge patch; new rules apply to certificates issued from now on (issued ones keep theirs)."""
    _require_admin(ctx)
    if is_shared(program_id):
        raise Forbidden("Shared certification programs are the operator's: tenants cannot change them.")
    return _update(ctx.tenant_id, load_program(ctx.tenant_id, program_id), body)


def _update(owner: str, program: CertificationProgram, body: Any) -> dict[str, Any]:
    fields = set(body.model_fields_set)
    for name in ("name", "requirements", "graceDays", "status", "reminderDays"):
        if name in fields and getattr(body, name) is None:
            raise ValidationFailed(f"{name} cannot be null.", errors=[field_error(name, "null")])
    before = targets(program)
    requirements, recert, _ = _check(owner, body, fields, program)
    actions = _actions(program, body, fields, requirements, recert)
    if not actions:
        return to_json(program)
    program.updated_at = utcnow_iso()
    actions += [CertificationProgram.updated_at.set(program.updated_at),
                CertificationProgram.version.set(int(program.version) + 1)]
    _save(program, actions, before)
    program.version = int(program.version) + 1
    return to_json(program)


def _save(program: CertificationProgram, actions: list[Any], before: dict[str, ProgramTarget]) -> None:
    """One conditional UpdateItem, or with changed targets one transaction that also rewrites those."""
    condition = CertificationProgram.version == program.version
    after = targets(program)
    tx = Tx()
    tx.update(program, actions, condition, "program")
    for gone in before.keys() - after.keys():
        tx.delete(before[gone])
    changed = [item for t, item in after.items() if t not in before or before[t].role != item.role]
    for item in changed:
        tx.put(item)
    try:
        if changed or before.keys() - after.keys():
            tx.commit()
        else:
            program.update(actions=actions, condition=condition)
    except TxConflict:
        raise Conflict("The program changed while this request ran; retry it.") from None
    except UpdateError as exc:
        if "ConditionalCheckFailed" not in str(exc):
            raise
        raise Conflict("The program changed while this request ran; retry it.") from None
