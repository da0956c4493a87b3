"""Certifications end to end over the real app: programs, issue-once on completion, revoke, exports."""

from __future__ import annotations

import csv
import io
import json
import threading
from typing import Any

import pytest

from tests.unit.course_helpers import Stream, add_version, published_course
from tests.unit.test_paths import _complete


@pytest.fixture()
def world(api):
    t = api.make_tenant()["id"]
    admin = api.tenant_admin(t)
    manager, manager_token = api.user_token(t, ["manager"])
    learner, token = api.user_token(t, ["learner"], managerId=manager["id"])
    other, other_token = api.user_token(t, ["learner"])
    ids = [published_course(api, t, admin, title) for title in ("Product Demo", "Compliance")]
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


def test_a_recertification_path_completed_in_cycle_2_issues_the_next_cycle(api, world):
    """Path completions are recorded once per cycle: a learner who completed the recertification path before
    completes it again in cycle 2 (enrolled by the reminders job) -> PathCompleted(cycle 2) -> cycle 2."""
    from datetime import date, timedelta

    from chalicelib.store import keys
    from chalicelib.store.models import PathCompletion
    from tests.unit.test_certification_reminders import run

    t, admin, learner = world["t"], world["admin"], world["learner"]
    course = api.json(api.call("POST", f"/v1/tenants/{t}/courses", admin, {"title": "Refresher"}))
    n = add_version(t, course["id"])
    api.call("POST", f"/v1/tenants/{t}/courses/{course['id']}/versions/{n}/publish", admin)
    steps = [world["courses"][1], course["id"]]
    path = api.json(api.call("POST", f"/v1/tenants/{t}/paths", admin, {"title": "Recertify", "courses": [
        {"courseId": steps[0], "prerequisites": []}, {"courseId": steps[1], "prerequisites": [steps[0]]}]}))
    program = _program(api, world, recertification={"pathId": path["id"]})
    stream = Stream(api)
    # cycle 1: the requirement; the learner also completes the recertification path (PATHDONE#<p>, cycle 1)
    _complete(api, world, _enroll(api, world, learner["id"], world["courses"][0])["id"])
    on_path = api.json(api.call("POST", f"/v1/tenants/{t}/enrollments", admin,
                                {"userId": learner["id"], "pathId": path["id"]}))["enrollments"]
    for e in on_path:
        _complete(api, world, e["id"])
    for _ in range(3):
        stream.drain()
    [cert] = _certificates(api, world, learner["id"])
    assert (cert["cycle"], cert["status"], cert["certificationId"]) == (1, "active", program["id"])
    PathCompletion.get(keys.user_pk(t, learner["id"]), keys.path_done_sk(path["id"]))  # cycle 1's plain key

    expires = date.fromisoformat(cert["expiresAt"])
    for days in (90, 60, 30, 0):
        run((expires - timedelta(days=days)).isoformat())
    [expired] = _certificates(api, world, learner["id"])
    assert expired["status"] == "recertifying"
    enrollments = api.json(api.call("GET", f"/v1/tenants/{t}/users/{learner['id']}/enrollments", admin))["items"]
    recert = {e["courseId"]: e for e in enrollments if e["source"] == "recertification"}
    assert set(recert) == set(steps) and {e["pathId"] for e in recert.values()} == {path["id"]}

    _complete(api, world, recert[steps[0]]["id"])
    for _ in range(3):
        stream.drain()
    assert [c["cycle"] for c in _certificates(api, world, learner["id"])] == [1]  # half the path: nothing yet
    _complete(api, world, recert[steps[1]]["id"])
    for _ in range(3):
        stream.drain()
    certs = {c["cycle"]: c for c in _certificates(api, world, learner["id"])}
    assert certs[2]["status"] == "active" and certs[1]["status"] == "renewed"
    assert {c["enrollmentId"] for c in certs[2]["completed"]} == {e["id"] for e in recert.values()}
    assert {c["pathId"] for c in certs[2]["completed"]} == {path["id"]}
    done = PathCompletion.get(keys.user_pk(t, learner["id"]), keys.path_done_cycle_sk(path["id"], 2))
    assert done.cycle == 2 and done.SK == f"PATHDONE#{path['id']}#2"
    shown = api.json(api.call("GET", f"/v1/tenants/{t}/certifications/{program['id']}", admin))
    assert shown["counts"]["active"] == 1 and shown["counts"]["renewed"] == 1
    for _ in range(2):  # redelivered completions issue nothing more
        stream.drain()
    assert len(_certificates(api, world, learner["id"])) == 2


