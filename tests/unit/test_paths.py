"""Learning paths: ordered courses with prerequisites, path enrollment, progress and completion."""

from __future__ import annotations

import json

import pytest

from tests.unit.course_helpers import Stream, add_version


@pytest.fixture()
def world(api):
    t = api.make_tenant()["id"]
    admin = api.tenant_admin(t)
    learner, token = api.user_token(t, ["learner"])
    ids = []
    for title in ("Prospecting", "Discovery", "Closing"):
        course = api.json(api.call("POST", f"/v1/tenants/{t}/courses", admin, {"title": title}))
        n = add_version(t, course["id"])
        api.call("POST", f"/v1/tenants/{t}/courses/{course['id']}/versions/{n}/publish", admin)
        ids.append(course["id"])
    return {"t": t, "admin": admin, "learner": learner, "token": token, "courses": ids}


def _path(api, w, courses):
    resp = api.call("POST", f"/v1/tenants/{w['t']}/paths", w["admin"], {"title": "Onboarding", "courses": courses})
    assert resp.status_code == 201, resp.body
    return api.json(resp)


def _complete(api, w, enrollment_id):
    resp = api.call("POST", f"/v1/tenants/{w['t']}/enrollments/{enrollment_id}/attempts", w["token"])
    if resp.status_code not in (200, 201):
        return resp
    html = api.client.http.get(api.json(resp)["launchUrl"]).body
    html = html.decode() if isinstance(html, bytes) else html
    start = html.index('id="player-config">') + len('id="player-config">')
    config = json.loads(html[start:html.index("</script>", start)])
    body = {"cmi": {"core": {"lesson_status": "passed", "score": {"raw": "95", "min": "0", "max": "100"}}}}
    done = api.client.http.request("POST", config["commitUrl"], headers={"Content-Type": "application/json"},
                                   body=json.dumps(body))
    assert done.status_code == 200, done.body
    return resp


def test_a_path_enrolls_in_order_enforces_prerequisites_and_completes_once(api, world):
    a, b, c = world["courses"]
    path = _path(api, world, [{"courseId": a}, {"courseId": b, "prerequisites": [a]},
                              {"courseId": c, "prerequisites": [a, b]}])
    assert [x["title"] for x in path["courses"]] == ["Prospecting", "Discovery", "Closing"]
    resp = api.call("POST", f"/v1/tenants/{world['t']}/enrollments", world["admin"],
                    {"userId": world["learner"]["id"], "pathId": path["id"]})
    assert resp.status_code == 201, resp.body
    enrollments = {e["courseId"]: e for e in api.json(resp)["enrollments"]}
    assert enrollments[c]["requires"] == [a, b] and enrollments[c]["pathId"] == path["id"]
    again = api.call("POST", f"/v1/tenants/{world['t']}/enrollments", world["admin"],
                     {"userId": world["learner"]["id"], "pathId": path["id"]})
    assert again.status_code == 200

    progress_url = f"/v1/tenants/{world['t']}/users/{world['learner']['id']}/paths/{path['id']}/progress"
    progress = api.json(api.call("GET", progress_url, world["token"]))
    assert [s["locked"] for s in progress["courses"]] == [False, True, True] and progress["percent"] == 0

    blocked = _complete(api, world, enrollments[b]["id"])
    assert blocked.status_code == 409 and api.json(blocked)["errors"][0]["detail"] == a

    stream, got = Stream(api), []
    from chalicelib.events import consumer

    consumer._HANDLERS["PathCompleted"].append(got.append)
    try:
        for course in (a, b, c):
            _complete(api, world, enrollments[course]["id"])
            stream.drain()
        stream.drain()
    finally:
        consumer._HANDLERS["PathCompleted"].remove(got.append)
    progress = api.json(api.call("GET", progress_url, world["token"]))
    assert progress["status"] == "completed" and progress["percent"] == 100
    assert [e.detail["pathId"] for e in got] == [path["id"]]  # exactly once


def test_paths_validate_their_courses(api, world):
    a, b, _ = world["courses"]
    t = world["t"]
    cases = [
        ([{"courseId": a}, {"courseId": a}], "courses"),
        ([{"courseId": "cs-nope"}], "courses.0.courseId"),
        ([{"courseId": a, "prerequisites": [b]}, {"courseId": b}], "courses.0.prerequisites"),
    ]
    for courses, field in cases:
        resp = api.call("POST", f"/v1/tenants/{t}/paths", world["admin"], {"title": "x", "courses": courses})
        assert resp.status_code == 400 and api.json(resp)["errors"][0]["field"] == field, resp.body
    assert api.call("POST", f"/v1/tenants/{t}/paths", world["token"],
                    {"title": "x", "courses": [{"courseId": a}]}).status_code == 403
    resp = api.call("POST", f"/v1/tenants/{t}/enrollments", world["admin"], {"userId": world["learner"]["id"]})
    assert resp.status_code == 400 and api.json(resp)["errors"][0]["field"] == "courseId"


def test_list_get_and_rename_paths(api, world):
    path = _path(api, world, [{"courseId": world["courses"][0]}])
    base = f"/v1/tenants/{world['t']}/paths"
    assert [p["id"] for p in api.json(api.call("GET", base, world["token"]))["items"]] == [path["id"]]
    resp = api.call("PATCH", f"{base}/{path['id']}", world["admin"], {"title": "Ramp-up"})
    assert api.json(resp)["title"] == "Ramp-up"
    assert api.json(api.call("GET", f"{base}/{path['id']}", world["token"]))["title"] == "Ramp-up"
    assert api.call("GET", f"{base}/lp-nope", world["token"]).status_code == 404
