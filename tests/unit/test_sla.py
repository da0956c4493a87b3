"""SLAs over the real app: calendars, the policy, support cases with their clocks, responses, resolution, the
breach job (once per clock, re-runs change nothing), uptime figures and the scorecard's figures."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.unit.callcount import counting

_seq = itertools.count(1)
T0 = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)  # a Monday, 10:00 UTC
CASE = {"subject": "Login fails", "description": "Nobody in sales can log in since 09:40.", "severity": "high"}


@pytest.fixture()
def now(pin_clock: Any) -> Any:
    """The server clock, pinned at T0 and movable: `now.at(moment)`."""
    return pin_clock(T0)


def make_world(api: Any) -> dict[str, Any]:
    """A partner with an admin and a learner; its customer with an admin and a learner."""
    n = next(_seq)
    partner = api.make_tenant(name=f"SLA Partner {n}", slug=f"sla-partner-{n}", template="reseller")
    customer = api.make_tenant(name=f"SLA Customer {n}", slug=f"sla-customer-{n}", parentTenantId=partner["id"])
    _, learner = api.user_token(customer["id"], ["learner"])
    _, partner_learner = api.user_token(partner["id"], ["learner"])
    return {"partner": partner["id"], "customer": customer["id"], "partner_admin": api.tenant_admin(partner["id"]),
            "admin": api.tenant_admin(customer["id"]), "learner": learner, "partner_learner": partner_learner}


@pytest.fixture()
def world(api: Any, now: Any) -> dict[str, Any]:
    return make_world(api)


def open_case(api: Any, w: dict[str, Any], token: str | None = None, **overrides: Any) -> dict[str, Any]:
    resp = api.call("POST", f"/v1/tenants/{w['customer']}/support-cases", token or w["admin"], {**CASE, **overrides})
    assert resp.status_code == 201, resp.body
    return dict(api.json(resp))


def case_path(w: dict[str, Any], case: dict[str, Any], tail: str = "") -> str:
    return f"/v1/tenants/{w['customer']}/support-cases/{case['id']}{tail}"


def events(tenant_id: str, kind: str) -> list[Any]:
    from chalicelib.store import keys
    from chalicelib.store.models import Event, Item

    found = []
    for shard in range(keys.EVENT_SHARDS):
        found += [e for e in Item.query(keys.event_pk(tenant_id, shard))
                  if isinstance(e, Event) and e.event_type == kind]
    return sorted(found, key=lambda e: e.occurred_at)


def run_job(moment: datetime) -> dict[str, Any]:
    from chalicelib.partners import sla_job

    return sla_job.run(moment)


def test_calendar_defaults_then_set_validated_and_read(api: Any, world: Any) -> None:
    w, path = world, f"/v1/partners/{world['partner']}/sla-calendar"
    shown = api.json(api.call("GET", path, w["partner_admin"]))
    assert shown["source"] == "default" and shown["timezone"] == "UTC"
    assert shown["workingDays"] == ["mon", "tue", "wed", "thu", "fri"]
    assert shown["workingHours"] == {"start": "09:00", "end": "17:00"} and shown["holidays"] == []
    assert shown["policy"]["high"] == {"responseHours": 4, "resolutionHours": 48}
    body = {"timezone": "Europe/Berlin", "workingDays": ["mon", "tue", "wed", "thu", "fri"],
            "workingHours": {"start": "08:00", "end": "18:00"}, "holidays": ["2027-12-25"]}
    resp = api.call("PUT", path, w["partner_admin"], body)
    assert resp.status_code == 200, resp.body
    shown = api.json(api.call("GET", path, api.operator))
    assert (shown["source"], shown["timezone"], shown["holidays"]) == ("partner", "Europe/Berlin", ["2027-12-25"])
    assert len(events(w["partner"], "SlaCalendarChanged")) == 1
    # validation names the field, and nothing is written
    bad = [({**body, "timezone": "Mars/Olympus_Mons"}, "timezone"), ({**body, "timezone": "../etc/passwd"}, "timezone"),
           ({**body, "workingHours": {"start": "17:00", "end": "09:00"}}, "workingHours.end"),
           ({**body, "workingHours": {"start": "9am", "end": "17:00"}}, "workingHours.start"),
           ({**body, "workingDays": []}, "workingDays"), ({**body, "workingDays": ["mon", "mon"]}, "workingDays"),
           ({**body, "workingDays": ["funday"]}, "workingDays.0"), ({**body, "holidays": ["2027-02-30"]}, "holidays.0")]
    for payload, field in bad:
        resp = api.call("PUT", path, w["partner_admin"], payload)
        assert resp.status_code == 400, (payload, resp.body)
        assert field in {e["field"] for e in api.json(resp)["errors"]}, (field, resp.body)
    assert api.json(api.call("GET", path, w["partner_admin"]))["workingHours"] == {"start": "08:00", "end": "18:00"}
    # the partner's learner reads nothing, the customer's admin does not see its partner's settings
    assert api.call("GET", path, w["partner_learner"]).status_code == 403
    assert api.call("GET", path, w["admin"]).status_code == 404
    # a customer tenant is not a partner
    assert api.call("GET", f"/v1/partners/{w['customer']}/sla-calendar", api.operator).status_code == 404


def test_policy_is_the_operators(api: Any, world: Any) -> None:
    assert api.json(api.call("GET", "/v1/sla-policy", world["admin"]))["source"] == "default"
    policy = {"high": {"responseHours": 2, "resolutionHours": 24},
              "medium": {"responseHours": 8, "resolutionHours": 72},
              "low": {"responseHours": 16, "resolutionHours": 120}}
    assert api.call("PUT", "/v1/sla-policy", world["partner_admin"], policy).status_code == 403
    resp = api.call("PUT", "/v1/sla-policy", api.operator, {**policy, "low": {"responseHours": 200,
                                                                                "resolutionHours": 120}})
    assert resp.status_code == 400 and api.json(resp)["errors"][0]["field"] == "low.responseHours"
    assert api.call("PUT", "/v1/sla-policy", api.operator, policy).status_code == 200
    case = open_case(api, world)
    assert case["responseDueAt"] == "2027-03-01T12:00:00.000Z"  # 2 business hours from Monday 10:00


def test_open_respond_in_time_resolve_late_breaches_once(api: Any, world: Any, now: Any) -> None:
    w = world
    case = open_case(api, w)
    assert (case["status"], case["severity"], case["partnerId"]) == ("open", "high", w["partner"])
    assert case["responseDueAt"] == "2027-03-01T14:00:00.000Z"  # 4 business hours
    assert case["resolutionDueAt"] == "2027-03-09T10:00:00.000Z"  # 48 business hours: six working days
    assert case["clocks"]["response"]["status"] == "pending"
    assert case["clocks"]["response"]["businessHoursUsed"] == "0.00"
    assert len(events(w["partner"], "SupportCaseOpened")) == 1
    assert run_job(T0)["found"] == 0
    # the first response two hours in: the response clock is met, its due entry gone
    now.at(T0 + timedelta(hours=2))
    resp = api.call("POST", case_path(w, case, "/responses"), w["partner_admin"], {"message": "Looking at it."})
    assert resp.status_code == 200, resp.body
    shown = api.json(resp)
    assert shown["respondedAt"] == "2027-03-01T12:00:00.000Z" and shown["status"] == "responded"
    assert shown["clocks"]["response"] == {"targetBusinessHours": 4, "dueAt": "2027-03-01T14:00:00.000Z",
                                           "status": "met", "stoppedAt": "2027-03-01T12:00:00.000Z",
                                           "businessHoursUsed": "2.00", "overdue": False}
    # a retry of the same response changes nothing; a second message is a response, not the first
    again = api.call("POST", case_path(w, case, "/responses"), w["partner_admin"], {"message": "Looking at it."})
    assert again.status_code == 200 and api.json(again)["replayed"] is True
    now.at(T0 + timedelta(hours=3))
    api.call("POST", case_path(w, case, "/responses"), w["partner_admin"], {"message": "Found it: the SSO cert."})
    assert run_job(T0 + timedelta(hours=5))["found"] == 0  # the response clock's entry left the index
    # the resolution clock runs out: the job breaches it, once
    due = datetime(2027, 3, 9, 10, 0, tzinfo=UTC)
    assert run_job(due - timedelta(minutes=1))["breached"] == 0
    result = run_job(due + timedelta(minutes=7))
    assert (result["found"], result["breached"]) == (1, 1), result
    breaches = events(w["partner"], "SlaBreached")
    from chalicelib.store.models import plain

    assert [plain(b.detail) for b in breaches] == [{"caseId": case["id"], "partnerId": w["partner"],
                                             "tenantId": w["customer"], "clock": "resolution",
                                             "dueAt": "2027-03-09T10:00:00.000Z"}]
    before = api.json(api.call("GET", case_path(w, case), w["admin"]))
    assert before["breached"] is True and before["clocks"]["resolution"]["status"] == "breached"
    assert run_job(due + timedelta(minutes=7))["found"] == 0  # the same time again: nothing
    assert run_job(due + timedelta(hours=2))["found"] == 0
    assert api.json(api.call("GET", case_path(w, case), w["admin"])) == before
    # resolved late: no second breach event
    now.at(due + timedelta(hours=3))
    resp = api.call("POST", case_path(w, case, "/resolve"), w["partner_admin"], {"resolution": "Renewed the cert."})
    assert resp.status_code == 200, resp.body
    done = api.json(resp)
    assert done["status"] == "resolved" and done["clocks"]["resolution"]["status"] == "breached"
    assert done["clocks"]["resolution"]["businessHoursUsed"] == "51.00"
    assert len(events(w["partner"], "SlaBreached")) == 1
    # resolve once: a retry with the same text replays, another text is a conflict; no response after it
    assert api.json(api.call("POST", case_path(w, case, "/resolve"), w["partner_admin"],
                             {"resolution": "Renewed the cert."}))["replayed"] is True
    assert api.call("POST", case_path(w, case, "/resolve"), w["partner_admin"],
                    {"resolution": "Other"}).status_code == 409
    assert api.call("POST", case_path(w, case, "/responses"), w["partner_admin"],
                    {"message": "More"}).status_code == 409
    shown = api.json(api.call("GET", case_path(w, case), w["admin"]))
    assert [r["message"] for r in shown["responses"]] == ["Looking at it.", "Found it: the SSO cert."]
    assert [r["firstResponse"] for r in shown["responses"]] == [True, False]
    assert len(events(w["partner"], "SupportCaseResolved")) == 1
    assert len(events(w["partner"], "SupportCaseResponded")) == 2


def test_a_late_first_response_breaches_once_whoever_comes_first(api: Any, world: Any, now: Any) -> None:
    w = world
    run_job(T0)  # the watermark starts here
    late = open_case(api, w)  # response due 14:00
    also = open_case(api, w, severity="low")  # response due 16 business hours later: Wednesday 10:00
    assert also["responseDueAt"] == "2027-03-03T10:00:00.000Z"
    now.at(T0 + timedelta(hours=5))
    # nobody ran the job: the late response itself records the breach (and its event)
    resp = api.call("POST", case_path(w, late, "/responses"), w["partner_admin"], {"message": "Sorry, on it."})
    shown = api.json(resp)
    assert shown["clocks"]["response"]["status"] == "breached" and shown["breached"] is True
    assert [e.detail["clock"] for e in events(w["partner"], "SlaBreached")] == ["response"]
    # the job, missed for two days, catches up: the low case's response clock, once; the late one is not seen
    result = run_job(T0 + timedelta(days=2, hours=1))
    assert (result["found"], result["breached"]) == (1, 1), result
    assert sorted((e.detail["caseId"], e.detail["clock"]) for e in events(w["partner"], "SlaBreached")) == sorted(
        [(late["id"], "response"), (also["id"], "response")])
    # resolving with no response: the resolution is the first response too (its clock was breached already)
    now.at(T0 + timedelta(days=2, hours=2))
    done = api.json(api.call("POST", case_path(w, also, "/resolve"), w["partner_admin"], {"resolution": "Fixed"}))
    assert done["respondedAt"] == done["resolvedAt"] == "2027-03-03T12:00:00.000Z"
    assert (done["clocks"]["response"]["status"], done["clocks"]["resolution"]["status"]) == ("breached", "met")
    assert len(events(w["partner"], "SlaBreached")) == 2


def test_who_may_do_what(api: Any, world: Any, now: Any) -> None:
    w = world
    mine = open_case(api, w, token=w["learner"])
    theirs = open_case(api, w)
    # learners see their own cases only
    listed = api.json(api.call("GET", f"/v1/tenants/{w['customer']}/support-cases", w["learner"]))["items"]
    assert [c["id"] for c in listed] == [mine["id"]]
    assert api.call("GET", case_path(w, theirs), w["learner"]).status_code == 404
    everything = api.json(api.call("GET", f"/v1/tenants/{w['customer']}/support-cases", w["admin"]))["items"]
    assert [c["id"] for c in everything] == [theirs["id"], mine["id"]]  # newest first
    # the customer's people do not answer their own cases; the partner's admins and the operator do
    for token in (w["admin"], w["learner"]):
        assert api.call("POST", case_path(w, mine, "/responses"), token, {"message": "x"}).status_code == 403
        assert api.call("POST", case_path(w, mine, "/resolve"), token, {"resolution": "x"}).status_code == 403
    assert api.call("POST", case_path(w, mine, "/responses"), api.operator, {"message": "Hi"}).status_code == 200
    assert api.call("POST", case_path(w, mine, "/responses"), w["partner_admin"],
                    {"message": "Hello"}).status_code == 200
    # a tenant without a partner cannot open cases: 409, explained
    lone = api.make_tenant()
    resp = api.call("POST", f"/v1/tenants/{lone['id']}/support-cases", api.tenant_admin(lone["id"]), CASE)
    assert resp.status_code == 409 and "no partner" in api.json(resp)["detail"]
    # ... nor does a partner itself
    resp = api.call("POST", f"/v1/tenants/{w['partner']}/support-cases", w["partner_admin"], CASE)
    assert resp.status_code == 409
    # validation names the field, nothing written
    for payload, field in (({**CASE, "severity": "urgent"}, "severity"), ({**CASE, "subject": "  "}, "subject"),
                           ({k: v for k, v in CASE.items() if k != "description"}, "description")):
        resp = api.call("POST", f"/v1/tenants/{w['customer']}/support-cases", w["admin"], payload)
        assert resp.status_code == 400 and field in {e["field"] for e in api.json(resp)["errors"]}, resp.body
    resp = api.call("POST", case_path(w, mine, "/responses"), w["partner_admin"], {"message": ""})
    assert resp.status_code == 400 and api.json(resp)["errors"][0]["field"] == "message"
    assert len(api.json(api.call("GET", f"/v1/tenants/{w['customer']}/support-cases", w["admin"]))["items"]) == 2


def test_partner_lists_its_customers_cases_by_status_and_breach(api: Any, world: Any, now: Any) -> None:
    w = world
    other = api.make_tenant(name="Second Customer", slug=f"sla-second-{next(_seq)}", parentTenantId=w["partner"])
    first = open_case(api, w)
    now.at(T0 + timedelta(minutes=5))
    second = open_case(api, {**w, "customer": other["id"], "admin": api.tenant_admin(other["id"])}, severity="low")
    run_job(T0)
    run_job(T0 + timedelta(hours=4, minutes=1))  # the first case's response clock breaches
    base = f"/v1/partners/{w['partner']}/support-cases"
    ids = lambda q: [c["id"] for c in api.json(api.call("GET", base + q, w["partner_admin"]))["items"]]  # noqa: E731
    assert ids("") == [second["id"], first["id"]]
    assert ids("?breached=true") == [first["id"]] and ids("?breached=false") == [second["id"]]
    assert ids("?status=open") == [second["id"], first["id"]] and ids("?status=resolved") == []
    resp = api.call("GET", base + "?status=closed", w["partner_admin"])
    assert resp.status_code == 400 and api.json(resp)["errors"][0]["field"] == "status"
    assert api.call("GET", base, w["partner_learner"]).status_code == 403
    assert api.call("GET", base, w["admin"]).status_code == 404


def test_uptime_by_the_operator_and_the_partner_figures(api: Any, world: Any, now: Any) -> None:
    w = world
    base = f"/v1/partners/{w['partner']}/uptime"
    for month, percent in (("2027-01", "99.912"), ("2027-02", "99.1"), ("2027-03", "100"), ("2027-04", "99.5")):
        resp = api.call("PUT", f"{base}/{month}", api.operator, {"percent": percent, "note": "from the status page"})
        assert resp.status_code == 200, resp.body
    assert api.call("PUT", f"{base}/2027-01", w["partner_admin"], {"percent": "100"}).status_code == 403
    for month, body, field in (("2027-13", {"percent": "99"}, "month"), ("2027-05", {"percent": "100.5"}, "percent"),
                               ("2027-05", {"percent": "99.1234"}, "percent")):
        resp = api.call("PUT", f"{base}/{month}", api.operator, body)
        assert resp.status_code == 400 and api.json(resp)["errors"][0]["field"] == field, resp.body
    shown = api.json(api.call("GET", base + "?from=2027-02&to=2027-03", w["partner_admin"]))
    assert shown["targetPercent"] == "99.500" and shown["meanPercent"] == "99.550"
    assert [(m["month"], m["percent"], m["met"]) for m in shown["months"]] == [("2027-02", "99.100", False),
                                                                              ("2027-03", "100.000", True)]
    resp = api.call("GET", base + "?from=2027-04&to=2027-01", w["partner_admin"])
    assert resp.status_code == 400 and api.json(resp)["errors"][0]["field"] == "from"
    # a quarter: one case met, one breached, one still running
    from chalicelib.partners.sla import partner_sla_figures

    run_job(T0)
    kept, broken, running = open_case(api, w), open_case(api, w), open_case(api, w, severity="low")
    now.at(T0 + timedelta(hours=1))
    api.call("POST", case_path(w, kept, "/resolve"), w["partner_admin"], {"resolution": "Done"})
    run_job(T0 + timedelta(hours=4, minutes=30))
    assert running["id"]
    with counting() as calls:
        got = partner_sla_figures(w["partner"], "2027-01-01T00:00:00Z", "2027-04-01T00:00:00+00:00")
    assert got == {"cases": 3, "responseMet": 1, "resolutionMet": 1, "breaches": 1,
                   "adherencePercent": Decimal("50.00"), "uptimePercent": Decimal("99.671"),
                   "uptimeMonths": {"2027-01": Decimal("99.912"), "2027-02": Decimal("99.100"),
                                    "2027-03": Decimal("100.000")}}
    assert calls.dynamodb == {"Query": 2}
    assert broken["id"] and partner_sla_figures(w["partner"], "2027-04-01T00:00:00Z", "2027-07-01T00:00:00Z") == {
        "cases": 0, "responseMet": 0, "resolutionMet": 0, "breaches": 0, "adherencePercent": None,
        "uptimePercent": Decimal("99.500"), "uptimeMonths": {"2027-04": Decimal("99.500")}}


def test_job_cost_follows_what_is_due(api: Any, world: Any, now: Any) -> None:
    """The job reads the due buckets' shards: the same cost with 2 or 12 cases open, none due."""
    from chalicelib.store import keys

    run_job(T0)
    costs = []
    for n, count in enumerate((2, 10), start=1):
        for _ in range(count):
            open_case(api, world, severity="low")
        with counting() as calls:
            result = run_job(T0 + timedelta(minutes=15 * n))
        assert result["found"] == 0 and result["bucketsRead"] == 2  # the one after the watermark, the current one
        costs.append(calls.dynamodb)
    assert costs[0] == costs[1] == {"Query": keys.SLA_DUE_SHARDS * 2, "GetItem": 1, "PutItem": 1}  # + watermark


