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


def _activity_statement(activity: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"actor": {"mbox": "mailto:ana@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
            "object": activity, **extra}


def test_activities_resource_merges_the_definitions_of_statements(lrs: Any) -> None:
    """Communication 2.5 (XAPI-00254): the Activity object holds all the statements said of it: language
    maps and extensions merged key by key, other fields the latest; context activities count too."""
    act = "http://example.com/meetings/" + new_id()
    first = {"objectType": "Activity", "id": act, "definition": {
        "type": "http://adlnet.gov/expapi/activities/meeting", "name": {"en-US": "example meeting"},
        "extensions": {"http://example.com/ext/a": 1}}}
    second = {"id": act, "definition": {"name": {"fr-FR": "réunion"}, "moreInfo": "http://example.com/more",
                                         "extensions": {"http://example.com/ext/b": {"x": 2}}}}
    both = [_activity_statement(first), _activity_statement(second)]
    assert lrs.request("POST", "/statements", both).status_code == 200
    got = json.loads(lrs.request("GET", f"/activities?activityId={quote(act)}").body)
    assert got == {"objectType": "Activity", "id": act, "definition": {
        "type": "http://adlnet.gov/expapi/activities/meeting", "name": {"en-US": "example meeting", "fr-FR": "réunion"},
        "moreInfo": "http://example.com/more",
        "extensions": {"http://example.com/ext/a": 1, "http://example.com/ext/b": {"x": 2}}}}
    parent = "http://example.com/programs/" + new_id()
    ctx = {"contextActivities": {"parent": {"id": parent, "definition": {"name": {"en-US": "program"}}}}}
    lrs.request("POST", "/statements", _activity_statement({"id": act, "definition": {"name": {"en-US": "renamed"}}},
                                                          context=ctx))
    got = json.loads(lrs.request("GET", f"/activities?activityId={quote(act)}").body)
    assert got["definition"]["name"] == {"en-US": "renamed", "fr-FR": "réunion"}
    assert got["definition"]["type"] == "http://adlnet.gov/expapi/activities/meeting"
    assert json.loads(lrs.request("GET", f"/activities?activityId={quote(parent)}").body)["definition"] == {
        "name": {"en-US": "program"}}


def test_a_replayed_statement_does_not_merge_again(lrs: Any) -> None:
    act = "http://example.com/meetings/" + new_id()
    sid = new_id()
    old = _activity_statement({"id": act, "definition": {"name": {"en-US": "old"}}}, id=sid)
    lrs.request("POST", "/statements", old)
    lrs.request("POST", "/statements", _activity_statement({"id": act, "definition": {"name": {"en-US": "new"}}}))
    assert lrs.request("POST", "/statements", old).status_code == 200  # the same statement again: a no-op
    got = json.loads(lrs.request("GET", f"/activities?activityId={quote(act)}").body)
    assert got["definition"] == {"name": {"en-US": "new"}}


BINARY = bytes(range(256)) + b"\xff\xfe\x00 not utf-8"


@pytest.mark.parametrize("path", [STATE + "&stateId=blob", APROF + "&profileId=blob", GPROF + "&profileId=blob"])
@pytest.mark.parametrize("content_type", ["application/octet-stream", "text/plain", "image/png", "not/json"])
def test_non_json_documents_round_trip_without_accept(lrs: Any, path: str, content_type: str) -> None:
    """The conformance suite stores such documents and GETs them back with no Accept header."""
    text = "/ asdf / undefined \u00e9\u2713".encode()
    put = lrs.request("PUT", path, raw=text, headers={"Content-Type": content_type, "If-None-Match": "*"})
    assert put.status_code == 204, put.body
    got = lrs.request("GET", path)
    assert got.status_code == 200, got.body
    assert got.body == text
    binary_type = content_type in ("application/octet-stream", "image/png")  # API Gateway binary media types
    # served as text (API Gateway passes it through unchanged): a binary type cannot be, so text/plain
    assert got.headers["Content-Type"] == ("text/plain; charset=utf-8" if binary_type else content_type)
    if binary_type:  # an Accept of its type gets it under its own type
        typed = lrs.request("GET", path, headers={"Accept": content_type})
        assert typed.body == text and typed.headers["Content-Type"] == content_type
    head = lrs.request("HEAD", path)
    assert head.status_code == 200 and head.body == b""


@pytest.mark.parametrize("content_type", ["application/octet-stream", "text/plain", "image/png"])
def test_non_utf8_documents_round_trip_byte_exact(lrs: Any, content_type: str) -> None:
    path = STATE + "&stateId=bytes"
    assert lrs.request("PUT", path, raw=BINARY, headers={"Content-Type": content_type}).status_code == 204
    binary_type = content_type != "text/plain"  # text/plain is not one of the API's binary media types
    for accept in ("application/octet-stream", "*/*", "*/*;q=0.8, text/html") + ((content_type,) * binary_type):
        got = lrs.request("GET", path, headers={"Accept": accept})
        assert got.status_code == 200, (accept, got.body)
        assert got.body == BINARY
        assert got.headers["Content-Type"] == (content_type if binary_type else "application/octet-stream")
        assert got.headers["ETag"].startswith('"')
    # Without an Accept that API Gateway would decode base64 for, the bytes cannot travel: 406, never mangled
    # (API Gateway honours only the first Accept type)
    for accept in ({}, {"Accept": "text/plain"}, {"Accept": "application/json"}, {"Accept": "text/html, */*"}):
        refused = lrs.request("GET", path, headers=accept)
        assert refused.status_code == 406 and "Accept" in json.loads(refused.body)["detail"]
    assert lrs.request("HEAD", path, headers={"Accept": "application/octet-stream"}).body == b""


def test_binary_document_served_with_its_type_when_accepted(lrs: Any) -> None:
    path = STATE + "&stateId=img"
    lrs.request("PUT", path, raw=b"abc", headers={"Content-Type": "image/png"})
    got = lrs.request("GET", path, headers={"Accept": "image/png"})
    assert got.status_code == 200 and got.body == b"abc" and got.headers["Content-Type"] == "image/png"


def test_text_goes_out_as_text_and_bytes_as_base64(lrs: Any) -> None:
    """What API Gateway receives: a text body it passes through, or base64 it decodes for a binary Accept."""
    from tests.unit.lrs_helpers import VERSION, basic

    path = STATE + "&stateId=wire"
    lrs.request("PUT", path, raw=b"caf\xc3\xa9", headers={"Content-Type": "application/octet-stream"})
    gateway = lrs.api.client.http._local_gateway
    headers = {"Authorization": basic(lrs.key, lrs.secret), **VERSION}
    text = gateway.handle_request(method="GET", path=lrs.base + path, headers=headers, body=b"")
    assert not text.get("isBase64Encoded") and text["body"] == "caf\u00e9"
    binary = gateway.handle_request(method="GET", path=lrs.base + path, body=b"",
                                    headers={**headers, "Accept": "application/octet-stream"})
    assert binary["isBase64Encoded"] and binary["body"] == "Y2Fmw6k="
