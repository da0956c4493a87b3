"""CRM inbound over the real app: Salesforce outbound messages and HubSpot webhooks create, update and
deactivate users once per event; unauthenticated or malformed requests write nothing."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.unit.crm_helpers import (
    ORG,
    OTHER_ORG,
    SECRET,
    configure_hubspot,
    configure_salesforce,
    hs_event,
    post_hubspot,
    post_soap,
    sf_user,
    soap,
)


def _items(tenant_id: str) -> list[tuple[str, str, str]]:
    """Every item of the tenant (a test-only Scan): what any write would change."""
    from chalicelib.store.models import Item

    prefix = f"T#{tenant_id}#"
    return sorted((i.PK, i.SK, json.dumps(i.serialize(), sort_keys=True, default=str))
                  for i in Item.scan(Item.PK.startswith(prefix)))


def _users(api: Any, tenant_id: str) -> dict[str, dict[str, Any]]:
    items = api.json(api.call("GET", f"/v1/tenants/{tenant_id}/users?limit=100", api.operator))["items"]
    return {u["email"].lower(): u for u in items}


@pytest.fixture()
def tenant(api: Any) -> dict[str, Any]:
    made = api.make_tenant()
    made["admin"] = api.tenant_admin(made["id"])
    return made


def _results(resp: Any) -> list[dict[str, Any]]:
    assert resp.status_code == 200, resp.body
    return list(json.loads(resp.body)["results"])


# --- HubSpot -------------------------------------------------------------------------------------------

def test_a_signed_hubspot_batch_creates_then_updates_deactivates_and_restores_a_rep(api, tenant):
    tid = tenant["id"]
    configure_hubspot(api, tid, tenant["admin"], fieldMapping={"email": "email", "firstname": "firstName",
                                                               "lastname": "lastName", "jobtitle": "salesRole",
                                                               "hs_region": "region"})
    batch = [hs_event(901, "creation"), hs_event(901, name="firstname", value="Hana"),
             hs_event(901, name="lastname", value="Spot"), hs_event(901, name="jobtitle", value="SDR"),
             hs_event(901, name="email", value="hana@acme.example"), hs_event(901, name="favourite_color", value="red")]
    results = _results(post_hubspot(api, tid, batch))
    assert [r["status"] for r in results] == ["created"] * 5 + ["ignored"]
    rep = _users(api, tid)["hana@acme.example"]
    assert (rep["displayName"], rep["salesRole"], rep["status"]) == ("Hana Spot", "SDR", "active")
    assert {r["userId"] for r in results} == {rep["id"]}

    before = _items(tid)
    replay = _results(post_hubspot(api, tid, batch))  # HubSpot retries: a new signature, the same events
    assert {r["status"] for r in replay} == {"replayed"} and _items(tid) == before

    _results(post_hubspot(api, tid, [hs_event(901, name="jobtitle", value="AE"),
                                     hs_event(901, name="hs_region", value="EMEA")]))
    rep = _users(api, tid)["hana@acme.example"]
    assert (rep["salesRole"], rep["region"]) == ("AE", "EMEA")
    assert [r["status"] for r in _results(post_hubspot(api, tid, [hs_event(901, "deletion")]))] == ["deactivated"]
    assert _users(api, tid)["hana@acme.example"]["status"] == "deactivated"
    assert [r["status"] for r in _results(post_hubspot(api, tid, [hs_event(901, "restore")]))] == ["reactivated"]
    assert _users(api, tid)["hana@acme.example"]["status"] == "active"


def test_hubspot_events_out_of_order_and_an_existing_user_by_email(api, tenant):
    tid = tenant["id"]
    configure_hubspot(api, tid, tenant["admin"])
    known = api.make_user(tid, email="Known@Acme.example", displayName="Known Person")
    now = int(time.time() * 1000)
    first = _results(post_hubspot(api, tid, [hs_event(77, name="email", value="known@acme.example", at=now),
                                             hs_event(77, name="firstname", value="Newer", at=now + 10)]))
    assert {r["status"] for r in first} == {"linked"} and {r["userId"] for r in first} == {known["id"]}
    late = _results(post_hubspot(api, tid, [hs_event(77, name="firstname", value="Older", at=now + 5)]))
    assert late[0]["status"] == "stale"
    assert _users(api, tid)["known@acme.example"]["displayName"] == "Newer"
    assert len(_users(api, tid)) == 2  # the admin and the linked user: nobody was created


def test_a_contact_without_an_email_waits_until_one_arrives(api, tenant):
    tid = tenant["id"]
    configure_hubspot(api, tid, tenant["admin"])
    waiting = _results(post_hubspot(api, tid, [hs_event(55, "creation"), hs_event(55, name="firstname", value="Pat")]))
    assert {r["status"] for r in waiting} == {"pending"} and len(_users(api, tid)) == 1
    made = _results(post_hubspot(api, tid, [hs_event(55, name="email", value="pat@acme.example")]))
    assert made[0]["status"] == "created" and _users(api, tid)["pat@acme.example"]["displayName"] == "Pat"


@pytest.mark.parametrize("case", ["no-settings", "no-secret", "bad-signature", "stale", "future", "other-secret",
                                  "no-headers"])
def test_unauthenticated_hubspot_requests_are_401_and_write_nothing(api, tenant, case):
    tid = tenant["id"]
    if case == "no-secret":
        api.call("PUT", f"/v1/tenants/{tid}/integrations/hubspot", tenant["admin"], {"portalId": 62515})
    elif case != "no-settings":
        configure_hubspot(api, tid, tenant["admin"])
    before = _items(tid)
    batch = [hs_event(1, name="email", value="x@acme.example")]
    now = int(time.time() * 1000)
    resp = {"no-settings": lambda: post_hubspot(api, tid, batch),
            "no-secret": lambda: post_hubspot(api, tid, batch),
            "bad-signature": lambda: post_hubspot(api, tid, batch, signature="AAAA" + "=" * 40),
            "stale": lambda: post_hubspot(api, tid, batch, timestamp=now - 301_000),
            "future": lambda: post_hubspot(api, tid, batch, timestamp=now + 301_000),
            "other-secret": lambda: post_hubspot(api, tid, batch, secret="someone-elses-secret"),
            "no-headers": lambda: api.client.http.post(f"/v1/tenants/{tid}/integrations/hubspot/webhooks",
                                                       body=json.dumps(batch),
                                                       headers={"Content-Type": "application/json"}),
            }[case]()
    assert resp.status_code == 401, resp.body
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert _items(tid) == before


def test_the_signature_binds_the_uri_and_the_body(api, tenant):
    from tests.unit.crm_helpers import HOST, sign

    tid = tenant["id"]
    configure_hubspot(api, tid, tenant["admin"])
    body = json.dumps([hs_event(3, name="email", value="y@acme.example")]).encode()
    stamp = str(int(time.time() * 1000))
    path = f"/v1/tenants/{tid}/integrations/hubspot/webhooks"
    for uri, raw in ((f"https://{HOST}/elsewhere", body), (f"https://{HOST}{path}", body + b" ")):
        resp = post_hubspot(api, tid, None, raw=raw, timestamp=int(stamp),
                            signature=sign(SECRET, "POST", uri, body, stamp))
        assert resp.status_code == 401
    # the stage-prefixed path API Gateway saw is a URI HubSpot may have called (execute-api domain)
    from chalicelib.integrations.crm.hubspot import signed_uris

    uris = signed_uris(public_url="https://learn.example.com", host="abc.execute-api.us-east-1.amazonaws.com",
                       proto="https", path=path, stage_path="/api" + path, query=[("k", "a:b")])
    assert uris == [f"https://learn.example.com{path}?k=a:b",
                    f"https://abc.execute-api.us-east-1.amazonaws.com/api{path}?k=a:b",
                    f"https://abc.execute-api.us-east-1.amazonaws.com{path}?k=a:b"]


def test_malformed_hubspot_bodies_are_400_and_bad_events_are_per_event_errors(api, tenant):
    tid = tenant["id"]
    configure_hubspot(api, tid, tenant["admin"])
    before = _items(tid)
    assert post_hubspot(api, tid, None, raw=b"{not json").status_code == 400
    assert post_hubspot(api, tid, {"eventId": 1}).status_code == 400
    assert _items(tid) == before
    good = hs_event(8, name="email", value="good@acme.example")
    batch = [good, {**hs_event(8), "objectId": None}, {**hs_event(8), "occurredAt": "yesterday"},
             hs_event(9, name="email", value="other@acme.example", portal=999), hs_event(8, name=None), "nonsense",
             {**hs_event(8, "creation"), "subscriptionType": "deal.creation"},
             hs_event(10, name="email", value="not-an-email")]
    results = _results(post_hubspot(api, tid, batch))
    assert [r["status"] for r in results] == ["created", "error", "error", "error", "error", "error", "ignored",
                                              "error"]
    assert [r["errors"][0]["field"] for r in results if r["status"] == "error"] == [
        "objectId", "occurredAt", "portalId", "propertyName", "event", "email"]
    assert "from email" in results[-1]["errors"][0]["detail"]
    users = _users(api, tid)
    assert "good@acme.example" in users and "other@acme.example" not in users and len(users) == 2


# --- Salesforce ----------------------------------------------------------------------------------------

def test_a_salesforce_outbound_message_creates_a_rep_and_is_acked_once(api, tenant):
    tid = tenant["id"]
    configure_salesforce(api, tid, tenant["admin"])
    note = sf_user("0055g00000SfRepAAA", "sally@acme.example", LastModifiedDate="2026-11-20T10:00:00.000Z")
    resp = post_soap(api, tid, soap([note]))
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/xml")
    assert b"<Ack>true</Ack>" in resp.body and b"notificationsResponse" in resp.body
    rep = _users(api, tid)["sally@acme.example"]
    assert (rep["displayName"], rep["salesRole"], rep["department"]) == ("Sally Seller", "AE", "Sales")
    before = _items(tid)
    again = post_soap(api, tid, soap([note]))  # Salesforce resends until acked: the same notification id
    assert again.status_code == 200 and b"<Ack>true</Ack>" in again.body and _items(tid) == before
    gone = sf_user("0055g00000SfRepAAA", "sally@acme.example", active=False, Title="RVP",
                   LastModifiedDate="2026-11-21T10:00:00.000Z")
    assert post_soap(api, tid, soap([gone])).status_code == 200
    rep = _users(api, tid)["sally@acme.example"]
    assert (rep["status"], rep["salesRole"]) == ("deactivated", "RVP")
    older = sf_user("0055g00000SfRepAAA", "sally@acme.example", Title="Intern",
                    LastModifiedDate="2026-11-19T10:00:00.000Z")  # delivered late: older than what is held
    assert post_soap(api, tid, soap([older])).status_code == 200
    assert _users(api, tid)["sally@acme.example"]["salesRole"] == "RVP"


def test_salesforce_contacts_match_by_email_and_other_objects_are_skipped(api, tenant):
    tid = tenant["id"]
    configure_salesforce(api, tid, tenant["admin"], objectTypes=["Contact"])
    known = api.make_user(tid, email="carl@acme.example", displayName="Carl")
    message = soap([sf_user("0035g00000ContAAA", "carl@acme.example", kind="Contact"),
                    sf_user("0055g00000UserAAA", "ursula@acme.example"),
                    sf_user("0035g00000NoMailAA", None, kind="Contact")])
    assert post_soap(api, tid, message).status_code == 200
    found = _users(api, tid)
    carl = found["carl@acme.example"]
    assert carl["id"] == known["id"] and carl["displayName"] == "Sally Seller"  # linked, then the CRM's values
    assert "ursula@acme.example" not in found and len(found) == 2


@pytest.mark.parametrize("case", ["no-settings", "wrong-org", "suspended"])
def test_salesforce_messages_from_elsewhere_are_401_and_write_nothing(api, tenant, case):
    tid = tenant["id"]
    if case != "no-settings":
        configure_salesforce(api, tid, tenant["admin"])
    if case == "suspended":
        from chalicelib.tenancy import cache

        assert api.call("POST", f"/v1/tenants/{tid}/suspend", api.operator).status_code == 200
        cache.reset()
    before = _items(tid)
    org = OTHER_ORG if case == "wrong-org" else ORG
    resp = post_soap(api, tid, soap([sf_user("0055g00000EvilAAA", "evil@acme.example")], org=org))
    assert resp.status_code == 401, resp.body
    assert _items(tid) == before


def test_the_15_character_org_id_matches_the_18_character_one(api, tenant):
    tid = tenant["id"]
    configure_salesforce(api, tid, tenant["admin"], organizationId=ORG[:15])
    assert post_soap(api, tid, soap([sf_user("0055g00000FifteenA", "f@acme.example")])).status_code == 200
    assert "f@acme.example" in _users(api, tid)


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
                  b"<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\">&lol2;</soapenv:Envelope>")


@pytest.mark.parametrize("raw", [b"<not xml", BILLION_LAUGHS, b"<Envelope/>",
                                 soap([]), soap([sf_user("", "a@b.example")])],
                         ids=["not-xml", "entities", "not-soap", "no-notification", "no-record-id"])
def test_malformed_envelopes_are_400_and_write_nothing(api, tenant, raw):
    tid = tenant["id"]
    configure_salesforce(api, tid, tenant["admin"])
    before = _items(tid)
    resp = post_soap(api, tid, raw)
    assert resp.status_code == 400, resp.body
    assert "Salesforce outbound message" in json.loads(resp.body)["detail"]
    assert _items(tid) == before


# --- settings ------------------------------------------------------------------------------------------

def test_settings_validate_the_mapping_and_never_return_the_secret(api, tenant):
    from chalicelib.store import keys
    from chalicelib.store.models import CrmConfig

    tid, admin = tenant["id"], tenant["admin"]
    base = f"/v1/tenants/{tid}/integrations"
    assert api.call("GET", base + "/hubspot", admin).status_code == 404
    for body, field in (({"fieldMapping": {"firstname": "firstName"}}, "fieldMapping"),
                        ({"fieldMapping": {"email": "email", "work_email": "email"}}, "fieldMapping.work_email"),
                        ({"fieldMapping": {"email": "shoeSize"}}, "fieldMapping.email"),
                        ({"portalId": 0}, "portalId"), ({"appSecret": "short"}, "appSecret")):
        resp = api.call("PUT", base + "/hubspot", admin, body)
        assert resp.status_code == 400 and field in {e["field"] for e in api.json(resp)["errors"]}, resp.body
    bad_org = api.call("PUT", base + "/salesforce", admin, {"organizationId": "001000000000001"})
    assert bad_org.status_code == 400 and api.json(bad_org)["errors"][0]["field"] == "organizationId"
    configure_hubspot(api, tid, admin)
    shown = api.call("GET", base + "/hubspot", admin)
    assert shown.status_code == 200 and SECRET not in shown.body.decode()
    doc = api.json(shown)
    assert doc["hasAppSecret"] is True and doc["fieldMapping"]["email"] == "email"
    assert doc["endpointUrl"].endswith(f"/v1/tenants/{tid}/integrations/hubspot/webhooks")
    stored = CrmConfig.get(keys.crm_config_pk(tid, "hubspot"), keys.CRM_CONFIG_SK)
    assert SECRET not in json.dumps(stored.serialize())  # sealed at rest
    kept = api.call("PUT", base + "/hubspot", admin, {"portalId": 62515})  # no appSecret: the stored one stays
    assert api.json(kept)["hasAppSecret"] is True
    assert _results(post_hubspot(api, tid, [hs_event(4, name="email", value="z@acme.example")]))
    _, learner = api.user_token(tid, ["learner"])
    assert api.call("GET", base + "/hubspot", learner).status_code == 403
    assert api.call("PUT", base + "/salesforce", learner, {"organizationId": ORG}).status_code == 403


# --- idempotency under failure and concurrency ------------------------------------------------------------

def test_a_failure_before_the_claim_is_redone_by_the_retry(api, tenant, monkeypatch):
    from chalicelib.integrations.crm import sync

    tid = tenant["id"]
    configure_hubspot(api, tid, tenant["admin"])
    batch = [hs_event(31, name="email", value="retry@acme.example"), hs_event(31, name="firstname", value="Rita")]
    real = sync._commit

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the Lambda timed out after the user was written")

    monkeypatch.setattr(sync, "_commit", crash)
    assert post_hubspot(api, tid, batch).status_code == 500  # HubSpot retries a 5xx
    assert _users(api, tid)["retry@acme.example"]["displayName"] == "Rita"  # the user write happened
    monkeypatch.setattr(sync, "_commit", real)
    retried = _results(post_hubspot(api, tid, batch))  # HubSpot retries: the work completes, not swallowed
    assert {r["status"] for r in retried} == {"linked"}
    assert len([u for u in _users(api, tid) if u == "retry@acme.example"]) == 1
    assert {r["status"] for r in _results(post_hubspot(api, tid, batch))} == {"replayed"}


def test_two_deliveries_of_one_event_at_once_have_one_winner(api, tenant, monkeypatch):
    from chalicelib.integrations.crm import apply

    tid = tenant["id"]
    configure_hubspot(api, tid, tenant["admin"])
    batch = [hs_event(41, name="email", value="race@acme.example")]
    real, inner = apply.bring_user, []

    def racing(*args: Any, **kwargs: Any) -> Any:
        if not inner:  # the second delivery runs to the end while the first is between read and write
            inner.append(None)
            inner[0] = _results(post_hubspot(api, tid, batch))
        return real(*args, **kwargs)

    monkeypatch.setattr(apply, "bring_user", racing)
    outer = _results(post_hubspot(api, tid, batch))
    assert inner[0][0]["status"] == "created" and outer[0]["status"] == "duplicate"
    assert list(_users(api, tid)).count("race@acme.example") == 1
