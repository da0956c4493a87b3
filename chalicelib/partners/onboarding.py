"""A partner's 12-month onboarding plan: milestones by month and the sales-enablement kit (docs/partners.md).

The plan is made from TEMPLATE when a partner joins (TenantCreated of kind `partner`, once) and kept in ONE item
(keys.onboarding_pk), which also indexes the partner for the scorecards job (GSI1 keys.partners_gsi1pk).
Milestones are completed by the operator or the partner's admins, or by the events in AUTO_EVENTS.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from typing import Any

from pynamodb.models import Model

from chalicelib import clock
from chalicelib.auth.principal import TenantContext
from chalicelib.errors import Conflict, NotFound
from chalicelib.events.outbox import event_item
from chalicelib.store import keys
from chalicelib.store.models import Item, OnboardingPlan
from chalicelib.store.tx import Tx, TxConflict

TEMPLATE_ID = "reseller-12-month/1"
KIT_MILESTONE = "enablement-kit"  # done when every deliverable is
# id, title, months after joining, days after that (the due date), the event that completes it
MILESTONES: tuple[tuple[str, str, int, int, str | None], ...] = (
    ("kickoff", "Kickoff: goals, contacts and the 12-month plan agreed", 0, 7, None),
    ("demo-certification", "Mandatory demo certification: a rep certified in the required program", 0, 14,
     "CertificationIssued"),
    (KIT_MILESTONE, "Sales enablement kit delivered (every deliverable)", 1, 0, None),
    ("co-branded-portal", "Portal co-branded: a brand kit approved and live", 1, 0, "BrandKitApproved"),
    ("first-co-sell", "First co-sell: a routed lead claimed", 2, 0, "LeadClaimed"),
    ("qbr-1", "First quarterly business review", 3, 0, None),
    ("first-deal", "First deal: a routed lead won", 4, 0, "LeadWon"),
    ("qbr-2", "Quarterly business review (month 6)", 6, 0, None),
    ("qbr-3", "Quarterly business review (month 9)", 9, 0, None),
    ("annual-review", "Annual review and tier review", 12, 0, None),
)
DELIVERABLES: tuple[tuple[str, str], ...] = (
    ("pitch-deck", "Pitch deck"), ("demo-script", "Demo script and demo tenant"),
    ("pricing-calculator", "Pricing and quote calculator"), ("objection-handling", "Objection-handling guide"),
    ("case-studies", "Case studies"), ("onboarding-playbook", "Customer onboarding playbook"),
    ("co-branded-templates", "Co-branded email and document templates"), ("roi-calculator", "ROI calculator"),
)
AUTO_EVENTS = {event: mid for mid, _, _, _, event in MILESTONES if event}


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def new_plan(partner_id: str, joined_at: str) -> OnboardingPlan:
    joined = datetime.fromisoformat(joined_at.replace("Z", "+00:00")).date()
    milestones = [{"id": mid, "title": title, "month": months,
                   "dueDate": (add_months(joined, months) + timedelta(days=days)).isoformat(),
                   "completedAt": None, "completedBy": None, "source": None}
                  for mid, title, months, days, _ in MILESTONES]
    deliverables = [{"id": did, "title": title, "completedAt": None, "completedBy": None}
                    for did, title in DELIVERABLES]
    now = clock.utcnow_iso()
    return OnboardingPlan(PK=keys.onboarding_pk(partner_id), SK=keys.ONBOARDING_PLAN_SK,
                          GSI1PK=keys.partners_gsi1pk(), GSI1SK=keys.partner_gsi1sk(partner_id),
                          partner_id=partner_id, joined_at=joined_at, template=TEMPLATE_ID, milestones=milestones,
                          deliverables=deliverables, version=1, created_at=now, updated_at=now)


def create_plan(partner_id: str, joined_at: str, actor: str | None = None, correlation_id: str = "") -> bool:
    """The partner's plan, once (a redelivered TenantCreated finds it made and does nothing)."""
    plan = new_plan(partner_id, joined_at)
    tx = Tx().put(plan, Item.PK.does_not_exist(), "plan")
    tx.put(event_item(partner_id, "OnboardingPlanCreated", {"partnerId": partner_id, "template": TEMPLATE_ID},
                      actor=actor, correlation_id=correlation_id))
    try:
        tx.commit()
    except TxConflict:
        return False
    return True


def load(partner_id: str) -> OnboardingPlan | None:
    try:
        return OnboardingPlan.get(keys.onboarding_pk(partner_id), keys.ONBOARDING_PLAN_SK)
    except Model.DoesNotExist:
        return None


