"""A certificate's PDF: rendered once per item version, kept in S3, handed out as a short presigned GET URL.

The learner, their manager and the tenant's admins may fetch it. The certificate item records the key and the
`version` it was rendered from (`pdf_key`, `pdf_version`): a revoked or otherwise changed certificate (its
`version` moved on) renders again, to a key of its own, so a slow render of an older version never overwrites
a newer one.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.models import Model

from chalicelib import aws
from chalicelib.auth.principal import TenantContext
from chalicelib.config import settings
from chalicelib.errors import NotFound
from chalicelib.store import keys
from chalicelib.store.models import Certificate, Tenant, plain

URL_SECONDS = 300  # long enough to open or save it; ask again for another
MAX_LOGO_BYTES = 512 * 1024


def load(tenant_id: str, certificate_id: str) -> Certificate:
    if not keys.is_safe(certificate_id):
        raise NotFound("No such certificate.")
    try:
        return Certificate.get(keys.certificate_pk(tenant_id, certificate_id), keys.CERTIFICATE_SK)
    except Model.DoesNotExist:
        raise NotFound("No such certificate.") from None


def pdf_url(ctx: TenantContext, certificate_id: str, base_url: str) -> str:
    """A presigned GET URL of the certificate's PDF (rendered and stored first if missing or stale)."""
    from chalicelib.enrollment.service import can_see_user

    cert = load(ctx.tenant_id, certificate_id)
    if not can_see_user(ctx, cert.user_id):  # someone else's certificate does not exist for this caller
        raise NotFound("No such certificate.")
    key = cert.pdf_key if cert.pdf_key and cert.pdf_version == cert.version else _render_and_store(cert, base_url)
    url: str = aws.s3().generate_presigned_url("get_object", ExpiresIn=URL_SECONDS, Params={
        "Bucket": settings().bucket_name, "Key": key, "ResponseContentType": "application/pdf",
        "ResponseContentDisposition": f'inline; filename="certificate-{cert.id}.pdf"'})
    return url


def render_input(cert: Certificate) -> dict[str, Any]:
    return {"id": cert.id, "learnerName": cert.learner_name, "programName": cert.program_name,
            "issuedAt": cert.issued_at, "expiresAt": cert.expires_at, "status": cert.status,
            "completed": [plain(item) for item in cert.completed or []]}


def verify_url(base_url: str, certificate_id: str) -> str:
    return f"{base_url.rstrip('/')}/verify/{certificate_id}"


def _render_and_store(cert: Certificate, base_url: str) -> str:
    from chalicelib.certification import pdf

    brand = brand_of(cert.tenant_id)
    body = pdf.render(render_input(cert), brand, verify_url(base_url, cert.id), logo=logo_bytes(brand))
    version = int(cert.version)
    key = keys.certificate_pdf_key(cert.tenant_id, cert.id, version)
    aws.s3().put_object(Bucket=settings().bucket_name, Key=key, Body=body, ContentType="application/pdf",
                        CacheControl="private, max-age=300")
    try:  # remember it, unless the certificate changed meanwhile (then the next request renders the new one)
        cert.update([Certificate.pdf_key.set(key), Certificate.pdf_version.set(version)],
                    condition=Certificate.version == version)
    except UpdateError as err:
        if err.cause_response_code != "ConditionalCheckFailedException":
            raise
    return key


def brand_of(tenant_id: str) -> dict[str, Any]:
    try:
        tenant = Tenant.get(keys.tenant_pk(tenant_id), keys.TENANT_SK)
    except Model.DoesNotExist:
        raise NotFound("No such certificate.") from None
    return tenant_brand(tenant)


def tenant_brand(tenant: Tenant) -> dict[str, Any]:
    """The tenant's effective branding: its partner's live brand kit rides on the item (no extra read)."""
    from chalicelib.tenancy.branding import effective

    return effective(tenant)


def logo_bytes(brand: dict[str, Any]) -> bytes | None:
    """The logo from the content bucket's public `content/` prefix (`/content/...`) or a data URL; any other URL
    is never fetched at render time (the wordmark stands in)."""
    from chalicelib.certification.pdf import data_url_image

    url = str(brand.get("logoUrl") or "")
    if url.startswith("data:"):
        return data_url_image(url)
    if not url.startswith("/content/") or ".." in url.split("/"):
        return None
    s3 = aws.s3()
    try:
        found = s3.get_object(Bucket=settings().bucket_name, Key=url[1:])
    except s3.exceptions.NoSuchKey:
        return None
    if int(found.get("ContentLength") or 0) > MAX_LOGO_BYTES:
        return None
    data: bytes = found["Body"].read()
    return data