def test_onramp_jobs_run_sla_breaches_as_of(api: Any, world: Any, now: Any, capsys: Any) -> None:
    import json

    from chalicelib import cli
    from chalicelib.jobs import JOBS

    assert JOBS["sla-breaches"].schedule == "rate(15 minutes)"
    run_job(T0)
    open_case(api, world)
    assert cli.main(["jobs", "list"]) == 0
    assert "sla-breaches" in capsys.readouterr().out
    assert cli.main(["--aws-env", "jobs", "run", "sla-breaches", "--as-of", "2027-03-01T14:20:00Z"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["found"], result["breached"]) == (1, 1), result
    assert [e.detail["clock"] for e in events(world["partner"], "SlaBreached")] == ["response"]

def test_a_clock_stopped_after_the_job_read_it_is_not_breached(api: Any, world: Any, now: Any) -> None:
    """The job read a due entry, then the response came in time: its conditional breach fails, nothing changes."""
    from chalicelib.partners import sla_job
    from chalicelib.store import keys
    from chalicelib.store.models import SlaDueEntry

    case = open_case(api, world)
    entry = SlaDueEntry.get(keys.support_case_pk(world["customer"], case["id"]), keys.sla_due_sk("response"))
    now.at(T0 + timedelta(hours=1))
    api.call("POST", case_path(world, case, "/responses"), world["partner_admin"], {"message": "Here"})
    assert sla_job.breach(entry) is False
    shown = api.json(api.call("GET", case_path(world, case), world["admin"]))
    assert shown["clocks"]["response"]["status"] == "met" and shown["breached"] is False
    assert events(world["partner"], "SlaBreached") == []
