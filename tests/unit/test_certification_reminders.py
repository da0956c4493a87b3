"""The daily certification-reminders job on moto: 90/60/30 reminders by SES once each, expiry, recertification,
catch-up of missed days, and a cost that follows what is due, not the size of the table."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from chalicelib.certification import due
from chalicelib.clock import new_id
from chalicelib.errors import NotFound
from chalicelib.store import keys
from chalicelib.store.models import Certificate, CertificationProgram, Event, Item, JobState, User
from tests.unit.course_helpers import add_version

EXPIRES = "2027-03-01"
DAY_90, DAY_60, DAY_30 = "2026-12-01", "2026-12-31", "2027-01-30"


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=6, tzinfo=UTC)


def run(day: str) -> dict[str, Any]:
    from chalicelib.certification import reminders

    return reminders.run(at(day))


def sent_to(address: str) -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [m for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
            if address in m.destinations.get("ToAddresses", [])]


def events(tenant_id: str, kind: str) -> list[Event]:
    found = []
    for shard in range(keys.EVENT_SHARDS):
        found += [e for e in Item.query(keys.event_pk(tenant_id, shard)) if isinstance(e, Event)
                  and e.event_type == kind]
    return found


def load(cert: Certificate) -> Certificate:
    return Certificate.get(cert.PK, cert.SK, consistent_read=True)


@pytest.fixture()
def world(api: Any) -> dict[str, Any]:
    """A branded tenant, a learner, a program whose recertification course the learner completed before."""
    t = api.make_tenant(name="Northwind Sales", branding={"primaryColor": "#123456", "accentColor": "#abcdef"})["id"]
    admin = api.tenant_admin(t)
    learner = api.make_user(t, displayName="Zoë Ångström", email="zoe@northwind.example")
    courses = []
    for title in ("Product Demo", "Product Demo Refresher"):
        course = api.json(api.call("POST", f"/v1/tenants/{t}/courses", admin, {"title": title}))
        n = add_version(t, course["id"])
        api.call("POST", f"/v1/tenants/{t}/courses/{course['id']}/versions/{n}/publish", admin)
        courses.append(course["id"])
    resp = api.call("POST", f"/v1/tenants/{t}/certifications", admin, {
        "name": "Certified Demo Pro", "requirements": [{"kind": "course", "courseId": courses[0]}],
        "validityDays": 365, "recertification": {"courseId": courses[1]}})
    assert resp.status_code == 201, resp.body
    program = api.json(resp)
    first = api.call("POST", f"/v1/tenants/{t}/enrollments", admin, {"userId": learner["id"], "courseId": courses[1]})
    assert first.status_code == 201, first.body  # holds the one-per-course claim: recertification is a new cycle
    return {"t": t, "admin": admin, "learner": learner, "program": program, "courses": courses,
            "first_enrollment": api.json(first)["id"]}


def make_cert(w: dict[str, Any], *, user_id: str | None = None, expires: str = EXPIRES, issued: str = "2026-03-01",
              offsets: tuple[int, ...] = (90, 60, 30), count: bool = True) -> Certificate:
    """A certificate as the issuing side writes it (CERTS.md): reminders_due, next_due and GSI2 via due.py."""
    cid = new_id("ce")
    cert = Certificate(PK=keys.certificate_pk(w["t"], cid), SK=keys.CERTIFICATE_SK, id=cid, tenant_id=w["t"],
                       user_id=user_id or w["learner"]["id"], learner_name="Zoë Ångström",
                       program_id=w["program"]["id"], program_name=w["program"]["name"], cycle=1, status="active",
                       issued_at=f"{issued}T09:00:00.000Z", expires_at=expires,
                       reminders_due=due.reminder_days(issued, expires, offsets))
    due.set_next_due(cert)
    cert.save()
    if count:
        program = CertificationProgram.get(keys.cert_program_pk(w["t"], w["program"]["id"]), keys.CERT_PROGRAM_SK)
        program.update(actions=[CertificationProgram.counts["active"].add(1)])
    return cert


def counts(w: dict[str, Any]) -> dict[str, int]:
    from chalicelib.store.models import plain

    program = CertificationProgram.get(keys.cert_program_pk(w["t"], w["program"]["id"]), keys.CERT_PROGRAM_SK)
    return {k: v for k, v in plain(program.counts).items() if v}


def test_three_reminders_once_each_then_expiry_and_a_recertification_enrollment(
        api: Any, world: dict[str, Any]) -> None:
    from chalicelib.enrollment.service import existing

    w, cert = world, make_cert(world)
    assert cert.reminders_due == [DAY_90, DAY_60, DAY_30] and cert.next_due == DAY_90
    assert run("2026-11-30")["found"] == 0  # nothing due the day before
    for day, days_left in ((DAY_90, 90), (DAY_60, 60), (DAY_30, 30)):
        first, again = run(day), run(day)
        assert first["reminders"] == 1 and first["emails"] == 1, first
        assert again["found"] == 0 and "emails" not in again, again  # the re-run finds nothing: moved on
        mails = sent_to("zoe@northwind.example")
        assert f"({days_left} days from now)" in mails[-1].body and EXPIRES in mails[-1].subject
    assert len(sent_to("zoe@northwind.example")) == 3
    after = load(cert)
    assert after.status == "expiring" and after.reminders_due == [] and after.next_due == EXPIRES
    assert [(e["days"], e["day"]) for e in after.reminders_sent] == [(90, DAY_90), (60, DAY_60), (30, DAY_30)]
    assert all(e["sentAt"] for e in after.reminders_sent)
    assert after.GSI2PK == keys.cert_due_gsi2pk(EXPIRES, due.shard(cert.id))

    expired, again = run(EXPIRES), run(EXPIRES)
    assert expired["recertifying"] == 1 and again["found"] == 0
    final = load(cert)
    assert final.status == "recertifying" and final.next_due is None and final.GSI2PK is None
    assert len(sent_to("zoe@northwind.example")) == 3  # no email on expiry
    enrollment = existing(w["t"], w["learner"]["id"], w["courses"][1], cycle=2)
    assert enrollment.source == "recertification" and enrollment.status == "enrolled"
    assert enrollment.id != w["first_enrollment"] and int(enrollment.cycle) == 2
    assert existing(w["t"], w["learner"]["id"], w["courses"][1]).id == w["first_enrollment"]
    assert len(events(w["t"], "CertificationExpiring")) == 3
    (gone,) = events(w["t"], "CertificationExpired")
    (started,) = events(w["t"], "RecertificationStarted")
    assert gone.detail["certificate"]["id"] == cert.id and gone.detail["expiredOn"] == EXPIRES
    assert started.detail["enrollmentIds"] == [enrollment.id] and started.detail["cycle"] == 2
    assert started.detail["courseId"] == w["courses"][1] and started.actor == "system:certification"
    assert counts(w) == {"recertifying": 1}
    withdrawn = api.call("DELETE", f"/v1/tenants/{w['t']}/enrollments/{enrollment.id}", w["admin"])
    assert withdrawn.status_code == 204, withdrawn.body  # the cycle's own claim is released
    with pytest.raises(NotFound):
        existing(w["t"], w["learner"]["id"], w["courses"][1], cycle=2)


def test_the_email_is_branded_plain_text_and_html_and_escapes_names(world: dict[str, Any]) -> None:
    from chalicelib.certification import mail
    from chalicelib.tenancy.service import load_tenant

    m = mail.expiring(to="a@b.example", tenant=load_tenant(world["t"]), learner="<b>Zoë</b>", program="Demo Pro",
                      certificate_id="ce-1", expires_on=EXPIRES, today=date(2027, 1, 30),
                      renew_url=mail.renew_url(world["t"], world["courses"][1], None), recertification="Refresher")
    assert "Northwind Sales" in m.html and "#123456" in m.html and "#abcdef" in m.html
    assert "&lt;b&gt;Zoë&lt;/b&gt;" in m.html and "<b>Zoë</b>" in m.text  # HTML escaped, text as is
    assert "30 days from now" in m.text and EXPIRES in m.text and "Refresher" in m.text
    assert f"/v1/tenants/{world['t']}/courses/{world['courses'][1]}" in m.text
    assert m.subject == f"Demo Pro: your certification expires on {EXPIRES}"


def test_a_missed_day_is_caught_up_and_old_reminders_are_not_sent_all_at_once(world: dict[str, Any]) -> None:
    from chalicelib.certification import reminders
    from tests.unit.callcount import counting

    cert = make_cert(world)
    run("2026-11-25")  # the job's last day
    with counting() as calls:
        result = run("2026-12-03")  # it did not run on the 1st (the 90-day reminder) nor on the 2nd
    assert result["daysWalked"] == 8 and result["reminders"] == 1 and result["emails"] == 1
    assert calls.dynamodb["Query"] == 8 * keys.CERT_DUE_SHARDS and "Scan" not in calls.dynamodb
    assert JobState.get(keys.job_state_pk(reminders.JOB), keys.JOB_STATE_SK).day == "2026-12-03"
    # a long outage: the 60- and 30-day reminders were both missed: one email (the latest), both recorded;
    # the run walks the oldest 31 missed days and today, the next runs the rest
    result = run("2027-02-05")
    assert result["daysWalked"] == reminders.MAX_CATCH_UP_DAYS + 1 and result["emails"] == 1
    assert result["behindDays"] == 32  # 2027-01-04 .. 2027-02-04
    after = load(cert)
    assert [(e["days"], e.get("superseded", False)) for e in after.reminders_sent] == [
        (90, False), (60, True), (30, False)]
    assert len(sent_to("zoe@northwind.example")) == 2
    assert len(events(world["t"], "CertificationExpiring")) == 2
    assert JobState.get(keys.job_state_pk(reminders.JOB), keys.JOB_STATE_SK).day == "2027-01-03"
    again = run("2027-02-05")  # the rest of the backlog: 2027-01-04 .. 2027-02-03, and today
    assert again["behindDays"] == 1 and again["daysWalked"] == reminders.MAX_CATCH_UP_DAYS + 1
    assert (last := run("2027-02-05"))["behindDays"] == 0 and last["daysWalked"] == 2 and last["found"] == 0
    run("2026-12-01")  # an earlier "as of" walks that day alone and leaves the state where it was
    assert JobState.get(keys.job_state_pk(reminders.JOB), keys.JOB_STATE_SK).day == "2027-02-05"


def test_a_refused_email_is_retried_the_next_day_and_a_user_without_email_is_recorded(
        api: Any, world: dict[str, Any]) -> None:
    from chalicelib import aws
    from chalicelib.config import settings

    cert = make_cert(world)
    quiet_user = api.make_user(world["t"], displayName="No Mail")
    User.get(keys.user_pk(world["t"], quiet_user["id"]), keys.USER_SK).update(actions=[User.email.remove()])
    silent = make_cert(world, user_id=quiet_user["id"])
    aws.client("sesv2").delete_email_identity(EmailIdentity=settings().sender_email)  # SES refuses to send
    result = run(DAY_90)
    assert result["reminders"] == 2 and result["emailFailures"] == 1 and "emails" not in result
    (entry,) = load(cert).reminders_sent
    assert entry["error"] == "MessageRejected" and entry["retryOn"] == "2026-12-02" and "sentAt" not in entry
    assert load(cert).next_due == "2026-12-02"
    (skipped,) = load(silent).reminders_sent
    assert skipped["skipped"] and skipped["days"] == 90 and load(silent).status == "expiring"

    aws.client("sesv2").create_email_identity(EmailIdentity=settings().sender_email)
    result = run("2026-12-02")
    assert result["emails"] == 1 and result["retries"] == 1 and "reminders" not in result  # no second event
    (entry,) = load(cert).reminders_sent
    assert entry["attempts"] == 2 and entry["sentAt"] and "error" not in entry and "retryOn" not in entry
    assert load(cert).next_due == DAY_60
    assert len(sent_to("zoe@northwind.example")) == 1 and len(events(world["t"], "CertificationExpiring")) == 2


def test_grace_days_postpone_expiry_and_no_recertification_training_leaves_it_expired(
        api: Any, world: dict[str, Any]) -> None:
    resp = api.call("POST", f"/v1/tenants/{world['t']}/certifications", world["admin"], {
        "name": "Safety", "requirements": [{"kind": "course", "courseId": world["courses"][0]}],
        "validityDays": 365, "graceDays": 10})
    assert resp.status_code == 201, resp.body
    cert = make_cert({**world, "program": api.json(resp)}, offsets=())
    assert cert.next_due == EXPIRES
    assert run(EXPIRES)["reindexed"] == 1
    assert load(cert).status == "active" and load(cert).next_due == "2027-03-11"
    assert run("2027-03-11")["expired"] == 1
    assert load(cert).status == "expired" and load(cert).GSI2PK is None
    assert len(events(world["t"], "CertificationExpired")) == 1 and not events(world["t"], "RecertificationStarted")


def _bulk(w: dict[str, Any], n: int, first_expiry: date) -> None:
    """`n` certificates of other learners, due on days far from the measured ones (written directly)."""
    with Certificate.batch_write() as batch:
        for i in range(n):
            expires = (first_expiry + timedelta(days=i % 300)).isoformat()
            cid = new_id("ce")
            cert = Certificate(PK=keys.certificate_pk(w["t"], cid), SK=keys.CERTIFICATE_SK, id=cid, tenant_id=w["t"],
                               user_id=f"us-other-{i}", learner_name=f"Rep {i}", program_id=w["program"]["id"],
                               program_name="Certified Demo Pro", cycle=1, status="active",
                               issued_at="2028-01-01T00:00:00.000Z", expires_at=expires,
                               reminders_due=due.reminder_days("2028-01-01", expires, (90, 60, 30)))
            due.set_next_due(cert)
            batch.save(cert)


def test_the_job_costs_what_is_due_not_the_size_of_the_table(world: dict[str, Any]) -> None:
    from chalicelib.certification import reminders
    from tests.unit.callcount import counting

    costs, written = [], 0
    for total, day in ((50, DAY_90), (2000, "2026-12-11")):
        _bulk(world, total - written, date(2029, 1, 1))
        written = total
        expires = (date.fromisoformat(day) + timedelta(days=90)).isoformat()
        for _ in range(5):
            make_cert(world, expires=expires, count=False)
        JobState(PK=keys.job_state_pk(reminders.JOB), SK=keys.JOB_STATE_SK).delete()
        with counting() as calls:
            result = run(day)
        assert result["emails"] == 5, result
        costs.append(dict(calls.dynamodb))
    assert costs[0] == costs[1] and "Scan" not in costs[0], costs
    assert costs[0]["Query"] == keys.CERT_DUE_SHARDS


def test_onramp_jobs_run_runs_the_job_as_of_a_date(world: dict[str, Any], capsys: Any) -> None:
    from chalicelib import cli

    make_cert(world)
    assert cli.main(["jobs", "list"]) == 0
    assert "certification-reminders" in capsys.readouterr().out
    assert cli.main(["--aws-env", "jobs", "run", "certification-reminders", "--as-of", DAY_90]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["asOf"] == f"{DAY_90}T00:00:00+00:00" and result["emails"] == 1
    assert len(sent_to("zoe@northwind.example")) == 1


def test_a_run_that_read_the_index_before_another_run_moved_the_certificate_sends_nothing(
        world: dict[str, Any]) -> None:
    from chalicelib.certification.lifecycle import Lifecycle

    stale = make_cert(world)  # as a concurrent run read it from the index, before this run handled it
    assert run(DAY_90)["emails"] == 1
    late = Lifecycle(date.fromisoformat(DAY_90))
    late.handle(stale)
    assert late.did == {"conflicts": 1}  # its condition failed; the fresh item has nothing due today
    assert len(sent_to("zoe@northwind.example")) == 1 and len(events(world["t"], "CertificationExpiring")) == 1
    assert load(stale).next_due == DAY_60 and int(load(stale).version) == 2
