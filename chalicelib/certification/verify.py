"""Public verification of a certificate by its id alone: valid, expired or revoked, and nothing private.

Certificate ids are `new_id` values (48 bits of time and 80 random bits), so they cannot be guessed or
enumerated; whoever holds one (from the PDF's QR code) sees the certificate's public face: status, program,
learner name, issuer name and dates. Never an email, a user id or a tenant id. Cost: the operator-level
locator (id -> tenant), then the certificate and its tenant in one BatchGetItem.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pynamodb.models import Model

from chalicelib.clock import utcnow
from chalicelib.errors import NotFound
from chalicelib.store import keys
from chalicelib.store.models import Certificate, CertificateLocator, Item, Tenant

ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
EXPIRED_STATES = ("expired", "recertifying")
LABELS = {"valid": "Valid", "expired": "Expired", "revoked": "Revoked"}


def status_of(cert: Certificate, today: date) -> str:
    """revoked, else expired (marked so, or on and after its expiry day), else valid."""
    if cert.status == "revoked":
        return "revoked"
    if cert.status in EXPIRED_STATES or (cert.expires_at and cert.expires_at[:10] <= today.isoformat()):
        return "expired"
    return "valid"


def lookup(certificate_id: str, today: date | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the public fields, the issuer's brand) of a certificate; an unknown or malformed id is a NotFound."""
    from chalicelib.certification.downloads import tenant_brand

    if not ID.match(certificate_id):
        raise NotFound("No such certificate.")
    try:
        tenant_id = CertificateLocator.get(keys.cert_id_pk(certificate_id), keys.CERT_ID_SK).tenant_id
    except Model.DoesNotExist:
        raise NotFound("No such certificate.") from None
    found = Item.batch_get([(keys.certificate_pk(tenant_id, certificate_id), keys.CERTIFICATE_SK),
                            (keys.tenant_pk(tenant_id), keys.TENANT_SK)])
    cert = tenant = None
    for item in found:
        if isinstance(item, Certificate) and item.id == certificate_id:
            cert = item
        elif isinstance(item, Tenant):
            tenant = item
    if cert is None or tenant is None:
        raise NotFound("No such certificate.")
    brand = tenant_brand(tenant)
    return public_fields(cert, str(brand["displayName"]), today or utcnow().date()), brand


def public_fields(cert: Certificate, issuer: str, today: date) -> dict[str, Any]:
    return {"status": status_of(cert, today), "program": cert.program_name, "learnerName": cert.learner_name,
            "issuer": issuer, "issuedOn": cert.issued_at[:10],
            "expiresOn": cert.expires_at[:10] if cert.expires_at else None}


def page(certificate_id: str) -> tuple[int, str]:
    """The HTML page (status code, body) in the issuer's brand; a plain not-found page for an unknown id."""
    from chalicelib.pages import render

    try:
        result, brand = lookup(certificate_id)
    except NotFound:
        return 404, render("verify.html", result=None, brand=page_brand({}), certificate_id=None, labels=LABELS)
    return 200, render("verify.html", result=result, brand=page_brand(brand), certificate_id=certificate_id,
                       labels=LABELS)


def page_brand(brand: dict[str, Any]) -> dict[str, Any]:
    """Only values safe in CSS and an img src: #rrggbb colours, a logo on our own `/content/`, https or a data
    URL of an image."""
    from chalicelib.certification.pdf import DEFAULTS

    colours = {k: v if isinstance(v := brand.get(k), str) and COLOUR.match(v) else fallback
               for k, fallback in DEFAULTS.items()}
    logo = str(brand.get("logoUrl") or "")
    safe_logo = logo.startswith(("/content/", "https://", "data:image/")) and not any(c in logo for c in "\"'<> ")
    return {**colours, "displayName": brand.get("displayName") or "", "logoUrl": logo if safe_logo else None}
