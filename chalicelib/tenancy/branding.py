"""A tenant's effective branding: its own, plus its partner's live (approved) brand kit (docs/partners.md).

The live kit is denormalised onto Tenant items (`co_brand`: the partner's own item, and a copy on each of
its customers), so whoever has read a tenant item has its effective branding without another read.
"""

from __future__ import annotations

import re
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.models import Model

from chalicelib.clock import utcnow_iso
from chalicelib.store import keys
from chalicelib.store.models import Tenant, plain

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z]+)\s*\}\}")
_CONTEXT = ("tenantName", "partnerName", "supportEmail", "supportPhone", "supportHours")
_WELCOME = ("learnerName", "portalUrl", *_CONTEXT)
# the placeholders each template field may use (anything else in `{{ }}` is a 400 naming the field)
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "emailTemplates.welcomeSubject": _WELCOME, "emailTemplates.welcomeBody": _WELCOME,
    "emailTemplates.footer": _CONTEXT, "documentTemplate.certificateFooter": _CONTEXT,
    "documentTemplate.documentFooter": _CONTEXT,
}
_OWN = ("primaryColor", "accentColor", "textColor", "logoUrl", "font")
WHITE = "#ffffff"


def placeholder_problem(field: str, text: str) -> str | None:
    """Why `text` is not a valid template for `field` (unknown or malformed placeholders), else None."""
    allowed = PLACEHOLDERS[field]
    unknown = sorted({m.group(1) for m in PLACEHOLDER.finditer(text)} - set(allowed))
    if unknown:
        return f"unknown placeholder(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}"
    rest = PLACEHOLDER.sub("", text)
    if any(mark in rest for mark in ("{{", "}}", "{%", "%}")):
        return "a malformed placeholder: write {{name}}"
    return None


def render_snippet(text: str, values: dict[str, str]) -> str:
    """A template with its placeholders filled (plain substitution: a kit is never run as Jinja)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), text)


def _luminance(colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """The WCAG 2.x contrast ratio of two #rrggbb colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def colour_problems(colors: dict[str, str]) -> list[tuple[str, str]]:
    """(field, why) for each colour pair below its WCAG AA minimum, as the templates use them."""
    rules = (("colors.text", colors["text"], WHITE, 4.5, "text on white"),
             ("colors.primary", WHITE, colors["primary"], 3.0, "white header text on primary"),
             ("colors.accent", colors["text"], colors["accent"], 3.0, "text on the accent buttons"))
    return [(field, f"{what} has contrast {contrast(fg, bg):.2f}:1; at least {minimum}:1 is needed")
            for field, fg, bg, minimum, what in rules if contrast(fg, bg) < minimum]


def effective(tenant: Tenant) -> dict[str, Any]:
    """The branding a tenant's portal, emails and documents show: a partner shows its live kit; a partner's
    customer its own branding, with the partner as "delivered by" and the partner's support and templates."""
    own = plain(tenant.branding) if tenant.branding else {}
    out: dict[str, Any] = {"tenantId": tenant.id, "displayName": own.get("displayName") or tenant.name,
                           **{k: own.get(k) for k in _OWN}, "source": "tenant", "brandKitVersion": None,
                           "deliveredBy": None, "support": None, "emailTemplates": None, "documentTemplate": None,
                           "emailFooter": None, "certificateFooter": None}
    live = plain(tenant.co_brand) if tenant.co_brand else None
    if not live:
        return out
    partner = str(live["displayName"])
    if live.get("partnerId") == tenant.id:  # the partner's own portal: the approved kit is its brand
        colors = live["colors"]
        out.update(displayName=partner, logoUrl=live["logoUrl"], primaryColor=colors["primary"],
                   accentColor=colors["accent"], textColor=colors["text"], source="brandKit")
    else:
        out.update(deliveredBy={"partnerId": live["partnerId"], "name": partner, "logoUrl": live["logoUrl"]},
                   source="tenant+partner")
    support, emails, documents = live["support"], live["emailTemplates"], live["documentTemplate"]
    values = {"tenantName": str(out["displayName"]), "partnerName": partner, "supportEmail": support["email"],
              "supportPhone": support.get("phone") or "", "supportHours": support["hours"]}
    out.update(brandKitVersion=live["version"], support=support, emailTemplates=emails, documentTemplate=documents,
               emailFooter=render_snippet(emails["footer"], values) if emails.get("footer") else None,
               certificateFooter=render_snippet(documents["certificateFooter"], values))
    return out


def live_kit_of(partner_id: str) -> dict[str, Any] | None:
    """The partner's live kit as its Tenant item holds it (one consistent GetItem), for a new customer."""
    try:
        partner = Tenant.get(keys.tenant_pk(partner_id), keys.TENANT_SK, consistent_read=True)
    except Model.DoesNotExist:
        return None
    live = plain(partner.co_brand) if partner.co_brand else None
    return live if live and live.get("partnerId") == partner_id else None


def copy_live_kit(tenant_id: str, live: dict[str, Any]) -> bool:
    """Put a partner's live kit on one of its customers, unless the customer already has that version or a newer
    one (so a late or repeated copy never overwrites a newer kit); True when written. The tenant's `version` moves
    on, so a concurrent read-modify-write of the tenant (PATCH) fails rather than dropping the kit."""
    item = Tenant(PK=keys.tenant_pk(tenant_id), SK=keys.TENANT_SK)
    newer = Tenant.co_brand.does_not_exist() | (Tenant.co_brand["version"] < int(live["version"]))
    try:
        item.update(actions=[Tenant.co_brand.set(live), Tenant.version.add(1), Tenant.updated_at.set(utcnow_iso())],
                    condition=(Tenant.parent_id == live["partnerId"]) & newer)
    except UpdateError as err:
        if err.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False
    return True


def get_branding(tenant_id: str) -> dict[str, Any]:
    """GET /v1/tenants/{tenantId}/branding: one GetItem (authorisation came from the tenant cache)."""
    from chalicelib.errors import NotFound

    try:
        tenant = Tenant.get(keys.tenant_pk(tenant_id), keys.TENANT_SK)
    except Model.DoesNotExist:
        raise NotFound("No such tenant.") from None
    return effective(tenant)
