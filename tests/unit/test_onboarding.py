"""Partner onboarding plans: made when a partner joins, progress and overdue against the clock, completion by
people (idempotent, isolated) and by events delivered through the stream consumer (docs/partners.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.unit.course_helpers import Stream, stream_records

T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


@pytest.fixture()
def now(pin_clock: Any) -> Any:
    """The server clock, pinned at T0 and movable: `now.at(moment)`."""
    return pin_clock(T0)


@pytest.fixture()
def stream(api: Any) -> Stream:
    return Stream(api)


def joined(api: Any, stream: Stream) -> dict[str, Any]:
    """A partner created through the operator API, its TenantCreated delivered, with an admin."""
    made = api.make_tenant(template="reseller")
    stream.drain()
    return {**made, "admin": api.tenant_admin(made["id"])}


def plan(api: Any, partner_id: str, token: str | None = None, status: int = 200) -> Any:
    resp = api.call("GET", f"/v1/partners/{partner_id}/onboarding", token or api.operator)
    assert resp.status_code == status, resp.body
    return api.json(resp)


def complete(api: Any, partner_id: str, kind: str, entry: str, token: str | None = None) -> Any:
    return api.call("POST", f"/v1/partners/{partner_id}/onboarding/{kind}/{entry}/complete", token or api.operator)


def by_id(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in doc["milestones"]}


def emit(stream: Stream, tenant_id: str | None, event_type: str, detail: dict[str, Any]) -> None:
    """An event as its capability writes it (an outbox item), delivered through the table's stream."""
    from chalicelib.events.outbox import event_item

    event_item(tenant_id, event_type, detail).save()
    assert stream.drain() >= 1


def test_a_joining_partner_gets_its_12_month_plan_once(api: Any, stream: Stream, now: Any) -> None:
    partner = joined(api, stream)
    customer = api.make_tenant(parentTenantId=partner["id"])
    stream.drain()
    doc = plan(api, partner["id"])
    assert doc["joinedAt"].startswith("2027-01-04") and doc["version"] == 1
    assert {m["id"]: m["dueDate"] for m in doc["milestones"]} == {
        "kickoff": "2027-01-11", "demo-certification": "2027-01-18", "enablement-kit": "2027-02-04",
        "co-branded-portal": "2027-02-04", "first-co-sell": "2027-03-04", "qbr-1": "2027-04-04",
        "first-deal": "2027-05-04", "qbr-2": "2027-07-04", "qbr-3": "2027-10-04", "annual-review": "2028-01-04"}
    assert [d["id"] for d in doc["deliverables"]] == [
        "pitch-deck", "demo-script", "pricing-calculator", "objection-handling", "case-studies",
        "onboarding-playbook", "co-branded-templates", "roi-calculator"]
    assert doc["progress"] == {"milestonesDone": 0, "milestonesTotal": 10, "deliverablesDone": 0,
                               "deliverablesTotal": 8, "percent": 0}
    assert doc["overdue"] == []
    # a customer tenant has no plan (and is no partner); a redelivered TenantCreated changes nothing
    assert plan(api, customer["id"], status=404)["detail"] == "No such partner."
    from chalicelib.events import consumer

    assert consumer.handle_records(stream_records()) == {"batchItemFailures": []}
    assert plan(api, partner["id"])["version"] == 1


def test_overdue_milestones_are_computed_against_now(api: Any, stream: Stream, now: Any) -> None:
    partner = joined(api, stream)
    now.at(datetime(2027, 2, 5, 8, 0, tzinfo=UTC))
    doc = plan(api, partner["id"], partner["admin"])
    assert doc["overdue"] == ["kickoff", "demo-certification", "enablement-kit", "co-branded-portal"]
    assert by_id(doc)["first-co-sell"]["status"] == "open"
    resp = complete(api, partner["id"], "milestones", "kickoff", partner["admin"])
    assert resp.status_code == 200, resp.body
    done = api.json(resp)
    assert by_id(done)["kickoff"]["status"] == "done" and by_id(done)["kickoff"]["source"] == "manual"
    assert done["overdue"] == ["demo-certification", "enablement-kit", "co-branded-portal"]
    assert done["progress"]["milestonesDone"] == 1 and done["progress"]["percent"] == 6  # 1 of 18
    now.at(datetime(2027, 3, 5, 8, 0, tzinfo=UTC))
    assert "first-co-sell" in plan(api, partner["id"])["overdue"]


