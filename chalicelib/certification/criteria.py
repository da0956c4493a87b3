"""Whether a learner meets a program's requirements: what they completed (version, score), read lazily.

A learner's enrollments are one Query (they hold each course's version, score and completion time), a path
completion one GetItem, a statement criterion one bounded Query of the learner's agent partition in the
LRS. `since` (the previous certificate's issue time) makes only later completions count for a new cycle.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import Any

from pynamodb.models import Model

from chalicelib.clock import iso, utcnow
from chalicelib.config import settings
from chalicelib.store import keys
from chalicelib.store.models import (
    Certificate,
    CertificateClaim,
    CertificationProgram,
    Enrollment,
    LearningPath,
    PathCompletion,
    StatementRecord,
    User,
    plain,
)

MAX_STATEMENTS_READ = 2000  # a statement criterion reads at most this many of the learner's statements


def agent_of(user_id: str) -> str:
    """The learner's xAPI agent as the platform records it (an account on the issuer), as an IFI key."""
    return f"account|{settings().issuer}|{user_id}"


def user_of_agent(actor: Any) -> str | None:
    """The platform user an xAPI actor names (an account agent on the issuer), else None."""
    account = actor.get("account") if isinstance(actor, dict) else None
    if not isinstance(account, dict) or account.get("homePage") != settings().issuer:
        return None
    name = str(account.get("name") or "")
    return name if keys.is_safe(name) else None


class Learner:
    """One learner's records in a tenant, each read on first use and once."""

    def __init__(self, tenant_id: str, user_id: str) -> None:
        self.tenant_id, self.user_id = tenant_id, user_id

    @cached_property
    def user(self) -> User:
        return User.get(keys.user_pk(self.tenant_id, self.user_id), keys.USER_SK)

    @cached_property
    def enrollments(self) -> dict[str, list[Enrollment]]:
        found: dict[str, list[Enrollment]] = {}
        for e in Enrollment.gsi1.query(keys.user_enrollments_gsi1pk(self.tenant_id, self.user_id)):
            if isinstance(e, Enrollment):
                found.setdefault(e.course_id, []).append(e)
        return found

    def latest(self, program_id: str) -> Certificate | None:
        """The certificate of the program's latest cycle (its claims: one Query; the certificate: one GetItem)."""
        prefix = CertificateClaim.SK.startswith(keys.cert_claim_prefix(program_id))
        claims = [c for c in CertificateClaim.query(keys.user_pk(self.tenant_id, self.user_id), prefix)
                  if isinstance(c, CertificateClaim)]
        if not claims:
            return None
        last = max(claims, key=lambda c: int(c.SK.rsplit("#", 1)[1]))
        return Certificate.get(keys.certificate_pk(self.tenant_id, last.certificate_id), keys.CERTIFICATE_SK)

    def course(self, course_id: str, since: str | None, min_score: float | None = None) -> dict[str, Any] | None:
        """The latest completion of a course (after `since`, at least `min_score`) as a certificate records it."""
        done = [e for e in self.enrollments.get(course_id, [])
                if e.status == "completed" and e.completed_at and (since is None or str(e.completed_at) > since)
                and (min_score is None or (e.score is not None and float(e.score) >= min_score))]
        if not done:
            return None
        e = max(done, key=lambda x: str(x.completed_at))
        return {"kind": "course", "courseId": e.course_id, "version": int(e.version),
                "score": None if e.score is None else float(e.score), "completedAt": e.completed_at,
                "enrollmentId": e.id}

    def path(self, path_id: str, since: str | None, cycle: int = 1) -> list[dict[str, Any]] | None:
        """A completed path's courses (each with version and score); None if not completed (after `since`) in
        the certificate cycle `cycle` (a path completion is recorded once per cycle: keys.path_done_cycle_sk)."""
        try:
            done = PathCompletion.get(keys.user_pk(self.tenant_id, self.user_id),
                                      keys.path_done_cycle_sk(path_id, cycle))
            path = LearningPath.get(keys.path_pk(self.tenant_id, path_id), keys.PATH_SK)
        except Model.DoesNotExist:
            return None
        if since is not None and str(done.completed_at) <= since:
            return None
        out = []
        for course in (plain(c) for c in path.courses or []):
            entry = self.course(course["courseId"], None)
            if entry is None:
                return None
            out.append({**entry, "title": course.get("title"), "pathId": path_id})
        return out

    def statements(self, requirement: dict[str, Any], since: str | None) -> dict[str, Any] | None:
        """`count` statements of the learner with the verb about the activity (in the window), newest first."""
        agent, want = agent_of(self.user_id), int(requirement.get("count") or 1)
        low = since or "0"
        if requirement.get("withinDays"):
            low = max(low, iso(utcnow() - timedelta(days=int(requirement["withinDays"]))))
        from chalicelib.lrs import indexing

        cond = (StatementRecord.voided.does_not_exist() & StatementRecord.agents.contains(agent)
                & (StatementRecord.verb == requirement["verb"])
                & (StatementRecord.activity == requirement["activityId"]))
        seen: set[str] = set()
        for pk in indexing.of(self.tenant_id, "agent", agent).pks:
            results = StatementRecord.query(pk, StatementRecord.SK > low, filter_condition=cond,
                                            scan_index_forward=False, page_size=200)
            for record in results:
                seen.add(record.statement_id)
                if len(seen) >= want or results.page_iter.total_scanned_count >= MAX_STATEMENTS_READ:
                    break
        if len(seen) < want:
            return None
        return {"kind": "statements", "verb": requirement["verb"], "activityId": requirement["activityId"],
                "count": len(seen)}


def requirements_met(program: CertificationProgram, learner: Learner, since: str | None,
                     cycle: int = 1) -> list[dict[str, Any]] | None:
    """What the learner completed for each requirement (courses with version and score), or None if unmet;
    `cycle`: the certificate cycle being issued (which path completions count)."""
    completed: list[dict[str, Any]] = []
    for r in (plain(x) for x in program.requirements or []):
        if r["kind"] == "course":
            entry = learner.course(r["courseId"], since, r.get("minScore"))
            found = None if entry is None else [{**entry, "title": r.get("title")}]
        elif r["kind"] == "path":
            found = learner.path(r["pathId"], since, cycle)
        else:
            statement = learner.statements(r, since)
            found = None if statement is None else [statement]
        if found is None:
            return None
        completed += found
    return completed


def recertification_met(program: CertificationProgram, learner: Learner, since: str,
                        cycle: int = 1) -> list[dict[str, Any]] | None:
    """The program's recertification training completed after `since` (a path: in the cycle being issued)."""
    if program.recert_course_id:
        entry = learner.course(program.recert_course_id, since)
        return None if entry is None else [{**entry, "recertification": True}]
    if program.recert_path_id:
        return learner.path(program.recert_path_id, since, cycle)
    return None
