"""What the daily job does to one due certificate: remind, expire and start recertification, re-index.

Every change is ONE transaction conditioned on the certificate's `next_due` and `version` (with its events
and the program's status counts), so a re-run or a concurrent run acts on nothing twice. A reminder is
claimed (written) before its email is sent: a crash between the two loses that one email rather than
sending it twice; an email SES refuses is recorded on the reminder (`error`, `retryOn` tomorrow) and the
certificate stays in the due index for the retry (at most MAX_MAIL_ATTEMPTS sends).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import observability as obs
from chalicelib.auth.principal import system_context
from chalicelib.certification import due, mail
from chalicelib.certification.certificates import count_moves
from chalicelib.certification.lookups import Lookups
from chalicelib.clock import utcnow_iso
from chalicelib.errors import NotFound, OnrampError
from chalicelib.events.outbox import event_item
from chalicelib.store import keys
from chalicelib.store.models import Certificate, CertificationProgram, Item, User, plain
from chalicelib.store.tx import Tx, TxConflict

ACTOR = "system:certification"
MAX_MAIL_ATTEMPTS = 3


def summary(cert: Certificate) -> dict[str, Any]:
    return {"id": cert.id, "tenantId": cert.tenant_id, "userId": cert.user_id, "programId": cert.program_id,
            "programName": cert.program_name, "cycle": int(cert.cycle or 1), "status": cert.status,
            "issuedAt": cert.issued_at, "expiresAt": cert.expires_at}


def _plus(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def _retries(cert: Certificate, until: str = "9999-12-31") -> list[dict[str, Any]]:
    """Reminder emails waiting for a retry on or before `until`."""
    return [e for e in (plain(x) for x in cert.reminders_sent or []) if e.get("retryOn") and str(e["retryOn"]) <= until]


def _due_day(cert: Certificate, grace: int) -> str | None:
    """due.next_due_of plus what only the job knows: the program's grace days and pending email retries."""
    if cert.status not in due.WATCHED or not cert.expires_at:
        return None
    retries = [str(e["retryOn"]) for e in _retries(cert)]
    return min([str(d) for d in cert.reminders_due or []] + retries + [_plus(str(cert.expires_at), grace)])


def _days_before_expiry(cert: Certificate) -> Any:
    end = date.fromisoformat(str(cert.expires_at))
    return lambda day: (end - date.fromisoformat(day)).days