def progress(plan: OnboardingPlan, now: datetime) -> dict[str, Any]:
    today = now.date().isoformat()
    milestones = [{**m, "status": "done" if m["completedAt"] else ("overdue" if m["dueDate"] < today else "open")}
                  for m in plan.milestones]
    done_m = sum(1 for m in milestones if m["status"] == "done")
    done_d = sum(1 for d in plan.deliverables if d["completedAt"])
    total = len(milestones) + len(plan.deliverables)
    return {"partnerId": plan.partner_id, "joinedAt": plan.joined_at, "template": plan.template,
            "version": int(plan.version), "asOf": now.date().isoformat(),
            "progress": {"milestonesDone": done_m, "milestonesTotal": len(milestones),
                         "deliverablesDone": done_d, "deliverablesTotal": len(plan.deliverables),
                         "percent": round((done_m + done_d) * 100 / total) if total else 0},
            "overdue": [m["id"] for m in milestones if m["status"] == "overdue"],
            "milestones": milestones, "deliverables": list(plan.deliverables)}


def _plan_of(ctx: TenantContext) -> OnboardingPlan:
    if ctx.tenant_kind != "partner":
        raise NotFound("No such partner.")
    plan = load(ctx.tenant_id)
    if plan is None:
        raise NotFound("This partner has no onboarding plan: plans are made when a partner joins.")
    return plan


def get_plan(ctx: TenantContext) -> dict[str, Any]:
    return progress(_plan_of(ctx), clock.utcnow())


def _mark(entries: list[dict[str, Any]], entry_id: str, at: str, by: str | None, source: str | None) -> bool:
    entry = next((e for e in entries if e["id"] == entry_id), None)
    if entry is None or entry["completedAt"]:
        return False
    entry.update(completedAt=at, completedBy=by, **({"source": source} if "source" in entry else {}))
    return True


def apply(plan: OnboardingPlan, kind: str, entry_id: str, at: str, by: str | None,
          source: str) -> tuple[bool, list[str]]:
    """Complete one milestone or deliverable in memory: (changed, the milestones completed, the kit's too)."""
    if kind == "milestones":
        changed = _mark(plan.milestones, entry_id, at, by, source)
        return changed, [entry_id] if changed else []
    changed = _mark(plan.deliverables, entry_id, at, by, source)
    kit_done = changed and all(d["completedAt"] for d in plan.deliverables)
    kit = kit_done and _mark(plan.milestones, KIT_MILESTONE, at, by, "deliverables")
    return changed, [KIT_MILESTONE] if kit else []


def _save(plan: OnboardingPlan, expected: int, changed: dict[str, Any], actor: str | None, corr: str) -> None:
    plan.version, plan.updated_at = expected + 1, clock.utcnow_iso()
    tx = Tx().put(plan, OnboardingPlan.version == expected, "plan")
    tx.put(event_item(plan.partner_id, "OnboardingProgressed", {"partnerId": plan.partner_id, **changed},
                      actor=actor, correlation_id=corr))
    tx.commit()


def complete(ctx: TenantContext, kind: str, entry_id: str) -> dict[str, Any]:
    """Complete a milestone (`milestones`) or deliverable (`deliverables`): operator or the partner's admins;
    completing one that is done already changes nothing (200, same plan)."""
    plan = _plan_of(ctx)
    if entry_id not in {e["id"] for e in getattr(plan, kind)}:
        raise NotFound(f"The onboarding plan has no {kind[:-1]} `{entry_id}`.")
    expected = int(plan.version)
    changed, milestones = apply(plan, kind, entry_id, clock.utcnow_iso(), ctx.principal.subject, "manual")
    if changed:
        try:
            _save(plan, expected, {kind: [entry_id], "milestonesCompleted": milestones},
                  ctx.principal.subject, ctx.correlation_id)
        except TxConflict:
            raise Conflict("The onboarding plan changed while this request ran; retry it.") from None
    return progress(plan, clock.utcnow())


def complete_from_event(partner_id: str, milestone_id: str, at: str, source: str, actor: str | None = None) -> bool:
    """An event completes a milestone (retried once on a concurrent change); False when there is no plan or
    the milestone is done already."""
    for _ in range(3):
        plan = load(partner_id)
        if plan is None:
            return False
        expected = int(plan.version)
        if not apply(plan, "milestones", milestone_id, at, actor, source)[0]:
            return False
        try:
            _save(plan, expected, {"milestones": [milestone_id], "source": source}, actor, "")
            return True
        except TxConflict:
            continue
    raise Conflict("The onboarding plan kept changing; the stream retries the event.")
