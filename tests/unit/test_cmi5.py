"""cmi5: the AU launch URL, LMS.LaunchData and "launched", the one-time auth-token fetch, outcomes and moveOn."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest

from tests.unit.course_helpers import FakePackage, FakeSco, add_version, tamper
from tests.unit.lrs_helpers import VERSION

BASE = "https://api.onramp.test"
AU_ID = "https://example.com/au/1"
CONTENT = "/play/ctok/au/index.html"


def _package(*scos: FakeSco) -> FakePackage:
    return FakePackage(format="cmi5", identifier="https://example.com/course/1", title="Discovery calls",
                       files=("cmi5.xml", "au/index.html"), scos=scos or (
                           FakeSco(id=AU_ID, title="Discovery calls", launch="au/index.html", scorm_type="au",
                                   move_on="CompletedAndPassed", mastery_score=0.8, activity_id=AU_ID,
                                   launch_data='{"level":2}'),))


def _attempt(api: Any, package: FakePackage | None = None) -> dict[str, Any]:
    """A tenant, a learner enrolled in a published cmi5 course, and their attempt (made as attempts.start would)."""
    from chalicelib.catalog.courses import load_version
    from chalicelib.clock import new_id, utcnow_iso
    from chalicelib.store import keys
    from chalicelib.store.models import Attempt, plain

    t = api.make_tenant()["id"]
    admin = api.tenant_admin(t)
    learner, learner_token = api.user_token(t, ["learner"], displayName="Lea Learner")
    course = api.json(api.call("POST", f"/v1/tenants/{t}/courses", admin, {"title": "Discovery calls"}))
    number = add_version(t, course["id"], package or _package())
    assert api.call("POST", f"/v1/tenants/{t}/courses/{course['id']}/versions/{number}/publish",
                    admin).status_code == 200
    enrolled = api.call("POST", f"/v1/tenants/{t}/enrollments", admin,
                        {"userId": learner["id"], "courseId": course["id"]})
    assert enrolled.status_code == 201, enrolled.body
    enrollment = api.json(enrolled)
    version = load_version(t, course["id"], number)
    scos = [plain(s) for s in version.scos or []]
    now, attempt_id = utcnow_iso(), new_id("at")
    attempt = Attempt(PK=keys.attempt_pk(t, attempt_id), SK=keys.ATTEMPT_SK, id=attempt_id, tenant_id=t,
                      user_id=learner["id"], enrollment_id=enrollment["id"], course_id=course["id"],
                      course_owner=t, course_title=version.package_title, version=number, format="cmi5",
                      content_prefix=version.content_prefix, scos=scos, choice=True, flow=True,
                      runtime={f"s{i}": {"sessions": {}} for i in range(len(scos))}, status="in_progress",
                      started_at=now, updated_at=now)
    attempt.save()
    return {"t": t, "admin": admin, "learner": learner, "token": learner_token, "course": course,
            "attempt": Attempt.get(attempt.PK, attempt.SK)}


@pytest.fixture()
def world(api: Any) -> dict[str, Any]:
    return _attempt(api)


def _launch(world: dict[str, Any], index: int = 0, content: str = CONTENT, **kw: Any) -> str:
    from chalicelib.content import cmi5

    return cmi5.launch_redirect(world["t"], world["attempt"], index, BASE, content, **kw)


def _params(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _fetch(world: dict[str, Any], url: str) -> dict[str, str]:
    from chalicelib.content import cmi5

    token = _params(_params(url)["fetch"])["token"]
    return cmi5.fetch_token(world["t"], world["attempt"].id, token)


def _xapi(api: Any, method: str, path: str, auth: str, body: Any = None) -> Any:
    headers = {"Authorization": auth, "Content-Type": "application/json", **VERSION}
    return api.client.http.request(method, path, headers=headers, body=None if body is None else json.dumps(body))


def _state_path(world: dict[str, Any], params: dict[str, str]) -> str:
    query = urlencode({"activityId": params["activityId"], "agent": params["actor"],
                       "registration": params["registration"], "stateId": "LMS.LaunchData"})
    return f"/v1/tenants/{world['t']}/xapi/activities/state?{query}"


# -- the launch URL (8.1) -------------------------------------------------------------------------------------
def test_launch_url_has_the_five_parameters_url_encoded(world: dict[str, Any]) -> None:
    from chalicelib.content import cmi5

    t, attempt = world["t"], world["attempt"]
    url = _launch(world)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == BASE + CONTENT
    params = _params(url)
    assert set(params) == {"endpoint", "fetch", "actor", "registration", "activityId"}
    assert params["endpoint"] == f"{BASE}/v1/tenants/{t}/xapi/"
    fetch = urlsplit(params["fetch"])
    assert f"{fetch.scheme}://{fetch.netloc}{fetch.path}" == f"{BASE}/v1/tenants/{t}/attempts/{attempt.id}/cmi5/fetch"
    assert _params(params["fetch"])["token"]
    from chalicelib.config import settings

    assert json.loads(params["actor"]) == {"objectType": "Agent",
                                           "account": {"homePage": settings().issuer, "name": attempt.user_id}}
    assert str(uuid.UUID(params["registration"])) == params["registration"] == cmi5.registration(t, attempt.id)
    assert params["activityId"] == cmi5.au_activity_id(t, attempt, {"id": AU_ID, "activityId": AU_ID})
    assert params["activityId"] != AU_ID and params["activityId"].startswith("https://")  # 8.1.5: not the publisher id
    # every value fully URL-encoded: nothing but the separators survives raw in the query
    for pair in parts.query.split("&"):
        name, _, raw = pair.partition("=")
        assert raw == quote(params[name], safe="")
    again = _params(_launch(world))
    assert again["registration"] == params["registration"] and again["activityId"] == params["activityId"]
    assert again["fetch"] != params["fetch"]  # one fetch token per launch


def test_an_au_query_and_fragment_are_kept_and_absolute_aus_launch_where_declared(api: Any) -> None:
    world = _attempt(api, _package(
        FakeSco(id="urn:au:a", title="A", launch="a/index.html?lang=en#intro", scorm_type="au"),
        FakeSco(id="urn:au:b", title="B", launch="https://cdn.example.com/b/start.html?x=1", scorm_type="au")))
    first = urlsplit(_launch(world, 0, "/play/ctok/a/index.html?lang=en#intro"))
    assert first.path == "/play/ctok/a/index.html" and first.fragment == "intro"
    assert first.query.startswith("lang=en&endpoint=")
    second = _launch(world, 1, "/play/ctok/ignored")
    assert second.startswith("https://cdn.example.com/b/start.html?x=1&endpoint=")
    assert _params(second)["activityId"] != _params(_launch(world, 0))["activityId"]


def test_only_aus_of_a_cmi5_attempt_launch(world: dict[str, Any]) -> None:
    from chalicelib.errors import NotFound

    with pytest.raises(NotFound):
        _launch(world, 1)
    world["attempt"].format = "scorm12"
    with pytest.raises(NotFound):
        _launch(world)


# -- LMS.LaunchData (10) and "launched" (9.3.1) ---------------------------------------------------------------
def test_launch_data_is_readable_through_the_state_api(api: Any, world: dict[str, Any]) -> None:
    from chalicelib.content import cmi5

    params = _params(_launch(world, return_url="https://lms.example.com/done"))
    resp = _xapi(api, "GET", _state_path(world, params), f"Bearer {world['admin']}")
    assert resp.status_code == 200, resp.body
    assert resp.headers["Content-Type"].startswith("application/json")
    doc = json.loads(resp.body)
    session = doc["contextTemplate"]["extensions"][cmi5.SESSION_ID]
    assert uuid.UUID(session)
    assert doc == {"contextTemplate": {"contextActivities": {"grouping": [{"objectType": "Activity", "id": AU_ID}]},
                                       "extensions": {cmi5.SESSION_ID: session}},
                   "launchMode": "Normal", "moveOn": "CompletedAndPassed", "masteryScore": 0.8,
                   "launchParameters": '{"level":2}', "returnURL": "https://lms.example.com/done"}
    relaunched = _xapi(api, "GET", _state_path(world, _params(_launch(world))), f"Bearer {world['admin']}")
    assert json.loads(relaunched.body)["contextTemplate"]["extensions"][cmi5.SESSION_ID] != session  # one per launch


def test_the_lms_stores_a_launched_statement_before_the_launch(api: Any, world: dict[str, Any]) -> None:
    from chalicelib.content import cmi5

    url = _launch(world)
    params = _params(url)
    query = urlencode({"verb": cmi5.LAUNCHED, "registration": params["registration"]})
    resp = _xapi(api, "GET", f"/v1/tenants/{world['t']}/xapi/statements?{query}", f"Bearer {world['admin']}")
    assert resp.status_code == 200, resp.body
    [launched] = json.loads(resp.body)["statements"]
    assert launched["actor"] == json.loads(params["actor"])
    assert launched["object"]["id"] == params["activityId"]
    context = launched["context"]
    assert context["registration"] == params["registration"]
    assert {"objectType": "Activity", "id": cmi5.CATEGORY_CMI5} in context["contextActivities"]["category"]
    assert context["contextActivities"]["grouping"] == [{"objectType": "Activity", "id": AU_ID}]
    ext = context["extensions"]
    assert ext[cmi5.LAUNCH_MODE] == "Normal" and ext[cmi5.MOVE_ON] == "CompletedAndPassed"
    assert ext[cmi5.MASTERY_SCORE] == 0.8 and ext[cmi5.LAUNCH_PARAMETERS] == '{"level":2}'
    assert ext[cmi5.LAUNCH_URL] == BASE + CONTENT  # without the launch parameters
    state = json.loads(_xapi(api, "GET", _state_path(world, params), f"Bearer {world['admin']}").body)
    assert ext[cmi5.SESSION_ID] == state["contextTemplate"]["extensions"][cmi5.SESSION_ID]


# -- the auth-token fetch (8.2) -------------------------------------------------------------------------------
def _initialized(params: dict[str, str], session: str) -> dict[str, Any]:
    from chalicelib.content import cmi5

    return {"id": str(uuid.uuid4()), "actor": json.loads(params["actor"]),
            "verb": {"id": cmi5.INITIALIZED, "display": {"en-US": "initialized"}},
            "object": {"objectType": "Activity", "id": params["activityId"]},
            "context": {"registration": params["registration"],
                        "contextActivities": {"category": [{"id": cmi5.CATEGORY_CMI5}],
                                              "grouping": [{"id": AU_ID}]},
                        "extensions": {cmi5.SESSION_ID: session}},
            "timestamp": "2024-05-01T10:00:00.000Z"}


def test_fetch_gives_a_working_basic_credential_once(api: Any, world: dict[str, Any]) -> None:
    from chalicelib.content import cmi5

    url = _launch(world)
    params = _params(url)
    answer = _fetch(world, url)
    assert set(answer) == {"auth-token"}
    auth = "Basic " + answer["auth-token"]
    key, _, secret = base64.b64decode(answer["auth-token"]).decode().partition(":")
    assert key.startswith(cmi5.AU_KEY_PREFIX) and secret
    # the AU reads its launch data, then records "initialized" with the endpoint and token it was given
    state = _xapi(api, "GET", _state_path(world, params), auth)
    assert state.status_code == 200, state.body
    session = json.loads(state.body)["contextTemplate"]["extensions"][cmi5.SESSION_ID]
    stored = _xapi(api, "POST", f"/v1/tenants/{world['t']}/xapi/statements", auth, _initialized(params, session))
    assert stored.status_code == 200, stored.body
    mine = _xapi(api, "GET", f"/v1/tenants/{world['t']}/xapi/statements", auth)
    assert mine.status_code == 200 and len(json.loads(mine.body)["statements"]) == 1  # read/mine: its own only
    # used once: the second call is error 1 and no second credential exists
    assert _fetch(world, url) == {"error-code": "1",
                                  "error-text": "The authorization token has already been returned."}
    listed = api.json(api.call("GET", f"/v1/tenants/{world['t']}/xapi-credentials", world["admin"]))
    assert listed["items"] == []  # session credentials are not the admins' to manage


def test_the_au_credential_is_bound_to_its_session_and_expires(api: Any, world: dict[str, Any]) -> None:
    from chalicelib.content import cmi5
    from chalicelib.lrs import credentials
    from chalicelib.store import keys
    from chalicelib.store.models import LrsCredential

    url = _launch(world)
    key, _, secret = base64.b64decode(_fetch(world, url)["auth-token"]).decode().partition(":")
    cred = LrsCredential.get(keys.lrs_credential_pk(world["t"], key), keys.LRS_KEY_SK)
    assert cred.ttl is not None and 0 < cred.ttl - time.time() <= cmi5.SESSION_SECONDS
    assert sorted(cred.scopes) == sorted(cmi5.AU_SCOPES)
    principal = credentials.authenticate(world["t"], key, secret)
    assert cmi5.credential_key(principal) == key
    session = cmi5.session_for(world["t"], key)
    state = json.loads(_xapi(api, "GET", _state_path(world, _params(url)), f"Bearer {world['admin']}").body)
    assert session is not None and session.attempt_id == world["attempt"].id and session.sco_index == 0
    assert session.session_id == state["contextTemplate"]["extensions"][cmi5.SESSION_ID]
    assert session.registration == _params(url)["registration"] and session.activity_id == _params(url)["activityId"]
    assert cmi5.session_for(world["t"], "lk-other") is None and cmi5.session_for(world["t"], "cmi5-nope") is None


def test_an_expired_au_credential_is_refused(api: Any, world: dict[str, Any], monkeypatch: Any) -> None:
    from chalicelib.content import cmi5

    url = _launch(world)
    params, auth = _params(url), "Basic " + _fetch(world, url)["auth-token"]
    assert _xapi(api, "GET", _state_path(world, params), auth).status_code == 200
    later = time.time() + cmi5.SESSION_SECONDS + 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert _xapi(api, "GET", _state_path(world, params), auth).status_code == 401


def test_forged_wrong_or_missing_fetch_tokens_are_security_errors(world: dict[str, Any]) -> None:
    from chalicelib.content import cmi5

    url = _launch(world)
    token = _params(_params(url)["fetch"])["token"]
    t, attempt_id = world["t"], world["attempt"].id
    for bad in (tamper(token, j="0123456789abcdef0123"), tamper(token, u="someone-else"), token + "x", "", None,
                "not-a-token"):
        assert cmi5.fetch_token(t, attempt_id, bad)["error-code"] == "2", bad
    assert cmi5.fetch_token(t, "at-other", token)["error-code"] == "2"
    from chalicelib.content import launch

    content = launch.sign("content", {"t": t, "a": attempt_id})  # another kind of launch token
    assert cmi5.fetch_token(t, attempt_id, content)["error-code"] == "2"
    assert set(cmi5.fetch_token(t, attempt_id, token)) == {"auth-token"}  # the genuine one still works


def test_an_expired_fetch_token_is_error_1(world: dict[str, Any]) -> None:
    from chalicelib.content import cmi5, launch

    token = _params(_params(_launch(world))["fetch"])["token"]
    claims = json.loads(launch._unb64(token.split(".")[0]))
    claims.pop("x")
    stale = launch.sign("cmi5-fetch", claims, ttl=cmi5.FETCH_SECONDS, now=time.time() - cmi5.FETCH_SECONDS - 5)
    answer = cmi5.fetch_token(world["t"], world["attempt"].id, stale)
    assert answer["error-code"] == "1" and "expired" in answer["error-text"]


def test_an_application_failure_is_error_3(world: dict[str, Any], monkeypatch: Any) -> None:
    from chalicelib.content import cmi5

    url = _launch(world)

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("table unavailable")

    monkeypatch.setattr(cmi5.Tx, "commit", broken)
    assert _fetch(world, url)["error-code"] == "3"
    monkeypatch.undo()
    assert "auth-token" in _fetch(world, url)  # nothing was recorded: the token is still unused


# -- moveOn (13.1.4) and outcomes (9.3, 9.5) ------------------------------------------------------------------
@pytest.mark.parametrize(("move_on", "completed", "passed", "met"), [
    ("Passed", False, False, False), ("Passed", True, False, False), ("Passed", False, True, True),
    ("Completed", False, False, False), ("Completed", True, False, True), ("Completed", False, True, False),
    ("CompletedAndPassed", True, False, False), ("CompletedAndPassed", False, True, False),
    ("CompletedAndPassed", True, True, True),
    ("CompletedOrPassed", False, False, False), ("CompletedOrPassed", True, False, True),
    ("CompletedOrPassed", False, True, True),
    ("NotApplicable", False, False, True), (None, False, False, True),
])
def test_move_on_rules(move_on: str | None, completed: bool, passed: bool, met: bool) -> None:
    from chalicelib.content import cmi5

    assert cmi5.move_on_met(move_on, completed, passed) is met


def test_an_unknown_move_on_is_an_error() -> None:
    from chalicelib.content import cmi5

    with pytest.raises(ValueError, match="moveOn"):
        cmi5.move_on_met("Attempted", True, True)


AU = {"id": AU_ID, "activityId": AU_ID, "moveOn": "CompletedAndPassed", "masteryScore": 0.8}
ACT, REG = "https://onramp.local/x/aus/1", "7d7a3b52-6f0c-4bb1-9f1a-1b0d7f7a2c11"


def _stmt(verb: str, result: dict[str, Any] | None = None, categories: tuple[str, ...] | None = None,
          activity: str = ACT, registration: str = REG) -> dict[str, Any]:
    from chalicelib.content import cmi5

    cats = (cmi5.CATEGORY_CMI5, cmi5.CATEGORY_MOVEON) if categories is None else categories
    doc: dict[str, Any] = {"actor": {"objectType": "Agent", "account": {"homePage": "https://x", "name": "u"}},
                           "verb": {"id": verb}, "object": {"id": activity},
                           "context": {"registration": registration,
                                       "contextActivities": {"category": [{"id": c} for c in cats]}}}
    if result is not None:
        doc["result"] = result
    return doc


@pytest.mark.parametrize(("statement", "expected"), [
    (("completed", {"completion": True, "duration": "PT5M"}), ("completed", None, None)),
    (("completed", {}), (None, None, None)),  # a completed without completion: true is not a completion
    (("passed", {"success": True, "score": {"scaled": 0.9}}), (None, "passed", 0.9)),
    (("passed", {"success": True, "score": {"raw": 45, "min": 0, "max": 50}}), (None, "passed", 0.9)),
    (("passed", {"success": True}), (None, "passed", None)),
    (("passed", {"success": True, "score": {"scaled": 0.5}}), (None, None, None)),  # below masteryScore
    (("failed", {"success": False, "score": {"scaled": 0.5}}), (None, "failed", 0.5)),
    (("failed", {"success": False, "score": {"scaled": 0.85}}), (None, None, None)),  # above masteryScore
    (("passed", {"success": False}), (None, None, None)),
    (("initialized", None), (None, None, None)),
    (("terminated", {"duration": "PT9M"}), (None, None, None)),
])
def test_outcome_of_an_au_statement(statement: tuple[str, dict[str, Any] | None], expected: tuple[Any, ...]) -> None:
    from chalicelib.content import cmi5

    verb, result = statement
    assert cmi5.outcome(_stmt(f"http://adlnet.gov/expapi/verbs/{verb}", result), AU, activity_id=ACT,
                        registration=REG) == expected


def test_outcome_ignores_cmi5_allowed_and_other_aus_or_registrations() -> None:
    from chalicelib.content import cmi5

    done = {"completion": True}
    assert cmi5.outcome(_stmt(cmi5.COMPLETED, done, categories=()), AU) == (None, None, None)
    assert cmi5.outcome(_stmt(cmi5.COMPLETED, done, activity="https://other"), AU, activity_id=ACT) == (
        None, None, None)
    assert cmi5.outcome(_stmt(cmi5.COMPLETED, done, registration=str(uuid.uuid4())), AU, registration=REG) == (
        None, None, None)
    assert cmi5.outcome(_stmt(cmi5.COMPLETED, done, registration=REG.upper()), AU, activity_id=ACT,
                        registration=REG) == ("completed", None, None)
    assert cmi5.outcome(_stmt(cmi5.PASSED, {"success": True, "score": {"scaled": 0.2}}), {"id": "x"}) == (
        None, "passed", 0.2)  # no masteryScore: the AU's judgement stands


# -- satisfied (9.3.9) ----------------------------------------------------------------------------------------
def test_course_satisfied_follows_each_aus_move_on(api: Any) -> None:
    from chalicelib.content import cmi5

    world = _attempt(api, _package(
        FakeSco(id="urn:au:a", title="A", launch="a.html", scorm_type="au", move_on="Completed"),
        FakeSco(id="urn:au:b", title="B", launch="b.html", scorm_type="au", move_on="Passed"),
        FakeSco(id="urn:au:c", title="C", launch="c.html", scorm_type="au", move_on="NotApplicable")))
    attempt = world["attempt"]
    assert not cmi5.course_satisfied(attempt)
    attempt.runtime = {"s0": {"completedAt": "2024-05-01T10:00:00Z"}, "s1": {"success": "failed"}, "s2": {}}
    assert not cmi5.course_satisfied(attempt)
    attempt.runtime = {"s0": {"completedAt": "2024-05-01T10:00:00Z"}, "s1": {"passedAt": "2024-05-01T10:05:00Z"}}
    assert cmi5.course_satisfied(attempt)


def test_satisfied_statement_is_about_the_course_and_stored_once(api: Any, world: dict[str, Any]) -> None:
    from chalicelib.content import cmi5

    t, attempt = world["t"], world["attempt"]
    doc = cmi5.satisfied_statement(t, attempt, "5ba84750-2bc2-4793-8fad-b2ffde5ea3a3")
    assert doc["verb"]["id"] == "https://w3id.org/xapi/adl/verbs/satisfied"
    assert doc["object"]["id"] == cmi5.course_activity_id(t, attempt) != "https://example.com/course/1"
    assert doc["object"]["definition"]["type"] == "https://w3id.org/xapi/cmi5/activitytype/course"
    assert doc["actor"] == cmi5.actor(attempt.user_id)
    assert doc["context"]["registration"] == cmi5.registration(t, attempt.id)
    assert doc["context"]["contextActivities"]["category"] == [{"objectType": "Activity", "id": cmi5.CATEGORY_CMI5}]
    assert doc["context"]["extensions"] == {cmi5.SESSION_ID: "5ba84750-2bc2-4793-8fad-b2ffde5ea3a3"}
    assert "result" not in doc
    grouped = cmi5.satisfied_statement(t, attempt, course_publisher_id="https://example.com/course/1")
    assert grouped["context"]["contextActivities"]["grouping"] == [
        {"objectType": "Activity", "id": "https://example.com/course/1"}]
    assert cmi5.satisfied_statement(t, attempt)["context"]["extensions"][cmi5.SESSION_ID]  # a fresh session id
    assert cmi5.record_satisfied(t, attempt, "5ba84750-2bc2-4793-8fad-b2ffde5ea3a3") is True
    assert cmi5.record_satisfied(t, attempt, "5ba84750-2bc2-4793-8fad-b2ffde5ea3a3") is False
    query = urlencode({"verb": cmi5.SATISFIED, "registration": cmi5.registration(t, attempt.id)})
    resp = _xapi(api, "GET", f"/v1/tenants/{t}/xapi/statements?{query}", f"Bearer {world['admin']}")
    assert len(json.loads(resp.body)["statements"]) == 1


def test_a_suspended_tenants_fetch_is_refused(api: Any, world: dict[str, Any]) -> None:
    from chalicelib.content import cmi5
    from chalicelib.tenancy import cache

    url = _launch(world)
    assert api.call("POST", f"/v1/tenants/{world['t']}/suspend", api.operator).status_code == 200
    cache.reset()  # another container sees it within the cache's 30 seconds
    assert _fetch(world, url)["error-code"] == cmi5.SECURITY_ERROR
