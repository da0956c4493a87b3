"""Leads: inbound (operator, CRM), routed to partners, claimed, declined, won or lost (docs/partners.md).

A lead's partition (keys.lead_pk) holds the lead, one offer per partner offered it and one decision per routing
step; the offers are the partner's view (GSI1 keys.partner_leads_gsi1pk) and, while outstanding, the due-time
index the claim-timeout job reads (GSI2). Routing itself: partners.lead_offers; the score: partners.routing.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any

from pynamodb.models import Model

from chalicelib import clock
from chalicelib.auth.principal import Principal, TenantContext
from chalicelib.errors import Conflict, Forbidden, NotFound
from chalicelib.events.outbox import event_item
from chalicelib.partners import lead_cards, lead_offers, routing
from chalicelib.store import keys, pagination
from chalicelib.store.models import (
    Item,
    Lead,
    LeadDecision,
    LeadExternalClaim,
    LeadOffer,
    LeadRoutingConfig,
    PartnerTierConfig,
    RoutingCard,
    plain,
)
from chalicelib.store.tx import Tx, TxConflict

CENT = Decimal("0.01")


def _money(value: Any) -> str | None:
    return None if value is None else str(Decimal(value).quantize(CENT))


def to_json(lead: Lead, partner_id: str | None = None, offer: LeadOffer | None = None) -> dict[str, Any]:
    """The operator's view; with `partner_id`, that partner's (no other partner is named)."""
    mine = partner_id is None or lead.offer_partner_id == partner_id
    offer_json = ({"partnerId": lead.offer_partner_id, "offeredAt": lead.offered_at,
                   "expiresAt": lead.offer_expires_at} if lead.offer_partner_id and mine else None)
    owner = lead.owner_partner_id if partner_id is None or lead.owner_partner_id == partner_id else None
    out: dict[str, Any] = {
        "id": lead.id, "externalId": lead.external_id, "status": lead.status, "industry": lead.industry,
        "region": lead.region, "product": lead.product, "dealSize": _money(lead.deal_size),
        "company": plain(lead.company) or None, "contact": plain(lead.contact) or None, "notes": lead.notes,
        "source": lead.source, "offer": offer_json, "ownerPartnerId": owner,
        "claimedAt": lead.claimed_at if owner else None, "outcome": plain(lead.outcome) if owner else None,
        "createdAt": lead.created_at, "updatedAt": lead.updated_at}
    if partner_id is None:
        out.update(attempts=int(lead.attempts or 0), offeredTo=list(lead.offered_to or []),
                   escalatedAt=lead.escalated_at, escalation=plain(lead.escalation) if lead.escalation else None)
    else:
        if not offer_json and not owner:
            out["status"] = "unavailable"  # offered to this partner once; now elsewhere or closed
        out["yourOffer"] = offer_to_json(offer) if offer else None
    return out


def offer_to_json(offer: LeadOffer) -> dict[str, Any]:
    return {"leadId": offer.lead_id, "partnerId": offer.partner_id, "attempt": int(offer.attempt),
            "outcome": offer.outcome, "offeredAt": offer.offered_at, "expiresAt": offer.expires_at,
            "resolvedAt": offer.resolved_at, "industry": offer.industry, "region": offer.region,
            "product": offer.product, "dealSize": _money(offer.deal_size), "companyName": offer.company_name,
            "closedStatus": offer.closed_status, "closedAt": offer.closed_at, "amount": _money(offer.amount)}


def _env(principal_subject: str, correlation_id: str, routing_config: LeadRoutingConfig | None,
         tiers_config: PartnerTierConfig | None) -> lead_offers.Env:
    from chalicelib.partners import tiers

    return lead_offers.Env(settings=routing.settings_of(routing_config),
                           tier_ids=[t["id"] for t in tiers.tiers_of(tiers_config)], cards=lead_cards.pool(),
                           now=clock.utcnow(), actor=principal_subject, correlation_id=correlation_id)


def _settings_keys() -> list[tuple[str, str]]:
    return [(keys.lead_routing_pk(), keys.LEAD_ROUTING_SK), (keys.partner_tiers_pk(), keys.PARTNER_TIERS_SK)]


def _of(found: list[Any], model: type) -> Any:
    return next((i for i in found if isinstance(i, model)), None)


def _state(lead: Lead) -> lead_offers.LeadState:
    return lead_offers.LeadState(lead.id, lead.industry, lead.region, lead.product, Decimal(lead.deal_size),
                                 (plain(lead.company) or {}).get("name"), list(lead.offered_to or []),
                                 int(lead.attempts or 0))


def load(lead_id: str, consistent: bool = False) -> Lead:
    try:
        return Lead.get(keys.lead_pk(lead_id), keys.LEAD_SK, consistent_read=consistent)
    except (Model.DoesNotExist, ValueError):
        raise NotFound("No such lead.") from None


def create_lead(principal: Principal, body: Any, correlation_id: str = "") -> tuple[dict[str, Any], bool]:
    """A new lead, routed at once: settings + tiers + external-id claim in ONE BatchGetItem, the pool in ONE
    Query, lead + offer + decision + card + events in ONE transaction. The same externalId: the first lead."""
    if not principal.is_operator:
        raise Forbidden("Only the operator (or its CRM client) creates leads.")
    wanted = _settings_keys()
    if body.externalId:
        wanted.append((keys.lead_external_pk(body.externalId), keys.LEAD_EXT_SK))
    found = list(Item.batch_get(wanted))
    claim = _of(found, LeadExternalClaim)
    if claim is not None:
        return to_json(load(claim.lead_id)), False
    now = clock.utcnow_iso()
    lead_id = clock.new_id("ld")
    lead = Lead(PK=keys.lead_pk(lead_id), SK=keys.LEAD_SK, GSI1SK=keys.lead_list_sk(now, lead_id),
                GSI2PK=keys.all_leads_gsi2pk(), GSI2SK=keys.lead_list_sk(now, lead_id), id=lead_id,
                external_id=body.externalId, status="offered", industry=body.industry, region=body.region,
                product=body.product, deal_size=_money(body.dealSize),
                company=body.company.model_dump(exclude_none=True) if body.company else {},
                contact=body.contact.model_dump(exclude_none=True) if body.contact else {}, notes=body.notes,
                source=body.source, attempts=0, offered_to=[], created_by=principal.subject, created_at=now,
                updated_at=now, version=1)
    env = _env(principal.subject, correlation_id, _of(found, LeadRoutingConfig), _of(found, PartnerTierConfig))
    env.new_lead = lead
    try:
        lead_offers.route(_state(lead), "created", env)
    except TxConflict as exc:
        if "external" in exc.labels:  # the same externalId, created concurrently: that lead
            claim = LeadExternalClaim.get(keys.lead_external_pk(body.externalId), keys.LEAD_EXT_SK,
                                          consistent_read=True)
            return to_json(load(claim.lead_id, consistent=True)), False
        raise
    return to_json(lead), True


def get_lead(principal: Principal, lead_id: str) -> dict[str, Any]:
    """The operator: 1 GetItem. A partner's admin: lead + its offer in 1 BatchGetItem; never offered: 404."""
    if principal.is_operator:
        return to_json(load(lead_id))
    partner_id = _partner_of(principal)
    if not keys.is_safe(lead_id):
        raise NotFound("No such lead.")
    found = list(Item.batch_get([(keys.lead_pk(lead_id), keys.LEAD_SK),
                                 (keys.lead_pk(lead_id), keys.lead_offer_sk(partner_id))]))
    lead, offer = _of(found, Lead), _of(found, LeadOffer)
    if lead is None or offer is None:
        raise NotFound("No such lead.")
    return to_json(lead, partner_id, offer)


