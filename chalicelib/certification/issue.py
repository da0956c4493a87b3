"""Issue exactly once: completions (courses, paths, xAPI statements) evaluate the programs they touch.

A completion of target X finds the programs counting X with one Query (GSI2 programs_of_target; a course: one
more of the shared library's, whose programs apply where the tenant's catalog has all their courses: one
BatchGetItem). A program whose requirements are all met is issued in ONE transaction: the claim
`CERTCLAIM#<program>#<cycle>` in the learner's partition (attribute_not_exists: a redelivered or concurrent event
loses here and does nothing), the certificate (due-date index set), its locator, the program's counts
(`ADD counts.active :1` on the program item; a shared program: the tenant's `ProgramCounts` item) and
`CertificationIssued`. The next cycle's certificate (renewal) is issued the same way and marks the previous one
`renewed` in the same transaction (docs/certifications.md, "Cycles").
"""

from __future__ import annotations

from typing import Any

from chalicelib import observability
from chalicelib.certification import due, programs
from chalicelib.certification.certificates import count_moves
from chalicelib.certification.criteria import Learner, recertification_met, requirements_met, user_of_agent
from chalicelib.certification.programs import is_shared, load_program, target_of
from chalicelib.clock import new_id, utcnow_iso
from chalicelib.errors import NotFound
from chalicelib.events.consumer import EventEnvelope, subscribe
from chalicelib.events.outbox import event_item
from chalicelib.lrs.facets import value_hash
from chalicelib.store import keys
from chalicelib.store.models import (
    Certificate,
    CertificateClaim,
    CertificateLocator,
    CertificationProgram,
    Item,
    ProgramTarget,
    plain,
)
from chalicelib.store.tx import Tx, TxConflict

RENEWABLE = ("expiring", "expired", "recertifying")  # a later cycle may be issued from these
NOT_IN_LIBRARY = ("lp-", "xact-")  # path ids, activity targets (keys.activity_target_id): no shared program has them


def programs_of(tenant_id: str, target_id: str) -> list[ProgramTarget]:
    """The tenant's programs counting the target, and for a course the shared library's too (one more Query;
    shared programs count shared-library courses only, so paths and statement activities skip it)."""
    owners = [tenant_id] + ([] if target_id.startswith(NOT_IN_LIBRARY) else [keys.LIBRARY])
    return [t for owner in owners for t in ProgramTarget.gsi2.query(keys.programs_of_target_gsi2pk(owner, target_id))
            if isinstance(t, ProgramTarget)]


def on_target_completed(tenant_id: str, user_id: str, target_id: str, cause: EventEnvelope,
                        entries: list[ProgramTarget] | None = None) -> list[str]:
    """Evaluate every program the completed target counts towards; the ids of the certificates issued."""
    entries = programs_of(tenant_id, target_id) if entries is None else entries
    if not entries or not keys.is_safe(user_id):
        return []
    learner = Learner(tenant_id, user_id)
    issued, loaded = [], []
    for entry in entries:
        try:
            loaded.append(load_program(tenant_id, entry.program_id))
        except NotFound:
            continue  # the index item outlived its program
    shared = [p for p in loaded if is_shared(p.id)]
    if shared:  # a shared program applies where all its courses are in the tenant's catalog: one BatchGetItem
        applying = {p.id for p, _ in programs.applying(tenant_id, shared)}
        loaded = [p for p in loaded if not is_shared(p.id) or p.id in applying]
    for program in loaded:
        made = evaluate(program, learner, target_id, cause)
        if made:
            issued.append(made)
    return issued


def evaluate(program: CertificationProgram, learner: Learner, target_id: str, cause: EventEnvelope) -> str | None:
    """Issue the program's next certificate if the learner now qualifies for it (the cycle rule)."""
    if program.status != "active":
        return None
    requirement = target_id in {target_of(plain(r)) for r in program.requirements or []}
    recert = target_id in (program.recert_course_id, program.recert_path_id)
    latest = learner.latest(program.id)
    if latest is None:
        completed = requirements_met(program, learner, None) if requirement else None
        return issue(program, learner, 1, completed, None, cause) if completed else None
    if latest.status not in RENEWABLE:
        return None  # active: certified already; renewed: not the latest; revoked: an admin's decision stands
    cycle = int(latest.cycle) + 1  # a path counts only if completed in this cycle (PathCompleted's `cycle`)
    completed = recertification_met(program, learner, latest.issued_at, cycle) if recert else None
    if completed is None and requirement:
        completed = requirements_met(program, learner, latest.issued_at, cycle)
    return issue(program, learner, cycle, completed, latest, cause) if completed else None


