"""The partner program end to end, as a new user walks it (issue #7 "Done when"): the operator creates two partners
and a customer, approves a partner's brand kit (live on the partner's customer), routes a lead that the best-fit
partner claims, watches an unclaimed lead time out and re-route to the other partner through the scheduled job,
and reads a quarterly scorecard computed by the scorecards job from what happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.unit.course_helpers import Stream
from tests.unit.test_brand_kits import kit
from tests.unit.test_leads import now  # noqa: F401 - the pinned, movable server clock

T0 = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)  # a Monday in 2027Q1


def _ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, resp.body
    return resp.json_body


def _job(name: str, moment: datetime, **detail: Any) -> dict[str, Any]:
    """A scheduled job through the app's own handler, as EventBridge (and `onramp jobs run`) invokes it."""
    from chalicelib.jobs import runner

    event = type("Event", (), {"detail": {"asOf": moment.isoformat(), **detail}, "time": None, "event_id": "e2e"})()
    return runner.run_scheduled(name, event)


def _partner(api: Any, name: str, slug: str, tier: str, profile: dict[str, Any]) -> dict[str, Any]:
    made = _ok(api.call("POST", "/v1/tenants", api.operator, {"name": name, "slug": slug, "template": "reseller"}),
               201)
    _ok(api.call("PUT", f"/v1/partners/{made['id']}/tier", api.operator, {"tier": tier}))
    admin = api.tenant_admin(made["id"])
    _ok(api.call("PUT", f"/v1/partners/{made['id']}/routing-profile", admin, profile))
    return {"id": made["id"], "admin": admin}


