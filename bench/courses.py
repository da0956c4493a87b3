"""Course figures for `make bench`: a catalog page at 10 and 1,000 courses, launch and runtime commits,
and the fan-out of a new version (work proportional to the tenants that see the course)."""

from __future__ import annotations

import json
from typing import Any

from bench.inprocess import Say, ops, quiet, stack


def _catalog(api: Any, tenant: str, n: int) -> None:
    """n courses in the tenant's catalog, written directly (the cost measured is the read)."""
    from chalicelib.catalog import courses
    from chalicelib.store.models import Course

    for i in range(n):
        course = Course(id=f"cs-bench-{tenant[-6:]}-{i:05d}", owner=tenant, title=f"Course {i}", status="active",
                        latest_version=1, latest={"number": 1, "format": "scorm12", "scos": []}, created_by="bench",
                        created_at="2026-01-01T00:00:00.000Z", updated_at="2026-01-01T00:00:00.000Z")
        courses.own_entry(course).save()


def _page_cost(api: Any, tenant: str, token: str) -> dict[str, int]:
    from tests.unit.callcount import counting

    api.call("GET", f"/v1/tenants/{tenant}/catalog?limit=1", token)  # warm caches, as a busy container is
    with counting() as calls:
        resp = api.call("GET", f"/v1/tenants/{tenant}/catalog?limit=100", token)
    assert resp.status_code == 200, resp.body
    return dict(calls.dynamodb)


def _player_costs(api: Any) -> dict[str, Any]:
    from tests.unit.callcount import counting
    from tests.unit.course_helpers import add_version

    t = api.make_tenant()["id"]
    admin = api.tenant_admin(t)
    learner, token = api.user_token(t, ["learner"])
    course = api.json(api.call("POST", f"/v1/tenants/{t}/courses", admin, {"title": "Bench"}))
    n = add_version(t, course["id"])
    api.call("POST", f"/v1/tenants/{t}/courses/{course['id']}/versions/{n}/publish", admin)
    enrollment = api.json(api.call("POST", f"/v1/tenants/{t}/enrollments", admin,
                                   {"userId": learner["id"], "courseId": course["id"]}))
    attempt = api.json(api.call("POST", f"/v1/tenants/{t}/enrollments/{enrollment['id']}/attempts", token))
    with counting() as launch:
        page = api.client.http.get(attempt["launchUrl"])
    html = page.body.decode() if isinstance(page.body, bytes) else page.body
    start = html.index('id="player-config">') + len('id="player-config">')
    config = json.loads(html[start:html.index("</script>", start)])
    out = {"launch": dict(launch.dynamodb)}
    for name, status in (("commit", "incomplete"), ("completing commit", "passed")):
        body = {"cmi": {"core": {"lesson_status": status, "lesson_location": "2", "session_time": "0000:00:30"}}}
        with counting() as calls:
            resp = api.client.http.request("POST", config["commitUrl"], body=json.dumps(body),
                                           headers={"Content-Type": "text/plain;charset=UTF-8"})
        assert resp.status_code == 200, resp.body
        out[name] = dict(calls.dynamodb)
    return out


def _fan_out(api: Any, viewers: int) -> dict[str, Any]:
    """A library course granted to `viewers` tenants: the stream work of publishing a new version."""
    from tests.unit.callcount import counting
    from tests.unit.course_helpers import Stream, add_version

    stream = Stream(api)
    course = api.json(api.call("POST", "/v1/library/courses", api.operator, {"title": "Fan-out"}))
    base = f"/v1/library/courses/{course['id']}"
    api.call("POST", f"{base}/versions/{add_version('library', course['id'])}/publish", api.operator)
    for _ in range(viewers):
        tenant = api.make_tenant(template="regulated-sales")["id"]
        api.call("POST", f"{base}/grants", api.operator, {"tenantId": tenant})
    stream.drain()
    api.call("POST", f"{base}/versions/{add_version('library', course['id'])}/publish", api.operator)
    with counting() as calls:
        stream.drain()
    made = {op: n for op, n in calls.dynamodb.items() if op != "DescribeTable"}  # the harness finding the stream
    return {"viewers": viewers, "calls": made}


def measure(say: Say) -> dict[str, Any]:
    out: dict[str, Any] = {"catalog_page": {}, "fan_out": []}
    with stack() as api, quiet():
        for n in (10, 1000):
            tenant = api.make_tenant()["id"]
            _catalog(api, tenant, n)
            out["catalog_page"][n] = _page_cost(api, tenant, api.tenant_admin(tenant))
        out["player"] = _player_costs(api)
        for viewers in (5, 20):
            out["fan_out"].append(_fan_out(api, viewers))
    return out


def report(say: Say, result: dict[str, Any]) -> None:
    say(f"\n{'courses':38} DynamoDB calls")
    for n, calls in result["catalog_page"].items():
        say(f"{'catalog page, ' + str(n) + ' courses (goal <= 2)':38} {ops(calls)}")
    for name, calls in result["player"].items():
        say(f"{name:38} {ops(calls)}")
    for row in result["fan_out"]:
        say(f"{'new version, ' + str(row['viewers']) + ' tenants see it':38} {ops(row['calls'])}")
