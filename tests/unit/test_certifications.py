"""Certifications end to end over the real app: programs, issue-once on completion, revoke, exports."""

from __future__ import annotations

import csv
import io
import json
import threading
from typing import Any

import pytest

from tests.unit.course_helpers import Stream, add_version
from tests.unit.test_paths import _complete


@pytest.fixture()
def world(api):
    t = api.make_tenant()["id"]
    admin = api.tenant_admin(t)
    manager, manager_token = api.user_token(t, ["manager"])
    learner, token = api.user_token(t, ["learner"], managerId=manager["id"])
    other, other_token = api.user_token(t, ["learner"])
    ids = []
    for title in ("Product Demo", "Compliance"):
        course = api.json(api.call("POST", f"/v1/tenants/{t}/courses", admin, {"title": title}))
        n = add_version(t, course["id"])
        api.call("POST", f"/v1/tenants/{t}/courses/{course['id']}/versions/{n}/publish", admin)
        ids.append(course["id"])
    return {"t": t, "admin": admin, "learner": learner, "token": token, "manager": manager,
            "manager_token": manager_token, "other": other, "other_token": other_token, "courses": ids}


def _program(api, w, **overrides):
    body = {"name": "Certified Demo Pro", "requirements": [{"kind": "course", "courseId": w["courses"][0],
                                                             "minScore": 80}],
            "validityDays": 365, "recertification": {"courseId": w["courses"][1]}, **overrides}
    resp = api.call("POST", f"/v1/tenants/{w['t']}/certifications", w["admin"], body)
    assert resp.status_code == 201, resp.body
    return api.json(resp)


def _enroll(api, w, user_id, course_id):
    resp = api.call("POST", f"/v1/tenants/{w['t']}/enrollments", w["admin"], {"userId": user_id, "courseId": course_id})
    assert resp.status_code in (200, 201), resp.body
    return api.json(resp)


def _certificates(api, w, user_id, token=None):
    resp = api.call("GET", f"/v1/tenants/{w['t']}/users/{user_id}/certificates", token or w["admin"])
    assert resp.status_code == 200, resp.body
    return api.json(resp)["items"]


def _issued(api, w):
    """The learner completes the program's course through the player; the stream issues the certificate."""
    program = _program(api, w)
    enrollment = _enroll(api, w, w["learner"]["id"], w["courses"][0])
    _complete(api, w, enrollment["id"])
    stream = Stream(api)
    stream.drain()
    stream.drain()
    return program, stream


def test_completing_the_required_course_issues_one_certificate_with_version_and_score(api, world):
    got: list[Any] = []
    from chalicelib.events import consumer

    consumer._HANDLERS["CertificationIssued"].append(got.append)
    try:
        program, stream = _issued(api, world)
        stream.drain()
    finally:
        consumer._HANDLERS["CertificationIssued"].remove(got.append)
    certs = _certificates(api, world, world["learner"]["id"])
    assert len(certs) == 1 and len(got) == 1
    cert = certs[0]
    assert cert["status"] == "active" and cert["cycle"] == 1 and cert["certificationId"] == program["id"]
    assert cert["completed"][0]["courseId"] == world["courses"][0]
    assert cert["completed"][0]["version"] == 1 and cert["completed"][0]["score"] == 95.0
    assert cert["score"] == 95.0 and cert["learnerName"] == world["learner"]["displayName"]
    assert cert["expiresAt"] > cert["issuedAt"][:10]
    # reminders 90/60/30 days before expiry (the tenant's defaults), the earliest is the next thing due
    assert len(cert["remindersDue"]) == 3 and cert["nextDue"] == cert["remindersDue"][0]
    shown = api.json(api.call("GET", f"/v1/tenants/{world['t']}/certifications/{program['id']}", world["admin"]))
    assert shown["counts"]["active"] == 1
    # the learner and their manager read it; another learner gets a 404
    url = f"/v1/tenants/{world['t']}/certificates/{cert['id']}"
    assert api.call("GET", url, world["token"]).status_code == 200
    assert api.call("GET", url, world["manager_token"]).status_code == 200
    assert api.call("GET", url, world["other_token"]).status_code == 404
    assert _certificates(api, world, world["learner"]["id"], world["token"])[0]["id"] == cert["id"]
    assert api.call("GET", f"/v1/tenants/{world['t']}/users/{world['learner']['id']}/certificates",
                    world["other_token"]).status_code == 404
    # the due-date index entry the reminders job reads
    from chalicelib.certification import due
    from chalicelib.store import keys
    from chalicelib.store.models import Certificate

    item = Certificate.get(keys.certificate_pk(world["t"], cert["id"]), keys.CERTIFICATE_SK)
    assert item.GSI2PK == keys.cert_due_gsi2pk(cert["remindersDue"][0], due.shard(cert["id"]))
    assert got[0].detail["certificateId"] == cert["id"]


