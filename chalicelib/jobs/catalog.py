"""The jobs this deployment runs (later capabilities add theirs here)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.jobs import job


@job("rotate-signing-keys", "cron(0 3 1 * ? *)",
     "Monthly: a new JWT signing key signs from now on; the previous one stays published in the JWKS.")
def rotate_signing_keys(as_of: datetime) -> dict[str, Any]:
    from chalicelib.auth import keys

    kid = keys.rotate(min_age=timedelta(days=25), as_of=as_of)
    return {"asOf": as_of.isoformat(), "signingKid": kid, "publishedKids": list(keys.verification_keys())}


@job("certification-reminders", "cron(0 6 * * ? *)",
     "Daily: certificate reminders (90/60/30 days), expiry, recertification enrollment; catches up missed days.")
def certification_reminders(as_of: datetime) -> dict[str, Any]:
    from chalicelib.certification import reminders

    return reminders.run(as_of)


@job("lead-claim-timeouts", "rate(15 minutes)",
     "Every 15 minutes: lead offers not claimed in their window are timed out, re-routed or escalated.")
def lead_claim_timeouts(as_of: datetime) -> dict[str, Any]:
    from chalicelib.partners import lead_job

    return lead_job.run(as_of)


@job("sla-breaches", "rate(15 minutes)",
     "Every 15 minutes: support-case SLA clocks past their due time are breached (SlaBreached, once per clock).")
def sla_breaches(as_of: datetime) -> dict[str, Any]:
    from chalicelib.partners import sla_job

    return sla_job.run(as_of)


@job("scorecards", "cron(0 4 1 1,4,7,10 ? *)",
     "Quarterly (the 1st of Jan/Apr/Jul/Oct): every partner's KPI scorecard of the quarter that just ended.")
def scorecards(as_of: datetime) -> dict[str, Any]:
    from chalicelib.partners import scorecard_job

    return scorecard_job.run(as_of)
