"""Certificate exports (CSV or JSON): issue date, content versions, expiry, status, learner, program.

Admins export the tenant's certificates: the claims carry a GSI1 collection of the tenant's certificates by
program (`T#<t>#CERTS`, `<program>#<issuedAt>#<c>`; one program is a prefix), read a page at a time (Query)
with the certificates themselves in BatchGetItems of 100 (their status changes; the claims do not). Managers
export their reports' certificates: the reports (one Query), then each report's certificates (one Query
each). Up to INLINE_ROWS rows are answered inline; a larger export is written to S3
(keys.certificate_export_key) and answered with a 302 to a presigned URL. An admin's export of more than
ASYNC_ROWS certificates (the claims are counted first, reading at most ASYNC_ROWS + 1 of them), or any
admin export asked with `async=true`, runs in the background instead (export_job): 202 and a status URL.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from chalicelib import aws
from chalicelib.auth.principal import TenantContext
from chalicelib.clock import new_id
from chalicelib.config import settings
from chalicelib.errors import Forbidden, ValidationFailed, field_error
from chalicelib.store import keys
from chalicelib.store.models import Certificate, CertificateClaim, User, plain

INLINE_ROWS = 2000  # ≈ 0.6 MB of CSV: well inside Lambda's 6 MB response, fast to build
ASYNC_ROWS = 20_000  # above: in the background (≈ 200 BatchGetItems would approach API Gateway's 29 s)
URL_SECONDS = 900
COLUMNS = ("certificateId", "certificationId", "certificationName", "userId", "learnerName", "status", "cycle",
           "issuedAt", "expiresAt", "contentVersions", "score", "revokedAt")
_BATCH = 100


def row(c: Certificate) -> dict[str, Any]:
    versions = ";".join(f"{x['courseId']}@v{x['version']}" for x in plain(c.completed or []) if x.get("courseId"))
    return {"certificateId": c.id, "certificationId": c.program_id, "certificationName": c.program_name,
            "userId": c.user_id, "learnerName": c.learner_name, "status": c.status, "cycle": int(c.cycle),
            "issuedAt": c.issued_at, "expiresAt": c.expires_at, "contentVersions": versions,
            "score": None if c.score is None else float(c.score), "revokedAt": c.revoked_at}


def _batched(tenant_id: str, ids: Iterator[str]) -> Iterator[Certificate]:
    chunk: list[str] = []
    for cid in ids:
        chunk.append(cid)
        if len(chunk) == _BATCH:
            yield from _get(tenant_id, chunk)
            chunk = []
    if chunk:
        yield from _get(tenant_id, chunk)


def _get(tenant_id: str, ids: list[str]) -> list[Certificate]:
    found = {c.id: c for c in Certificate.batch_get([(keys.certificate_pk(tenant_id, i), keys.CERTIFICATE_SK)
                                                     for i in ids])}
    return [found[i] for i in ids if i in found]


def _tenant_claims(tenant_id: str, program_id: str | None, limit: int) -> list[str]:
    """At most `limit` certificate ids of the tenant's claims (GSI1; one program: a prefix)."""
    cond = CertificateClaim.GSI1SK.startswith(keys.tenant_certificates_gsi1sk(program_id)) if program_id else None
    claims = CertificateClaim.gsi1.query(keys.tenant_certificates_gsi1pk(tenant_id), cond, limit=limit)
    return [c.certificate_id for c in claims if isinstance(c, CertificateClaim)]


def _reports_certificates(ctx: TenantContext, program_id: str | None) -> Iterator[Certificate]:
    for user in User.gsi2.query(keys.reports_gsi2pk(ctx.tenant_id, ctx.principal.subject)):
        if not isinstance(user, User):
            continue
        for c in Certificate.gsi1.query(keys.user_certificates_gsi1pk(ctx.tenant_id, user.id)):
            if isinstance(c, Certificate) and (program_id is None or c.program_id == program_id):
                yield c


def render(rows: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"items": rows}, separators=(",", ":"))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows)
    return out.getvalue()


def export(ctx: TenantContext, fmt: str, program_id: str | None,
           asynchronous: bool = False) -> tuple[str, str | None, dict[str, Any] | None]:
    """(body, None, None) for an inline export, ("", presigned URL, None) once it is larger than INLINE_ROWS,
    ("", None, status of the background export) above ASYNC_ROWS or when asked (admins)."""
    if ctx.acts_as_admin:
        from chalicelib.certification import export_job

        if asynchronous:
            return "", None, export_job.start(ctx, fmt, program_id)
        ids = _tenant_claims(ctx.tenant_id, program_id, ASYNC_ROWS + 1)
        if len(ids) > ASYNC_ROWS:
            return "", None, export_job.start(ctx, fmt, program_id)
        certificates = _batched(ctx.tenant_id, iter(ids))
    elif ctx.principal.has_role("manager"):
        if asynchronous:
            raise ValidationFailed("Background exports are for admins; a manager's export (their reports) is "
                                   "answered directly.", errors=[field_error("async", "admins only")])
        certificates = _reports_certificates(ctx, program_id)
    else:
        raise Forbidden("Admins and managers export certificates.")
    rows = [row(c) for c in certificates]
    body = render(rows, fmt)
    if len(rows) <= INLINE_ROWS:
        return body, None, None
    key = keys.certificate_export_key(ctx.tenant_id, new_id("ex"), fmt)
    content_type = "text/csv" if fmt == "csv" else "application/json"
    aws.s3().put_object(Bucket=settings().bucket_name, Key=key, Body=body.encode(), ContentType=content_type)
    url = aws.s3().generate_presigned_url("get_object", Params={"Bucket": settings().bucket_name, "Key": key},
                                          ExpiresIn=URL_SECONDS)
    return "", str(url), None
