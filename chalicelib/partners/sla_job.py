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
from datetime import datetime
from typing import Any, cast

from chalicelib import observability as obs
from chalicelib.clock import utcnow_iso
from chalicelib.jobs import due_index
from chalicelib.partners.sla_cases import STATUS, breach_event
from chalicelib.store import keys
from chalicelib.store.models import SlaDueEntry, SupportCase
from chalicelib.store.tx import Tx, TxConflict

JOB = "sla-breaches"
ACTOR = "system:sla-breaches"
MAX_CATCH_UP_BUCKETS = 4 * 24 * 7  # a week of quarter hours per run


def due_in(bucket: str, as_of: str) -> Iterator[SlaDueEntry]:
    """The open clocks of one bucket due at or before `as_of`, every shard."""
    for shard in range(keys.SLA_DUE_SHARDS):
        yield from cast(Iterator[SlaDueEntry], SlaDueEntry.gsi1.query(
            keys.sla_due_gsi1pk(bucket, shard), SlaDueEntry.GSI1SK <= keys.sla_due_gsi1sk(as_of)))


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
    did = {"breached": 0, "stale": 0}

    def handle(entry: SlaDueEntry) -> None:
        did["breached" if breach(entry, obs.correlation_id()) else "stale"] += 1

    result = due_index.walk(JOB, as_of, MAX_CATCH_UP_BUCKETS, due_in, handle, lambda entry: {"case": entry.case_id})
    obs.count("SlaBreaches", did["breached"])
    return {**result, **did}
