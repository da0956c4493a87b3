"""Certification emails: rendered from Jinja2 templates in the tenant's brand, sent through SES (v2)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib import aws, pages
from chalicelib.config import settings
from chalicelib.store.models import Tenant

_COLOUR = re.compile(r"^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?\Z")
_DEFAULTS = {"primaryColor": "#1f6feb", "accentColor": "#f5a623", "textColor": "#1b1f24"}
_FONTS = {"Times": "Georgia,'Times New Roman',serif", "Courier": "'Courier New',Courier,monospace"}
_SANS = "Helvetica,Arial,sans-serif"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str


def brand(tenant: Tenant) -> dict[str, Any]:
    """The tenant's brand for an email: colours that are not hex colours fall back to the defaults (a style
    attribute takes nothing else), a relative logo URL becomes absolute. The effective branding: a partner's
    customer gets its partner's support messaging and email footer (the live kit is on the tenant item)."""
    from chalicelib.tenancy.branding import effective

    given = effective(tenant)
    out = {k: given.get(k) if _COLOUR.match(str(given.get(k) or "")) else v for k, v in _DEFAULTS.items()}
    logo = str(given.get("logoUrl") or "")
    if logo.startswith("/"):
        logo = base_url() + logo
    out.update(displayName=str(given.get("displayName") or tenant.name), logoUrl=logo if logo.startswith("https://")
               or logo.startswith("http://") else "", fontStack=_FONTS.get(str(given.get("font")), _SANS),
               deliveredBy=(given.get("deliveredBy") or {}).get("name"), support=given.get("support"),
               footer=given.get("emailFooter"))
    return out


def base_url() -> str:
    cfg = settings()
    return cfg.public_url or cfg.issuer.rstrip("/")


def renew_url(tenant_id: str, course_id: str | None, path_id: str | None) -> str:
    """Where the learner renews: the recertification course or path, else their enrollments."""
    tenant = f"{base_url()}/v1/tenants/{tenant_id}"
    if course_id:
        return f"{tenant}/courses/{course_id}"
    return f"{tenant}/paths/{path_id}" if path_id else f"{tenant}/me/enrollments"


def expiring(*, to: str, tenant: Tenant, learner: str, program: str, certificate_id: str, expires_on: str,
             today: date, renew_url: str, recertification: str | None) -> Mail:
    """The reminder that a certificate expires soon: plain text and HTML from the same context."""
    days_left = (date.fromisoformat(expires_on) - today).days
    subject = f"{program}: your certification expires on {expires_on}"
    context = {"brand": brand(tenant), "learner": learner, "program": program, "certificate_id": certificate_id,
               "expires_on": expires_on, "days_left": days_left, "renew_url": renew_url,
               "recertification": recertification, "subject": subject}
    return Mail(to=to, subject=subject, text=pages.render("email/certification_expiring.txt", **context),
                html=pages.render("email/certification_expiring.html", **context))


def send(mail: Mail) -> str:
    """Send through SES; the message id. Raises botocore's ClientError when SES refuses it."""
    reply = aws.client("sesv2").send_email(
        FromEmailAddress=settings().sender_email, Destination={"ToAddresses": [mail.to]},
        Content={"Simple": {"Subject": {"Data": mail.subject, "Charset": "UTF-8"},
                            "Body": {"Text": {"Data": mail.text, "Charset": "UTF-8"},
                                     "Html": {"Data": mail.html, "Charset": "UTF-8"}}}})
    return str(reply["MessageId"])
