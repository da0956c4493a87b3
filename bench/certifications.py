"""Certification figures for `make bench`: the DynamoDB requests of the daily certification-reminders job with
1,000 and with 100,000 certificates in the table and the same certificates due (goal: a ratio of 1.0), and the
median time to render a certificate PDF (after the first render, which pays for importing fpdf2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.inprocess import Say, flat_ratio, ops, quiet, stack

DUE = 20
DAYS = ("2026-12-01", "2026-12-11")  # the measured days; the other certificates fall due from 2029 on


def _world(api: Any) -> dict[str, Any]:
    from tests.unit.course_helpers import published_course

    tenant = api.make_tenant()["id"]
    admin = api.tenant_admin(tenant)
    learner = api.make_user(tenant, displayName="Bench Learner")
    courses = [published_course(api, tenant, admin, title) for title in ("Certified Course", "Recertification")]
    resp = api.call("POST", f"/v1/tenants/{tenant}/certifications", admin, {
        "name": "Bench Certification", "requirements": [{"kind": "course", "courseId": courses[0]}],
        "validityDays": 365, "recertification": {"courseId": courses[1]}})
    assert resp.status_code == 201, resp.body
    return {"t": tenant, "learner": learner["id"], "program": api.json(resp)}


def _certificates(w: dict[str, Any], n: int, expires_from: date, *, spread: int, user: str | None = None) -> None:
    """`n` certificates as the issuing side writes them (due-date index via due.py), written directly."""
    from chalicelib.certification import due
    from chalicelib.clock import new_id
    from chalicelib.store import keys
    from chalicelib.store.models import Certificate

    with Certificate.batch_write() as batch:
        for i in range(n):
            expires = (expires_from + timedelta(days=i % spread)).isoformat()
            issued = (expires_from - timedelta(days=365)).isoformat()
            cid = new_id("ce")
            cert = Certificate(PK=keys.certificate_pk(w["t"], cid), SK=keys.CERTIFICATE_SK, id=cid, tenant_id=w["t"],
                               user_id=user or f"us-bench-{i:06d}", learner_name=f"Rep {i}",
                               program_id=w["program"]["id"], program_name=w["program"]["name"], cycle=1,
                               status="active", issued_at=f"{issued}T00:00:00.000Z", expires_at=expires,
                               reminders_due=due.reminder_days(issued, expires, (90, 60, 30)))
            due.set_next_due(cert)
            batch.save(cert)


def _run_counted(w: dict[str, Any], day: str) -> dict[str, Any]:
    from chalicelib.certification import reminders
    from chalicelib.store import keys
    from chalicelib.store.models import JobState
    from tests.unit.callcount import counting

    _certificates(w, DUE, date.fromisoformat(day) + timedelta(days=90), spread=1, user=w["learner"])
    JobState(PK=keys.job_state_pk(reminders.JOB), SK=keys.JOB_STATE_SK).delete()  # walk the measured day alone
    with counting() as calls:
        result = reminders.run(datetime.fromisoformat(day).replace(hour=6, tzinfo=UTC))
    assert result["emails"] == DUE, result
    return {"calls": dict(sorted(calls.dynamodb.items())), "requests": sum(calls.dynamodb.values()),
            "ses": dict(calls.of("sesv2"))}


def pdf_render_ms(samples: int = 20) -> dict[str, float]:
    """The first render (imports fpdf2 and segno, parses the fonts) and the median of `samples` more."""
    import statistics
    import time

    from chalicelib.certification import pdf

    cert = {"id": "ce-bench", "learnerName": "Zoë Łukasiewicz-Ñúñez", "programName": "Certified Closer",
            "issuedAt": "2026-11-23T10:00:00Z", "expiresAt": "2027-11-23", "status": "active", "cycle": 1,
            "completed": [{"title": "Closing Techniques", "version": 3}]}
    brand = {"displayName": "Acme Sales", "primaryColor": "#5b21b6", "accentColor": "#16a34a"}
    started = time.perf_counter()
    pdf.render(cert, brand, "https://example.test/verify/ce-bench")
    first = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        pdf.render(cert, brand, "https://example.test/verify/ce-bench")
        times.append((time.perf_counter() - started) * 1000)
    return {"first_ms": round(first, 1), "median_ms": round(statistics.median(times), 1), "samples": samples}


def measure(say: Say, sizes: tuple[int, ...] = (1000, 100_000)) -> dict[str, Any]:
    out: dict[str, Any] = {"due": DUE, "reminder_job": [], "pdf_render": pdf_render_ms()}
    with stack() as api, quiet():
        w = _world(api)
        written = 0
        for total, day in zip(sizes, DAYS, strict=True):
            _certificates(w, total - written, date(2029, 1, 1), spread=700)  # due on other days
            written = total
            out["reminder_job"].append({"certificates": total, **_run_counted(w, day)})
            say(f"    reminder job measured at {total:,} certificates")
    return out


def report(say: Say, result: dict[str, Any]) -> None:
    say(f"\n{'certifications':50} DynamoDB calls")
    render = result["pdf_render"]
    say(f"{'certificate PDF render':50} median {render['median_ms']} ms of {render['samples']} "
        f"(first in a process {render['first_ms']} ms)")
    rows = result["reminder_job"]
    for row in rows:
        label = f"reminder job, {row['certificates']:,} other certificates, {result['due']} due"
        say(f"{label:50} {row['requests']} requests: {ops(row['calls'])}; SES {ops(row['ses'])}")
    flat_ratio(say, result, rows, "reminder job", "certificates")