def _score(completed: list[dict[str, Any]]) -> float | None:
    scores = [float(c["score"]) for c in completed if c.get("score") is not None]
    return round(sum(scores) / len(scores), 2) if scores else None


def issue(program: CertificationProgram, learner: Learner, cycle: int, completed: list[dict[str, Any]],
          previous: Certificate | None, cause: EventEnvelope) -> str | None:
    """One transaction: claim, certificate, locator, counts, event (and the previous cycle renewed)."""
    tenant_id, user = learner.tenant_id, learner.user  # a shared program issues in the learner's tenant
    now, cert_id = utcnow_iso(), new_id("ce")
    today = now[:10]
    expires = due.expiry_day(today, None if program.validity_days is None else int(program.validity_days))
    cert = Certificate(
        PK=keys.certificate_pk(tenant_id, cert_id), SK=keys.CERTIFICATE_SK,
        GSI1PK=keys.user_certificates_gsi1pk(tenant_id, user.id), GSI1SK=keys.user_certificates_gsi1sk(now, cert_id),
        id=cert_id, tenant_id=tenant_id, user_id=user.id, learner_name=user.display_name, program_id=program.id,
        program_name=program.name, cycle=cycle, status="active", issued_at=now, expires_at=expires,
        completed=completed, score=_score(completed),
        reminders_due=due.reminder_days(today, expires, [int(d) for d in plain(program.reminder_days or [])]),
        reminders_sent=[], version=1)
    due.set_next_due(cert)
    claim = CertificateClaim(PK=keys.user_pk(tenant_id, user.id), SK=keys.cert_claim_sk(program.id, cycle),
                             GSI1PK=keys.tenant_certificates_gsi1pk(tenant_id),
                             GSI1SK=keys.tenant_certificates_gsi1sk(program.id, now, cert_id), certificate_id=cert_id)
    moves = {"active": 1}
    tx = Tx()
    tx.put(claim, Item.PK.does_not_exist(), "claim")
    tx.put(cert, Item.PK.does_not_exist(), "certificate")
    tx.put(CertificateLocator(PK=keys.cert_id_pk(cert_id), SK=keys.CERT_ID_SK, tenant_id=tenant_id),
           Item.PK.does_not_exist(), "locator")
    if previous is not None:
        moves.update({str(previous.status): -1, "renewed": 1})
        previous.status = "renewed"
        tx.update(previous, [Certificate.status.set("renewed"), Certificate.version.set(int(previous.version) + 1),
                             *due.due_actions(previous)],
                  Certificate.version == previous.version, "previous")
    target, counts = count_moves(program.id, tenant_id, moves)
    tx.update(target, counts, None if is_shared(program.id) else Item.PK.exists(), "program")
    detail = {"certificateId": cert_id, "userId": user.id, "certificationId": program.id,
              "certificationName": program.name, "cycle": cycle, "issuedAt": now, "expiresAt": expires,
              "completed": completed, "score": cert.score,
              "previousCertificateId": previous.id if previous is not None else None}
    tx.put(event_item(tenant_id, "CertificationIssued", detail, actor=cause.actor, correlation_id=cause.correlation_id))
    try:
        tx.commit()
    except TxConflict as exc:
        if "claim" in exc.labels:
            return None  # issued already: a redelivered or concurrent completion
        raise  # the previous cycle moved meanwhile (the reminders job): the stream retries the event
    observability.count("CertificationIssued")
    return cert_id


# -- subscribers -----------------------------------------------------------------------------------------
@subscribe("CourseCompleted")
def _on_course_completed(event: EventEnvelope) -> None:
    if event.tenant_id:
        on_target_completed(event.tenant_id, str(event.detail["userId"]), str(event.detail["courseId"]), event)


@subscribe("PathCompleted")
def _on_path_completed(event: EventEnvelope) -> None:
    if event.tenant_id:
        on_target_completed(event.tenant_id, str(event.detail["userId"]), str(event.detail["pathId"]), event)


@subscribe("StatementsStored")
def _on_statements_stored(event: EventEnvelope) -> None:
    """Statement criteria: per distinct activity of the batch one Query of the programs that count it; the
    learners (account agents of the platform) of matching statements are evaluated."""
    if not event.tenant_id:
        return
    learners: dict[str, set[str]] = {}
    for s in event.detail.get("statements") or []:
        user_id = user_of_agent(s.get("actor"))
        if s.get("activity") and user_id and not s.get("voids"):
            learners.setdefault(keys.activity_target_id(value_hash(str(s["activity"]))), set()).add(user_id)
    for target, users in learners.items():
        entries = programs_of(event.tenant_id, target)
        for user_id in sorted(users) if entries else []:
            on_target_completed(event.tenant_id, user_id, target, event, entries)
