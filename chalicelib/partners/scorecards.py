"""Quarterly partner scorecards: figures gathered, rated, stored once per quarter (docs/partners.md, "Scorecards").

Figures come from the lead, SLA and certification capabilities through `Sources` (imported lazily: a capability
that is not there gives no data, so its KPIs are grey). A scorecard is ONE item (keys.scorecard_sk); computing
it again with the same figures writes nothing, with other figures replaces it with `version` + 1.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib import clock
from chalicelib.auth.principal import TenantContext
from chalicelib.clock import iso
from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.events.outbox import event_item
from chalicelib.partners import quarters
from chalicelib.partners import scorecard_kpis as scoring
from chalicelib.partners import tiers as tiering
from chalicelib.store import keys
from chalicelib.store.models import Item, KpiInputs, OnboardingPlan, PartnerTierConfig, Scorecard, ScorecardConfig
from chalicelib.store.tx import Tx, TxConflict

Figures = dict[str, Any]


@dataclass(frozen=True)
class Sources:
    """The seams to the other capabilities (tests pass their own); None: the capability is not installed."""

    lead_figures: Callable[[str, str, str], Figures] | None
    sla_figures: Callable[[str, str, str], Figures] | None
    required_program_id: Callable[[], str | None] | None
    certified_reps: Callable[[str, str], int] | None


def _find(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def default_sources() -> Sources:
    return Sources(_find("chalicelib.partners.leads", "partner_lead_figures"),
                   _find("chalicelib.partners.sla", "partner_sla_figures"),
                   _find("chalicelib.partners.routing", "required_program_id"),
                   _find("chalicelib.partners.routing", "certified_reps"))


@dataclass(frozen=True)
class Setting:
    """What every partner's scorecard of a run shares (read once per run)."""

    tiers: list[dict[str, Any]]
    config: ScorecardConfig | None
    program_id: str | None
    sources: Sources


def setting(sources: Sources | None = None) -> Setting:
    sources = sources or default_sources()
    found = list(Item.batch_get([(keys.partner_tiers_pk(), keys.PARTNER_TIERS_SK),
                                 (keys.scorecard_config_pk(), keys.SCORECARD_CONFIG_SK)]))
    tiers = tiering.tiers_of(next((i for i in found if isinstance(i, PartnerTierConfig)), None))
    config = next((i for i in found if isinstance(i, ScorecardConfig)), None)
    program = sources.required_program_id() if sources.required_program_id else None
    return Setting(tiers, config, program, sources)


def _window(quarter: str, back: int = 0) -> tuple[str, str]:
    first = quarter
    for _ in range(back):
        first = quarters.preceding(first)
    return iso(quarters.start(first)), iso(quarters.end(quarter))


def _onboarding(plan: OnboardingPlan | None, quarter: str) -> tuple[Decimal | None, str]:
    if plan is None:
        return None, "the partner has no onboarding plan"
    last_day = iso(quarters.end(quarter))[:10]
    due = [m for m in plan.milestones if m["dueDate"] < last_day]
    if not due:
        return None, "no onboarding milestone fell due"
    met = sum(1 for m in due if m["completedAt"] and m["completedAt"][:10] <= m["dueDate"])
    return scoring.percent(met, len(due)), ""


def _input(inputs: KpiInputs | None, attr: str) -> Decimal | None:
    value = getattr(inputs, attr) if inputs is not None else None
    return Decimal(value) if value is not None else None


