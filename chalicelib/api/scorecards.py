"""Scorecard and onboarding routes: KPI scorecards, thresholds, KPI inputs, onboarding plans (docs/partners.md)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.http.routing import Call, route
from chalicelib.lazy import lazy

bp = Blueprint(__name__)
scorecards = lazy("chalicelib.partners.scorecards")
rules = lazy("chalicelib.partners.scorecard_rules")
onboarding = lazy("chalicelib.partners.onboarding")
TAG = "Partners"
PARTNER = "/v1/partners/{partnerId}"
CARD = PARTNER + "/scorecards/{quarter}"
PLAN = PARTNER + "/onboarding"



@route(bp, "GET", "/v1/scorecard-thresholds", summary="The scorecard KPIs, thresholds per tier and incentive rules",
       tag=TAG, scope="partners:read", responses=(403,))
def get_thresholds(call: Call) -> Any:
    return rules.get_config()


@route(bp, "PUT", "/v1/scorecard-thresholds", summary="Set the scorecard thresholds and incentive rules (operator)",
       tag=TAG, scope="partners:write", body="ScorecardThresholds", responses=(400, 403, 409))
def put_thresholds(call: Call) -> Any:
    assert call.principal is not None
    return rules.put_config(call.principal, call.body, call.correlation_id)


@route(bp, "GET", PARTNER + "/scorecards", summary="A partner's quarterly scorecards, newest first", tag=TAG,
       scope="partners:read", responses=(403, 404))
def list_scorecards(call: Call) -> Any:
    return scorecards.list_scorecards(call.partner("partners:read"))


@route(bp, "GET", CARD, summary="A partner's scorecard of a quarter: KPIs rated and explained, incentives, tiers",
       tag=TAG, scope="partners:read", responses=(400, 403, 404))
def get_scorecard(call: Call) -> Any:
    return scorecards.get_scorecard(call.partner("partners:read"), call.params["quarter"])


@route(bp, "POST", CARD + "/compute", summary="Compute a partner's scorecard of a quarter now (operator)", tag=TAG,
       scope="partners:write", idempotent=False, responses=(400, 403, 404, 409))
def compute_scorecard(call: Call) -> Any:
    return scorecards.compute_one(call.partner("partners:write"), call.params["quarter"])


@route(bp, "PUT", PARTNER + "/kpi-inputs/{quarter}", summary="Enter a partner's CSAT and renewal rate of a quarter "
       "(operator)", tag=TAG, scope="partners:write", body="PutKpiInputs", responses=(400, 403, 404))
def put_kpi_inputs(call: Call) -> Any:
    return scorecards.put_inputs(call.partner("partners:write"), call.params["quarter"], call.body)


@route(bp, "GET", PLAN, summary="A partner's onboarding plan: progress, overdue milestones, deliverables", tag=TAG,
       scope="partners:read", responses=(403, 404))
def get_onboarding(call: Call) -> Any:
    return onboarding.get_plan(call.partner("partners:read"))


@route(bp, "POST", PLAN + "/milestones/{milestoneId}/complete", summary="Complete an onboarding milestone", tag=TAG,
       scope="partners:write", idempotent=False, responses=(403, 404, 409))
def complete_milestone(call: Call) -> Any:
    return onboarding.complete(call.partner("partners:write"), "milestones", call.params["milestoneId"])


@route(bp, "POST", PLAN + "/deliverables/{deliverableId}/complete", summary="Mark an enablement-kit deliverable "
       "delivered", tag=TAG, scope="partners:write", idempotent=False, responses=(403, 404, 409))
def complete_deliverable(call: Call) -> Any:
    return onboarding.complete(call.partner("partners:write"), "deliverables", call.params["deliverableId"])
