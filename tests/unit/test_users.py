"""Users: create, unique email, reporting lines, visibility by role, patch, deactivate, events."""

from __future__ import annotations

from tests.unit.test_tenants import _events


def test_create_user_with_enrollment_attributes(api):
    tenant = api.make_tenant()
    manager = api.make_user(tenant["id"], roles=["manager"])
    user = api.make_user(tenant["id"], email="rep@acme.com", displayName="Zoë Ångström", salesRole="SDR",
                         region="EMEA", department="Sales", managerId=manager["id"], hireDate="2026-11-01",
                         password="correct-horse-battery")
    assert user["hireDate"] == "2026-11-01" and user["managerId"] == manager["id"]
    assert user["hasPassword"] is True and "password" not in user and "passwordHash" not in user
    created = [e for e in _events(tenant["id"]) if e.event_type == "UserCreated"]
    assert {e.detail["user"]["email"] for e in created} >= {"rep@acme.com"}
    assert all("password" not in str(e.detail) for e in created)


def test_email_is_unique_per_tenant_case_insensitively(api):
    a, b = api.make_tenant(), api.make_tenant()
    api.make_user(a["id"], email="rep@acme.com")
    clash = api.call("POST", f"/v1/tenants/{a['id']}/users", api.operator,
                     {"email": "REP@acme.com", "displayName": "Again"})
    assert clash.status_code == 409 and api.json(clash)["errors"][0]["field"] == "email"
    api.make_user(b["id"], email="rep@acme.com")  # another tenant may have the same person


def test_manager_must_exist(api):
    tenant = api.make_tenant()
    resp = api.call("POST", f"/v1/tenants/{tenant['id']}/users", api.operator,
                    {"email": "a@b.co", "displayName": "A", "managerId": "us-nobody"})
    assert resp.status_code == 400 and api.json(resp)["errors"][0]["field"] == "managerId"
    listed = api.json(api.call("GET", f"/v1/tenants/{tenant['id']}/users", api.operator))["items"]
    assert listed == []


def test_validation_names_every_bad_field_and_rejects_unknown_ones(api):
    tenant = api.make_tenant()
    resp = api.call("POST", f"/v1/tenants/{tenant['id']}/users", api.operator,
                    {"email": "not-an-email", "displayName": "", "roles": ["wizard"], "shoeSize": 44})
    assert resp.status_code == 400
    problem = api.json(resp)
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert {e["field"] for e in problem["errors"]} >= {"email", "displayName", "roles.0", "shoeSize"}
    assert problem["type"] == "/problems/validation-error" and problem["title"] and problem["detail"]


def test_managers_see_their_reports_and_learners_themselves(api):
    tenant = api.make_tenant()
    tid = tenant["id"]
    manager, manager_token = api.user_token(tid, ["manager"])
    report = api.make_user(tid, managerId=manager["id"], email="a-report@x.com")
    stranger = api.make_user(tid, email="stranger@x.com")
    listed = api.json(api.call("GET", f"/v1/tenants/{tid}/users", manager_token))["items"]
    assert [u["id"] for u in listed] == [report["id"]]
    assert api.call("GET", f"/v1/tenants/{tid}/users/{report['id']}", manager_token).status_code == 200
    assert api.call("GET", f"/v1/tenants/{tid}/users/{stranger['id']}", manager_token).status_code == 404
    learner, learner_token = api.user_token(tid, ["learner"])
    assert api.call("GET", f"/v1/tenants/{tid}/users/{learner['id']}", learner_token).status_code == 200
    assert api.call("GET", f"/v1/tenants/{tid}/users/{report['id']}", learner_token).status_code == 404
    assert api.call("GET", f"/v1/tenants/{tid}/users", learner_token).status_code == 403
    assert api.call("PATCH", f"/v1/tenants/{tid}/users/{learner['id']}", learner_token,
                    {"displayName": "Me"}).status_code == 403


def test_list_filters_by_manager_and_email_prefix(api):
    tenant = api.make_tenant()
    tid = tenant["id"]
    boss = api.make_user(tid, roles=["manager"], email="boss@x.com")
    api.make_user(tid, email="ann@x.com", managerId=boss["id"])
    api.make_user(tid, email="bob@x.com", managerId=boss["id"])
    api.make_user(tid, email="anna@y.com")
    by_manager = api.json(api.call("GET", f"/v1/tenants/{tid}/users?managerId={boss['id']}", api.operator))
    assert [u["email"] for u in by_manager["items"]] == ["ann@x.com", "bob@x.com"]
    by_prefix = api.json(api.call("GET", f"/v1/tenants/{tid}/users?emailPrefix=ann", api.operator))
    assert [u["email"] for u in by_prefix["items"]] == ["ann@x.com", "anna@y.com"]
    assert api.call("GET", f"/v1/tenants/{tid}/users?color=blue", api.operator).status_code == 400


