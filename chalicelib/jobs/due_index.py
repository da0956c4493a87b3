"""Quarter-hour due-time buckets walked from a watermark: the shape shared by the jobs whose work sits in a
due-time index (lead-claim-timeouts, sla-breaches).

An item that falls due at T is indexed under the bucket of T (`bucket_of`, `YYYY-MM-DDTHH:MM`, a quarter hour)
and a shard. A run reads each bucket after the last one finished (a JobState item per job) up to the bucket of
"as of", in the last bucket only what is due by then; so its cost follows what is due, never the size of the
table (no Scan), and missed runs are caught up (at most `max_catch_up` buckets a run, plus the current one; the
rest drains in the next runs). A failing item does not stop the others, and its bucket is read again next run.
The handlers are conditional writes, so a re-run for the same time (or two overlapping runs) changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pynamodb.exceptions import PutError

from chalicelib import observability as obs
from chalicelib.clock import iso, utcnow_iso
from chalicelib.store import keys
from chalicelib.store.models import JobState

BUCKET = timedelta(minutes=15)
T = TypeVar("T")


def bucket_of(stamp: str) -> str:
    """The quarter-hour bucket of an ISO stamp: `2026-12-01T10:37:12.000Z` -> `2026-12-01T10:30`."""
    return f"{stamp[:14]}{int(stamp[14:16]) // 15 * 15:02d}"


def bucket_start(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute // 15 * 15, second=0, microsecond=0)


def label(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def buckets_to_walk(last_done: str | None, as_of: datetime, max_catch_up: int) -> tuple[list[datetime], int]:
    """(the buckets this run reads, oldest first; the buckets left behind for the next runs)."""
    current = bucket_start(as_of)
    if last_done is None:
        return [current - BUCKET, current], 0
    first = datetime.fromisoformat(last_done).replace(tzinfo=UTC) + BUCKET
    if first > current:
        return [current], 0
    count = int((current - first) / BUCKET) + 1
    walked = [first + BUCKET * n for n in range(min(count, max_catch_up))]
    behind = count - len(walked)
    return (walked + [current] if behind else walked), behind


def last_done(job: str) -> str | None:
    try:
        return str(JobState.get(keys.job_state_pk(job), keys.JOB_STATE_SK).day)
    except JobState.DoesNotExist:
        return None


def mark_done(job: str, bucket: datetime) -> None:
    """Move the job's watermark forward to `bucket` (never back)."""
    done = label(bucket)
    state = JobState(PK=keys.job_state_pk(job), SK=keys.JOB_STATE_SK, day=done, updated_at=utcnow_iso())
    try:
        state.save(condition=JobState.PK.does_not_exist() | (JobState.day < done))
    except PutError:
        pass


def walk(job: str, as_of: datetime, max_catch_up: int, due_in: Callable[[str, str], Iterator[T]],
         handle: Callable[[T], None], describe: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    """Hand every item due by `as_of` to `handle`: `due_in(bucket label, as-of stamp)` yields a bucket's items
    due by then (every shard). Returns the run's figures; the caller adds its own counts."""
    as_of = (as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)).astimezone(UTC)
    stamp = iso(as_of)
    buckets, behind = buckets_to_walk(last_done(job), as_of, max_catch_up)
    found = failed = 0
    first_failure: datetime | None = None
    for bucket in buckets:
        for item in due_in(label(bucket), stamp):
            found += 1
            try:
                handle(item)
            except Exception:  # one item's failure must not stop the others; its bucket is read again
                obs.logger().exception(f"{job}: an item failed", extra=describe(item))
                failed += 1
                first_failure = first_failure or bucket
    complete = [b for b in buckets if b + BUCKET <= as_of]  # buckets wholly in the past
    if first_failure is not None:
        complete = [b for b in complete if b < first_failure]
    if complete:
        mark_done(job, complete[-1] if not behind else min(complete[-1], buckets[-2]))
    return {"asOf": as_of.isoformat(), "buckets": [label(buckets[0]), label(buckets[-1])],
            "bucketsRead": len(buckets), "behindBuckets": behind, "found": found, "failed": failed}