def test_a_score_below_the_minimum_issues_nothing(api, world):
    _program(api, world, requirements=[{"kind": "course", "courseId": world["courses"][0], "minScore": 99}])
    enrollment = _enroll(api, world, world["learner"]["id"], world["courses"][0])
    _complete(api, world, enrollment["id"])
    Stream(api).drain()
    assert _certificates(api, world, world["learner"]["id"]) == []


def test_fifty_concurrent_completion_events_issue_exactly_one_certificate(api, world):
    from chalicelib.certification import issue
    from chalicelib.events.consumer import EventEnvelope

    program = _program(api, world)
    enrollment = _enroll(api, world, world["learner"]["id"], world["courses"][0])
    _complete(api, world, enrollment["id"])  # completed; the stream is not drained: the events come below
    event = EventEnvelope(id="ev-x", type="CourseCompleted", tenant_id=world["t"], occurred_at="", actor=None,
                          correlation_id=None, detail={"userId": world["learner"]["id"],
                                                       "courseId": world["courses"][0]})
    results, errors, start = [], [], threading.Barrier(50)

    def deliver() -> None:
        start.wait()
        try:
            results.append(issue._on_course_completed(event))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(50)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == [] and len(results) == 50
    assert len(_certificates(api, world, world["learner"]["id"])) == 1
    Stream(api).drain()  # and the real event, redelivered through the stream, issues nothing more
    assert len(_certificates(api, world, world["learner"]["id"])) == 1
    shown = api.json(api.call("GET", f"/v1/tenants/{world['t']}/certifications/{program['id']}", world["admin"]))
    assert shown["counts"]["active"] == 1


def test_revoke_moves_the_counts_clears_the_due_entry_and_emits_once(api, world):
    program, stream = _issued(api, world)
    cert = _certificates(api, world, world["learner"]["id"])[0]
    url = f"/v1/tenants/{world['t']}/certificates/{cert['id']}/revoke"
    assert api.call("POST", url, world["manager_token"], {"reason": "x"}).status_code == 403
    assert api.call("POST", url, world["admin"], {}).status_code == 400
    resp = api.call("POST", url, world["admin"], {"reason": "Exam misconduct"})
    assert resp.status_code == 200, resp.body
    doc = api.json(resp)
    assert doc["status"] == "revoked" and doc["revokedReason"] == "Exam misconduct" and doc["nextDue"] is None
    again = api.json(api.call("POST", url, world["admin"], {"reason": "twice"}))
    assert again["revokedReason"] == "Exam misconduct"
    shown = api.json(api.call("GET", f"/v1/tenants/{world['t']}/certifications/{program['id']}", world["admin"]))
    assert shown["counts"]["active"] == 0 and shown["counts"]["revoked"] == 1
    from chalicelib.store import keys
    from chalicelib.store.models import Certificate

    item = Certificate.get(keys.certificate_pk(world["t"], cert["id"]), keys.CERTIFICATE_SK)
    assert item.GSI2PK is None and item.next_due is None


def test_a_later_cycle_is_issued_by_the_recertification_course_after_expiry(api, world):
    program, stream = _issued(api, world)
    first = _certificates(api, world, world["learner"]["id"])[0]
    from chalicelib.store import keys
    from chalicelib.store.models import Certificate

    item = Certificate.get(keys.certificate_pk(world["t"], first["id"]), keys.CERTIFICATE_SK)
    item.update(actions=[Certificate.status.set("expired")])  # as the reminders job leaves it
    from chalicelib.store.models import CertificationProgram

    CertificationProgram(PK=keys.cert_program_pk(world["t"], program["id"]), SK=keys.CERT_PROGRAM_SK).update(
        actions=[CertificationProgram.counts["active"].add(-1), CertificationProgram.counts["expired"].add(1)])
    enrollment = _enroll(api, world, world["learner"]["id"], world["courses"][1])
    _complete(api, world, enrollment["id"])
    stream.drain()
    certs = _certificates(api, world, world["learner"]["id"])
    assert [c["cycle"] for c in certs] == [2, 1]
    assert certs[0]["status"] == "active" and certs[1]["status"] == "renewed"
    assert certs[0]["completed"][0]["courseId"] == world["courses"][1]
    counts = api.json(api.call("GET", f"/v1/tenants/{world['t']}/certifications/{program['id']}",
                               world["admin"]))["counts"]
    assert counts == {"active": 1, "expiring": 0, "expired": 0, "recertifying": 0, "renewed": 1, "revoked": 0}


