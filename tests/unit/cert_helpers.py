"""Certificates made directly with the models (as certification.issue writes them: the certificate, its user
index entry and the public locator), for the PDF and verification tests; and reading the stored PDF back."""

from __future__ import annotations

from typing import Any

from chalicelib.clock import new_id, utcnow_iso
from chalicelib.store import keys
from chalicelib.store.models import Certificate, CertificateLocator

UNICODE_NAME = "Zoë Łukasiewicz-Ñúñez Юлия"  # DejaVu Sans has Latin, Greek and Cyrillic, not CJK (no 李小龙)


def make_certificate(tenant_id: str, user_id: str, **overrides: Any) -> Certificate:
    cert_id = overrides.pop("id", None) or new_id("ce")
    issued_at = overrides.pop("issued_at", None) or utcnow_iso()
    fields: dict[str, Any] = {
        "learner_name": UNICODE_NAME, "program_id": "cp-closing", "program_name": "Certified Closer — Level 2",
        "status": "active", "expires_at": "2099-01-31",
        "completed": [{"courseId": "co-closing", "title": "Closing Techniques", "version": 3, "score": 92,
                       "completedAt": issued_at}],
        "score": 92, **overrides}
    cert = Certificate(PK=keys.certificate_pk(tenant_id, cert_id), SK=keys.CERTIFICATE_SK,
                       GSI1PK=keys.user_certificates_gsi1pk(tenant_id, user_id),
                       GSI1SK=keys.user_certificates_gsi1sk(issued_at, cert_id),
                       id=cert_id, tenant_id=tenant_id, user_id=user_id, issued_at=issued_at, **fields)
    cert.save()
    CertificateLocator(PK=keys.cert_id_pk(cert_id), SK=keys.CERT_ID_SK, tenant_id=tenant_id).save()
    return cert


def revoke(tenant_id: str, cert_id: str) -> None:
    """What a revocation does to the item: status and version move on."""
    cert = Certificate.get(keys.certificate_pk(tenant_id, cert_id), keys.CERTIFICATE_SK)
    cert.update([Certificate.status.set("revoked"), Certificate.revoked_at.set(utcnow_iso()),
                 Certificate.version.add(1)])


def stored_pdf(tenant_id: str, cert_id: str) -> tuple[str, bytes]:
    """The PDF the certificate item points at: (key, bytes)."""
    from chalicelib import aws
    from chalicelib.config import settings

    cert = Certificate.get(keys.certificate_pk(tenant_id, cert_id), keys.CERTIFICATE_SK)
    assert cert.pdf_key and cert.pdf_version == cert.version
    body = aws.s3().get_object(Bucket=settings().bucket_name, Key=cert.pdf_key)["Body"].read()
    return cert.pdf_key, body