def _partner_of(principal: Principal) -> str:
    """The caller's partner tenant (a partner's admin); anyone else sees no lead at all."""
    if not principal.is_partner_admin or not principal.tenant_id:
        raise NotFound("No such lead.")
    return principal.tenant_id


def list_leads(principal: Principal, query: Any) -> dict[str, Any]:
    """The operator's leads, newest first: one status (GSI1) or all (GSI2); one Query per page."""
    if not principal.is_operator:
        raise Forbidden("Only the operator lists every lead.")
    if query.status:
        listing = partial(Lead.gsi1.query, keys.leads_by_status_gsi1pk(query.status), scan_index_forward=False)
    else:
        listing = partial(Lead.gsi2.query, keys.all_leads_gsi2pk(), scan_index_forward=False)
    return pagination.page(listing, f"leads|{query.status or 'all'}", query, to_json, Lead)


def _partner_actor(ctx: TenantContext) -> str:
    if ctx.tenant_kind != "partner" or ctx.relation not in ("operator", "own"):
        raise NotFound("No such partner.")
    if not ctx.acts_as_admin:
        raise Forbidden("Only the partner's admins and the operator act on its leads.")
    return ctx.tenant_id


def partner_leads(ctx: TenantContext, query: Any) -> dict[str, Any]:
    """The leads offered to the partner (and their outcome), newest offer first: one Query (GSI1)."""
    partner_id = _partner_actor(ctx)
    listing = partial(LeadOffer.gsi1.query, keys.partner_leads_gsi1pk(partner_id), scan_index_forward=False)
    return pagination.page(listing, f"partner-leads|{partner_id}", query, offer_to_json, LeadOffer)


