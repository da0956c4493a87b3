"""Lead routing over the real app: settings, profiles, routing with explanations, idempotent creates, claims
(100 at once: exactly one wins), declines, outcomes, partner views and the partner's lead figures."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.unit.callcount import counting

_seq = itertools.count(1)
T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
PROFILE = {"industries": ["SaaS", "Finance"], "regions": ["EMEA"], "products": ["LMS"], "maxOpenLeads": 5}
LEAD = {"industry": "saas", "region": "emea", "product": "LMS", "dealSize": "20000.00",
        "company": {"name": "Globex"}, "contact": {"name": "Hank Scorpio", "email": "hank@globex.example"}}


@pytest.fixture()
def now(pin_clock: Any) -> Any:
    """The server clock, pinned at T0 and movable: `now.at(moment)`."""
    return pin_clock(T0)


def partner(api: Any, tier: str | None = None, profile: dict[str, Any] | None = None,
            name: str | None = None) -> dict[str, Any]:
    """A partner tenant (reseller) with a tier, an admin and (unless profile={}) a routing profile."""
    n = next(_seq)
    made = api.make_tenant(name=name or f"Partner {n:03d}", slug=f"lead-partner-{n}", template="reseller")
    if tier:
        resp = api.call("PUT", f"/v1/partners/{made['id']}/tier", api.operator, {"tier": tier})
        assert resp.status_code == 200, resp.body
    admin = api.tenant_admin(made["id"])
    if profile != {}:
        resp = api.call("PUT", f"/v1/partners/{made['id']}/routing-profile", admin, {**PROFILE, **(profile or {})})
        assert resp.status_code == 200, resp.body
    return {"id": made["id"], "name": made["name"], "admin": admin}


def new_lead(api: Any, status: int = 201, **overrides: Any) -> dict[str, Any]:
    resp = api.call("POST", "/v1/leads", api.operator, {**LEAD, **overrides})
    assert resp.status_code == status, resp.body
    return dict(api.json(resp))


def act(api: Any, who: dict[str, Any], lead_id: str, action: str, body: Any = None) -> Any:
    return api.call("POST", f"/v1/partners/{who['id']}/leads/{lead_id}/{action}", who["admin"], body)


def events(kind: str) -> list[Any]:
    from chalicelib.store import keys
    from chalicelib.store.models import Event, Item

    found = []
    for shard in range(keys.EVENT_SHARDS):
        found += [e for e in Item.query(keys.event_pk(None, shard)) if isinstance(e, Event) and e.event_type == kind]
    return sorted(found, key=lambda e: e.occurred_at)


def test_a_lead_is_routed_to_the_best_partner_explained_claimed_and_won(api: Any, now: Any) -> None:
    strong = partner(api, "strategic", name="Strong Partner")
    weaker = partner(api, "registered", {"industries": ["Retail"]}, name="Weaker Partner")
    lead = new_lead(api, externalId="crm-001")
    assert lead["status"] == "offered" and lead["offer"]["partnerId"] == strong["id"]
    assert lead["offer"]["expiresAt"] == "2027-03-03T09:00:00.000Z"  # strategic: a 48-hour claim window
    # idempotent on externalId: the same lead, 200
    again = new_lead(api, status=200, externalId="crm-001", dealSize="1.00")
    assert again["id"] == lead["id"] and again["dealSize"] == "20000.00"
    # the explanation: each factor's points, why this partner, the runner-up
    why = api.json(api.call("GET", f"/v1/leads/{lead['id']}/routing", api.operator))
    first = why["decisions"][0]
    assert first["chosen"]["partnerId"] == strong["id"] and first["eligible"] == 2
    assert [r["partnerId"] for r in first["ranked"]] == [strong["id"], weaker["id"]]
    factors = first["ranked"][0]["factors"]
    assert set(factors) == {"industry", "region", "product", "certification", "capacity", "claimRate", "tier"}
    assert factors["industry"] == "25.00" and first["ranked"][1]["factors"]["industry"] == "0.00"
    assert sum(Decimal(v) for v in factors.values()) == Decimal(first["ranked"][0]["score"])
    assert "Strong Partner scored" in first["why"] and "next: Weaker Partner" in first["why"]
    assert first["outcome"] == {"outcome": "offered", "resolvedAt": None, "closedStatus": None}
    # the offered partner reads it; another partner and the operator's view differ
    seen = api.json(api.call("GET", f"/v1/leads/{lead['id']}", strong["admin"]))
    assert seen["offer"]["partnerId"] == strong["id"] and "offeredTo" not in seen
    assert api.call("GET", f"/v1/leads/{lead['id']}", weaker["admin"]).status_code == 404
    # claim, then the outcome
    now.at(T0 + timedelta(hours=3))
    claimed = act(api, strong, lead["id"], "claim")
    assert claimed.status_code == 200, claimed.body
    assert api.json(claimed)["ownerPartnerId"] == strong["id"] and api.json(claimed)["offer"] is None
    won = act(api, strong, lead["id"], "outcome", {"status": "won", "amount": "18000.00"})
    assert won.status_code == 200 and api.json(won)["status"] == "won"
    assert act(api, strong, lead["id"], "outcome", {"status": "lost"}).status_code == 409  # once
    assert [e.detail["partnerId"] for e in events("LeadClaimed")] == [strong["id"]]
    assert events("LeadWon")[0].detail["amount"] == "18000.00"
    assert {e.event_type for e in events("LeadRouted") + events("LeadOffered")} == {"LeadRouted", "LeadOffered"}
    listing = api.json(api.call("GET", f"/v1/partners/{strong['id']}/leads", strong["admin"]))["items"]
    assert [(i["leadId"], i["outcome"], i["closedStatus"]) for i in listing] == [(lead["id"], "claimed", "won")]
    profile = api.json(api.call("GET", f"/v1/partners/{strong['id']}/routing-profile", strong["admin"]))
    assert profile["openLeads"] == 0 and profile["recentOutcomes"] == ["claimed"]
    # the scorecards' figures
    from chalicelib.partners.leads import partner_lead_figures

    got = partner_lead_figures(strong["id"], "2027-03-01T00:00:00Z", "2027-04-01T00:00:00+00:00")
    assert got == {"offered": 1, "claimed": 1, "declined": 0, "timedOut": 0, "claimRatePercent": Decimal("100.00"),
                   "medianHoursToClaim": Decimal("3.00"), "pipeline": Decimal("20000.00"), "won": 1, "lost": 0,
                   "newArr": Decimal("18000.00"), "winRatePercent": Decimal("100.00")}
    assert partner_lead_figures(strong["id"], "2027-04-01T00:00:00Z", "2027-05-01T00:00:00Z")["offered"] == 0
    ops = api.json(api.call("GET", "/v1/leads?status=won", api.operator))["items"]
    assert [i["id"] for i in ops] == [lead["id"]]
    assert [i["id"] for i in api.json(api.call("GET", "/v1/leads", api.operator))["items"]] == [lead["id"]]


def test_gates_exclude_and_name_the_reason(api: Any, now: Any) -> None:
    settings = api.call("PUT", "/v1/lead-routing", api.operator, {
        "maxAttempts": 2, "channelManager": {"name": "Cora Channel", "email": "cora@vendor.example"},
        "tierTerms": {"registered": {"claimWindowHours": 24, "dealSize": {"max": "10000"}}}})
    assert settings.status_code == 200, settings.body
    small = partner(api, "registered", name="Small Partner")  # deal above its band
    far = partner(api, "strategic", {"regions": ["APAC"]})
    full = partner(api, "strategic", {"maxOpenLeads": 0})
    closed = partner(api, "strategic", {"accepting": False})
    suspended = partner(api, "strategic")
    resp = api.call("POST", f"/v1/tenants/{suspended['id']}/suspend", api.operator)
    assert resp.status_code == 200
    from tests.unit.course_helpers import Stream

    Stream(api).drain()  # TenantSuspended reaches the card
    partner(api, "strategic", profile={})  # no profile: not in the pool at all
    lead = new_lead(api)
    assert lead["status"] == "escalated" and lead["offer"] is None
    assert lead["escalation"]["channelManager"]["email"] == "cora@vendor.example"
    excluded = api.json(api.call("GET", f"/v1/leads/{lead['id']}/routing", api.operator))["decisions"][0]["excluded"]
    assert {k: v["partnerIds"] for k, v in excluded.items()} == {
        "dealSizeOutsideTier": [small["id"]], "regionMismatch": [far["id"]], "atCapacity": [full["id"]],
        "notAccepting": [closed["id"]], "suspended": [suspended["id"]]}
    assert events("LeadEscalated")[0].detail["reason"].startswith("no eligible partner")
    assert new_lead(api, dealSize="9000")["offer"]["partnerId"] == small["id"]  # within its band


def _shared_program(api: Any) -> str:
    from tests.unit.course_helpers import add_version

    lib = api.json(api.call("POST", "/v1/library/courses", api.operator, {"title": "Demo Certification"}))["id"]
    number = add_version("library", lib)
    assert api.call("POST", f"/v1/library/courses/{lib}/versions/{number}/publish", api.operator).status_code == 200
    made = api.call("POST", "/v1/library/certifications", api.operator,
                    {"name": "Partner Demo Certification", "requirements": [{"kind": "course", "courseId": lib}]})
    assert made.status_code == 201, made.body
    return str(api.json(made)["id"])


def _certify(partner_id: str, program_id: str, n: int = 1) -> None:
    """n certificates of the shared program issued in the partner (its counts, as issuing moves them) and the
    CertificationIssued event delivered to the card's subscriber."""
    from chalicelib.certification.certificates import count_moves
    from chalicelib.events.consumer import EventEnvelope
    from chalicelib.partners import lead_cards
    from chalicelib.store.tx import Tx

    target, moves = count_moves(program_id, partner_id, {"active": n})
    Tx().update(target, moves, None, "program").commit()
    lead_cards._on_certification(EventEnvelope(id="ev-t", type="CertificationIssued", tenant_id=partner_id,
                                               occurred_at="", actor=None, correlation_id=None,
                                               detail={"certificationId": program_id}))