def gather(partner_id: str, quarter: str, run: Setting, inputs: KpiInputs | None,
           plan: OnboardingPlan | None) -> scoring.Figures:
    src, (start, end), (year_start, _) = run.sources, _window(quarter), _window(quarter, back=3)
    leads = src.lead_figures(partner_id, start, end) if src.lead_figures else None
    leads_year = src.lead_figures(partner_id, year_start, end) if src.lead_figures else None
    sla = src.sla_figures(partner_id, start, end) if src.sla_figures else None
    sla_year = src.sla_figures(partner_id, year_start, end) if src.sla_figures else None
    reps = src.certified_reps(partner_id, run.program_id) if run.program_id and src.certified_reps else None
    no_leads = "lead figures are not available" if leads is None else ""
    closed = leads is not None and (leads["won"] + leads["lost"]) > 0
    offered = leads is not None and (leads["offered"] + leads["claimed"]) > 0
    onboarding, onboarding_why = _onboarding(plan, quarter)
    values: dict[str, Decimal | None] = {
        "certifiedReps": None if reps is None else Decimal(reps),
        "pipeline": leads["pipeline"] if offered and leads else None,
        "newArr": leads["newArr"] if closed and leads else None,
        "claimRate": leads["claimRatePercent"] if leads else None,
        "timeToClaim": leads["medianHoursToClaim"] if leads else None,
        "winRate": leads["winRatePercent"] if leads else None,
        "slaAdherence": sla["adherencePercent"] if sla else None,
        "uptime": sla["uptimePercent"] if sla else None,
        "customerSatisfaction": _input(inputs, "customer_satisfaction"),
        "renewalRate": _input(inputs, "renewal_rate"),
        "onboarding": onboarding}
    entered = f"the operator has not entered it (PUT /v1/partners/{partner_id}/kpi-inputs/{quarter})"
    why = {"certifiedReps": "no required certification program is set (lead-routing requiredProgramId)"
           if run.program_id is None else "certified reps are not available",
           "pipeline": no_leads or "no lead was offered to the partner",
           "newArr": no_leads or "no routed lead was closed (won or lost)",
           "claimRate": no_leads or "no lead offer was claimed, declined or timed out",
           "timeToClaim": no_leads or "no lead was claimed", "winRate": no_leads or "no routed lead was closed",
           "slaAdherence": "SLA figures are not available" if sla is None
           else "no support case of the partner's customers had a decided SLA clock",
           "uptime": "SLA figures are not available" if sla is None
           else f"the operator recorded no monthly uptime (PUT /v1/partners/{partner_id}/uptime/<month>)",
           "customerSatisfaction": entered, "renewalRate": entered, "onboarding": onboarding_why}
    return scoring.Figures(quarter, values, why, reps, leads_year["newArr"] if leads_year else None,
                           sla_year["adherencePercent"] if sla_year else None)


def to_json(item: Scorecard) -> dict[str, Any]:
    return {**item.card, "version": int(item.version), "computedAt": item.computed_at}


def compute_and_store(partner: Any, quarter: str, run: Setting, previous: Scorecard | None,
                      inputs: KpiInputs | None, plan: OnboardingPlan | None, actor: str = "system:scorecards",
                      correlation_id: str = "") -> tuple[Scorecard, bool]:
    """The partner's scorecard of `quarter`, stored when new or changed: (item, written)."""
    tier = tiering.find_tier(run.tiers, tiering.partner_tier_id(partner))
    made = scoring.card(partner.id, gather(partner.id, quarter, run, inputs, plan), tier, run.tiers, run.config)
    if previous is not None and previous.card == made:
        return previous, False
    item = Scorecard(PK=keys.scorecards_pk(partner.id), SK=keys.scorecard_sk(quarter), partner_id=partner.id,
                     quarter=quarter, card=made, version=int(previous.version) + 1 if previous else 1,
                     computed_at=clock.utcnow_iso())
    condition = (Scorecard.version == previous.version) if previous else Item.PK.does_not_exist()
    tx = Tx().put(item, condition, "scorecard")
    tx.put(event_item(partner.id, "ScorecardComputed", {"partnerId": partner.id, "quarter": quarter,
                                                        "overall": made["overall"], "version": item.version},
                      actor=actor, correlation_id=correlation_id))
    tx.commit()
    return item, True


def quarter_of(value: str, now: datetime | None = None) -> str:
    """A path's quarter, validated: well-formed and started (400 naming `quarter` otherwise)."""
    if quarters.parse(value) is None:
        raise ValidationFailed(f"`{value}` is not a quarter; write it as 2027Q1.",
                               errors=[field_error("quarter", "not a quarter (2027Q1)", "quarter")])
    quarter = quarters.normal(value)
    if quarters.start(quarter) > (now or clock.utcnow()):
        raise ValidationFailed(f"{quarter} has not started yet.",
                               errors=[field_error("quarter", "in the future", "quarter")])
    return quarter


def _partner_ctx(ctx: TenantContext) -> None:
    if ctx.tenant_kind != "partner":
        raise NotFound("No such partner.")


