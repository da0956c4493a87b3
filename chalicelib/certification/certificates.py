"""Certificates: read one, list a user's, revoke (admins), and the counts by status kept on the program."""

from __future__ import annotations

from functools import partial
from typing import Any

from pynamodb.models import Model

from chalicelib.auth.principal import TenantContext
from chalicelib.certification import due
from chalicelib.clock import utcnow_iso
from chalicelib.errors import Conflict, Forbidden, NotFound
from chalicelib.events.outbox import event_item
from chalicelib.store import keys, pagination
from chalicelib.store.models import Certificate, CertificationProgram, Item, ProgramCounts, plain
from chalicelib.store.tx import Tx, TxConflict


def to_json(c: Certificate) -> dict[str, Any]:
    return {"id": c.id, "tenantId": c.tenant_id, "userId": c.user_id, "learnerName": c.learner_name,
            "certificationId": c.program_id, "certificationName": c.program_name, "cycle": int(c.cycle),
            "status": c.status, "issuedAt": c.issued_at, "expiresAt": c.expires_at,
            "completed": plain(c.completed or []), "score": None if c.score is None else float(c.score),
            "remindersDue": [str(d) for d in c.reminders_due or []], "remindersSent": plain(c.reminders_sent or []),
            "nextDue": c.next_due, "revokedAt": c.revoked_at, "revokedReason": c.revoked_reason}


def load_certificate(tenant_id: str, certificate_id: str) -> Certificate:
    try:
        return Certificate.get(keys.certificate_pk(tenant_id, certificate_id), keys.CERTIFICATE_SK)
    except (Model.DoesNotExist, ValueError):
        raise NotFound("No such certificate.") from None


def count_moves(program_id: str, tenant_id: str, moves: dict[str, int]) -> tuple[Item, list[Any]]:
    """The program item and the `ADD counts.<status> :n` actions for a transaction (the jobs use it too:
    `count_moves(p, t, {"active": -1, "expiring": 1})`). A shared program's counts are the tenant's own
    `ProgramCounts` item (`ADD <status> :n`; the first issue in the tenant creates it)."""
    from chalicelib.certification.programs import is_shared

    if is_shared(program_id):
        counts = ProgramCounts(PK=keys.cert_program_pk(tenant_id, program_id), SK=keys.CERT_COUNTS_SK)
        return counts, [ProgramCounts.type.set(ProgramCounts),
                        *(getattr(ProgramCounts, status).add(n) for status, n in moves.items() if n)]
    program = CertificationProgram(PK=keys.cert_program_pk(tenant_id, program_id), SK=keys.CERT_PROGRAM_SK)
    return program, [CertificationProgram.counts[status].add(n) for status, n in moves.items() if n]


def get_certificate(ctx: TenantContext, certificate_id: str) -> dict[str, Any]:
    from chalicelib.enrollment.service import can_see_user

    cert = load_certificate(ctx.tenant_id, certificate_id)
    if not can_see_user(ctx, cert.user_id):
        raise NotFound("No such certificate.")
    return to_json(cert)


def list_user_certificates(ctx: TenantContext, user_id: str, query: Any) -> dict[str, Any]:
    """The user (their own), their manager, admins; newest first."""
    from chalicelib.enrollment.service import can_see_user
    from chalicelib.users.service import load_user

    if not keys.is_safe(user_id) or not can_see_user(ctx, user_id):
        raise NotFound("No such user.")
    if user_id != ctx.principal.subject and ctx.acts_as_admin and not query.cursor:
        load_user(ctx.tenant_id, user_id)  # an unknown user is a 404, as GET …/users/{userId} says
    listing = partial(Certificate.gsi1.query, keys.user_certificates_gsi1pk(ctx.tenant_id, user_id),
                      scan_index_forward=False)
    return pagination.page(listing, f"certificates|{ctx.tenant_id}|{user_id}", query, to_json, Certificate)


def revoke(ctx: TenantContext, certificate_id: str, reason: str) -> dict[str, Any]:
    """Admins revoke: the status, the counts, the due-date entry cleared, `CertificationRevoked`; once."""
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins revoke certificates.")
    cert = load_certificate(ctx.tenant_id, certificate_id)
    if cert.status == "revoked":
        return to_json(cert)
    before, now = str(cert.status), utcnow_iso()
    cert.status, cert.revoked_at, cert.revoked_reason = "revoked", now, reason
    tx = Tx()
    tx.update(cert, [Certificate.status.set("revoked"), Certificate.revoked_at.set(now),
                     Certificate.revoked_reason.set(reason), Certificate.version.set(int(cert.version) + 1),
                     *due.due_actions(cert)], Certificate.version == cert.version, "certificate")
    program, counts = count_moves(cert.program_id, ctx.tenant_id, {before: -1, "revoked": 1})
    tx.update(program, counts, Item.PK.exists(), "program")
    tx.put(event_item(ctx.tenant_id, "CertificationRevoked",
                      {"certificateId": cert.id, "userId": cert.user_id, "certificationId": cert.program_id,
                       "previousStatus": before, "reason": reason, "revokedAt": now},
                      actor=ctx.principal.subject, correlation_id=ctx.correlation_id))
    try:
        tx.commit()
    except TxConflict:
        raise Conflict("The certificate changed while this request ran; retry it.") from None
    cert.version = int(cert.version) + 1
    return to_json(cert)
