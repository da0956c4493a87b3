"""The document resources: State, Activity Profile, Agent Profile (ETag concurrency, JSON merge), and
the Activities and Agents resources."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from tests.unit.lrs_helpers import make_lrs, new_id

ACT = "http://example.com/courses/discovery"
AGENT = json.dumps({"objectType": "Agent", "mbox": "mailto:ana@example.com"})
STATE = f"/activities/state?activityId={quote(ACT)}&agent={quote(AGENT)}"
APROF = f"/activities/profile?activityId={quote(ACT)}"
GPROF = f"/agents/profile?agent={quote(AGENT)}"


def test_state_put_get_list_delete(lrs: Any) -> None:
    resp = lrs.request("PUT", STATE + "&stateId=bookmark", {"page": 3})
    assert resp.status_code == 204 and resp.body in (b"", "")
    got = lrs.request("GET", STATE + "&stateId=bookmark")
    assert got.status_code == 200 and json.loads(got.body) == {"page": 3}
    assert got.headers["ETag"].startswith('"') and got.headers["Content-Type"] == "application/json"
    lrs.request("PUT", STATE + "&stateId=notes", raw="plain words", headers={"Content-Type": "text/plain"})
    assert lrs.request("GET", STATE + "&stateId=notes").body == b"plain words"
    assert json.loads(lrs.request("GET", STATE).body) == ["bookmark", "notes"]
    assert lrs.request("PUT", STATE + "&stateId=bookmark", {"page": 4}).status_code == 204  # state: no 409
    assert lrs.request("DELETE", STATE + "&stateId=bookmark").status_code == 204
    assert lrs.request("GET", STATE + "&stateId=bookmark").status_code == 404
    assert lrs.request("DELETE", STATE).status_code == 204
    assert json.loads(lrs.request("GET", STATE).body) == []


def test_state_is_per_registration(lrs: Any) -> None:
    reg = new_id()
    lrs.request("PUT", STATE + f"&registration={reg}&stateId=s", {"r": 1})
    lrs.request("PUT", STATE + "&stateId=s", {"r": 0})
    assert json.loads(lrs.request("GET", STATE + f"&registration={reg}&stateId=s").body) == {"r": 1}
    assert json.loads(lrs.request("GET", STATE + "&stateId=s").body) == {"r": 0}
    assert json.loads(lrs.request("GET", STATE + f"&registration={reg}").body) == ["s"]


def test_post_merges_json_objects(lrs: Any) -> None:
    lrs.request("POST", STATE + "&stateId=s", {"a": 1, "b": 1})
    assert lrs.request("POST", STATE + "&stateId=s", {"b": 2, "c": 3}).status_code == 204
    assert json.loads(lrs.request("GET", STATE + "&stateId=s").body) == {"a": 1, "b": 2, "c": 3}
    lrs.request("PUT", STATE + "&stateId=t", raw="text", headers={"Content-Type": "text/plain"})
    assert lrs.request("POST", STATE + "&stateId=t", {"x": 1}).status_code == 400
    assert lrs.request("POST", STATE + "&stateId=s", raw="[1]").status_code == 400


@pytest.mark.parametrize("path", [APROF, GPROF])
def test_profiles_need_etags_to_replace(lrs: Any, path: str) -> None:
    assert lrs.request("PUT", path + "&profileId=p", {"v": 1}).status_code == 400  # new, but no precondition
    assert lrs.request("PUT", path + "&profileId=p", {"v": 1}, headers={"If-None-Match": "*"}).status_code == 204
    assert lrs.request("PUT", path + "&profileId=p", {"v": 2}).status_code == 409
    etag = lrs.request("GET", path + "&profileId=p").headers["ETag"]
    assert lrs.request("PUT", path + "&profileId=p", {"v": 2}, headers={"If-Match": '"nope"'}).status_code == 412
    assert lrs.request("PUT", path + "&profileId=p", {"v": 2}, headers={"If-None-Match": "*"}).status_code == 412
    assert lrs.request("PUT", path + "&profileId=p", {"v": 2}, headers={"If-Match": etag}).status_code == 204
    assert lrs.request("PUT", path + "&profileId=q", {"v": 1}, headers={"If-None-Match": "*"}).status_code == 204
    assert lrs.request("DELETE", path + "&profileId=p", headers={"If-Match": etag}).status_code == 412
    assert json.loads(lrs.request("GET", path).body) == ["p", "q"]
    assert lrs.request("DELETE", path).status_code == 400  # profiles are deleted one by one


def test_since_lists_only_newer_documents(lrs: Any) -> None:
    lrs.request("POST", APROF + "&profileId=old", {"v": 1})
    stamp = json.loads(lrs.request("GET", APROF + "&since=2000-01-01T00:00:00Z").body)
    assert stamp == ["old"]
    assert json.loads(lrs.request("GET", APROF + "&since=2999-01-01T00:00:00Z").body) == []


@pytest.mark.parametrize("path", ["/activities/state?stateId=s&agent=" + quote(AGENT),
                                  f"/activities/state?stateId=s&activityId={quote(ACT)}",
                                  f"/activities/state?stateId=s&activityId=notiri&agent={quote(AGENT)}",
                                  STATE + "&stateId=s&registration=nope", "/activities/profile?profileId=p",
                                  "/agents/profile?profileId=p&agent=%7B%7D", APROF + "&profileId=p&extra=1"])
def test_bad_parameters_are_400(lrs: Any, path: str) -> None:
    assert lrs.request("PUT", path, {"v": 1}).status_code == 400


def test_documents_of_one_tenant_are_invisible_to_another(api: Any, lrs: Any) -> None:
    lrs.request("PUT", STATE + "&stateId=secret", {"v": 1})
    other = make_lrs(api)
    assert other.request("GET", STATE + "&stateId=secret").status_code == 404
    assert json.loads(other.request("GET", STATE).body) == []


def test_scopes_guard_documents(lrs: Any) -> None:
    statements_only = lrs.credential(["statements/write", "statements/read"])
    assert lrs.request("PUT", STATE + "&stateId=s", {"v": 1}, auth=statements_only).status_code == 403
    state = lrs.credential(["state"])
    assert lrs.request("PUT", STATE + "&stateId=s", {"v": 1}, auth=state).status_code == 204
    assert lrs.request("POST", APROF + "&profileId=p", {"v": 1}, auth=state).status_code == 403


def test_activities_and_agents_resources(lrs: Any) -> None:
    got = lrs.request("GET", f"/activities?activityId={quote(ACT)}")
    assert got.status_code == 200 and json.loads(got.body) == {"objectType": "Activity", "id": ACT}
    person = lrs.request("GET", f"/agents?agent={quote(AGENT)}")
    assert json.loads(person.body) == {"objectType": "Person", "mbox": ["mailto:ana@example.com"]}
    assert lrs.request("GET", "/agents").status_code == 400
