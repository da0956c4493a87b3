"""The daily `certification-reminders` job: reminders before expiry, expiry, recertification.

Work comes from the due-date index (chalicelib/certification/due.py): for each day walked, one Query per
shard of `keys.cert_due_gsi2pk(day, shard)` and its pages, so the cost follows what is due, never the size
of the table (no Scan). Missed days: a `JobState` item keeps the last day finished; a run walks the days
after it, oldest first, at most MAX_CATCH_UP_DAYS of them (16 Queries each) plus "as of" itself, so days
the job did not run are caught up (a longer outage drains over the next runs, and today is never late).
The state only moves forward, and only past days whose certificates were all handled: a crash or a failure
makes the next run walk those days again (the certificates already handled have left them). Re-running a
day (or an earlier "as of") walks that one day. What each certificate gets: certification/lifecycle.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from pynamodb.exceptions import PutError

from chalicelib import observability as obs
from chalicelib.certification.lifecycle import Lifecycle
from chalicelib.clock import utcnow_iso
from chalicelib.store import keys
from chalicelib.store.models import Certificate, JobState

JOB = "certification-reminders"
MAX_CATCH_UP_DAYS = 31


def days_to_walk(last_done: str | None, today: date) -> tuple[list[date], int]:
    """(the days this run walks, the missed days left for the next runs)."""
    if last_done is None or date.fromisoformat(last_done) >= today:
        return [today], 0
    first = date.fromisoformat(last_done) + timedelta(days=1)
    last = min(today, first + timedelta(days=MAX_CATCH_UP_DAYS - 1))
    window = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    behind = (today - last).days - 1 if last < today else 0
    return (window + [today] if last < today else window), behind


def due_on(day: date) -> Iterator[Certificate]:
    """The certificates with something due on `day`, every shard (pynamodb follows the pages)."""
    for shard in range(keys.CERT_DUE_SHARDS):
        yield from cast(Iterator[Certificate], Certificate.gsi2.query(keys.cert_due_gsi2pk(day.isoformat(), shard)))


def _last_done() -> str | None:
    try:
        return str(JobState.get(keys.job_state_pk(JOB), keys.JOB_STATE_SK).day)
    except JobState.DoesNotExist:
        return None


def _mark_done(day: date) -> None:
    """Move the state forward to `day` (never back: a run as of an earlier day leaves it)."""
    state = JobState(PK=keys.job_state_pk(JOB), SK=keys.JOB_STATE_SK, day=day.isoformat(), updated_at=utcnow_iso())
    try:
        state.save(condition=JobState.PK.does_not_exist() | (JobState.day < day.isoformat()))
    except PutError:
        pass  # already there or further


def run(as_of: datetime) -> dict[str, Any]:
    today = (as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)).astimezone(UTC).date()
    days, behind = days_to_walk(_last_done(), today)
    if behind:
        obs.logger().warning("certification reminders: catching up, days left for the next runs",
                             extra={"behind_days": behind, "first_walked": days[0].isoformat()})
    handler = Lifecycle(today)
    found = failed = 0
    first_failure: date | None = None
    for day in days:
        for cert in due_on(day):
            found += 1
            try:
                handler.handle(cert)
            except Exception:  # one certificate's failure must not stop the others; its day is walked again
                obs.logger().exception("certification reminders: a certificate failed",
                                       extra={"certificate": cert.id, "day": day.isoformat()})
                failed += 1
                first_failure = first_failure or day
    window_end = days[-2] if behind else days[-1]  # with a backlog, the next run goes on after the window
    if first_failure is None:
        _mark_done(window_end)
    elif first_failure > days[0]:
        _mark_done(min(window_end, first_failure - timedelta(days=1)))
    obs.count("CertificationDueFound", found)
    return {"asOf": as_of.isoformat(), "days": [days[0].isoformat(), days[-1].isoformat()], "daysWalked": len(days),
            "behindDays": behind, "found": found, "failed": failed,
            **{k: int(v) for k, v in sorted(handler.did.items())}}