def _seed_certificates(tenant_id: str, program_id: str, n: int) -> set[str]:
    """n certificates with their claims (the tenant's GSI1 collection), written directly: exports read them."""
    from chalicelib.clock import new_id
    from chalicelib.store import keys
    from chalicelib.store.models import Certificate, CertificateClaim

    ids = set()
    with Certificate.batch_write() as batch:
        for i in range(n):
            cid, user_id, at = new_id("ce"), f"us-seed{i:04d}", f"2026-01-01T00:00:{i % 60:02d}Z"
            ids.add(cid)
            batch.save(Certificate(PK=keys.certificate_pk(tenant_id, cid), SK=keys.CERTIFICATE_SK, id=cid,
                                   tenant_id=tenant_id, user_id=user_id, learner_name=f"Learner, \"{i}\"",
                                   program_id=program_id, program_name="Seeded", status="active", issued_at=at,
                                   expires_at="2027-01-01", completed=[{"courseId": "co-x", "version": 2}]))
            batch.save(CertificateClaim(PK=keys.user_pk(tenant_id, user_id), SK=keys.cert_claim_sk(program_id, 1),
                                        GSI1PK=keys.tenant_certificates_gsi1pk(tenant_id),
                                        GSI1SK=keys.tenant_certificates_gsi1sk(program_id, at, cid),
                                        certificate_id=cid))
    return ids


def _export_object(tenant_id: str, export_id: str, fmt: str) -> tuple[bytes, str]:
    from chalicelib import aws
    from chalicelib.config import settings
    from chalicelib.store import keys

    got = aws.s3().get_object(Bucket=settings().bucket_name, Key=keys.certificate_export_key(tenant_id, export_id, fmt))
    return got["Body"].read(), str(got["ETag"])


