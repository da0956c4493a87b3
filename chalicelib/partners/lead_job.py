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
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from chalicelib import observability as obs
from chalicelib.jobs import due_index
from chalicelib.partners import lead_cards, lead_offers, routing
from chalicelib.store import keys
from chalicelib.store.models import Item, LeadOffer, LeadRoutingConfig, PartnerTierConfig
from chalicelib.store.tx import TxConflict

JOB = "lead-claim-timeouts"
ACTOR = "system:lead-claim-timeouts"
MAX_CATCH_UP_BUCKETS = 4 * 48  # two days of quarter hours per run (the longest claim window)


def due_in(bucket: str, as_of: str) -> Iterator[LeadOffer]:
    """Outstanding offers of one bucket that expired at or before `as_of`, every shard."""
    for shard in range(keys.LEAD_DUE_SHARDS):
        yield from cast(Iterator[LeadOffer], LeadOffer.gsi2.query(
            keys.lead_due_gsi2pk(bucket, shard), LeadOffer.GSI2SK <= keys.lead_due_gsi2sk(as_of)))


class Runner:
    def __init__(self, as_of: datetime) -> None:
        self.as_of = (as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)).astimezone(UTC)
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
    runner = Runner(as_of)
    result = due_index.walk(JOB, as_of, MAX_CATCH_UP_BUCKETS, due_in, runner.handle,
                            lambda offer: {"lead": offer.lead_id})
    obs.count("LeadOffersTimedOut", runner.did["timedOut"])
    return {**result, **runner.did}
