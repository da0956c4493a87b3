"""The `lead-claim-timeouts` job (every 15 minutes): offers nobody claimed in time are timed out and re-routed
(the next best partner, those offered the lead already excluded) or, after maxAttempts offers, escalated.

Work comes from the due-time index: an outstanding offer sits under the quarter-hour bucket of its expiry
(keys.lead_due_gsi2pk(bucket, shard)); a run reads each bucket after the last one finished (a JobState item,
as certification.reminders keeps its days) up to the bucket of "as of", one Query per shard, in the last bucket
only offers expired by then. So the cost follows what is due, never the size of the table (no Scan), and missed
runs are caught up (at most MAX_CATCH_UP_BUCKETS per run; the rest drains in the next runs). Each offer is
timed out with a conditional transaction (still offered, to that partner, at that attempt), so a re-run for the
same time, or two overlapping runs, change nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from pynamodb.exceptions import PutError

from chalicelib import observability as obs
from chalicelib.clock import iso, utcnow_iso
from chalicelib.partners import lead_cards, lead_offers, routing
from chalicelib.store import keys
from chalicelib.store.models import Item, JobState, LeadOffer, LeadRoutingConfig, PartnerTierConfig
from chalicelib.store.tx import TxConflict

JOB = "lead-claim-timeouts"
ACTOR = "system:lead-claim-timeouts"
BUCKET = timedelta(minutes=15)
MAX_CATCH_UP_BUCKETS = 4 * 48  # two days of quarter hours per run (the longest claim window)


def _bucket_start(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute // 15 * 15, second=0, microsecond=0)


def _label(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def buckets_to_walk(last_done: str | None, as_of: datetime) -> tuple[list[datetime], int]:
    """(the buckets this run reads, oldest first; the buckets left behind for the next runs)."""
    current = _bucket_start(as_of)
    if last_done is None:
        return [current - BUCKET, current], 0
    first = datetime.fromisoformat(last_done).replace(tzinfo=UTC) + BUCKET
    if first > current:
        return [current], 0
    count = int((current - first) / BUCKET) + 1
    walked = [first + BUCKET * n for n in range(min(count, MAX_CATCH_UP_BUCKETS))]
    behind = count - len(walked)
    return (walked + [current] if behind else walked), behind


def due_in(bucket: datetime, as_of: str) -> Iterator[LeadOffer]:
    """Outstanding offers of one bucket that expired at or before `as_of`, every shard."""
    for shard in range(keys.LEAD_DUE_SHARDS):
        yield from cast(Iterator[LeadOffer], LeadOffer.gsi2.query(
            keys.lead_due_gsi2pk(_label(bucket), shard), LeadOffer.GSI2SK <= keys.lead_due_gsi2sk(as_of)))


def _last_done() -> str | None:
    try:
        return str(JobState.get(keys.job_state_pk(JOB), keys.JOB_STATE_SK).day)
    except JobState.DoesNotExist:
        return None


def _mark_done(bucket: datetime) -> None:
    """Move the watermark forward to `bucket` (never back)."""
    label = _label(bucket)
    state = JobState(PK=keys.job_state_pk(JOB), SK=keys.JOB_STATE_SK, day=label, updated_at=utcnow_iso())
    try:
        state.save(condition=JobState.PK.does_not_exist() | (JobState.day < label))
    except PutError:
        pass


class Runner:
    def __init__(self, as_of: datetime) -> None:
        self.as_of = as_of
        self.env: lead_offers.Env | None = None
        self.did = {"timedOut": 0, "rerouted": 0, "escalated": 0, "skipped": 0}

    def _environment(self) -> lead_offers.Env:
        """Settings + tiers (one BatchGetItem) and the pool (one Query), read once, on the first due offer."""
        if self.env is None:
            from chalicelib.partners import tiers

            found = list(Item.batch_get([(keys.lead_routing_pk(), keys.LEAD_ROUTING_SK),
                                         (keys.partner_tiers_pk(), keys.PARTNER_TIERS_SK)]))
            config = next((i for i in found if isinstance(i, LeadRoutingConfig)), None)
            tier_config = next((i for i in found if isinstance(i, PartnerTierConfig)), None)
            self.env = lead_offers.Env(settings=routing.settings_of(config),
                                       tier_ids=[t["id"] for t in tiers.tiers_of(tier_config)],
                                       cards=lead_cards.pool(), now=self.as_of, actor=ACTOR,
                                       correlation_id=obs.correlation_id())
        return self.env

    def handle(self, offer: LeadOffer) -> None:
        env = self._environment()
        env.now = max(self.as_of, datetime.fromisoformat(offer.expires_at.replace("Z", "+00:00")))
        state = lead_offers.LeadState(offer.lead_id, offer.industry, offer.region, offer.product,
                                      Decimal(offer.deal_size), offer.company_name,
                                      list(offer.offered_before or []), int(offer.attempt))
        previous = lead_offers.Resolution(offer.partner_id, "timedOut", offer.expires_at, "LeadClaimTimedOut")
        try:
            outcome = lead_offers.route(state, "timedOut", env, previous)
        except TxConflict:
            self.did["skipped"] += 1  # claimed, declined or timed out by another run meanwhile
            return
        self.did["timedOut"] += 1
        self.did["escalated" if outcome["status"] == "escalated" else "rerouted"] += 1


def run(as_of: datetime) -> dict[str, Any]:
    as_of = (as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)).astimezone(UTC)
    stamp = iso(as_of)
    buckets, behind = buckets_to_walk(_last_done(), as_of)
    runner = Runner(as_of)
    found = failed = 0
    first_failure: datetime | None = None
    for bucket in buckets:
        for offer in due_in(bucket, stamp):
            found += 1
            try:
                runner.handle(offer)
            except Exception:  # one lead's failure must not stop the others; its bucket is read again
                obs.logger().exception("lead claim timeouts: an offer failed", extra={"lead": offer.lead_id})
                failed += 1
                first_failure = first_failure or bucket
    complete = [b for b in buckets if b + BUCKET <= as_of]  # buckets wholly in the past
    if first_failure is not None:
        complete = [b for b in complete if b < first_failure]
    if complete:
        _mark_done(complete[-1] if not behind else min(complete[-1], buckets[-2]))
    obs.count("LeadOffersTimedOut", runner.did["timedOut"])
    return {"asOf": as_of.isoformat(), "buckets": [_label(buckets[0]), _label(buckets[-1])],
            "bucketsRead": len(buckets), "behindBuckets": behind, "found": found, "failed": failed, **runner.did}