def test_large_exports_run_in_the_background_chunk_by_chunk_into_one_multipart_file(api, world, monkeypatch):
    import moto.s3.models

    from chalicelib import aws
    from chalicelib.certification import export_job, exports
    from chalicelib.config import settings
    from tests.unit.test_user_imports import pump

    t, admin = world["t"], world["admin"]
    seeded = _seed_certificates(t, "cp-seeded", 25)
    base = f"/v1/tenants/{t}/certificates/export"
    # under the threshold: synchronous, as before
    monkeypatch.setattr(exports, "ASYNC_ROWS", 25)
    inline = api.call("GET", base + "?format=json", admin)
    assert inline.status_code == 200 and {r["certificateId"] for r in api.json(inline)["items"]} == seeded
    # above it: 202, a Location to the status, the work chunk by chunk on the queue
    monkeypatch.setattr(exports, "ASYNC_ROWS", 10)
    monkeypatch.setattr(export_job, "CHUNK_ROWS", 4)
    monkeypatch.setattr(export_job, "PART_BYTES", 600)  # several multipart parts ...
    monkeypatch.setattr(moto.s3.models, "S3_UPLOAD_PART_MIN_SIZE", 256)  # ... which moto accepts at this size
    monkeypatch.setattr(export_job, "TIME_SHARE", 0)  # one chunk per invocation: every hand-on is exercised
    from tests.unit.callcount import counting

    with counting() as calls:
        started = api.call("GET", base + "?format=csv", admin)
    assert started.status_code == 202, started.body
    # counted the claims (at most ASYNC_ROWS + 1: one Query page), then the export item and the first message
    assert calls.dynamodb == {"Query": 1, "PutItem": 1} and calls.of("sqs")["SendMessage"] == 1
    doc = api.json(started)
    assert started.headers["Location"] == f"/v1/tenants/{t}/certificates/exports/{doc['id']}"
    assert (doc["status"], doc["rows"], doc["format"]) == ("running", 0, "csv")
    running = api.json(api.call("GET", started.headers["Location"], admin))
    assert running["status"] == "running" and "url" not in running
    kept: list[dict[str, Any]] = []
    with counting() as calls:
        assert pump(api, keep=kept) >= 7  # 25 rows in chunks of 4: 7 chunks, one invocation each
    # per chunk: the item (GetItem), a claims Query, one BatchGetItem (<= 100 certificates), the UpdateItem
    assert calls.dynamodb == {"GetItem": 7, "Query": 7, "BatchGetItem": 7, "UpdateItem": 8}
    s3 = calls.of("s3")
    assert s3["PutObject"] == 7 and s3["GetObject"] == 7 and s3["UploadPart"] >= 3 and s3["DeleteObjects"] == 1
    done = api.call("GET", started.headers["Location"], admin)
    assert done.status_code == 200
    status = api.json(done)
    assert (status["status"], status["rows"], status["chunks"]) == ("completed", 25, 7)
    assert status["url"].startswith("http") and status["expiresIn"] == export_job.URL_SECONDS
    data, etag = _export_object(t, doc["id"], "csv")
    assert etag.strip('"').rsplit("-", 1)[1] not in ("", "1")  # a multipart object of several parts
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert {r["certificateId"] for r in rows} == seeded and len(rows) == 25
    assert data.decode().count("certificateId,") == 1 and rows[0]["contentVersions"] == "co-x@v2"
    assert status["sizeBytes"] == len(data)
    leftovers = aws.s3().list_objects_v2(Bucket=settings().bucket_name,
                                         Prefix=f"exports/{t}/certificates/{doc['id']}.parts/")
    assert leftovers.get("KeyCount", 0) == 0
    # a redelivered message changes nothing
    [third] = [m for m in kept if m.get("certificateExport", {}).get("chunk") == 3]
    event = api.client.events.generate_sqs_event(message_bodies=[json.dumps(third)], queue_name="uploads")
    api.client.lambda_.invoke("on_package_uploaded", event)
    again = api.json(api.call("GET", started.headers["Location"], admin))
    assert (again["rows"], again["chunks"]) == (25, 7)
    assert _export_object(t, doc["id"], "csv")[0] == data

    # ?async=true under the threshold, JSON, one program, everything in one invocation
    monkeypatch.setattr(exports, "ASYNC_ROWS", 20_000)
    monkeypatch.setattr(export_job, "TIME_SHARE", 0.6)
    asked = api.call("GET", base + "?format=json&certificationId=cp-seeded&async=true", admin)
    assert asked.status_code == 202
    assert pump(api) >= 1
    finished = api.json(api.call("GET", asked.headers["Location"], admin))
    assert finished["status"] == "completed" and finished["rows"] == 25
    items = json.loads(_export_object(t, finished["id"], "json")[0])["items"]
    assert {r["certificateId"] for r in items} == seeded
    # managers' exports stay synchronous; others cannot read an export's status
    refused = api.call("GET", base + "?format=json&async=true", world["manager_token"])
    assert refused.status_code == 400 and "async" in refused.body.decode()
    assert api.call("GET", asked.headers["Location"], world["manager_token"]).status_code == 404
    assert api.call("GET", asked.headers["Location"], world["token"]).status_code == 404
    assert api.call("GET", f"/v1/tenants/{t}/certificates/exports/ex-missing", admin).status_code == 404


# -- shared (operator) programs: apply in every tenant whose catalog has all their courses ---------------
LIBC = "/v1/library/certifications"


def _library_course(api, title):
    course = api.json(api.call("POST", "/v1/library/courses", api.operator, {"title": title}))
    n = add_version("library", course["id"])
    resp = api.call("POST", f"/v1/library/courses/{course['id']}/versions/{n}/publish", api.operator)
    assert resp.status_code == 200, resp.body
    return course["id"]


def _grant(api, course_id, tenant_id):
    resp = api.call("POST", f"/v1/library/courses/{course_id}/grants", api.operator, {"tenantId": tenant_id})
    assert resp.status_code == 201, resp.body


