"""The lead-claim-timeouts job: an unclaimed lead walks re-route then escalation as the job runs at later times;
a re-run for the same time changes nothing; its cost follows the offers due, not the table."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.unit.callcount import counting
from tests.unit.test_leads import T0, act, events, new_lead, now, partner  # noqa: F401 - `now` is a fixture

MANAGER = {"name": "Cora Channel", "email": "cora@vendor.example"}


def run(moment: datetime) -> dict[str, Any]:
    from chalicelib.partners import lead_job

    return lead_job.run(moment)


def lead_state(api: Any, lead_id: str) -> Any:
    return api.json(api.call("GET", f"/v1/leads/{lead_id}", api.operator))


@pytest.fixture()
def world(api: Any, now: Any) -> dict[str, Any]:  # noqa: F811 - the fixture above
    resp = api.call("PUT", "/v1/lead-routing", api.operator, {"maxAttempts": 2, "channelManager": MANAGER})
    assert resp.status_code == 200, resp.body
    first = partner(api, "strategic", name="First Partner")  # 48-hour window
    second = partner(api, "preferred", name="Second Partner")  # 36-hour window
    third = partner(api, "registered", name="Third Partner")
    return {"first": first, "second": second, "third": third}


def test_an_unclaimed_lead_is_rerouted_then_escalated_and_reruns_change_nothing(api: Any, world: Any,
                                                                                now: Any) -> None:  # noqa: F811
    from tests.unit.course_helpers import Stream
    from tests.unit.test_certification_reminders import sent_to

    first, second = world["first"], world["second"]
    lead = new_lead(api)
    assert lead["offer"] == {"partnerId": first["id"], "offeredAt": "2027-03-01T09:00:00.000Z",
                             "expiresAt": "2027-03-03T09:00:00.000Z"}
    assert run(T0)["found"] == 0
    assert run(T0 + timedelta(hours=47, minutes=59))["found"] == 0  # not yet due
    # the window ends: timed out, offered to the next best (the first excluded), in its tier's window
    at = T0 + timedelta(hours=48, minutes=15)
    result = run(at)
    assert (result["timedOut"], result["rerouted"], result["escalated"]) == (1, 1, 0), result
    shown = lead_state(api, lead["id"])
    assert shown["offer"]["partnerId"] == second["id"] and shown["attempts"] == 2
    assert shown["offer"]["expiresAt"] == "2027-03-04T21:15:00.000Z"  # 36 hours after the run
    assert act(api, first, lead["id"], "claim").status_code == 409
    before = (shown, len(events("LeadClaimTimedOut")), len(events("LeadOffered")))
    assert run(at)["found"] == 0  # the same time again: nothing
    assert (lead_state(api, lead["id"]), len(events("LeadClaimTimedOut")), len(events("LeadOffered"))) == before
    # the second offer times out too: maxAttempts (2) reached, escalated to the channel manager
    later = at + timedelta(hours=36, minutes=20)
    result = run(later)
    assert (result["timedOut"], result["escalated"]) == (1, 1), result
    shown = lead_state(api, lead["id"])
    assert shown["status"] == "escalated" and shown["offer"] is None
    assert shown["escalation"]["channelManager"] == MANAGER and "2 offer(s)" in shown["escalation"]["reason"]
    escalated = events("LeadEscalated")
    assert len(escalated) == 1 and escalated[0].detail["channelManager"]["email"] == MANAGER["email"]
    timeouts = sorted(events("LeadClaimTimedOut"), key=lambda e: int(e.detail["attempt"]))
    assert [e.detail["partnerId"] for e in timeouts] == [first["id"], second["id"]]
    assert run(later)["found"] == 0 and len(events("LeadEscalated")) == 1
    Stream(api).drain()
    assert len(sent_to(MANAGER["email"])) == 1
    from chalicelib.events.consumer import EventEnvelope
    from chalicelib.partners import lead_cards
    from chalicelib.store.models import plain

    first_event = escalated[0]
    redelivered = EventEnvelope(id=first_event.id, type="LeadEscalated", tenant_id=None,
                                occurred_at=first_event.occurred_at, actor=first_event.actor,
                                correlation_id=first_event.correlation_id, detail=plain(first_event.detail))
    lead_cards._on_escalated(redelivered)  # the stream delivers the record again: no second email
    assert len(sent_to(MANAGER["email"])) == 1
    why = api.json(api.call("GET", f"/v1/leads/{lead['id']}/routing", api.operator))["decisions"]
    assert [(d["trigger"], d["outcome"]["outcome"]) for d in why] == [
        ("created", "timedOut"), ("timedOut", "timedOut"), ("timedOut", "escalated")]
    # both partners' cards: no open lead left, a timeout in their recent outcomes
    for who in (first, second):
        card = api.json(api.call("GET", f"/v1/partners/{who['id']}/routing-profile", who["admin"]))
        assert card["openLeads"] == 0 and card["recentOutcomes"] == ["timedOut"]
    from chalicelib.partners.leads import partner_lead_figures

    got = partner_lead_figures(first["id"], "2027-03-01T00:00:00Z", "2027-04-01T00:00:00Z")
    assert (got["offered"], got["timedOut"], got["claimRatePercent"]) == (1, 1, 0)


def test_missed_runs_are_caught_up(api: Any, world: Any, now: Any) -> None:  # noqa: F811
    assert run(T0)["found"] == 0  # the watermark: T0's previous bucket
    lead = new_lead(api)  # expires at T0 + 48 h
    result = run(T0 + timedelta(hours=50))  # nothing ran for 50 hours: 201 buckets, 192 read per run
    assert (result["bucketsRead"], result["behindBuckets"], result["found"]) == (193, 9, 0), result
    result = run(T0 + timedelta(hours=50, minutes=15))  # the backlog drains
    assert (result["bucketsRead"], result["behindBuckets"], result["timedOut"]) == (10, 0, 1), result
    assert lead_state(api, lead["id"])["offer"]["partnerId"] == world["second"]["id"]


def test_the_job_costs_what_is_due_not_the_table(api: Any, world: Any, now: Any) -> None:  # noqa: F811
    from chalicelib.jobs import due_index
    from chalicelib.partners import lead_job
    from chalicelib.store import keys
    from chalicelib.store.models import JobState

    for who in world.values():
        api.call("PUT", f"/v1/partners/{who['id']}/routing-profile", who["admin"], {"regions": ["EMEA"],
                                                                                     "maxOpenLeads": 100})
    costs = []
    for others in (2, 20):
        now.at(T0 + timedelta(days=30))  # offers due much later, in other buckets
        while len(_outstanding()) < others:
            new_lead(api, dealSize="1000")
        now.at(T0)
        due = new_lead(api, industry="finance")
        as_of = datetime.fromisoformat(due["offer"]["expiresAt"].replace("Z", "+00:00")) + timedelta(minutes=1)
        now.at(as_of)
        previous = due_index.label(due_index.bucket_start(as_of) - due_index.BUCKET)
        JobState(PK=keys.job_state_pk(lead_job.JOB), SK=keys.JOB_STATE_SK, day=previous, updated_at="-").save()
        with counting() as calls:
            result = lead_job.run(as_of)
        assert (result["found"], result["timedOut"]) == (1, 1), result
        costs.append(dict(calls.dynamodb))
        assert lead_state(api, due["id"])["attempts"] == 2
    assert costs[0] == costs[1], costs
    # watermark + the due bucket's shards + settings and tiers + the pool + the offer's transaction (the bucket
    # is not over yet, so the watermark stays)
    assert costs[0] == {"GetItem": 1, "Query": keys.LEAD_DUE_SHARDS + 1, "BatchGetItem": 1,
                        "TransactWriteItems": 1}, costs


def _outstanding() -> list[Any]:
    from chalicelib.store import keys
    from chalicelib.store.models import Lead

    return list(Lead.gsi1.query(keys.leads_by_status_gsi1pk("offered")))


def test_onramp_jobs_run_lead_claim_timeouts(api: Any, world: Any, now: Any, capsys: Any) -> None:  # noqa: F811
    from chalicelib import cli

    new_lead(api)
    assert cli.main(["jobs", "list"]) == 0
    assert "lead-claim-timeouts" in capsys.readouterr().out
    assert cli.main(["--aws-env", "jobs", "run", "lead-claim-timeouts", "--as-of", "2027-03-03T09:05:00Z"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["timedOut"] == 1 and result["rerouted"] == 1