def test_partners_brand_kit_lead_claim_timeout_reroute_and_scorecard(api: Any, now: Any) -> None:  # noqa: F811
    now.at(T0)
    stream = Stream(api)
    # -- partners and a customer ------------------------------------------------------------------------
    north = _partner(api, "Northwind Partners", "northwind-e2e", "preferred",
                     {"industries": ["Software"], "regions": ["NA", "EU"], "products": ["*"], "maxOpenLeads": 5})
    contoso = _partner(api, "Contoso Channel", "contoso-e2e", "registered",
                       {"industries": ["Healthcare"], "regions": ["NA"], "products": ["*"], "maxOpenLeads": 5})
    customer = _ok(api.call("POST", "/v1/tenants", api.operator,
                            {"name": "Initech", "slug": "initech-e2e", "template": "sales-team",
                             "parentTenantId": north["id"]}), 201)
    stream.drain()
    # -- co-branding: the partner submits its kit, the operator approves it, it goes live ---------------------
    kit_path = f"/v1/partners/{north['id']}/brand-kit"
    _ok(api.call("PUT", kit_path + "/draft", north["admin"], kit(displayName="Northwind Learning")))
    version = _ok(api.call("POST", kit_path + "/draft/submit", north["admin"]), 201)["version"]
    assert api.call("POST", f"/v1/partners/{north['id']}/brand-kits/{version}/approve",
                    north["admin"]).status_code == 403  # a partner never approves its own kit
    _ok(api.call("POST", f"/v1/partners/{north['id']}/brand-kits/{version}/approve", api.operator))
    stream.drain()
    customer_admin = api.tenant_admin(customer["id"])
    shown = _ok(api.call("GET", f"/v1/tenants/{customer['id']}/branding", customer_admin))
    assert "Northwind Learning" in str(shown) and "help@patron.example" in str(shown)
    audit = _ok(api.call("GET", kit_path + "/audit", api.operator))["items"]
    assert [a["action"] for a in audit][-1:] != [] and any(a["action"] == "approved" for a in audit)
    # -- a lead routes to the best fit (Software, NA: Northwind), who claims it -----------------------------
    lead = _ok(api.call("POST", "/v1/leads", api.operator,
                        {"externalId": "sf-0001", "industry": "Software", "region": "NA", "product": "LMS",
                         "dealSize": "40000.00", "company": {"name": "Hooli"}}), 201)
    assert lead["offer"]["partnerId"] == north["id"]
    why = _ok(api.call("GET", f"/v1/leads/{lead['id']}/routing", api.operator))
    assert why["decisions"][0]["chosen"]["partnerId"] == north["id"]
    now.at(T0 + timedelta(hours=2))
    claim = f"/v1/partners/{north['id']}/leads/{lead['id']}/claim"
    assert _ok(api.call("POST", claim, north["admin"]))["ownerPartnerId"] == north["id"]
    assert api.call("POST", claim, north["admin"]).status_code == 409  # claimed once
    _ok(api.call("POST", f"/v1/partners/{north['id']}/leads/{lead['id']}/outcome", north["admin"],
                 {"status": "won", "amount": "36000.00"}))
    # -- another lead nobody claims: the job times it out and re-routes it to the other partner -------------
    idle = _ok(api.call("POST", "/v1/leads", api.operator,
                        {"externalId": "sf-0002", "industry": "Software", "region": "NA", "product": "LMS",
                         "dealSize": "15000.00"}), 201)
    assert idle["offer"]["partnerId"] == north["id"]
    expires = datetime.fromisoformat(idle["offer"]["expiresAt"].replace("Z", "+00:00"))
    late = expires + timedelta(minutes=15)
    now.at(late)
    result = _job("lead-claim-timeouts", late)
    assert (result["timedOut"], result["rerouted"]) == (1, 1), result
    rerouted = _ok(api.call("GET", f"/v1/leads/{idle['id']}", api.operator))
    assert rerouted["offer"]["partnerId"] == contoso["id"] and rerouted["attempts"] == 2
    assert _job("lead-claim-timeouts", late)["timedOut"] == 0  # the same time again changes nothing
    late_claim = api.call("POST", f"/v1/partners/{north['id']}/leads/{idle['id']}/claim", north["admin"])
    assert late_claim.status_code == 409  # after its window, to the partner it was offered to first
    _ok(api.call("POST", f"/v1/partners/{contoso['id']}/leads/{idle['id']}/claim", contoso["admin"]))
    stream.drain()
    # -- SLA: the customer opens a high-severity case; the partner answers within 4 business hours ------------
    now.at(T0 + timedelta(days=2))
    cases = f"/v1/tenants/{customer['id']}/support-cases"
    case = _ok(api.call("POST", cases, customer_admin, {"subject": "SSO broken", "description": "Nobody can log in",
                                                        "severity": "high"}), 201)
    now.at(T0 + timedelta(days=2, hours=1))
    _ok(api.call("POST", f"{cases}/{case['id']}/responses", north["admin"], {"message": "On it"}))
    now.at(T0 + timedelta(days=3))
    _ok(api.call("POST", f"{cases}/{case['id']}/resolve", north["admin"], {"resolution": "IdP cert renewed"}))
    for month in ("2027-01", "2027-02", "2027-03"):
        _ok(api.call("PUT", f"/v1/partners/{north['id']}/uptime/{month}", api.operator, {"percent": "99.9"}))
    _ok(api.call("PUT", f"/v1/partners/{north['id']}/kpi-inputs/2027Q1", api.operator,
                 {"customerSatisfactionPercent": "92", "renewalRatePercent": "85"}))
    stream.drain()
    # -- the quarter closes: the scheduled job computes every partner's scorecard --------------------------
    quarter_close = datetime(2027, 4, 1, 4, 0, tzinfo=UTC)
    now.at(quarter_close)
    assert api.call("GET", f"/v1/partners/{north['id']}/scorecards/2027Q1", north["admin"]).status_code == 404
    ran = _job("scorecards", quarter_close)
    assert _job("scorecards", quarter_close) != {} and ran
    card = _ok(api.call("GET", f"/v1/partners/{north['id']}/scorecards/2027Q1", north["admin"]))
    kpis = {k["id"]: k for k in card["kpis"]}
    assert (kpis["claimRate"]["value"], kpis["newArr"]["value"], kpis["pipeline"]["value"]) == (
        "50.00", "36000.00", "40000.00"), kpis  # one claimed, one timed out; the won lead
    assert kpis["winRate"]["value"] == "100.00" and kpis["slaAdherence"]["value"] == "100.00"
    assert kpis["customerSatisfaction"]["value"] == "92.00"
    for kpi in kpis.values():  # every KPI is rated (or honestly grey) and says why
        assert kpi["rating"] in {"green", "amber", "red", "grey"} and kpi["explanation"]
    assert kpis["certifiedReps"]["rating"] == "grey"  # no certification program is required in this world
    assert card["tier"] and card["incentives"] and card["tierEligibility"]
    rival = _ok(api.call("GET", f"/v1/partners/{contoso['id']}/scorecards/2027Q1", contoso["admin"]))
    assert {k["id"]: k for k in rival["kpis"]}["claimRate"]["value"] == "100.00"
    assert api.call("GET", f"/v1/partners/{north['id']}/scorecards/2027Q1", contoso["admin"]).status_code == 404
    # -- onboarding: the plan made when the partner joined, with first co-sell and first deal done by events ----
    plan = _ok(api.call("GET", f"/v1/partners/{north['id']}/onboarding", north["admin"]))
    done = {m["id"] for m in plan["milestones"] if m["status"] == "done"}
    assert {"first-co-sell", "first-deal"} <= done, plan["milestones"]