def test_exports_csv_and_json_managers_see_only_their_reports(api, world, monkeypatch):
    program, stream = _issued(api, world)
    enrollment = _enroll(api, world, world["other"]["id"], world["courses"][0])
    _complete(api, {**world, "token": world["other_token"]}, enrollment["id"])
    stream.drain()
    base = f"/v1/tenants/{world['t']}/certificates/export"
    everyone = api.json(api.call("GET", base + "?format=json", world["admin"]))["items"]
    assert {r["userId"] for r in everyone} == {world["learner"]["id"], world["other"]["id"]}
    assert everyone[0]["contentVersions"] == f"{world['courses'][0]}@v1" and everyone[0]["status"] == "active"
    resp = api.call("GET", base + "?format=csv", world["manager_token"])
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.body.decode() if isinstance(resp.body, bytes) else resp.body)))
    assert [r["userId"] for r in rows] == [world["learner"]["id"]]
    assert rows[0]["certificationName"] == program["name"] and rows[0]["expiresAt"]
    assert api.call("GET", base, world["token"]).status_code == 403
    assert api.call("GET", base + "?format=xml", world["admin"]).status_code == 400
    # past the inline threshold: written to S3, a 302 to a presigned URL of it
    from chalicelib.certification import exports

    monkeypatch.setattr(exports, "INLINE_ROWS", 1)
    big = api.call("GET", base + f"?format=json&certificationId={program['id']}", world["admin"])
    assert big.status_code == 302 and big.headers["Location"] == api.json(big)["url"]
    from chalicelib import aws
    from chalicelib.config import settings

    listed = aws.s3().list_objects_v2(Bucket=settings().bucket_name, Prefix=f"exports/{world['t']}/certificates/")
    body = aws.s3().get_object(Bucket=settings().bucket_name, Key=listed["Contents"][0]["Key"])["Body"].read()
    assert len(json.loads(body)["items"]) == 2


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "X", "requirements": []}, "requirements"),
    ({"name": "X", "requirements": [{"kind": "course", "courseId": "co-missing"}]}, "requirements.0.courseId"),
    ({"name": "X", "requirements": [{"kind": "path", "pathId": "lp-missing"}]}, "requirements.0.pathId"),
    ({"name": "X", "requirements": [{"kind": "course", "courseId": "{c}", "minScore": 101}]},
     "requirements.0.course.minScore"),
    ({"name": "X", "requirements": [{"kind": "statements", "verb": "not an iri", "activityId": "http://x/a"}]},
     "requirements.0.statements.verb"),
    ({"name": "X", "requirements": [{"kind": "course", "courseId": "{c}"}], "validityDays": 0}, "validityDays"),
    ({"name": "X", "requirements": [{"kind": "course", "courseId": "{c}"}],
      "recertification": {"courseId": "co-missing"}}, "recertification.courseId"),
    ({"name": "X", "requirements": [{"kind": "course", "courseId": "{c}"}, {"kind": "course", "courseId": "{c}"}]},
     "requirements.1"),
])
def test_invalid_programs_are_400s_naming_the_field(api, world, body, field):
    raw = json.dumps(body).replace("{c}", world["courses"][0])
    resp = api.call("POST", f"/v1/tenants/{world['t']}/certifications", world["admin"], raw=raw)
    assert resp.status_code == 400, resp.body
    assert field in {e["field"] for e in api.json(resp)["errors"]}, resp.body
    listed = api.json(api.call("GET", f"/v1/tenants/{world['t']}/certifications", world["admin"]))
    assert listed["items"] == []


def test_programs_are_read_by_admins_and_managers_and_patched_by_admins(api, world):
    program = _program(api, world, reminderDays=[45, 15])
    assert program["reminderDays"] == [45, 15]
    base = f"/v1/tenants/{world['t']}/certifications"
    assert api.call("GET", base, world["manager_token"]).status_code == 200
    assert api.call("GET", base, world["token"]).status_code == 403
    assert api.call("POST", base, world["manager_token"], {"name": "x"}).status_code in (400, 403)
    url = f"{base}/{program['id']}"
    patched = api.call("PATCH", url, world["admin"], {"name": "Renamed", "requirements": [
        {"kind": "course", "courseId": world["courses"][1]}]})
    assert patched.status_code == 200, patched.body
    doc = api.json(patched)
    assert doc["name"] == "Renamed" and doc["requirements"][0]["courseId"] == world["courses"][1]
    assert api.call("PATCH", url, world["admin"], {"name": None}).status_code == 400
    assert api.call("PATCH", url, world["manager_token"], {"name": "y"}).status_code == 403
    from chalicelib.certification import issue

    assert [t.program_id for t in issue.programs_of(world["t"], world["courses"][1])] == [program["id"]]
    assert issue.programs_of(world["t"], world["courses"][0]) == []