class Lifecycle(Lookups):
    """One run's handler (its reads cached for the run: Lookups); `did` counts what it did."""

    def __init__(self, today: date) -> None:
        super().__init__()
        self.today = today.isoformat()
        self.did: Counter[str] = Counter()

    # -- dispatch ---------------------------------------------------------------------------------------
    def handle(self, cert: Certificate, retried: bool = False) -> None:
        program = self.program(cert)
        grace = int(program.grace_days or 0) if program else 0
        end = _plus(str(cert.expires_at), grace) if cert.expires_at else None
        try:
            if cert.status not in due.WATCHED or end is None:
                self._reindex(cert, grace)  # a stale index entry (revoked, renewed): leaves the index
            elif end <= self.today:
                self.expire(cert, program, end)
            elif any(str(d) <= self.today for d in cert.reminders_due or []) or _retries(cert, self.today):
                self.remind(cert, program, grace)
            else:
                self._reindex(cert, grace)  # its expiry day is in the grace period, or the index lags
        except TxConflict:
            if retried:
                raise
            self.did["conflicts"] += 1  # changed since the index was read: act on the fresh item, once
            self.handle(Certificate.get(cert.PK, cert.SK, consistent_read=True), retried=True)

    # -- reminders --------------------------------------------------------------------------------------
    def remind(self, cert: Certificate, program: CertificationProgram | None, grace: int) -> None:
        entries = [plain(e) for e in cert.reminders_sent or []]
        popped = sorted(str(d) for d in cert.reminders_due or [] if str(d) <= self.today)
        retrying = [e for e in entries if e.get("retryOn") and str(e["retryOn"]) <= self.today]
        for e in retrying:
            e.pop("retryOn")
        events: list[tuple[str, dict[str, Any]]] = []
        if popped:  # days missed while the job did not run are recorded, one email goes (the latest)
            offset = _days_before_expiry(cert)
            entries += [{"days": offset(d), "day": d, "superseded": True} for d in popped[:-1]]
            entries.append(sent := {"days": offset(popped[-1]), "day": popped[-1]})
            for e in retrying:
                e["superseded"] = True
        else:
            sent = retrying.pop()
            sent["attempts"] = int(sent.get("attempts") or 1) + 1
            for e in retrying:
                e["superseded"] = True
        user = self.user(cert)
        to = user.email if user and user.status == "active" and user.email else None
        if to:
            sent.pop("error", None)
            sent["sentAt"] = utcnow_iso()
        else:
            sent["skipped"] = "no active user with an email"
        if popped:
            left = (date.fromisoformat(str(cert.expires_at)) - date.fromisoformat(self.today)).days
            events.append(("CertificationExpiring", {"certificate": {**summary(cert), "status": "expiring"},
                                                     "previousStatus": cert.status, "daysLeft": left,
                                                     "reminderDays": sent["days"], "emailed": bool(to)}))
        previous = cert.status
        cert.status, cert.reminders_sent = "expiring", entries
        cert.reminders_due = [d for d in cert.reminders_due or [] if str(d) > self.today]
        self._commit(cert, [Certificate.status.set("expiring"), Certificate.reminders_due.set(cert.reminders_due),
                            Certificate.reminders_sent.set(entries)], grace, events, program, previous)
        self.did["reminders" if popped else "retries"] += 1
        if to and user:
            self._send(cert, program, user, entries.index(sent), grace)

    def _send(self, cert: Certificate, program: CertificationProgram | None, user: User, at: int,
              grace: int) -> None:
        tenant = self.tenant(cert.tenant_id)
        try:
            if tenant is None:
                raise NotFound("The tenant is gone.")
            mail.send(mail.expiring(
                to=str(user.email), tenant=tenant, learner=user.display_name or cert.learner_name,
                program=cert.program_name, certificate_id=cert.id, expires_on=str(cert.expires_at),
                today=date.fromisoformat(self.today), renew_url=self.renew_url(cert, program),
                recertification=self.recert_title(cert, program)))
        except (ClientError, NotFound) as exc:
            self._mail_failed(cert, at, exc, grace)
            return
        self.did["emails"] += 1
        obs.count("CertificationReminderSent")

    def _mail_failed(self, cert: Certificate, at: int, exc: Exception, grace: int) -> None:
        code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
        obs.logger().warning("certification reminder not sent", extra={"certificate": cert.id, "error": code})
        entries = [plain(e) for e in cert.reminders_sent or []]
        entry = entries[at]
        entry.pop("sentAt", None)
        entry["error"] = code
        if int(entry.get("attempts") or 1) < MAX_MAIL_ATTEMPTS:
            entry["retryOn"] = _plus(self.today, 1)
        cert.reminders_sent = entries
        self.did["emailFailures"] += 1
        try:
            self._commit(cert, [Certificate.reminders_sent.set(entries)], grace, [], None, cert.status)
        except TxConflict:  # changed meanwhile (revoked, say): the failure stays in the log only
            pass

    # -- expiry and recertification ---------------------------------------------------------------------
    def expire(self, cert: Certificate, program: CertificationProgram | None, end: str) -> None:
        enrolled = self._recertify(cert, program)
        status = "recertifying" if enrolled else "expired"
        previous = cert.status
        events: list[tuple[str, dict[str, Any]]] = [("CertificationExpired", {
            "certificate": {**summary(cert), "status": "expired"}, "previousStatus": previous, "expiredOn": end})]
        if enrolled:
            events.append(("RecertificationStarted", {"certificate": {**summary(cert), "status": status},
                                                      "cycle": int(cert.cycle or 1) + 1, **enrolled}))
        entries = plain([{k: v for k, v in plain(e).items() if k != "retryOn"} for e in cert.reminders_sent or []])
        cert.status, cert.reminders_due, cert.reminders_sent = status, [], entries
        self._commit(cert, [Certificate.status.set(status), Certificate.reminders_due.set([]),
                            Certificate.reminders_sent.set(entries)], 0, events, program, previous)
        self.did[status] += 1
        obs.count("CertificationExpired")

    def _recertify(self, cert: Certificate, program: CertificationProgram | None) -> dict[str, Any] | None:
        """Enroll the learner in the recertification training for the next cycle (idempotent: one enrollment
        per user, course and cycle, so a re-run after a crash finds the same one). None: nothing to enroll in."""
        from chalicelib.enrollment.service import enroll_automatically

        user = self.user(cert)
        if program is None or not (program.recert_course_id or program.recert_path_id) or user is None \
                or user.status != "active":
            return None
        ctx = system_context(cert.tenant_id, ACTOR)
        try:
            doc, _ = enroll_automatically(ctx, user, course_id=program.recert_course_id,
                                          path_id=program.recert_path_id, source="recertification",
                                          cycle=int(cert.cycle or 1) + 1)
        except OnrampError as exc:  # the training left the catalog, has no published version, ...
            obs.logger().warning("recertification enrollment failed", extra={"certificate": cert.id,
                                                                             "error": exc.detail})
            return None
        ids = [e["id"] for e in doc.get("enrollments", [doc])]
        return {"courseId": program.recert_course_id, "pathId": program.recert_path_id, "enrollmentIds": ids}

    # -- writes -----------------------------------------------------------------------------------------
    def _reindex(self, cert: Certificate, grace: int) -> None:
        if _due_day(cert, grace) != cert.next_due:
            self._commit(cert, [], grace, [], None, cert.status)
            self.did["reindexed"] += 1

    def _commit(self, cert: Certificate, actions: list[Any], grace: int, events: list[tuple[str, dict[str, Any]]],
                program: CertificationProgram | None, previous: str) -> None:
        """One transaction: the certificate (if its next_due and version are still those read), its due-index
        keys, the program's counts moved from `previous` to its new status, and the events."""
        before, version = cert.next_due, int(cert.version or 1)
        day = cert.next_due = _due_day(cert, grace)
        cert.GSI2PK = keys.cert_due_gsi2pk(day, due.shard(cert.id)) if day else None
        cert.GSI2SK = keys.cert_due_gsi2sk(cert.tenant_id, cert.id) if day else None
        index = [a.set(v) if v else a.remove() for a, v in (
            (Certificate.next_due, day), (Certificate.GSI2PK, cert.GSI2PK), (Certificate.GSI2SK, cert.GSI2SK))]
        tx = Tx()
        condition = (Certificate.version == version) & (
            Certificate.next_due == before if before else Certificate.next_due.does_not_exist())
        tx.update(cert, [*actions, *index, Certificate.version.set(version + 1)], condition, "certificate")
        if program is not None and previous != cert.status:
            target, moves = count_moves(cert.program_id, cert.tenant_id, {previous: -1, cert.status: 1})
            tx.update(target, moves, Item.PK.exists(), "program")
        for kind, detail in events:
            tx.put(event_item(cert.tenant_id, kind, detail, actor=ACTOR, correlation_id=obs.correlation_id()))
        tx.commit()
        cert.version = version + 1
