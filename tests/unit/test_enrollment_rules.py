"""Automatic enrollment rules: applied to users as they are created or change, and retroactively (back-fill
through the users' attribute index, chunk by chunk through the outbox) with progress on the rule."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from chalicelib.enrollment import rules
from tests.unit.course_helpers import Stream, published_course


@pytest.fixture()
def world(api):
    t = api.make_tenant()["id"]
    admin = api.tenant_admin(t)
    courses = [published_course(api, t, admin, title) for title in ("Onboarding", "Advanced negotiation")]
    return {"t": t, "admin": admin, "courses": courses, "stream": Stream(api)}


def _user(api, w, email, **attrs):
    resp = api.call("POST", f"/v1/tenants/{w['t']}/users", w["admin"],
                    {"email": email, "displayName": email.split("@")[0], **attrs})
    assert resp.status_code == 201, resp.body
    return api.json(resp)


def _rule(api, w, conditions, status=201, **extra):
    body = {"name": "Onboarding for AEs", "conditions": conditions, "courseId": w["courses"][0], **extra}
    resp = api.call("POST", f"/v1/tenants/{w['t']}/enrollment-rules", w["admin"], body)
    assert resp.status_code == status, resp.body
    return api.json(resp)


def _drain(w):
    while w["stream"].drain():
        pass


def _enrolled(api, w, user_id):
    resp = api.call("GET", f"/v1/tenants/{w['t']}/users/{user_id}/enrollments", w["admin"])
    return {(e["courseId"], e["source"]) for e in api.json(resp)["items"]}


def _get_rule(api, w, rule_id):
    return api.json(api.call("GET", f"/v1/tenants/{w['t']}/enrollment-rules/{rule_id}", w["admin"]))


def test_a_new_user_who_matches_is_enrolled_and_others_are_not(api, world):
    onboarding = world["courses"][0]
    _rule(api, world, [{"attribute": "salesRole", "op": "eq", "value": "Account Executive"},
                       {"attribute": "region", "op": "in", "values": ["EMEA", "APAC"]}], dueInDays=14)
    _drain(world)
    ae = _user(api, world, "ae@example.com", salesRole="account executive", region="emea")
    sdr = _user(api, world, "sdr@example.com", salesRole="SDR", region="EMEA")
    us = _user(api, world, "us@example.com", salesRole="Account Executive", region="NA")
    _drain(world)
    assert _enrolled(api, world, ae["id"]) == {(onboarding, "rule")}
    assert _enrolled(api, world, sdr["id"]) == set() and _enrolled(api, world, us["id"]) == set()
    mine = api.json(api.call("GET", f"/v1/tenants/{world['t']}/users/{ae['id']}/enrollments", world["admin"]))
    assert mine["items"][0]["dueDate"] == (date.today() + timedelta(days=14)).isoformat()

    # a change that makes a user match enrolls them; the same event again is a no-op
    api.call("PATCH", f"/v1/tenants/{world['t']}/users/{us['id']}", world["admin"], {"region": "APAC"})
    _drain(world)
    assert _enrolled(api, world, us["id"]) == {(onboarding, "rule")}
    api.call("PATCH", f"/v1/tenants/{world['t']}/users/{us['id']}", world["admin"], {"region": "EMEA"})
    _drain(world)
    assert _enrolled(api, world, us["id"]) == {(onboarding, "rule")}


def test_a_new_rule_back_fills_existing_users_in_chunks_with_progress(api, world, monkeypatch):
    monkeypatch.setattr(rules, "CHUNK", 4)
    matching = [_user(api, world, f"rep{i}@example.com", region="EMEA", department="Sales")["id"] for i in range(9)]
    other = [_user(api, world, f"ops{i}@example.com", region="EMEA", department="Ops")["id"] for i in range(3)]
    _user(api, world, "na@example.com", region="NA", department="Sales")
    _drain(world)
    rule = _rule(api, world, [{"attribute": "department", "op": "eq", "value": "sales"},
                              {"attribute": "region", "op": "eq", "value": "EMEA"}])
    assert rule["backfill"]["status"] == "pending"
    _drain(world)
    done = _get_rule(api, world, rule["id"])["backfill"]
    # walked the `department=sales` index only: 10 users (9 + the NA one), in 3 chunks of 4
    assert done["status"] == "done" and done["examined"] == 10 and done["chunks"] == 3
    assert (done["matched"], done["enrolled"], done["alreadyEnrolled"]) == (9, 9, 0)
    assert all(_enrolled(api, world, u) == {(world["courses"][0], "rule")} for u in matching)
    assert all(_enrolled(api, world, u) == set() for u in other)

    # editing the target re-runs the back-fill on the new course; the old enrollments stay
    resp = api.call("PATCH", f"/v1/tenants/{world['t']}/enrollment-rules/{rule['id']}", world["admin"],
                    {"courseId": world["courses"][1]})
    assert resp.status_code == 200 and api.json(resp)["generation"] == 2
    _drain(world)
    again = _get_rule(api, world, rule["id"])["backfill"]
    assert (again["status"], again["enrolled"]) == ("done", 9)
    assert _enrolled(api, world, matching[0]) == {(world["courses"][0], "rule"), (world["courses"][1], "rule")}


def test_a_redelivered_back_fill_step_does_nothing_twice(api, world, monkeypatch):
    monkeypatch.setattr(rules, "CHUNK", 2)
    for i in range(3):
        _user(api, world, f"rep{i}@example.com", salesRole="AE")
    _drain(world)
    rule = _rule(api, world, [{"attribute": "salesRole", "op": "eq", "value": "AE"}])
    _drain(world)
    before = _get_rule(api, world, rule["id"])["backfill"]
    rules.run_backfill_step(world["t"], rule["id"], 1, 0)  # step 0 again, as a redelivered event would
    rules.run_backfill_step(world["t"], rule["id"], 1, 1)
    assert _get_rule(api, world, rule["id"])["backfill"] == before
    assert (before["enrolled"], before["chunks"]) == (3, 2)


def test_hire_date_and_group_conditions(api, world):
    recent = _user(api, world, "new@example.com", hireDate=(date.today() - timedelta(days=10)).isoformat())
    _user(api, world, "old@example.com", hireDate=(date.today() - timedelta(days=400)).isoformat())
    _drain(world)
    rule = _rule(api, world, [{"attribute": "hireDate", "op": "withinDays", "days": 30}])
    _drain(world)
    assert _get_rule(api, world, rule["id"])["backfill"]["examined"] == 1  # the date range, not everyone
    assert _enrolled(api, world, recent["id"]) == {(world["courses"][0], "rule")}

    from chalicelib.auth.principal import system_context
    from chalicelib.users.service import change_groups

    member = _user(api, world, "member@example.com")
    _rule(api, world, [{"attribute": "group", "op": "eq", "value": "gr-enterprise"}], courseId=world["courses"][1])
    _drain(world)
    assert _enrolled(api, world, member["id"]) == set()
    change_groups(system_context(world["t"], "system:test"), member["id"], add=["gr-enterprise"])
    _drain(world)
    assert _enrolled(api, world, member["id"]) == {(world["courses"][1], "rule")}


def test_rules_without_conditions_walk_all_users_and_skip_deactivated(api, world):
    a = _user(api, world, "a@example.com")
    gone = _user(api, world, "b@example.com")
    api.call("POST", f"/v1/tenants/{world['t']}/users/{gone['id']}/deactivate", world["admin"])
    _drain(world)
    rule = _rule(api, world, [])
    _drain(world)
    progress = _get_rule(api, world, rule["id"])["backfill"]
    assert progress["matched"] == 2  # a and the tenant admin; not the deactivated user
    assert _enrolled(api, world, a["id"]) and not _enrolled(api, world, gone["id"])


@pytest.mark.parametrize("body, field", [
    ({"name": "x", "conditions": [{"attribute": "region", "op": "withinDays", "days": 3}]}, "conditions.0"),
    ({"name": "x", "conditions": [{"attribute": "region", "op": "eq"}]}, "conditions.0"),
    ({"name": "x", "conditions": [{"attribute": "title", "op": "eq", "value": "x"}]}, "conditions.0.attribute"),
    ({"name": "x", "conditions": []}, "courseId"),
    ({"name": "x", "conditions": [], "courseId": "co-nope"}, "courseId"),
])
def test_bad_rules_are_400_naming_the_field_and_write_nothing(api, world, body, field):
    resp = api.call("POST", f"/v1/tenants/{world['t']}/enrollment-rules", world["admin"], body)
    assert resp.status_code == 400, resp.body
    assert any(e["field"].startswith(field) for e in api.json(resp)["errors"]), api.json(resp)
    assert api.json(api.call("GET", f"/v1/tenants/{world['t']}/enrollment-rules", world["admin"]))["items"] == []


def test_only_admins_manage_rules(api, world):
    _, learner = api.user_token(world["t"], ["learner"])
    _, manager = api.user_token(world["t"], ["manager"])
    for token in (learner, manager):
        resp = api.call("POST", f"/v1/tenants/{world['t']}/enrollment-rules", token,
                        {"name": "x", "conditions": [], "courseId": world["courses"][0]})
        assert resp.status_code == 403


def test_list_a_courses_enrollments(api, world):
    u = _user(api, world, "x@example.com")
    api.call("POST", f"/v1/tenants/{world['t']}/enrollments", world["admin"],
             {"userId": u["id"], "courseId": world["courses"][0]})
    resp = api.call("GET", f"/v1/tenants/{world['t']}/enrollments?courseId={world['courses'][0]}", world["admin"])
    assert [e["userId"] for e in api.json(resp)["items"]] == [u["id"]]
    none = api.call("GET", f"/v1/tenants/{world['t']}/enrollments?courseId={world['courses'][0]}&status=completed",
                    world["admin"])
    assert api.json(none)["items"] == []
    assert api.call("GET", f"/v1/tenants/{world['t']}/enrollments", world["admin"]).status_code == 400


# --- end to end: a CRM creates a rep, a rule enrolls them in the onboarding path, a replay does nothing ---------
@pytest.fixture()
def onboarding(api, world):
    first, second = world["courses"]
    path = api.json(api.call("POST", f"/v1/tenants/{world['t']}/paths", world["admin"], {
        "title": "AE onboarding", "courses": [{"courseId": first}, {"courseId": second, "prerequisites": [first]}]}))
    _rule(api, world, [{"attribute": "salesRole", "op": "eq", "value": "AE"}], courseId=None, pathId=path["id"])
    _drain(world)
    return path


def _path_enrollments(api, w, email):
    users = api.json(api.call("GET", f"/v1/tenants/{w['t']}/users?limit=100", w["admin"]))["items"]
    user = next(u for u in users if u["email"] == email)
    return _enrolled(api, w, user["id"])


def _tenant_items(tenant_id):
    from tests.unit.test_crm_inbound import _items

    return _items(tenant_id)


def test_a_signed_hubspot_webhook_creates_a_rep_enrolled_by_rule_and_a_replay_does_nothing(api, world, onboarding):
    from tests.unit.crm_helpers import configure_hubspot, hs_event, post_hubspot

    configure_hubspot(api, world["t"], world["admin"], fieldMapping={
        "email": "email", "firstname": "firstName", "lastname": "lastName", "jobtitle": "salesRole"})
    batch = [hs_event(4242, "creation"), hs_event(4242, name="firstname", value="Hana"),
             hs_event(4242, name="lastname", value="Spot"), hs_event(4242, name="jobtitle", value="AE"),
             hs_event(4242, name="email", value="hana@rules.example")]
    assert post_hubspot(api, world["t"], batch).status_code == 200
    _drain(world)
    expected = {(world["courses"][0], "rule"), (world["courses"][1], "rule")}
    assert _path_enrollments(api, world, "hana@rules.example") == expected
    before = _tenant_items(world["t"])
    assert post_hubspot(api, world["t"], batch).status_code == 200  # HubSpot's retry of the same events
    _drain(world)
    assert _tenant_items(world["t"]) == before


def test_a_salesforce_outbound_message_creates_a_rep_enrolled_by_rule_and_a_replay_does_nothing(
        api, world, onboarding):
    from tests.unit.crm_helpers import configure_salesforce, post_soap, sf_user, soap

    configure_salesforce(api, world["t"], world["admin"])
    message = soap([sf_user("0055g00000RuLeAAA", "sally@rules.example", Title="AE")])
    resp = post_soap(api, world["t"], message)
    assert resp.status_code == 200 and b"<Ack>true</Ack>" in resp.body
    _drain(world)
    expected = {(world["courses"][0], "rule"), (world["courses"][1], "rule")}
    assert _path_enrollments(api, world, "sally@rules.example") == expected
    before = _tenant_items(world["t"])
    assert b"<Ack>true</Ack>" in post_soap(api, world["t"], message).body
    _drain(world)
    assert _tenant_items(world["t"]) == before
