"""Onboarding from events: a joining partner gets its plan; certifications, claims, wins and approvals complete
milestones (docs/partners.md, "Onboarding"). Every handler is idempotent: a redelivered event changes nothing."""

from __future__ import annotations

from chalicelib.events.consumer import EventEnvelope, subscribe
from chalicelib.partners import onboarding


@subscribe("TenantCreated")
def _on_tenant_created(event: EventEnvelope) -> None:
    detail = event.detail
    if detail.get("kind") == "partner" and not detail.get("sandboxOf") and detail.get("tenantId"):
        onboarding.create_plan(str(detail["tenantId"]), event.occurred_at, event.actor, event.correlation_id or "")


def _required_program() -> str | None:
    """The program of the demo certification: the lead-routing setting (None: no program, or no routing yet)."""
    try:
        from chalicelib.partners import routing
    except ImportError:
        return None
    return routing.required_program_id()


@subscribe("CertificationIssued")
def _on_certified(event: EventEnvelope) -> None:
    """A rep of the partner certified in the required program completes the demo certification."""
    from chalicelib.tenancy import cache

    if not cache.is_partner(event.tenant_id):  # customers' certificates stop here, without a read
        return
    assert event.tenant_id is not None
    plan = onboarding.load(event.tenant_id)
    if plan is None or any(m["id"] == "demo-certification" and m["completedAt"] for m in plan.milestones):
        return
    required = _required_program()
    if required and event.detail.get("certificationId") == required:
        onboarding.complete_from_event(event.tenant_id, "demo-certification", event.occurred_at,
                                       "CertificationIssued", event.actor)


def _partner_milestone(event: EventEnvelope) -> None:
    partner_id = event.detail.get("partnerId")
    if partner_id:
        onboarding.complete_from_event(str(partner_id), onboarding.AUTO_EVENTS[event.type], event.occurred_at,
                                       event.type, event.actor)


@subscribe("LeadClaimed")
def _on_lead_claimed(event: EventEnvelope) -> None:
    _partner_milestone(event)


@subscribe("LeadWon")
def _on_lead_won(event: EventEnvelope) -> None:
    _partner_milestone(event)


@subscribe("BrandKitApproved")
def _on_brand_kit_approved(event: EventEnvelope) -> None:
    if event.detail.get("live", True):
        _partner_milestone(event)
