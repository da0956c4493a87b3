"""Routing cards: one small item per partner in ONE operator partition (keys.lead_pool_pk), kept fresh here.

A card carries everything the score reads (partners.routing): tier, status, the routing profile, capacity and
open leads, current certified reps of the required program, the outcomes of recent offers. The profile route
creates it; tier, tenant and certification events refresh it from the source (re-read, then set: idempotent,
order-proof); the lead transactions move its counters (partners.leads). Cards of partners without a profile
do not exist, so such a partner is never offered a lead.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.models import Model

from chalicelib.auth.principal import TenantContext
from chalicelib.clock import utcnow_iso
from chalicelib.errors import Forbidden, NotFound
from chalicelib.events.consumer import EventEnvelope, subscribe
from chalicelib.events.outbox import event_item
from chalicelib.partners import routing
from chalicelib.store import keys
from chalicelib.store.models import Item, LeadRoutingConfig, RoutingCard, Tenant, plain
from chalicelib.store.tx import Tx
from chalicelib.tenancy import cache

CERT_EVENTS = ("CertificationIssued", "CertificationExpiring", "CertificationExpired", "CertificationRevoked",
               "RecertificationStarted")


def card_key(partner_id: str) -> tuple[str, str]:
    return keys.lead_pool_pk(), keys.routing_card_sk(partner_id)


def pool() -> list[RoutingCard]:
    """Every card: ONE Query (1,000 cards of ~400 bytes fit one 1 MB page; pynamodb follows any further page)."""
    return [c for c in RoutingCard.query(keys.lead_pool_pk()) if isinstance(c, RoutingCard)]


def to_json(card: RoutingCard | None, partner_id: str, settings: dict[str, Any]) -> dict[str, Any]:
    program = settings.get("requiredProgramId")
    if card is None:
        return {"partnerId": partner_id, "inPool": False, "industries": [], "regions": [], "products": [],
                "maxOpenLeads": 0, "accepting": False, "openLeads": 0, "tier": None, "status": None,
                "requiredProgramId": program, "certifiedReps": None, "claimRatePercent": None, "recentOutcomes": []}
    rate = routing.claim_rate(card)
    recent = list(card.recent or [])[-routing.RECENT_WINDOW:]
    return {"partnerId": partner_id, "inPool": True, "industries": list(card.industries or []),
            "regions": list(card.regions or []), "products": list(card.products or []),
            "maxOpenLeads": int(card.max_open_leads or 0), "accepting": bool(card.accepting),
            "openLeads": int(card.open_leads or 0), "tier": card.tier, "status": card.status,
            "requiredProgramId": program,
            "certifiedReps": int((plain(card.certified) or {}).get(program, 0)) if program else None,
            "claimRatePercent": None if rate is None else str((rate * 100).quantize(routing.TWO)),
            "recentOutcomes": recent, "updatedAt": card.updated_at}


def _partner_admin(ctx: TenantContext) -> None:
    if ctx.tenant_kind != "partner" or ctx.relation not in ("operator", "own"):
        raise NotFound("No such partner.")
    if not ctx.acts_as_admin:
        raise Forbidden("Only the partner's admins and the operator manage its routing profile.")


def get_profile(ctx: TenantContext) -> dict[str, Any]:
    """The card and the settings in one BatchGetItem."""
    _partner_admin(ctx)
    found = list(Item.batch_get([card_key(ctx.tenant_id), (keys.lead_routing_pk(), keys.LEAD_ROUTING_SK)]))
    card = next((i for i in found if isinstance(i, RoutingCard)), None)
    config = next((i for i in found if isinstance(i, LeadRoutingConfig)), None)
    return to_json(card, ctx.tenant_id, routing.settings_of(config))


def _clean(values: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for v in values:
        seen.setdefault(v.strip().casefold(), v.strip())
    return list(seen.values())


def put_profile(ctx: TenantContext, body: Any) -> dict[str, Any]:
    """Create or change the card: partner + settings (one BatchGetItem), the certified count (one GetItem),
    then card + `RoutingProfileChanged` in one transaction; counters are kept (`if_not_exists`)."""
    from chalicelib.partners import tiers

    _partner_admin(ctx)
    found = list(Item.batch_get([(keys.tenant_pk(ctx.tenant_id), keys.TENANT_SK),
                                 (keys.lead_routing_pk(), keys.LEAD_ROUTING_SK)]))
    partner = next((i for i in found if isinstance(i, Tenant)), None)
    settings = routing.settings_of(next((i for i in found if isinstance(i, LeadRoutingConfig)), None))
    if partner is None:
        raise NotFound("No such partner.")
    program = settings.get("requiredProgramId")
    certified = {program: routing.certified_reps(partner.id, program)} if program else {}
    now = utcnow_iso()
    profile = {"industries": _clean(body.industries), "regions": _clean(body.regions),
               "products": _clean(body.products), "maxOpenLeads": body.maxOpenLeads, "accepting": body.accepting}
    card = RoutingCard(*card_key(partner.id))
    actions = [RoutingCard.type.set(RoutingCard), RoutingCard.partner_id.set(partner.id),
               RoutingCard.name.set(partner.name), RoutingCard.status.set(partner.status),
               RoutingCard.industries.set(profile["industries"]), RoutingCard.regions.set(profile["regions"]),
               RoutingCard.products.set(profile["products"]), RoutingCard.max_open_leads.set(body.maxOpenLeads),
               RoutingCard.accepting.set(body.accepting), RoutingCard.certified.set(certified),
               RoutingCard.open_leads.set(RoutingCard.open_leads | 0), RoutingCard.recent.set(RoutingCard.recent | []),
               RoutingCard.updated_at.set(now)]
    tier = tiers.partner_tier_id(partner)
    actions.append(RoutingCard.tier.set(tier) if tier else RoutingCard.tier.remove())
    tx = Tx().update(card, actions, None, "card")
    tx.put(event_item(partner.id, "RoutingProfileChanged", {"partnerId": partner.id, **profile},
                      actor=ctx.principal.subject, correlation_id=ctx.correlation_id))
    tx.commit()
    return to_json(RoutingCard.get(*card_key(partner.id), consistent_read=True), partner.id, settings)


def _update_existing(partner_id: str, actions: list[Any]) -> bool:
    """Apply `actions` to the partner's card if it exists (no card: the partner is not in the pool)."""
    try:
        RoutingCard(*card_key(partner_id)).update(actions=[*actions, RoutingCard.updated_at.set(utcnow_iso())],
                                                  condition=RoutingCard.PK.exists())
        return True
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def refresh_partner(partner_id: str) -> bool:
    """Tier, status and name from the partner tenant (read now: a late or repeated event sets the same)."""
    from chalicelib.partners import tiers

    try:
        partner = Tenant.get(keys.tenant_pk(partner_id), keys.TENANT_SK)
    except Model.DoesNotExist:
        return False
    tier = tiers.partner_tier_id(partner)
    return _update_existing(partner_id, [RoutingCard.status.set(partner.status), RoutingCard.name.set(partner.name),
                                         RoutingCard.tier.set(tier) if tier else RoutingCard.tier.remove()])


