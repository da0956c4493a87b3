"""One routing step of a lead as ONE conditional transaction: resolve the current offer (declined, timed out),
rank the pool, offer to the best partner or escalate; with the decision, the cards' counters and the events.

Used by POST /v1/leads (a new lead), a decline (partners.leads) and the claim-timeout job (partners.lead_job).
The step reads nothing itself: the caller hands it the settings, the tiers and the pool (one Query). A card
condition that fails (a concurrent offer took the partner's last capacity, a suspension, a profile change)
re-reads the pool and ranks again, at most MAX_TRIES times; any other failed condition is the caller's.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pynamodb.expressions.condition import size

from chalicelib.clock import iso
from chalicelib.events.outbox import event_item
from chalicelib.jobs import due_index
from chalicelib.partners import lead_cards, routing
from chalicelib.store import keys
from chalicelib.store.models import Lead, LeadDecision, LeadExternalClaim, LeadOffer, RoutingCard
from chalicelib.store.tx import Tx, TxConflict

MAX_TRIES = 3
TOP = 10  # ranked candidates kept per decision
LISTED = 50  # excluded partner ids kept per reason (the count is always whole)


@dataclass
class LeadState:
    """What routing needs of a lead (from the lead item, or from the offer item in the job: no lead read)."""

    lead_id: str
    industry: str
    region: str
    product: str
    deal_size: Decimal
    company_name: str | None
    offered_to: list[str]
    attempts: int

    def as_dict(self) -> dict[str, Any]:
        return {"industry": self.industry, "region": self.region, "product": self.product,
                "dealSize": self.deal_size, "offeredTo": self.offered_to}

    def summary(self) -> str:
        return f"{self.company_name or 'unnamed'}, {self.industry}, {self.region}, {self.product}, {self.deal_size}"


@dataclass
class Resolution:
    """The current offer ends: `outcome` declined | timedOut, at `at`."""

    partner_id: str
    outcome: str
    at: str
    event: str  # LeadDeclined | LeadClaimTimedOut


@dataclass
class Env:
    settings: dict[str, Any]
    tier_ids: list[str]
    cards: list[RoutingCard]
    now: datetime
    actor: str
    correlation_id: str = ""
    new_lead: Lead | None = None  # a create: the lead item to Put (and its external id claim)
    outcome: dict[str, Any] = field(default_factory=dict)


def due_shard(lead_id: str) -> int:
    return zlib.crc32(lead_id.encode()) % keys.LEAD_DUE_SHARDS


def _decision(state: LeadState, attempt: int, trigger: str, at: str, ranking: routing.Ranking,
              chosen: routing.Ranked | None, escalation: str | None, expires_at: str | None) -> LeadDecision:
    why = None
    if chosen is not None:
        runner = ranking.ranked[1] if len(ranking.ranked) > 1 else None
        why = (f"{chosen.name} scored {chosen.score} of 100, the highest of {len(ranking.ranked)} eligible "
               f"partner(s)" + (f" (next: {runner.name} with {runner.score})" if runner else "") + "; "
               + "; ".join(chosen.reasons) + ".")
    explanation = {
        "attempt": attempt, "trigger": trigger, "at": at, "eligible": len(ranking.ranked),
        "chosen": chosen.to_json() if chosen else None, "why": why, "expiresAt": expires_at, "escalation": escalation,
        "ranked": [r.to_json() for r in ranking.ranked[:TOP]],
        "excluded": {reason: {"count": len(ids), "partnerIds": ids[:LISTED]} for reason, ids in
                     sorted(ranking.excluded.items())}}
    return LeadDecision(PK=keys.lead_pk(state.lead_id), SK=keys.lead_decision_sk(attempt), lead_id=state.lead_id,
                        attempt=attempt, trigger=trigger, at=at, explanation=explanation)


def _offer_card(tx: Tx, card: RoutingCard) -> None:
    """+1 open lead on the chosen card while it still has capacity, is active and accepting, in the tier read;
    its outcome window trimmed to the last RECENT_WINDOW (conditional on the length read)."""
    actions: list[Any] = [RoutingCard.open_leads.add(1)]
    condition = ((RoutingCard.open_leads < RoutingCard.max_open_leads) & (RoutingCard.status == "active")
                 & (RoutingCard.accepting == True)  # noqa: E712 - a pynamodb condition, not a comparison
                 & (RoutingCard.tier == card.tier if card.tier else RoutingCard.tier.does_not_exist()))
    recent = list(card.recent or [])
    if len(recent) > routing.RECENT_WINDOW:
        actions.append(RoutingCard.recent.set(recent[-routing.RECENT_WINDOW:]))
        condition &= size(RoutingCard.recent) == len(recent)  # type: ignore[no-untyped-call]
    tx.update(RoutingCard(*lead_cards.card_key(card.partner_id)), actions, condition, "card")


def _resolve(tx: Tx, state: LeadState, previous: Resolution, env: Env) -> None:
    offer = LeadOffer(PK=keys.lead_pk(state.lead_id), SK=keys.lead_offer_sk(previous.partner_id))
    tx.update(offer, [LeadOffer.outcome.set(previous.outcome), LeadOffer.resolved_at.set(previous.at),
                      LeadOffer.GSI2PK.remove(), LeadOffer.GSI2SK.remove()], LeadOffer.outcome == "offered",
              "previousOffer")
    tx.update(RoutingCard(*lead_cards.card_key(previous.partner_id)),
              [RoutingCard.open_leads.add(-1), RoutingCard.recent.set(RoutingCard.recent.append([previous.outcome]))],
              None, "previousCard")
    tx.put(event_item(None, previous.event, {"leadId": state.lead_id, "partnerId": previous.partner_id,
                                             "attempt": state.attempts, "at": previous.at},
                      actor=env.actor, correlation_id=env.correlation_id))


def _lead_write(tx: Tx, state: LeadState, env: Env, previous: Resolution | None, actions: list[Any]) -> None:
    if env.new_lead is not None:
        lead = env.new_lead
        for action in actions:  # a new lead: the same changes, on the item put whole
            name, value = action
            setattr(lead, name, value)
        tx.put(lead, Lead.PK.does_not_exist(), "lead")
        if lead.external_id:
            tx.put(LeadExternalClaim(PK=keys.lead_external_pk(lead.external_id), SK=keys.LEAD_EXT_SK,
                                     lead_id=lead.id), LeadExternalClaim.PK.does_not_exist(), "external")
        return
    assert previous is not None
    updates = [getattr(Lead, name).remove() if value is None else getattr(Lead, name).set(value)
               for name, value in actions]
    condition = ((Lead.status == "offered") & (Lead.offer_partner_id == previous.partner_id)
                 & (Lead.attempts == state.attempts))
    if previous.outcome == "declined":  # a partner declines within its window; after it, the job times it out
        condition &= Lead.offer_expires_at > previous.at
    tx.update(Lead(PK=keys.lead_pk(state.lead_id), SK=keys.LEAD_SK), [*updates, Lead.version.add(1)], condition,
              "lead")


def _escalation_reason(state: LeadState, ranking: routing.Ranking | None, max_attempts: int) -> str:
    if ranking is None:
        return f"{state.attempts} offer(s) made and none claimed (maxAttempts {max_attempts})"
    return "no eligible partner" + (": " + ", ".join(f"{len(v)} {k}" for k, v in sorted(ranking.excluded.items()))
                                    if ranking.excluded else " (no partner has a routing profile)")


def _build(state: LeadState, trigger: str, env: Env, previous: Resolution | None) -> Tx:
    now = iso(env.now)
    attempt = state.attempts + 1
    max_attempts = int(env.settings["maxAttempts"])
    ranking = routing.rank(env.cards, state.as_dict(), env.settings, env.tier_ids) if attempt <= max_attempts \
        else None
    chosen = ranking.best if ranking else None
    tx = Tx()
    if previous is not None:
        _resolve(tx, state, previous, env)
    if chosen is None:
        reason = _escalation_reason(state, ranking, max_attempts)
        manager = env.settings.get("channelManager")
        actions = [("status", "escalated"), ("GSI1PK", keys.leads_by_status_gsi1pk("escalated")),
                   ("attempts", state.attempts), ("offered_to", state.offered_to), ("escalated_at", now),
                   ("escalation", {"reason": reason, "channelManager": manager}),
                   ("offer_partner_id", None), ("offer_expires_at", None), ("offered_at", None), ("updated_at", now)]
        _lead_write(tx, state, env, previous, actions)
        tx.put(_decision(state, attempt, trigger, now, ranking or routing.Ranking(), None, reason, None))
        escalated = {"leadId": state.lead_id, "partnerId": None, "attempts": state.attempts, "reason": reason,
                     "channelManager": manager, "summary": state.summary()}
        tx.put(event_item(None, "LeadEscalated", escalated, actor=env.actor, correlation_id=env.correlation_id))
        env.outcome = {"status": "escalated", "reason": reason}
        return tx
    assert ranking is not None
    hours = routing.claim_window_hours(env.settings, chosen.tier, state.deal_size)
    expires = iso(env.now + timedelta(hours=hours))
    card = next(c for c in env.cards if c.partner_id == chosen.partner_id)
    offered_to = [*state.offered_to, chosen.partner_id]
    actions = [("status", "offered"), ("GSI1PK", keys.leads_by_status_gsi1pk("offered")), ("attempts", attempt),
               ("offered_to", offered_to), ("offer_partner_id", chosen.partner_id), ("offer_expires_at", expires),
               ("offered_at", now), ("updated_at", now)]
    _lead_write(tx, state, env, previous, actions)
    tx.put(LeadOffer(PK=keys.lead_pk(state.lead_id), SK=keys.lead_offer_sk(chosen.partner_id),
                     GSI1PK=keys.partner_leads_gsi1pk(chosen.partner_id), GSI1SK=keys.lead_event_sk(now, state.lead_id),
                     GSI2PK=keys.lead_due_gsi2pk(due_index.bucket_of(expires), due_shard(state.lead_id)),
                     GSI2SK=keys.lead_due_gsi2sk(expires, state.lead_id), lead_id=state.lead_id,
                     partner_id=chosen.partner_id, attempt=attempt, outcome="offered", offered_at=now,
                     expires_at=expires, industry=state.industry, region=state.region, product=state.product,
                     deal_size=str(state.deal_size), company_name=state.company_name, offered_before=offered_to),
           LeadOffer.PK.does_not_exist(), "offer")
    _offer_card(tx, card)
    tx.put(_decision(state, attempt, trigger, now, ranking, chosen, None, expires))
    routed = {"leadId": state.lead_id, "partnerId": chosen.partner_id, "attempt": attempt, "trigger": trigger,
              "score": str(chosen.score), "eligible": len(ranking.ranked),
              "excluded": {k: len(v) for k, v in ranking.excluded.items()}}
    tx.put(event_item(None, "LeadRouted", routed, actor=env.actor, correlation_id=env.correlation_id))
    tx.put(event_item(None, "LeadOffered", {"leadId": state.lead_id, "partnerId": chosen.partner_id,
                                            "attempt": attempt, "expiresAt": expires, "dealSize": str(state.deal_size)},
                      actor=env.actor, correlation_id=env.correlation_id))
    env.outcome = {"status": "offered", "partnerId": chosen.partner_id, "expiresAt": expires, "attempt": attempt}
    return tx


def _apply_locally(env: Env, previous: Resolution | None) -> None:
    """Keep the caller's pool current after a commit (the job routes many leads with one pool read)."""
    for card in env.cards:
        if previous is not None and card.partner_id == previous.partner_id:
            card.open_leads = int(card.open_leads or 0) - 1
            card.recent = [*(card.recent or []), previous.outcome]
        if card.partner_id == env.outcome.get("partnerId"):
            card.open_leads = int(card.open_leads or 0) + 1
            card.recent = list(card.recent or [])[-routing.RECENT_WINDOW:]


def route(state: LeadState, trigger: str, env: Env, previous: Resolution | None = None) -> dict[str, Any]:
    """Commit one routing step; a card conflict re-reads the pool and tries again. Other conflicts raise."""
    for attempt in range(MAX_TRIES):
        tx = _build(state, trigger, env, previous)
        try:
            tx.commit()
            _apply_locally(env, previous)
            return env.outcome
        except TxConflict as exc:
            if exc.labels != ["card"] or attempt == MAX_TRIES - 1:
                raise
            env.cards = lead_cards.pool()
    raise AssertionError("unreachable")  # pragma: no cover
