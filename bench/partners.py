"""Lead-routing figures for `make bench`: DynamoDB requests per routed lead with 10 and with 1,000 partners in the
pool (goal: at most 4, flat), and the requests of the lead-claim-timeouts job with 1,000 and with 100,000 leads in
the table and the same offers due (goal: a ratio of 1.0)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.inprocess import Say, flat_ratio, ops, quiet, stack

DUE = 20  # offers due in the measured job run
LEADS_PER_SIZE = 3  # leads routed (and averaged) per pool size
T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
LEAD = {"industry": "SaaS", "region": "EMEA", "product": "LMS", "dealSize": "5000", "company": {"name": "Bench Co"}}
INDUSTRIES = ("saas", "finance", "retail", "health", "*")


@contextmanager
def pinned(moment: datetime) -> Iterator[None]:
    from chalicelib import clock

    original = clock.utcnow
    clock.utcnow = lambda: moment  # type: ignore[assignment]
    try:
        yield
    finally:
        clock.utcnow = original  # type: ignore[assignment]


def _cards(first: int, last: int) -> None:
    """Partners `first..last-1` in the pool: cards as the profile route writes them (varied fit, all eligible)."""
    from chalicelib.partners import lead_cards
    from chalicelib.store.models import RoutingCard

    with RoutingCard.batch_write() as batch:
        for i in range(first, last):
            batch.save(RoutingCard(*lead_cards.card_key(f"tn-bench-{i:05d}"), partner_id=f"tn-bench-{i:05d}",
                                   name=f"Bench Partner {i}", tier=("registered", "preferred", "strategic")[i % 3],
                                   status="active", accepting=True, industries=[INDUSTRIES[i % 5]],
                                   regions=["EMEA"] if i % 2 else ["*"], products=["LMS"], max_open_leads=10_000,
                                   open_leads=i % 7, certified={}, recent=["claimed", "declined", "timedOut"][: i % 4],
                                   updated_at="2027-01-01T00:00:00.000Z"))


def _background(first: int, last: int) -> None:
    """Leads `first..last-1` with an outstanding offer each, due in 2030 (other buckets): the table's bulk."""
    from chalicelib.jobs import due_index
    from chalicelib.partners import lead_offers
    from chalicelib.store import keys
    from chalicelib.store.models import Item, Lead, LeadOffer

    with Item.batch_write() as batch:
        for i in range(first, last):
            lid, at = f"ld-bench-{i:07d}", "2030-01-01T00:00:00.000Z"
            expires = (datetime(2030, 1, 2, tzinfo=UTC) + timedelta(minutes=15 * (i % 5000))).strftime(
                "%Y-%m-%dT%H:%M:00.000Z")
            partner = f"tn-bench-{i % 10:05d}"
            batch.save(Lead(PK=keys.lead_pk(lid), SK=keys.LEAD_SK, GSI1PK=keys.leads_by_status_gsi1pk("offered"),
                            GSI1SK=keys.lead_list_sk(at, lid), GSI2PK=keys.all_leads_gsi2pk(),
                            GSI2SK=keys.lead_list_sk(at, lid), id=lid, status="offered", industry="saas",
                            region="EMEA", product="LMS", deal_size="1000.00", attempts=1, offered_to=[partner],
                            offer_partner_id=partner, offer_expires_at=expires, offered_at=at, created_by="bench",
                            created_at=at, updated_at=at))
            batch.save(LeadOffer(PK=keys.lead_pk(lid), SK=keys.lead_offer_sk(partner),
                                 GSI1PK=keys.partner_leads_gsi1pk(partner), GSI1SK=keys.lead_event_sk(at, lid),
                                 GSI2PK=keys.lead_due_gsi2pk(due_index.bucket_of(expires),
                                                             lead_offers.due_shard(lid)),
                                 GSI2SK=keys.lead_due_gsi2sk(expires, lid), lead_id=lid, partner_id=partner, attempt=1,
                                 outcome="offered", offered_at=at, expires_at=expires, industry="saas", region="EMEA",
                                 product="LMS", deal_size="1000.00", offered_before=[partner]))


def _route_counted(api: Any) -> dict[str, Any]:
    from tests.unit.callcount import counting

    with counting() as calls:
        for _ in range(LEADS_PER_SIZE):
            resp = api.call("POST", "/v1/leads", api.operator, LEAD)
            assert resp.status_code == 201 and api.json(resp)["status"] == "offered", resp.body
    total = sum(calls.dynamodb.values())
    return {"calls": dict(sorted(calls.dynamodb.items())), "requests_per_lead": total / LEADS_PER_SIZE}


def _job_counted(api: Any) -> dict[str, Any]:
    """DUE leads offered at T0 (24-hour windows), then the job as of their expiry, the watermark just before."""
    from chalicelib.jobs import due_index
    from chalicelib.partners import lead_job
    from chalicelib.store import keys
    from chalicelib.store.models import JobState
    from tests.unit.callcount import counting

    with pinned(T0):
        for _ in range(DUE):
            assert api.call("POST", "/v1/leads", api.operator, LEAD).status_code == 201
    as_of = T0 + timedelta(hours=24, minutes=1)
    JobState(PK=keys.job_state_pk(lead_job.JOB), SK=keys.JOB_STATE_SK,
             day=due_index.label(due_index.bucket_start(as_of) - due_index.BUCKET), updated_at="bench").save()
    with pinned(as_of), counting() as calls:
        result = lead_job.run(as_of)
    assert result["timedOut"] == DUE, result
    return {"calls": dict(sorted(calls.dynamodb.items())), "requests": sum(calls.dynamodb.values())}


def measure(say: Say, sizes: tuple[int, ...] = (1000, 100_000)) -> dict[str, Any]:
    out: dict[str, Any] = {"due": DUE, "routing": [], "timeout_job": []}
    windows = {t: {"claimWindowHours": 24} for t in ("registered", "preferred", "strategic")}
    with stack() as api, quiet():
        pool = 0
        for partners in (10, 1000):
            _cards(pool, partners)
            pool = partners
            out["routing"].append({"partners": partners, **_route_counted(api)})
            say(f"    routing measured at {partners:,} partners")
    with stack() as api, quiet():  # a small pool here: moto's Query of 1,000 cards costs seconds, AWS's does not
        assert api.call("PUT", "/v1/lead-routing", api.operator, {"tierTerms": windows}).status_code == 200
        _cards(0, 10)
        written = 0
        for total in sizes:
            _background(written, total)
            written = total
            out["timeout_job"].append({"leads": total, **_job_counted(api)})
            say(f"    claim-timeout job measured at {total:,} leads")
    return out


def report(say: Say, result: dict[str, Any]) -> None:
    say(f"\n{'lead routing':50} DynamoDB calls")
    for row in result["routing"]:
        label = f"POST /v1/leads, {row['partners']:,} partners in the pool"
        say(f"{label:50} {row['requests_per_lead']:g} requests per routed lead "
            f"({ops(row['calls'])} for {LEADS_PER_SIZE})")
    rows = result["timeout_job"]
    for row in rows:
        label = f"claim-timeout job, {row['leads']:,} leads, {result['due']} due"
        say(f"{label:50} {row['requests']} requests: {ops(row['calls'])}")
    flat_ratio(say, result, rows, "claim-timeout job", "leads")