def routing_explanation(principal: Principal, lead_id: str) -> dict[str, Any]:
    """Every decision of the lead, with each offer's outcome: ONE Query of the lead's partition."""
    if not principal.is_operator:
        raise Forbidden("Only the operator reads routing decisions (they name every candidate partner).")
    if not keys.is_safe(lead_id):
        raise NotFound("No such lead.")
    items = list(Item.query(keys.lead_pk(lead_id)))
    lead = _of(items, Lead)
    if lead is None:
        raise NotFound("No such lead.")
    offers = {o.partner_id: o for o in items if isinstance(o, LeadOffer)}
    decisions = []
    for d in sorted((i for i in items if isinstance(i, LeadDecision)), key=lambda x: int(x.attempt)):
        shown = dict(d.explanation)
        chosen = (shown.get("chosen") or {}).get("partnerId")
        offer = offers.get(chosen) if chosen else None
        shown["outcome"] = ({"outcome": offer.outcome, "resolvedAt": offer.resolved_at,
                             "closedStatus": offer.closed_status} if offer else {"outcome": "escalated"})
        decisions.append(shown)
    return {"leadId": lead.id, "status": lead.status, "offer": to_json(lead)["offer"],
            "ownerPartnerId": lead.owner_partner_id,
            "escalation": plain(lead.escalation) if lead.escalation else None, "decisions": decisions}


def _offered(lead: Lead, partner_id: str) -> None:
    if partner_id not in (lead.offered_to or []):
        raise NotFound("No such lead.")  # never offered to this partner: its existence is not revealed


def claim(ctx: TenantContext, lead_id: str) -> dict[str, Any]:
    """Claim an offer: ONE conditional transaction (still offered, to this partner, before expiresAt by the
    server's clock), so of many simultaneous claims exactly one wins; the lead is read first (1 GetItem)."""
    partner_id = _partner_actor(ctx)
    lead = load(lead_id, consistent=True)
    _offered(lead, partner_id)
    now = clock.utcnow_iso()
    if lead.status != "offered" or lead.offer_partner_id != partner_id:
        raise Conflict("The lead is no longer offered to this partner.")
    if now >= str(lead.offer_expires_at):
        raise Conflict(f"The claim window closed at {lead.offer_expires_at}.")
    tx = Tx()
    tx.update(Lead(PK=keys.lead_pk(lead.id), SK=keys.LEAD_SK), [
        Lead.status.set("claimed"), Lead.GSI1PK.set(keys.leads_by_status_gsi1pk("claimed")),
        Lead.owner_partner_id.set(partner_id), Lead.claimed_at.set(now), Lead.offer_partner_id.remove(),
        Lead.offer_expires_at.remove(), Lead.offered_at.remove(), Lead.updated_at.set(now), Lead.version.add(1)],
        (Lead.status == "offered") & (Lead.offer_partner_id == partner_id) & (Lead.offer_expires_at > now), "lead")
    tx.update(LeadOffer(PK=keys.lead_pk(lead.id), SK=keys.lead_offer_sk(partner_id)), [
        LeadOffer.outcome.set("claimed"), LeadOffer.resolved_at.set(now), LeadOffer.GSI2PK.remove(),
        LeadOffer.GSI2SK.remove()], LeadOffer.outcome == "offered", "offer")
    tx.update(RoutingCard(*lead_cards.card_key(partner_id)),
              [RoutingCard.recent.set(RoutingCard.recent.append(["claimed"]))], None, "card")
    tx.put(event_item(None, "LeadClaimed", {"leadId": lead.id, "partnerId": partner_id, "claimedAt": now,
                                            "offeredAt": lead.offered_at, "dealSize": _money(lead.deal_size)},
                      actor=ctx.principal.subject, correlation_id=ctx.correlation_id))
    try:
        tx.commit()
    except TxConflict:
        raise Conflict("The lead is no longer offered to this partner.") from None
    lead.status, lead.owner_partner_id, lead.claimed_at, lead.updated_at = "claimed", partner_id, now, now
    lead.offer_partner_id = lead.offer_expires_at = lead.offered_at = None
    return to_json(lead, partner_id)