@pytest.fixture()
def shared(api, world):
    """A shared program on two library courses (requirement + recertification), both granted to the world's
    tenant; a second tenant granted only the requirement (so the program does not apply there)."""
    req, recert = _library_course(api, "Shared Safety"), _library_course(api, "Shared Safety Refresher")
    for c in (req, recert):
        _grant(api, c, world["t"])
    partial_tenant = api.make_tenant()["id"]
    _grant(api, req, partial_tenant)
    body = {"name": "Operator Safety Certified", "requirements": [{"kind": "course", "courseId": req}],
            "validityDays": 365, "recertification": {"courseId": recert}}
    resp = api.call("POST", LIBC, api.operator, body)
    assert resp.status_code == 201, resp.body
    program = api.json(resp)
    assert program["id"].startswith("sp-") and program["shared"] is True and resp.headers["Location"].endswith(
        program["id"])
    return {"program": program, "course": req, "recert": recert, "partial": partial_tenant}


def test_a_shared_program_issues_in_the_granted_tenant_with_its_own_counts(api, world, shared):
    from chalicelib.store import keys
    from chalicelib.store.models import CertificationProgram, ProgramCounts

    program, course = shared["program"], shared["course"]
    _complete(api, world, _enroll(api, world, world["learner"]["id"], course)["id"])
    stream = Stream(api)
    for _ in range(3):
        stream.drain()
    certs = _certificates(api, world, world["learner"]["id"])
    assert len(certs) == 1
    cert = certs[0]
    assert (cert["tenantId"], cert["certificationId"], cert["certificationName"], cert["cycle"]) == (
        world["t"], program["id"], "Operator Safety Certified", 1)
    assert cert["completed"][0]["courseId"] == course
    # counts: the tenant's own ProgramCounts item; the library program item is never written by issuing
    counts = ProgramCounts.get(keys.cert_program_pk(world["t"], program["id"]), keys.CERT_COUNTS_SK)
    assert int(counts.active) == 1
    lib = CertificationProgram.get(keys.cert_program_pk(keys.LIBRARY, program["id"]), keys.CERT_PROGRAM_SK)
    assert int(lib.version) == 1 and not any(lib.counts.as_dict().values() if lib.counts else [])
    # the tenant sees it, marked shared, with its counts; it cannot change it
    listed = api.json(api.call("GET", f"/v1/tenants/{world['t']}/certifications", world["admin"]))["items"]
    mine = [p for p in listed if p["id"] == program["id"]]
    assert len(mine) == 1 and mine[0]["shared"] is True and mine[0]["counts"]["active"] == 1
    from tests.unit.callcount import counting

    with counting() as calls:
        got = api.json(api.call("GET", f"/v1/tenants/{world['t']}/certifications/{program['id']}", world["admin"]))
    assert calls.dynamodb == {"GetItem": 1, "BatchGetItem": 1}  # the program; catalog entries + counts
    assert got["shared"] is True and got["counts"]["active"] == 1 and got["name"] == "Operator Safety Certified"
    resp = api.call("PATCH", f"/v1/tenants/{world['t']}/certifications/{program['id']}", world["admin"],
                    {"name": "Hijacked"})
    assert resp.status_code == 403
    assert api.json(api.call("GET", f"{LIBC}/{program['id']}", api.operator))["name"] == "Operator Safety Certified"
    # a revocation moves the tenant's counts (count_moves routes shared programs to ProgramCounts)
    resp = api.call("POST", f"/v1/tenants/{world['t']}/certificates/{cert['id']}/revoke", world["admin"],
                    {"reason": "test"})
    assert resp.status_code == 200, resp.body
    counts = ProgramCounts.get(keys.cert_program_pk(world["t"], program["id"]), keys.CERT_COUNTS_SK)
    assert (int(counts.active), int(counts.revoked)) == (0, 1)