def get_scorecard(ctx: TenantContext, value: str) -> dict[str, Any]:
    _partner_ctx(ctx)
    quarter = quarter_of(value)
    try:
        return to_json(Scorecard.get(keys.scorecards_pk(ctx.tenant_id), keys.scorecard_sk(quarter)))
    except Scorecard.DoesNotExist:
        raise NotFound(f"No scorecard for {quarter} yet: the scorecards job computes each quarter on the first day "
                       f"of the next; the operator can compute it now (POST /v1/partners/{ctx.tenant_id}/scorecards/"
                       f"{quarter}/compute, or `onramp jobs run scorecards --quarter {quarter}`).") from None


def list_scorecards(ctx: TenantContext) -> dict[str, Any]:
    """The partner's scorecards, newest first (one Query): a summary each."""
    _partner_ctx(ctx)
    found = Scorecard.query(keys.scorecards_pk(ctx.tenant_id), Scorecard.SK.startswith(keys.scorecard_prefix()),
                            scan_index_forward=False, limit=40)
    return {"items": [{"quarter": s.quarter, "overall": s.card["overall"], "tier": s.card["tier"],
                       "counts": s.card["counts"], "version": int(s.version), "computedAt": s.computed_at}
                      for s in found if isinstance(s, Scorecard)]}


def put_inputs(ctx: TenantContext, value: str, body: Any) -> dict[str, Any]:
    """The operator's KPI inputs of a quarter (replaced whole); they count when the scorecard is computed."""
    _partner_ctx(ctx)
    if ctx.relation != "operator":
        raise Forbidden("Only the operator enters KPI inputs.")
    quarter = quarter_of(value)
    item = KpiInputs(PK=keys.scorecards_pk(ctx.tenant_id), SK=keys.kpi_inputs_sk(quarter), partner_id=ctx.tenant_id,
                     quarter=quarter, customer_satisfaction=_str(body.customerSatisfactionPercent),
                     renewal_rate=_str(body.renewalRatePercent), note=body.note, updated_at=clock.utcnow_iso(),
                     updated_by=ctx.principal.subject)
    detail = {"partnerId": ctx.tenant_id, "quarter": quarter, "customerSatisfactionPercent": item.customer_satisfaction,
              "renewalRatePercent": item.renewal_rate}
    Tx().put(item).put(event_item(ctx.tenant_id, "KpiInputsRecorded", detail, actor=ctx.principal.subject,
                                  correlation_id=ctx.correlation_id)).commit()
    return {**detail, "note": item.note, "updatedAt": item.updated_at}


def _str(value: Decimal | None) -> str | None:
    """A percent as stored and shown: 2 decimals, like every measured KPI (`92` -> `92.00`)."""
    return None if value is None else str(value.quantize(Decimal("0.01")))


def compute_one(ctx: TenantContext, value: str, sources: Sources | None = None) -> dict[str, Any]:
    """Compute (or refresh) one partner's scorecard now (operator): one BatchGetItem of the partner's items."""
    _partner_ctx(ctx)
    if ctx.relation != "operator":
        raise Forbidden("Only the operator computes scorecards on demand.")
    quarter = quarter_of(value)
    from chalicelib.store.models import Tenant

    found = list(Item.batch_get([(keys.tenant_pk(ctx.tenant_id), keys.TENANT_SK),
                                 (keys.scorecards_pk(ctx.tenant_id), keys.scorecard_sk(quarter)),
                                 (keys.scorecards_pk(ctx.tenant_id), keys.kpi_inputs_sk(quarter)),
                                 (keys.onboarding_pk(ctx.tenant_id), keys.ONBOARDING_PLAN_SK),
                                 (keys.partner_tiers_pk(), keys.PARTNER_TIERS_SK),
                                 (keys.scorecard_config_pk(), keys.SCORECARD_CONFIG_SK)]))

    def one(model: type[Item]) -> Any:
        return next((i for i in found if isinstance(i, model)), None)

    sources = sources or default_sources()
    run = Setting(tiering.tiers_of(one(PartnerTierConfig)), one(ScorecardConfig),
                  sources.required_program_id() if sources.required_program_id else None, sources)
    try:
        item, _ = compute_and_store(one(Tenant), quarter, run, one(Scorecard), one(KpiInputs), one(OnboardingPlan),
                                    ctx.principal.subject, ctx.correlation_id)
    except TxConflict:
        raise Conflict("The scorecard was computed by someone else meanwhile; retry.") from None
    return to_json(item)
