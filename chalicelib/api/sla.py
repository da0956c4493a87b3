"""SLA routes: partners' calendars, the SLA policy, customers' support cases, uptime (docs/partners.md "SLAs")."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.http.routing import Call, Reply, route
from chalicelib.lazy import lazy

bp = Blueprint(__name__)
calendars = lazy("chalicelib.partners.sla_calendar")
cases = lazy("chalicelib.partners.sla_cases")
replies = lazy("chalicelib.partners.sla_replies")
uptime = lazy("chalicelib.partners.sla_uptime")
TAG = "Partners"
PARTNER = "/v1/partners/{partnerId}"
CASES = "/v1/tenants/{tenantId}/support-cases"
CASE = CASES + "/{caseId}"



@route(bp, "GET", PARTNER + "/sla-calendar", summary="A partner's business calendar and the SLA policy", tag=TAG,
       scope="support:read", responses=(403, 404))
def get_calendar(call: Call) -> Any:
    return calendars.get_calendar(call.partner("support:read"))


@route(bp, "PUT", PARTNER + "/sla-calendar", summary="Set a partner's business calendar (its admins, operator)",
       tag=TAG, scope="support:write", body="SlaCalendarBody", responses=(400, 403, 404))
def put_calendar(call: Call) -> Any:
    return calendars.put_calendar(call.partner("support:write"), call.body)


@route(bp, "GET", "/v1/sla-policy", summary="The SLA hours per severity", tag=TAG, scope="support:read")
def get_policy(call: Call) -> Any:
    return calendars.get_policy()


@route(bp, "PUT", "/v1/sla-policy", summary="Set the SLA hours per severity (operator)", tag=TAG,
       scope="support:write", body="SlaPolicyBody", responses=(400, 403))
def put_policy(call: Call) -> Any:
    assert call.principal is not None
    return calendars.put_policy(call.principal, call.body, call.correlation_id)


@route(bp, "GET", PARTNER + "/support-cases", summary="The support cases of a partner's customers", tag=TAG,
       scope="support:read", query="SupportCaseListQuery", responses=(400, 403, 404))
def list_partner_cases(call: Call) -> Any:
    return cases.list_for_partner(call.partner("support:read"), call.query)


@route(bp, "PUT", PARTNER + "/uptime/{month}", summary="Record a partner's uptime for a month (operator)", tag=TAG,
       scope="support:write", body="PutUptime", responses=(400, 403, 404))
def put_uptime(call: Call) -> Any:
    return uptime.put_month(call.partner("support:write"), call.params["month"], call.body)


@route(bp, "GET", PARTNER + "/uptime", summary="A partner's monthly uptime against the target", tag=TAG,
       scope="support:read", query="UptimeQuery", responses=(400, 403, 404))
def get_uptime(call: Call) -> Any:
    return uptime.get_months(call.partner("support:read"), call.query)


@route(bp, "POST", CASES, summary="Open a support case with the tenant's partner", tag=TAG, scope="support:write",
       body="OpenSupportCase", status=201, responses=(400, 403, 404, 409))
def open_case(call: Call) -> Any:
    assert call.ctx is not None
    case = cases.open_case(call.ctx, call.body)
    return Reply(case, 201, {"Location": f"/v1/tenants/{case['tenantId']}/support-cases/{case['id']}"})


@route(bp, "GET", CASES, summary="The tenant's support cases (learners: their own)", tag=TAG,
       scope="support:read", query="SupportCaseListQuery", responses=(400, 404))
def list_cases(call: Call) -> Any:
    assert call.ctx is not None
    return cases.list_for_tenant(call.ctx, call.query)


@route(bp, "GET", CASE, summary="A support case with its SLA clocks and responses", tag=TAG, scope="support:read",
       responses=(404,))
def get_case(call: Call) -> Any:
    assert call.ctx is not None
    return cases.get_case(call.ctx, call.params["caseId"])


@route(bp, "POST", CASE + "/responses", summary="Respond to a case (the partner's admins); the first stops the "
       "response clock", tag=TAG, scope="support:write", body="SupportCaseReply", responses=(400, 403, 404, 409))
def respond(call: Call) -> Any:
    assert call.ctx is not None
    return replies.respond(call.ctx, call.params["caseId"], call.body)


@route(bp, "POST", CASE + "/resolve", summary="Resolve a case (the partner's admins), once", tag=TAG,
       scope="support:write", body="ResolveSupportCase", responses=(400, 403, 404, 409))
def resolve(call: Call) -> Any:
    assert call.ctx is not None
    return replies.resolve(call.ctx, call.params["caseId"], call.body)