def decline(ctx: TenantContext, lead_id: str) -> dict[str, Any]:
    """Decline an offer within its window: the lead is re-routed at once to the next partner (those offered it
    already excluded) or escalated: lead + settings + tiers in 1 BatchGetItem, the pool in 1 Query, 1 transaction."""
    partner_id = _partner_actor(ctx)
    if not keys.is_safe(lead_id):
        raise NotFound("No such lead.")
    found = list(Item.batch_get([(keys.lead_pk(lead_id), keys.LEAD_SK), *_settings_keys()], consistent_read=True))
    lead = _of(found, Lead)
    if lead is None:
        raise NotFound("No such lead.")
    _offered(lead, partner_id)
    now = clock.utcnow_iso()
    if lead.status != "offered" or lead.offer_partner_id != partner_id or now >= str(lead.offer_expires_at):
        raise Conflict("The lead is no longer offered to this partner.")
    env = _env(ctx.principal.subject, ctx.correlation_id, _of(found, LeadRoutingConfig), _of(found, PartnerTierConfig))
    previous = lead_offers.Resolution(partner_id, "declined", now, "LeadDeclined")
    try:
        outcome = lead_offers.route(_state(lead), "declined", env, previous)
    except TxConflict:
        raise Conflict("The lead is no longer offered to this partner.") from None
    # what the transaction wrote, as the decliner sees it (another partner's offer is never named)
    lead.status, lead.offer_partner_id, lead.updated_at = outcome["status"], outcome.get("partnerId"), now
    return to_json(lead, partner_id, None)


def record_outcome(ctx: TenantContext, lead_id: str, body: Any) -> dict[str, Any]:
    """The owner closes its lead, won (amount: default the deal size) or lost: lead, offer (into the partner's
    closed-leads index), card (one open lead fewer) and LeadWon/LeadLost in one conditional transaction."""
    partner_id = _partner_actor(ctx)
    lead = load(lead_id, consistent=True)
    _offered(lead, partner_id)
    if lead.status != "claimed" or lead.owner_partner_id != partner_id:
        raise Conflict("Only the partner that claimed the lead closes it, once.")
    now = clock.utcnow_iso()
    won = body.status == "won"
    amount: Decimal | None = (Decimal(body.amount) if body.amount is not None else Decimal(lead.deal_size)) \
        if won else None
    outcome = {"status": body.status, "amount": _money(amount), "at": now}
    tx = Tx()
    tx.update(Lead(PK=keys.lead_pk(lead.id), SK=keys.LEAD_SK), [
        Lead.status.set(body.status), Lead.GSI1PK.set(keys.leads_by_status_gsi1pk(body.status)),
        Lead.outcome.set(outcome), Lead.updated_at.set(now), Lead.version.add(1)],
        (Lead.status == "claimed") & (Lead.owner_partner_id == partner_id), "lead")
    offer_actions = [LeadOffer.closed_status.set(body.status), LeadOffer.closed_at.set(now),
                     LeadOffer.GSI2PK.set(keys.partner_closed_leads_gsi2pk(partner_id)),
                     LeadOffer.GSI2SK.set(keys.lead_event_sk(now, lead.id))]
    if amount is not None:
        offer_actions.append(LeadOffer.amount.set(str(amount.quantize(CENT))))
    tx.update(LeadOffer(PK=keys.lead_pk(lead.id), SK=keys.lead_offer_sk(partner_id)), offer_actions, None, "offer")
    tx.update(RoutingCard(*lead_cards.card_key(partner_id)), [RoutingCard.open_leads.add(-1)], None, "card")
    tx.put(event_item(None, "LeadWon" if won else "LeadLost",
                      {"leadId": lead.id, "partnerId": partner_id, "amount": _money(amount),
                       "dealSize": _money(lead.deal_size), "closedAt": now},
                      actor=ctx.principal.subject, correlation_id=ctx.correlation_id))
    try:
        tx.commit()
    except TxConflict:
        raise Conflict("The lead changed while this request ran.") from None
    lead.status, lead.outcome, lead.updated_at = body.status, outcome, now
    return to_json(lead, partner_id)


def partner_lead_figures(partner_id: str, start: str, end: str) -> dict[str, Any]:
    """A partner's lead figures in [start, end): see partners.lead_figures (two Queries of its own leads)."""
    from chalicelib.partners.lead_figures import figures

    return figures(partner_id, start, end)