def test_partner_certification_gates_routing_and_completes_onboarding(api: Any) -> None:
    """Item 5: the operator requires a shared demo certification; an uncertified partner is not offered leads
    (the lead escalates); its rep passes the course through the player, the certificate is issued in the
    partner's tenant, the routing card counts the rep, the next lead is offered to the partner, and the
    onboarding plan's demo-certification milestone completes itself."""
    from tests.unit.test_certifications import _grant, _library_course
    from tests.unit.test_paths import _complete

    stream = Stream(api)
    north = _partner(api, "Certified Partners", "cert-partner-e2e", "preferred",
                     {"industries": ["Software"], "regions": ["NA"], "products": ["*"], "maxOpenLeads": 5})
    course = _library_course(api, "Partner Demo Certification")
    _grant(api, course, north["id"])
    program = _ok(api.call("POST", "/v1/library/certifications", api.operator,
                           {"name": "Demo Certified", "requirements": [{"kind": "course", "courseId": course}],
                            "validityDays": 365}), 201)
    _ok(api.call("PUT", "/v1/lead-routing", api.operator,
                 {"requiredProgramId": program["id"], "minCertifiedReps": 1,
                  "channelManager": {"name": "Cora Channel", "email": "cora@vendor.example"}}))
    stream.drain()
    lead = {"industry": "Software", "region": "NA", "product": "LMS", "dealSize": "20000.00"}
    first = _ok(api.call("POST", "/v1/leads", api.operator, {**lead, "externalId": "gate-1"}), 201)
    assert first["status"] == "escalated" and first["offer"] is None
    why = _ok(api.call("GET", f"/v1/leads/{first['id']}/routing", api.operator))
    assert "certif" in str(why["decisions"][0]).lower()  # excluded, and the reason names the certification
    # a rep of the partner passes the course: the certificate is issued in the partner's tenant
    rep, rep_token = api.user_token(north["id"], ["learner"])
    admin = north["admin"]
    enrollment = _ok(api.call("POST", f"/v1/tenants/{north['id']}/enrollments", admin,
                              {"userId": rep["id"], "courseId": course}), 201)
    _complete(api, {"t": north["id"], "token": rep_token}, enrollment["id"])
    for _ in range(3):
        stream.drain()
    card = _ok(api.call("GET", f"/v1/partners/{north['id']}/routing-profile", admin))
    assert card["certifiedReps"] == 1
    second = _ok(api.call("POST", "/v1/leads", api.operator, {**lead, "externalId": "gate-2"}), 201)
    assert second["status"] == "offered" and second["offer"]["partnerId"] == north["id"]
    plan = _ok(api.call("GET", f"/v1/partners/{north['id']}/onboarding", admin))
    assert next(m for m in plan["milestones"] if m["id"] == "demo-certification")["status"] == "done"
