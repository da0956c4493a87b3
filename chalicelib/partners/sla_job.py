"""The `sla-breaches` job (every 15 minutes): SLA clocks still running past their due time are breached.

Work comes from the due-time index: an open clock's entry sits under the quarter-hour bucket of its due time
(keys.sla_due_gsi1pk(bucket, shard)). A run reads each bucket after the last one finished (a JobState watermark,
as certification.reminders keeps its days) up to the bucket of "as of", one Query per shard, in the last bucket
only the clocks due by then; so the cost follows what is due, never the size of the table (no Scan), and missed
runs are caught up (at most MAX_CATCH_UP_BUCKETS a run; the rest drains in the next runs). A clock stopped in
time deleted its entry, so it is never read. Each breach is ONE transaction: the case's clock pending ->
breached (conditional), the entry deleted, SlaBreached written; a re-run for the same time finds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from pynamodb.exceptions import PutError

from chalicelib import observability as obs
from chalicelib.clock import iso, utcnow_iso
from chalicelib.partners.sla_cases import STATUS, breach_event
from chalicelib.store import keys
from chalicelib.store.models import JobState, SlaDueEntry, SupportCase
from chalicelib.store.tx import Tx, TxConflict

JOB = "sla-breaches"
ACTOR = "system:sla-breaches"
BUCKET = timedelta(minutes=15)
MAX_CATCH_UP_BUCKETS = 4 * 24 * 7  # a week of quarter hours per run


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


def due_in(bucket: datetime, as_of: str) -> Iterator[SlaDueEntry]:
    """The open clocks of one bucket due at or before `as_of`, every shard."""
    for shard in range(keys.SLA_DUE_SHARDS):
        yield from cast(Iterator[SlaDueEntry], SlaDueEntry.gsi1.query(
            keys.sla_due_gsi1pk(_label(bucket), shard), SlaDueEntry.GSI1SK <= keys.sla_due_gsi1sk(as_of)))


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


def breach(entry: SlaDueEntry, correlation_id: str = "") -> bool:
    """Breach one clock: True, or False when it had stopped meanwhile (its stale entry is removed)."""
    at = utcnow_iso()
    case = SupportCase(PK=keys.support_case_pk(entry.tenant_id, entry.case_id), SK=keys.SUPPORT_CASE_SK)
    status = STATUS[entry.clock]
    tx = Tx().update(case, [status.set("breached"), SupportCase.breached.set(True), SupportCase.updated_at.set(at)],
                     status == "pending", "case")
    tx.delete(entry, label="due")
    tx.put(breach_event(entry.case_id, entry.partner_id, entry.tenant_id, entry.clock, entry.due_at, ACTOR,
                        correlation_id))
    try:
        tx.commit()
    except TxConflict:
        entry.delete()
        return False
    return True


def run(as_of: datetime) -> dict[str, Any]:
    as_of = (as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)).astimezone(UTC)
    stamp = iso(as_of)
    buckets, behind = buckets_to_walk(_last_done(), as_of)
    did = {"breached": 0, "stale": 0}
    found = failed = 0
    first_failure: datetime | None = None
    for bucket in buckets:
        for entry in due_in(bucket, stamp):
            found += 1
            try:
                did["breached" if breach(entry, obs.correlation_id()) else "stale"] += 1
            except Exception:  # one case's failure must not stop the others; its bucket is read again
                obs.logger().exception("sla breaches: a clock failed", extra={"case": entry.case_id})
                failed += 1
                first_failure = first_failure or bucket
    complete = [b for b in buckets if b + BUCKET <= as_of]  # buckets wholly in the past
    if first_failure is not None:
        complete = [b for b in complete if b < first_failure]
    if complete:
        _mark_done(complete[-1] if not behind else min(complete[-1], buckets[-2]))
    obs.count("SlaBreaches", did["breached"])
    return {"asOf": as_of.isoformat(), "buckets": [_label(buckets[0]), _label(buckets[-1])],
            "bucketsRead": len(buckets), "behindBuckets": behind, "found": found, "failed": failed, **did}