def test_a_partner_without_a_current_certification_is_not_eligible(api: Any, now: Any) -> None:
    program = _shared_program(api)
    bad = api.call("PUT", "/v1/lead-routing", api.operator, {"requiredProgramId": "sp-nope"})
    assert bad.status_code == 400 and "requiredProgramId" in bad.body.decode()
    assert api.call("PUT", "/v1/lead-routing", api.operator, {"requiredProgramId": program}).status_code == 200
    uncertified = partner(api, "strategic", name="Uncertified")
    certified = partner(api, "registered", name="Certified")
    _certify(certified["id"], program)
    lead = new_lead(api, dealSize="5000")
    assert lead["offer"]["partnerId"] == certified["id"]
    decision = api.json(api.call("GET", f"/v1/leads/{lead['id']}/routing", api.operator))["decisions"][0]
    assert decision["excluded"] == {"notCertified": {"count": 1, "partnerIds": [uncertified["id"]]}}
    assert decision["ranked"][0]["factors"]["certification"] == "2.00"  # 1 of 5 reps for full points
    # the count follows the program: an expiry in the partner re-counts (idempotent, from the counts)
    from chalicelib.partners import routing

    assert routing.required_program_id() == program and routing.certified_reps(certified["id"], program) == 1
    _certify(uncertified["id"], program, 2)
    shown = api.json(api.call("GET", f"/v1/partners/{uncertified['id']}/routing-profile", uncertified["admin"]))
    assert shown["certifiedReps"] == 2 and shown["requiredProgramId"] == program
    assert new_lead(api)["offer"]["partnerId"] == uncertified["id"]