def refresh_certified(partner_id: str, program_id: str) -> bool:
    """Set the card's count of `program_id` to the program's current count in the partner (idempotent)."""
    return _update_existing(partner_id, [RoutingCard.certified[program_id].set(
        routing.certified_reps(partner_id, program_id))])


@subscribe("PartnerTierChanged")
@subscribe("TenantSuspended")
@subscribe("TenantResumed")
@subscribe("TenantUpdated")
def _on_partner_changed(event: EventEnvelope) -> None:
    partner_id = str(event.detail.get("partnerId") or event.detail.get("tenantId") or event.tenant_id or "")
    if partner_id and cache.is_partner(partner_id):
        refresh_partner(partner_id)


def _program_of(detail: dict[str, Any]) -> str | None:
    cert = detail.get("certificate")
    value = detail.get("certificationId") or (cert.get("programId") if isinstance(cert, dict) else None)
    return str(value) if value else None


def _on_certification(event: EventEnvelope) -> None:
    """A certificate of a partner's rep changed state: if it is of the required program, re-count."""
    if not cache.is_partner(event.tenant_id):
        return
    program = _program_of(event.detail)
    if program and program == routing.required_program_id():
        refresh_certified(str(event.tenant_id), program)


for _kind in CERT_EVENTS:
    subscribe(_kind)(_on_certification)


@subscribe("LeadRoutingChanged")
def _on_settings_changed(event: EventEnvelope) -> None:
    """A new required program: every card's count of it (one Query + a GetItem and an UpdateItem per card)."""
    program = event.detail.get("requiredProgramId")
    if program and program != event.detail.get("previousProgramId"):
        for card in pool():
            refresh_certified(card.partner_id, str(program))


@subscribe("LeadEscalated")
def _on_escalated(event: EventEnvelope) -> None:
    """Tell the channel manager (when the settings name one) by email; the event is the record either way.
    Sent, then marked on the lead: a redelivered event finds the mark and sends nothing (only a crash between
    the two sends twice: an escalation is never lost, at worst repeated)."""
    from html import escape

    from chalicelib.certification import mail
    from chalicelib.store.models import Lead

    manager = event.detail.get("channelManager") or {}
    if not manager.get("email"):
        return
    lead = event.detail.get("leadId")
    try:
        if Lead.get(keys.lead_pk(str(lead)), keys.LEAD_SK).escalation_mailed_at:
            return
    except Model.DoesNotExist:
        return
    text = (f"Hello {manager.get('name') or ''},\n\nLead {lead} ({event.detail.get('summary') or ''}) was escalated "
            f"to you: {event.detail.get('reason')}.\nRouting explained: {mail.base_url()}/v1/leads/{lead}/routing\n")
    mail.send(mail.Mail(to=str(manager["email"]), subject=f"Lead {lead} escalated", text=text,
                        html="<p>" + escape(text).replace("\n", "<br>") + "</p>"))
    Lead(keys.lead_pk(str(lead)), keys.LEAD_SK).update([Lead.escalation_mailed_at.set(utcnow_iso())])