def test_patch_changes_email_and_manager_atomically(api):
    tenant = api.make_tenant()
    tid = tenant["id"]
    boss = api.make_user(tid, roles=["manager"])
    user = api.make_user(tid, email="old@x.com", password="correct-horse-battery")
    resp = api.call("PATCH", f"/v1/tenants/{tid}/users/{user['id']}", api.operator,
                    {"email": "new@x.com", "managerId": boss["id"], "region": "APAC"})
    assert resp.status_code == 200
    body = api.json(resp)
    assert body["email"] == "new@x.com" and body["managerId"] == boss["id"] and body["region"] == "APAC"
    assert api.login(tid, "new@x.com", "correct-horse-battery")
    api.make_user(tid, email="old@x.com")  # the old address is free again
    updated = [e for e in _events(tid) if e.event_type == "UserUpdated"]
    assert updated[-1].detail["changed"] == ["email", "managerId", "region"]
    cleared = api.json(api.call("PATCH", f"/v1/tenants/{tid}/users/{user['id']}", api.operator, {"managerId": None}))
    assert cleared["managerId"] is None


def test_patch_into_a_taken_email_changes_nothing(api):
    tenant = api.make_tenant()
    tid = tenant["id"]
    api.make_user(tid, email="taken@x.com")
    user = api.make_user(tid, email="mine@x.com")
    resp = api.call("PATCH", f"/v1/tenants/{tid}/users/{user['id']}", api.operator,
                    {"email": "taken@x.com", "displayName": "Changed"})
    assert resp.status_code == 409
    again = api.json(api.call("GET", f"/v1/tenants/{tid}/users/{user['id']}", api.operator))
    assert again["email"] == "mine@x.com" and again["displayName"] == user["displayName"]


def test_patch_rejects_null_for_required_fields_and_self_management(api):
    tenant = api.make_tenant()
    user = api.make_user(tenant["id"])
    path = f"/v1/tenants/{tenant['id']}/users/{user['id']}"
    assert api.call("PATCH", path, api.operator, {"email": None}).status_code == 400
    assert api.call("PATCH", path, api.operator, {"managerId": user["id"]}).status_code == 400


def test_deactivate_and_reactivate(api):
    tenant = api.make_tenant()
    user = api.make_user(tenant["id"])
    path = f"/v1/tenants/{tenant['id']}/users/{user['id']}"
    assert api.json(api.call("POST", path + "/deactivate", api.operator))["status"] == "deactivated"
    assert api.json(api.call("POST", path + "/reactivate", api.operator))["status"] == "active"
    types = [e.event_type for e in _events(tenant["id"])]
    assert "UserDeactivated" in types and "UserReactivated" in types


def test_unknown_user_is_404_problem(api):
    tenant = api.make_tenant()
    resp = api.call("GET", f"/v1/tenants/{tenant['id']}/users/us-nope", api.operator)
    assert resp.status_code == 404 and api.json(resp)["status"] == 404


def test_transaction_conflicts_name_the_failing_operation(aws):
    """pynamodb regroups operations (checks, deletes, puts, updates): labels must follow."""
    import pytest

    from chalicelib.store.models import EmailClaim, Item, User
    from chalicelib.store.tx import Tx, TxConflict

    EmailClaim(PK="T#t1#EMAIL#taken", SK="EMAIL", user_id="u").save()
    tx = Tx()
    tx.put(EmailClaim(PK="T#t1#EMAIL#free", SK="EMAIL", user_id="u"), Item.PK.does_not_exist(), "free")
    tx.put(EmailClaim(PK="T#t1#EMAIL#taken", SK="EMAIL", user_id="u"), Item.PK.does_not_exist(), "taken")
    tx.check(User, "T#t1#USER#nobody", "PROFILE", User.status == "active", "manager")
    with pytest.raises(TxConflict) as caught:
        tx.commit()
    assert caught.value.labels == ["manager", "taken"]