def test_a_hundred_simultaneous_claims_one_wins(api: Any, now: Any) -> None:
    from chalicelib.auth.principal import Principal, TenantContext
    from chalicelib.auth.scopes import ALL
    from chalicelib.errors import OnrampError
    from chalicelib.partners import leads

    winner = partner(api, "strategic")
    lead = new_lead(api)
    principal = Principal(subject="us-rep", tenant_id=winner["id"], roles=frozenset({"admin", "partner_admin"}),
                          scopes=ALL)
    ctx = TenantContext(tenant_id=winner["id"], principal=principal, relation="own", tenant_kind="partner")
    statuses: list[int] = []
    start = threading.Barrier(100)

    def claim() -> None:
        start.wait()
        try:
            leads.claim(ctx, lead["id"])
            statuses.append(200)
        except OnrampError as err:
            statuses.append(err.status)

    threads = [threading.Thread(target=claim) for _ in range(100)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(statuses) == [200] + [409] * 99
    assert len(events("LeadClaimed")) == 1
    card = api.json(api.call("GET", f"/v1/partners/{winner['id']}/routing-profile", winner["admin"]))
    assert card["openLeads"] == 1 and card["recentOutcomes"] == ["claimed"]


def test_claims_outside_the_window_or_by_others_fail_and_a_decline_reroutes(api: Any, now: Any) -> None:
    first = partner(api, "strategic", name="First")
    second = partner(api, "preferred", name="Second")
    lead = new_lead(api)
    assert lead["offer"]["partnerId"] == first["id"]
    assert act(api, second, lead["id"], "claim").status_code == 404  # never offered to it
    assert act(api, second, lead["id"], "decline").status_code == 404
    now.at(T0 + timedelta(hours=48))  # the window's end: too late
    assert act(api, first, lead["id"], "claim").status_code == 409
    assert act(api, first, lead["id"], "decline").status_code == 409
    now.at(T0 + timedelta(hours=47, minutes=59))
    declined = act(api, first, lead["id"], "decline")
    assert declined.status_code == 200, declined.body
    assert api.json(declined)["status"] == "unavailable" and api.json(declined)["yourOffer"] is None
    shown = api.json(api.call("GET", f"/v1/leads/{lead['id']}", api.operator))
    assert shown["offer"]["partnerId"] == second["id"] and shown["attempts"] == 2
    assert shown["offeredTo"] == [first["id"], second["id"]]
    assert act(api, first, lead["id"], "claim").status_code == 409  # offered once, now elsewhere
    assert api.json(api.call("GET", f"/v1/leads/{lead['id']}", first["admin"]))["status"] == "unavailable"
    assert act(api, second, lead["id"], "claim").status_code == 200
    why = api.json(api.call("GET", f"/v1/leads/{lead['id']}/routing", api.operator))["decisions"]
    assert [(d["trigger"], d["outcome"]["outcome"]) for d in why] == [("created", "declined"), ("declined", "claimed")]
    assert why[1]["excluded"] == {"alreadyOffered": {"count": 1, "partnerIds": [first["id"]]}}
    assert [e.detail["partnerId"] for e in events("LeadDeclined")] == [first["id"]]


def test_bad_input_and_wrong_callers(api: Any, now: Any) -> None:
    who = partner(api, "strategic")
    bad = api.call("POST", "/v1/leads", api.operator, {**LEAD, "dealSize": "-1"})
    assert bad.status_code == 400 and "dealSize" in bad.body.decode()
    bad = api.call("PUT", "/v1/lead-routing", api.operator, {"tierTerms": {"gold": {"claimWindowHours": 24}}})
    assert bad.status_code == 400 and "tierTerms.gold" in bad.body.decode()
    bad = api.call("PUT", "/v1/lead-routing", api.operator, {"tierTerms": {"registered": {"claimWindowHours": 72}}})
    assert bad.status_code == 400
    assert api.call("POST", "/v1/leads", who["admin"], LEAD).status_code == 403
    assert api.call("GET", "/v1/lead-routing", who["admin"]).status_code == 403
    lead = new_lead(api)
    assert api.call("GET", f"/v1/leads/{lead['id']}/routing", who["admin"]).status_code == 403
    assert api.call("GET", "/v1/leads/ld-nope", api.operator).status_code == 404
    customer = api.make_tenant(parentTenantId=who["id"])
    assert api.call("GET", f"/v1/leads/{lead['id']}", api.tenant_admin(customer["id"])).status_code == 404
    assert act(api, who, lead["id"], "outcome", {"status": "won"}).status_code == 409  # not claimed yet


def test_routing_a_lead_costs_the_same_at_ten_and_at_many_partners(api: Any, now: Any) -> None:
    costs = []
    for size in (10, 40):
        while len(_cards()) < size:
            partner(api, "strategic", {"maxOpenLeads": 100})
        with counting() as calls:
            new_lead(api)
        costs.append(dict(calls.dynamodb))
    assert costs[0] == costs[1] == {"BatchGetItem": 1, "Query": 1, "TransactWriteItems": 1}, costs


def _cards() -> list[Any]:
    from chalicelib.partners import lead_cards

    return lead_cards.pool()


def test_a_large_deal_gets_the_longer_claim_window(api: Any, now: Any) -> None:
    """Claim windows go by tier, lengthened by deal size: a Registered partner (24 h) gets 48 h for a deal of at
    least the operator's `largeDeal.fromDealSize`; a smaller deal keeps the tier's window."""
    settings = api.call("PUT", "/v1/lead-routing", api.operator, {
        "largeDeal": {"fromDealSize": "20000", "claimWindowHours": 48},
        "tierTerms": {"registered": {"claimWindowHours": 24, "dealSize": {"max": None}}}})
    assert settings.status_code == 200, settings.body
    assert api.json(settings)["largeDeal"] == {"fromDealSize": "20000.00", "claimWindowHours": 48}
    partner(api, "registered")
    big = new_lead(api, dealSize="20000.00")
    small = new_lead(api, dealSize="19999.99")
    assert big["offer"]["expiresAt"] == "2027-03-03T09:00:00.000Z"  # 48 hours
    assert small["offer"]["expiresAt"] == "2027-03-02T09:00:00.000Z"  # the tier's 24
    bad = api.call("PUT", "/v1/lead-routing", api.operator,
                   {"largeDeal": {"fromDealSize": "1", "claimWindowHours": 72}})
    assert bad.status_code == 400 and "largeDeal.claimWindowHours" in bad.body.decode()
