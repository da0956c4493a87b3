"""The `scorecards` job: every partner's scorecard of the quarter before "as of" (docs/partners.md, "Scorecards").

Partners are listed from the partners index (GSI1 on the onboarding plans, keys.partners_gsi1pk: one entry per
partner, never a Scan); per partner one BatchGetItem (tenant, stored scorecard, KPI inputs), the sources' own
queries, and a write only when the figures changed. Re-running it for the same quarter changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib import observability as obs
from chalicelib.clock import iso
from chalicelib.partners import quarters, scorecards
from chalicelib.store import keys
from chalicelib.store.models import Item, KpiInputs, OnboardingPlan, Scorecard, Tenant
from chalicelib.store.tx import TxConflict


def quarter_for(as_of: datetime) -> str:
    """The quarter a run as of `as_of` computes: the last one that ended (the run on 1 April computes Q1)."""
    return quarters.preceding(quarters.of(as_of))


def run(as_of: datetime, sources: scorecards.Sources | None = None) -> dict[str, Any]:
    quarter = quarter_for(as_of)
    closes = iso(quarters.end(quarter))
    shared = scorecards.setting(sources)
    tally = {"partners": 0, "written": 0, "unchanged": 0, "skipped": 0, "conflicts": 0, "failed": 0}
    for plan in OnboardingPlan.gsi1.query(keys.partners_gsi1pk()):
        if not isinstance(plan, OnboardingPlan):
            continue
        tally["partners"] += 1
        pid = plan.partner_id
        found = list(Item.batch_get([(keys.tenant_pk(pid), keys.TENANT_SK),
                                     (keys.scorecards_pk(pid), keys.scorecard_sk(quarter)),
                                     (keys.scorecards_pk(pid), keys.kpi_inputs_sk(quarter))]))
        tenant = next((i for i in found if isinstance(i, Tenant)), None)
        if tenant is None or tenant.status == "retired" or plan.joined_at >= closes:
            tally["skipped"] += 1  # gone, or joined after the quarter closed: nothing to score
            continue
        previous = next((i for i in found if isinstance(i, Scorecard)), None)
        inputs = next((i for i in found if isinstance(i, KpiInputs)), None)
        try:
            _, written = scorecards.compute_and_store(tenant, quarter, shared, previous, inputs, plan)
        except TxConflict:  # computed on demand meanwhile: that card stands
            tally["conflicts"] += 1
            continue
        except Exception:  # one partner's failure must not stop the others; a re-run computes it (idempotent)
            obs.logger().exception("scorecards: a partner failed", extra={"partner": pid, "quarter": quarter})
            tally["failed"] += 1
            continue
        tally["written" if written else "unchanged"] += 1
    return {"asOf": as_of.isoformat(), "quarter": quarter, **tally}