def test_a_shared_program_does_not_apply_without_all_its_courses_granted(api, world, shared):
    from chalicelib.certification import issue
    from chalicelib.events.consumer import EventEnvelope

    program, t2 = shared["program"], shared["partial"]
    admin2 = api.tenant_admin(t2)
    learner2, token2 = api.user_token(t2, ["learner"])
    w2 = {**world, "t": t2, "admin": admin2, "token": token2}
    _complete(api, w2, _enroll(api, w2, learner2["id"], shared["course"])["id"])
    stream = Stream(api)
    for _ in range(3):
        stream.drain()
    assert _certificates(api, w2, learner2["id"]) == []  # the recertification course is not in t2's catalog
    listed = api.json(api.call("GET", f"/v1/tenants/{t2}/certifications", admin2))["items"]
    assert program["id"] not in [p["id"] for p in listed]
    assert api.call("GET", f"/v1/tenants/{t2}/certifications/{program['id']}", admin2).status_code == 404
    # a tenant with no grant at all: the completion finds the program, the catalog check refuses it
    t3 = api.make_tenant()["id"]
    learner3, _ = api.user_token(t3, ["learner"])
    cause = EventEnvelope("ev-x", "CourseCompleted", t3, "", None, None, {})
    assert [e.program_id for e in issue.programs_of(t3, shared["course"])] == [program["id"]]
    assert issue.on_target_completed(t3, learner3["id"], shared["course"], cause) == []


def test_shared_programs_are_operator_only_and_count_shared_library_courses_only(api, world, shared):
    admin = world["admin"]
    assert api.call("GET", LIBC, admin).status_code == 403
    assert api.call("POST", LIBC, admin, {"name": "x", "requirements": [
        {"kind": "course", "courseId": shared["course"]}]}).status_code == 403
    listed = api.json(api.call("GET", LIBC, api.operator))["items"]
    assert shared["program"]["id"] in [p["id"] for p in listed]
    for requirement, field in (({"kind": "course", "courseId": world["courses"][0]}, "requirements.0.courseId"),
                               ({"kind": "statements", "verb": "http://adlnet.gov/expapi/verbs/completed",
                                 "activityId": "http://example.com/a", "count": 1}, "requirements.0.kind")):
        resp = api.call("POST", LIBC, api.operator, {"name": "Bad", "requirements": [requirement]})
        assert resp.status_code == 400 and api.json(resp)["errors"][0]["field"] == field, resp.body
    resp = api.call("PATCH", f"{LIBC}/{shared['program']['id']}", api.operator, {"name": "Renamed"})
    assert resp.status_code == 200 and api.json(resp)["name"] == "Renamed"
    assert api.call("GET", f"{LIBC}/cp-nope", api.operator).status_code == 404


def test_a_course_completion_costs_one_more_query_for_shared_programs(api, world, shared):
    from chalicelib.certification import issue
    from chalicelib.events.consumer import EventEnvelope
    from tests.unit.callcount import counting

    cause = EventEnvelope("ev-x", "CourseCompleted", world["t"], "", None, None, {})
    with counting() as calls:  # a course no program counts: the tenant's index and the library's
        assert issue.on_target_completed(world["t"], world["learner"]["id"], world["courses"][0], cause) == []
    assert calls.dynamodb == {"Query": 2}
    with counting() as calls:  # a path: no shared program counts paths, the library is not queried
        assert issue.on_target_completed(world["t"], world["learner"]["id"], "lp-nope", cause) == []
    assert calls.dynamodb == {"Query": 1}
    _enroll(api, world, world["learner"]["id"], shared["course"])
    from chalicelib.store import keys
    from chalicelib.store.models import Enrollment

    for e in Enrollment.gsi1.query(keys.user_enrollments_gsi1pk(world["t"], world["learner"]["id"])):
        if isinstance(e, Enrollment) and e.course_id == shared["course"]:
            e.update(actions=[Enrollment.status.set("completed"), Enrollment.score.set(90),
                              Enrollment.completed_at.set("2026-01-01T00:00:00Z")])
    with counting() as calls:  # issuing cycle 1 of a shared program: + the catalog check (one BatchGetItem)
        assert len(issue.on_target_completed(world["t"], world["learner"]["id"], shared["course"], cause)) == 1
    assert calls.dynamodb == {"Query": 4, "GetItem": 2, "BatchGetItem": 1, "TransactWriteItems": 1}