def test_completing_is_idempotent_and_the_kit_completes_its_milestone(api: Any, stream: Stream, now: Any) -> None:
    partner = joined(api, stream)
    first = api.json(complete(api, partner["id"], "milestones", "qbr-1"))
    again = complete(api, partner["id"], "milestones", "qbr-1")
    assert again.status_code == 200 and api.json(again)["version"] == first["version"] == 2
    assert by_id(api.json(again))["qbr-1"]["completedAt"] == by_id(first)["qbr-1"]["completedAt"]
    ids = [d["id"] for d in first["deliverables"]]
    for did in ids[:-1]:
        assert complete(api, partner["id"], "deliverables", did, partner["admin"]).status_code == 200
    assert by_id(plan(api, partner["id"]))["enablement-kit"]["status"] == "open"
    last = api.json(complete(api, partner["id"], "deliverables", ids[-1], partner["admin"]))
    kit = by_id(last)["enablement-kit"]
    assert kit["status"] == "done" and kit["source"] == "deliverables"
    assert last["progress"]["deliverablesDone"] == 8 and last["progress"]["milestonesDone"] == 2
    missing = complete(api, partner["id"], "milestones", "moon-landing")
    assert missing.status_code == 404 and "moon-landing" in api.json(missing)["detail"]


def test_only_the_operator_and_the_partners_admins_see_and_complete(api: Any, stream: Stream, now: Any) -> None:
    partner, rival = joined(api, stream), joined(api, stream)
    customer = api.make_tenant(parentTenantId=partner["id"])
    customer_admin = api.tenant_admin(customer["id"])
    _, learner = api.user_token(partner["id"], ["learner"])
    pid = partner["id"]
    for token in (rival["admin"], customer_admin):
        assert plan(api, pid, token, status=404)["detail"] == "No such tenant."
        assert complete(api, pid, "milestones", "kickoff", token).status_code == 404
    assert plan(api, pid, learner, status=403)
    assert complete(api, pid, "milestones", "kickoff", learner).status_code == 403
    assert plan(api, pid)["version"] == 1  # nothing changed
    assert complete(api, pid, "milestones", "kickoff", partner["admin"]).status_code == 200


def test_events_complete_milestones_once(api: Any, stream: Stream, now: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.partners import routing

    monkeypatch.setattr(routing, "required_program_id", lambda: "sp-demo-cert")
    partner, other = joined(api, stream), joined(api, stream)
    pid = partner["id"]
    now.at(datetime(2027, 1, 10, 12, 0, tzinfo=UTC))
    emit(stream, pid, "CertificationIssued", {"certificateId": "ce-1", "certificationId": "sp-other"})
    customer = api.make_tenant(parentTenantId=pid)
    emit(stream, customer["id"], "CertificationIssued", {"certificateId": "ce-2", "certificationId": "sp-demo-cert"})
    assert by_id(plan(api, pid))["demo-certification"]["status"] == "open"  # another program; a customer's rep
    emit(stream, pid, "CertificationIssued", {"certificateId": "ce-3", "certificationId": "sp-demo-cert"})
    emit(stream, None, "LeadClaimed", {"leadId": "ld-1", "partnerId": pid, "claimedAt": "2027-01-10T12:00:00Z"})
    emit(stream, None, "LeadWon", {"leadId": "ld-1", "partnerId": pid})
    emit(stream, pid, "BrandKitApproved", {"partnerId": pid, "version": 1, "live": False})
    doc = by_id(plan(api, pid))
    assert doc["co-branded-portal"]["status"] == "open"  # approved but not live: not yet co-branded
    emit(stream, pid, "BrandKitApproved", {"partnerId": pid, "version": 2, "live": True})
    doc = plan(api, pid)
    states = {m["id"]: (m["status"], m["source"]) for m in doc["milestones"] if m["status"] == "done"}
    assert states == {"demo-certification": ("done", "CertificationIssued"), "first-co-sell": ("done", "LeadClaimed"),
                      "first-deal": ("done", "LeadWon"), "co-branded-portal": ("done", "BrandKitApproved")}
    assert by_id(doc)["first-co-sell"]["completedAt"].startswith("2027-01-10T12:00")
    version = doc["version"]
    emit(stream, None, "LeadClaimed", {"leadId": "ld-2", "partnerId": pid})  # a second claim: done already
    assert plan(api, pid)["version"] == version
    assert plan(api, other["id"])["progress"]["milestonesDone"] == 0  # the other partner's plan is untouched


def test_a_customers_certificate_costs_the_onboarding_subscriber_no_read(api: Any) -> None:
    """Certificates are issued in every tenant; only a partner's can complete an onboarding milestone, and the
    subscriber tells them apart from the tenant cache (warm in a running container) without reading a plan."""
    from chalicelib.events.consumer import EventEnvelope
    from chalicelib.partners import onboarding_events
    from chalicelib.tenancy import cache
    from tests.unit.callcount import counting

    customer = api.make_tenant()["id"]
    cache.tenant_record(customer)  # warm, as after the container's first event of the tenant
    issued = EventEnvelope(id="ev-c", type="CertificationIssued", tenant_id=customer, occurred_at="2027-01-04",
                           actor="system", correlation_id=None, detail={"certificationId": "sp-demo"})
    with counting() as calls:
        onboarding_events._on_certified(issued)
    assert calls.dynamodb == {}
