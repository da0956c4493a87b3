"""Enrollment -> attempt -> player page -> runtime commits -> completion with its content version."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.unit.course_helpers import FakePackage, FakeSco, Stream, add_version


@pytest.fixture()
def world(api):
    t = api.make_tenant()["id"]
    admin = api.tenant_admin(t)
    learner, learner_token = api.user_token(t, ["learner"], displayName="Lea Learner")
    course = api.json(api.call("POST", f"/v1/tenants/{t}/courses", admin, {"title": "Prospecting 101"}))
    base = f"/v1/tenants/{t}/courses/{course['id']}"
    number = add_version(t, course["id"])
    assert api.call("POST", f"{base}/versions/{number}/publish", admin).status_code == 200
    return {"t": t, "admin": admin, "learner": learner, "token": learner_token, "course": course, "base": base}


def _enroll(api, w, token=None, user=None):
    resp = api.call("POST", f"/v1/tenants/{w['t']}/enrollments", token or w["admin"],
                    {"userId": (user or w["learner"])["id"], "courseId": w["course"]["id"]})
    assert resp.status_code in (200, 201), resp.body
    return resp


def _start(api, w, enrollment_id):
    resp = api.call("POST", f"/v1/tenants/{w['t']}/enrollments/{enrollment_id}/attempts", w["token"])
    assert resp.status_code in (200, 201), resp.body
    return resp


def _player(api, launch_url):
    resp = api.client.http.get(launch_url)
    assert resp.status_code == 200, resp.body
    html = resp.body.decode() if isinstance(resp.body, bytes) else resp.body
    start = html.index('id="player-config">') + len('id="player-config">')
    return json.loads(html[start:html.index("</script>", start)])


def _commit(api, config, body, content_type="application/json", method="PUT"):
    url = config["commitUrl"] + "&sco=" + config["scoId"]
    resp = api.client.http.request(method, url, headers={"Content-Type": content_type},
                                   body=json.dumps(body) if not isinstance(body, str) else body)
    return resp


def test_enrolling_twice_returns_the_first_enrollment(api, world):
    first = _enroll(api, world)
    again = _enroll(api, world)
    assert first.status_code == 201 and again.status_code == 200
    assert api.json(first)["id"] == api.json(again)["id"]
    assert api.json(first)["version"] == 1 and api.json(first)["source"] == "manager"


def test_play_commit_complete_and_resume(api, world):
    enrollment = api.json(_enroll(api, world))
    started = _start(api, world, enrollment["id"])
    attempt = api.json(started)
    assert started.status_code == 201 and attempt["version"] == 1 and attempt["status"] == "in_progress"
    config = _player(api, attempt["launchUrl"])
    assert config["standard"] == "scorm12" and config["scoId"] == "sco-1"
    assert config["cmi"]["core"]["student_name"] == "Lea Learner"
    assert config["scos"][0]["url"].startswith("/play/")

    # a page view, then leaving mid-way (suspend) -> relaunch resumes at the location
    progress = {"cmi": {"core": {"lesson_status": "incomplete", "lesson_location": "2", "exit": "suspend",
                                 "session_time": "0000:00:30.00"}, "suspend_data": '{"v":[0,1,2]}'}}
    resp = _commit(api, config, progress)
    assert resp.status_code == 200, resp.body
    assert api.json(resp)["result"] is True and api.json(resp)["attempt"]["completion"] == "in_progress"
    again = api.json(_start(api, world, enrollment["id"]))
    assert again["id"] == attempt["id"]  # resumed, not a new attempt
    config = _player(api, again["launchUrl"])
    core = config["cmi"]["core"]
    assert core["lesson_location"] == "2" and core["entry"] == "resume"
    assert config["cmi"]["suspend_data"] == '{"v":[0,1,2]}'

    # the quiz passes; the final commit arrives as a text/plain beacon (POST)
    passed = {"cmi": {"core": {"lesson_status": "passed", "lesson_location": "3", "exit": "",
                               "score": {"raw": "100", "min": "0", "max": "100"}, "session_time": "0000:01:05.20"},
                      "interactions": {"0": {"id": "q1", "type": "choice", "student_response": "b",
                                             "result": "correct"}}}, "terminated": True}
    resp = _commit(api, config, json.dumps(passed), "text/plain;charset=UTF-8", "POST")
    assert resp.status_code == 200, resp.body
    assert api.json(resp)["attempt"] == {"completion": "completed", "success": "passed", "score": 100.0}
    done = api.json(api.call("GET", f"/v1/tenants/{world['t']}/attempts/{attempt['id']}", world["token"]))
    assert done["status"] == "completed" and done["version"] == 1 and done["score"] == 100.0
    assert done["durationSeconds"] == pytest.approx(95.2)
    assert done["completedAt"]
    enrolled = api.json(api.call("GET", f"/v1/tenants/{world['t']}/enrollments/{enrollment['id']}", world["token"]))
    assert enrolled["status"] == "completed" and enrolled["score"] == 100.0

    # a later commit with exit=suspend cannot undo the completion; a retried commit changes nothing
    later = {"cmi": {"core": {"lesson_status": "incomplete", "exit": "suspend", "session_time": "0000:00:05"}}}
    assert _commit(api, config, later).status_code == 200
    assert api.json(api.call("GET", f"/v1/tenants/{world['t']}/attempts/{attempt['id']}",
                             world["token"]))["status"] == "completed"


def test_course_completed_event_carries_version_score_and_duration(api, world):
    stream = Stream(api)
    got = []
    from chalicelib.events import consumer

    consumer._HANDLERS["CourseCompleted"].append(got.append)
    try:
        enrollment = api.json(_enroll(api, world))
        config = _player(api, api.json(_start(api, world, enrollment["id"]))["launchUrl"])
        _commit(api, config, {"cmi": {"core": {"lesson_status": "completed", "session_time": "0000:02:00",
                                               "score": {"raw": "90", "min": "0", "max": "100"}}}})
        stream.drain()
    finally:
        consumer._HANDLERS["CourseCompleted"].remove(got.append)
    assert len(got) == 1
    detail = got[0].detail
    assert detail["version"] == 1 and detail["score"] == 90.0 and detail["durationSeconds"] == 120
    assert detail["success"] == "passed"  # judged against the 1.2 mastery score (80)


def test_a_failed_quiz_fails_the_attempt_and_a_new_attempt_starts(api, world):
    enrollment = api.json(_enroll(api, world))
    attempt = api.json(_start(api, world, enrollment["id"]))
    config = _player(api, attempt["launchUrl"])
    resp = _commit(api, config, {"cmi": {"core": {"lesson_status": "failed",
                                                  "score": {"raw": "33", "min": "0", "max": "100"}}}})
    assert api.json(resp)["attempt"]["completion"] == "failed"
    assert api.json(api.call("GET", f"/v1/tenants/{world['t']}/enrollments/{enrollment['id']}",
                             world["token"]))["status"] == "failed"
    second = _start(api, world, enrollment["id"])
    assert second.status_code == 201 and api.json(second)["id"] != attempt["id"]


def test_multi_sco_rolls_up_only_when_every_sco_is_complete(api, world):
    two = FakePackage(format="scorm2004", edition="4th", scos=(
        FakeSco("lesson", "Lesson", "lesson/index.html"), FakeSco("quiz", "Quiz", "quiz/index.html",
                                                                 mastery_score=0.8)))
    n = add_version(world["t"], world["course"]["id"], two)
    api.call("POST", f"{world['base']}/versions/{n}/publish", world["admin"])
    enrollment = api.json(_enroll(api, world))
    assert enrollment["version"] == n
    attempt = api.json(_start(api, world, enrollment["id"]))
    config = _player(api, attempt["launchUrl"])
    assert [s["id"] for s in config["scos"]] == ["lesson", "quiz"] and config["scoId"] == "lesson"
    resp = _commit(api, config, {"cmi": {"completion_status": "completed", "session_time": "PT1M"}})
    assert api.json(resp)["attempt"]["completion"] == "in_progress"
    config = _player(api, attempt["launchUrl"])  # the next incomplete SCO
    assert config["scoId"] == "quiz"
    resp = _commit(api, config, {"cmi": {"completion_status": "completed", "success_status": "passed",
                                         "score": {"scaled": "0.9"}, "session_time": "PT2M"}})
    assert api.json(resp)["attempt"] == {"completion": "completed", "success": "passed", "score": 90.0}


def test_commits_need_the_token_and_bad_bodies_are_4xx(api, world):
    enrollment = api.json(_enroll(api, world))
    attempt = api.json(_start(api, world, enrollment["id"]))
    config = _player(api, attempt["launchUrl"])
    url = urlsplit(config["commitUrl"])
    token = parse_qs(url.query)["token"][0]
    bare = api.client.http.request("PUT", url.path, headers={"Content-Type": "application/json"}, body="{}")
    assert bare.status_code == 401
    forged = api.client.http.request("PUT", f"{url.path}?token={token[:-3]}abc",
                                     headers={"Content-Type": "application/json"}, body="{}")
    assert forged.status_code == 401
    for body in ("not json", "[1]", json.dumps({"cmi": {"core": {"lesson_status": "great"}}})):
        resp = _commit(api, config, body)
        assert resp.status_code == 400, (body, resp.body)
        assert resp.headers["Content-Type"].startswith("application/problem+json")
    # a launch token of one attempt does not open another's page
    other = urlsplit(attempt["launchUrl"])
    assert api.client.http.get(other.path.replace(attempt["id"], "at-nope") + "?" + other.query).status_code == 404
    assert api.client.http.get(other.path).status_code == 401


def test_only_the_learner_plays_and_managers_enroll_only_reports(api, world):
    t = world["t"]
    enrollment = api.json(_enroll(api, world))
    resp = api.call("POST", f"/v1/tenants/{t}/enrollments/{enrollment['id']}/attempts", world["admin"])
    assert resp.status_code == 403
    manager, manager_token = api.user_token(t, ["manager"])
    stranger = api.make_user(t)
    report = api.make_user(t, managerId=manager["id"])
    assert _enroll_status(api, t, manager_token, stranger["id"], world["course"]["id"]) == 403
    assert _enroll_status(api, t, manager_token, report["id"], world["course"]["id"]) == 201
    # self-enrollment only where the course allows it
    learner2 = api.make_user(t, email="self@example.com", password="correct-horse-battery")
    token2 = api.login(t, "self@example.com", "correct-horse-battery")
    assert _enroll_status(api, t, token2, learner2["id"], world["course"]["id"]) == 403
    api.call("PATCH", f"/v1/tenants/{t}/courses/{world['course']['id']}", world["admin"], {"allowSelfEnroll": True})
    assert _enroll_status(api, t, token2, learner2["id"], world["course"]["id"]) == 201
    mine = api.json(api.call("GET", f"/v1/tenants/{t}/me/enrollments", token2))["items"]
    assert [m["source"] for m in mine] == ["self"]


def _enroll_status(api, t, token, user_id, course_id):
    body = {"userId": user_id, "courseId": course_id}
    return api.call("POST", f"/v1/tenants/{t}/enrollments", token, body).status_code


def test_completion_lands_in_the_tenants_lrs_once(api, world):
    from chalicelib.content import xapi

    stream = Stream(api)
    enrollment = api.json(_enroll(api, world))
    attempt = api.json(_start(api, world, enrollment["id"]))
    config = _player(api, attempt["launchUrl"])
    _commit(api, config, {"cmi": {"core": {"lesson_status": "passed", "session_time": "0000:01:00",
                                           "score": {"raw": "100", "min": "0", "max": "100"}}}})
    stream.drain()
    stream.drain()  # the statements' own items (not events) change nothing
    resp = api.call("GET", f"/v1/tenants/{world['t']}/xapi/statements?verb=http://adlnet.gov/expapi/verbs/passed",
                    world["admin"], headers={"X-Experience-API-Version": "1.0.3"})
    assert resp.status_code == 200, resp.body
    found = api.json(resp)["statements"]
    assert len(found) == 1
    s = found[0]
    assert s["actor"]["account"]["name"] == world["learner"]["id"]
    assert s["result"]["success"] is True and s["result"]["score"]["scaled"] == 1.0
    assert s["context"]["extensions"][xapi.extension("content-version")] == 1
    # a redelivered event stores nothing new
    from chalicelib.events.consumer import EventEnvelope

    detail = {"userId": world["learner"]["id"], "courseId": world["course"]["id"], "version": 1,
              "enrollmentId": enrollment["id"], "attemptId": attempt["id"], "score": 100.0, "success": "passed",
              "durationSeconds": 60, "at": s["timestamp"], "courseTitle": "A package"}
    xapi.record_outcome(EventEnvelope("ev-x", "CourseCompleted", world["t"], s["timestamp"], None, None, detail))
    again = api.json(api.call("GET", f"/v1/tenants/{world['t']}/xapi/statements", world["admin"],
                              headers={"X-Experience-API-Version": "1.0.3"}))["statements"]
    assert len(again) == 2  # completed + passed


def test_a_cmi5_au_launches_fetches_its_token_and_its_statements_complete_the_course(api, world):
    import base64
    from urllib.parse import parse_qs, urlsplit

    from chalicelib.content import cmi5

    au = FakeSco("https://example.com/au/1", "The AU", "au/index.html", scorm_type="au",
                 move_on="CompletedAndPassed", mastery_score=0.8, activity_id="https://example.com/au/1")
    n = add_version(world["t"], world["course"]["id"], FakePackage(format="cmi5", scos=(au,)))
    api.call("POST", f"{world['base']}/versions/{n}/publish", world["admin"])
    enrollment = api.json(_enroll(api, world))
    attempt = api.json(_start(api, world, enrollment["id"]))
    config = _player(api, attempt["launchUrl"])
    assert "/cmi5/launch?" in config["scos"][0]["url"]
    resp = api.client.http.get(config["scos"][0]["url"], headers={"Host": "lms.example"})
    assert resp.status_code == 302, resp.body
    location = urlsplit(resp.headers["Location"])
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert location.path.endswith("/au/index.html") and location.path.startswith("/play/")
    assert params["endpoint"] == f"http://lms.example/v1/tenants/{world['t']}/xapi/"
    fetch = urlsplit(params["fetch"])
    token = api.json(api.client.http.post(f"{fetch.path}?{fetch.query}", body=""))["auth-token"]
    assert api.json(api.client.http.post(f"{fetch.path}?{fetch.query}", body=""))["error-code"] == "1"

    def au_says(verb, result):
        doc = {"actor": json.loads(params["actor"]), "verb": {"id": verb},
               "object": {"id": params["activityId"], "objectType": "Activity"}, "result": result,
               "context": {"registration": params["registration"],
                           "contextActivities": {"category": [{"id": cmi5.CATEGORY_CMI5},
                                                              {"id": cmi5.CATEGORY_MOVEON}]}}}
        return api.client.http.post(f"/v1/tenants/{world['t']}/xapi/statements", body=json.dumps(doc), headers={
            "Authorization": f"Basic {token}", "Content-Type": "application/json",
            "X-Experience-API-Version": "1.0.3"})

    assert base64.b64decode(token).decode().startswith(cmi5.AU_KEY_PREFIX)
    assert au_says(cmi5.COMPLETED, {"completion": True, "duration": "PT1M"}).status_code == 200
    path = f"/v1/tenants/{world['t']}/attempts/{attempt['id']}"
    assert api.json(api.call("GET", path, world["token"]))["status"] == "in_progress"  # moveOn needs passed too
    assert au_says(cmi5.PASSED, {"success": True, "score": {"scaled": 0.9}}).status_code == 200
    done = api.json(api.call("GET", path, world["token"]))
    assert done["status"] == "completed" and done["success"] == "passed" and done["score"] == 90.0


def test_without_choice_a_learner_cannot_jump_ahead(api, world):
    two = FakePackage(format="scorm2004", edition="4th", choice=False, scos=(
        FakeSco("lesson", "Lesson", "lesson/index.html"), FakeSco("quiz", "Quiz", "quiz/index.html")))
    n = add_version(world["t"], world["course"]["id"], two)
    api.call("POST", f"{world['base']}/versions/{n}/publish", world["admin"])
    attempt = api.json(_start(api, world, api.json(_enroll(api, world))["id"]))
    assert _player(api, attempt["launchUrl"] + "&sco=quiz")["scoId"] == "lesson"
    config = _player(api, attempt["launchUrl"])
    _commit(api, config, {"cmi": {"completion_status": "completed"}})
    assert _player(api, attempt["launchUrl"] + "&sco=lesson")["scoId"] == "lesson"  # back is fine
    assert _player(api, attempt["launchUrl"] + "&sco=quiz")["scoId"] == "quiz"


def test_a_suspended_tenants_launch_links_stop(api, world):
    attempt = api.json(_start(api, world, api.json(_enroll(api, world))["id"]))
    assert api.client.http.get(attempt["launchUrl"]).status_code == 200
    assert api.call("POST", f"/v1/tenants/{world['t']}/suspend", api.operator).status_code == 200
    from chalicelib.tenancy import cache

    cache.reset()  # another container would see it within the cache's 30 seconds
    assert api.client.http.get(attempt["launchUrl"]).status_code == 404


def test_an_xapi_package_launches_with_endpoint_auth_actor_and_its_statements_complete_it(api, world):
    from urllib.parse import parse_qs, urlsplit

    activity = "https://example.com/tincan/prospecting"
    pkg = FakePackage(format="xapi", scos=(FakeSco(activity, "Prospecting", "story.html", scorm_type="activity",
                                                   activity_id=activity),))
    n = add_version(world["t"], world["course"]["id"], pkg)
    api.call("POST", f"{world['base']}/versions/{n}/publish", world["admin"])
    attempt = api.json(_start(api, world, api.json(_enroll(api, world))["id"]))
    page = api.client.http.get(attempt["launchUrl"], headers={"Host": "lms.example"})
    html = page.body.decode()
    start = html.index('id="player-config">') + len('id="player-config">')
    config = json.loads(html[start:html.index("</script>", start)])
    assert config["standard"] == "xapi" and config["cmi"] == {}
    url = urlsplit(config["scos"][0]["url"])
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.path.startswith("/play/") and url.path.endswith("/story.html")
    assert params["endpoint"] == f"http://lms.example/v1/tenants/{world['t']}/xapi/"
    assert params["activity_id"] == activity and json.loads(params["actor"])["account"]["name"] == \
        world["learner"]["id"]

    def say(verb, result):
        doc = {"actor": json.loads(params["actor"]), "verb": {"id": verb}, "object": {"id": activity},
               "result": result, "context": {"registration": params["registration"]}}
        return api.client.http.post(f"/v1/tenants/{world['t']}/xapi/statements", body=json.dumps(doc), headers={
            "Authorization": params["auth"], "Content-Type": "application/json", "X-Experience-API-Version": "1.0.3"})

    assert say("http://adlnet.gov/expapi/verbs/experienced", {}).status_code == 200
    path = f"/v1/tenants/{world['t']}/attempts/{attempt['id']}"
    assert api.json(api.call("GET", path, world["token"]))["status"] == "in_progress"
    assert say("http://adlnet.gov/expapi/verbs/passed", {"completion": True, "success": True,
                                                           "score": {"scaled": 0.85}}).status_code == 200
    done = api.json(api.call("GET", path, world["token"]))
    assert done["status"] == "completed" and done["success"] == "passed" and done["score"] == 85.0


def test_a_learner_who_never_started_takes_the_newer_version_one_in_progress_stays(api, world):
    early = api.json(_enroll(api, world))
    other, other_token = api.user_token(world["t"], ["learner"])
    started = api.json(_enroll(api, world, user=other))
    in_progress = api.json(api.call("POST", f"/v1/tenants/{world['t']}/enrollments/{started['id']}/attempts",
                                    other_token))
    assert early["version"] == 1 and in_progress["version"] == 1
    n = add_version(world["t"], world["course"]["id"])
    api.call("POST", f"{world['base']}/versions/{n}/publish", world["admin"])
    assert api.json(_start(api, world, early["id"]))["version"] == n  # never started: the latest
    again = api.json(api.call("POST", f"/v1/tenants/{world['t']}/enrollments/{started['id']}/attempts", other_token))
    assert again["id"] == in_progress["id"] and again["version"] == 1  # resumed on what they started
    assert api.json(api.call("GET", f"/v1/tenants/{world['t']}/enrollments/{early['id']}", world["token"]))[
        "version"] == n


def test_withdrawal_frees_the_course_for_a_new_enrollment_and_due_dates_show_overdue(api, world):
    t = world["t"]
    resp = api.call("POST", f"/v1/tenants/{t}/enrollments", world["admin"],
                    {"userId": world["learner"]["id"], "courseId": world["course"]["id"], "dueDate": "2020-01-31"})
    first = api.json(resp)
    assert first["dueDate"] == "2020-01-31" and first["overdue"] is True
    assert api.call("DELETE", f"/v1/tenants/{t}/enrollments/{first['id']}", world["token"]).status_code == 403
    assert api.call("DELETE", f"/v1/tenants/{t}/enrollments/{first['id']}", world["admin"]).status_code == 204
    assert api.call("DELETE", f"/v1/tenants/{t}/enrollments/{first['id']}", world["admin"]).status_code == 204
    gone = api.json(api.call("GET", f"/v1/tenants/{t}/enrollments/{first['id']}", world["token"]))
    assert gone["status"] == "withdrawn" and gone["overdue"] is False
    assert api.call("POST", f"/v1/tenants/{t}/enrollments/{first['id']}/attempts", world["token"]).status_code == 409
    again = api.call("POST", f"/v1/tenants/{t}/enrollments", world["admin"],
                     {"userId": world["learner"]["id"], "courseId": world["course"]["id"]})
    assert again.status_code == 201 and api.json(again)["id"] != first["id"]
    # a completed enrollment stays on the record
    done = api.json(again)
    config = _player(api, api.json(_start(api, world, done["id"]))["launchUrl"])
    _commit(api, config, {"cmi": {"core": {"lesson_status": "passed"}}})
    assert api.call("DELETE", f"/v1/tenants/{t}/enrollments/{done['id']}", world["admin"]).status_code == 409
