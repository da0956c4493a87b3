"""The alternate request syntax (xAPI 1.0.3 Communication 1.3): POST ?method=X with the headers, the
content and the other parameters as form fields, served by the same routes."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from tests.unit.lrs_helpers import basic, new_id, statement

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def alternate(lrs: Any, method: str, path: str, form: dict[str, str], *, query: str | None = None,
              headers: dict[str, str] | None = None, http_method: str = "POST") -> Any:
    """Only the form carries Authorization and the version unless `headers` adds real ones."""
    url = lrs.base + path + "?" + (query if query is not None else f"method={method}")
    return lrs.api.client.http.request(http_method, url, headers={**FORM, **(headers or {})},
                                       body=urlencode(form).encode())


def auth_form(lrs: Any) -> dict[str, str]:
    return {"Authorization": basic(lrs.key, lrs.secret), "X-Experience-API-Version": "1.0.3"}


def test_put_statement_then_get_it(lrs: Any) -> None:
    sid = new_id()
    doc = statement(object={"objectType": "Activity", "id": "http://example.com/a?b=1&c=d"})
    put = alternate(lrs, "PUT", "/statements", {**auth_form(lrs), "statementId": sid,
                                                "Content-Type": "application/json", "content": json.dumps(doc)})
    assert put.status_code == 204, put.body
    assert put.headers["X-Experience-API-Version"] == "1.0.3"
    got = alternate(lrs, "GET", "/statements", {**auth_form(lrs), "statementId": sid})
    assert got.status_code == 200, got.body
    assert json.loads(got.body)["object"]["id"] == "http://example.com/a?b=1&c=d"
    assert "X-Experience-API-Consistent-Through" in got.headers
    # the normal syntax sees the same statement
    assert json.loads(lrs.request("GET", f"/statements?statementId={sid}").body)["id"] == sid


def test_content_type_form_field_is_optional_for_statements(lrs: Any) -> None:
    put = alternate(lrs, "PUT", "/statements", {**auth_form(lrs), "statementId": new_id(),
                                                "content": json.dumps(statement())})
    assert put.status_code == 204, put.body
    trailing = urlencode({**auth_form(lrs), "statementId": new_id(), "content": json.dumps(statement())}) + "&"
    resp = lrs.api.client.http.request("POST", lrs.base + "/statements?method=PUT", headers=FORM,
                                       body=trailing.encode())
    assert resp.status_code == 204, resp.body


def test_get_statements_with_filters_and_header_auth(lrs: Any) -> None:
    """The conformance suite's case: real Authorization / version headers, only `limit` in the form."""
    lrs.request("POST", "/statements", [statement(), statement()])
    got = alternate(lrs, "GET", "/statements", {"limit": "1"},
                    headers={"Authorization": basic(lrs.key, lrs.secret), "X-Experience-API-Version": "1.0.3"})
    assert got.status_code == 200, got.body
    page = json.loads(got.body)
    assert len(page["statements"]) == 1 and page["more"]
    agent = json.dumps({"mbox": "mailto:learner@example.com"})
    by_agent = alternate(lrs, "GET", "/statements", {**auth_form(lrs), "agent": agent, "limit": "5"})
    assert len(json.loads(by_agent.body)["statements"]) == 2


def test_post_batch_and_documents(lrs: Any) -> None:
    posted = alternate(lrs, "POST", "/statements", {**auth_form(lrs), "content": json.dumps([statement()])})
    assert posted.status_code == 200 and len(json.loads(posted.body)) == 1
    agent = json.dumps({"objectType": "Agent", "mbox": "mailto:ana@example.com"})
    scope = {"activityId": "http://example.com/courses/discovery", "agent": agent, "stateId": "s"}
    put = alternate(lrs, "PUT", "/activities/state", {**auth_form(lrs), **scope, "Content-Type": "application/json",
                                                      "content": json.dumps({"page": 1})})
    assert put.status_code == 204, put.body
    etag = put.headers["ETag"]
    got = alternate(lrs, "GET", "/activities/state", {**auth_form(lrs), **scope})
    assert json.loads(got.body) == {"page": 1} and got.headers["ETag"] == etag
    stale = alternate(lrs, "DELETE", "/activities/state", {**auth_form(lrs), **scope, "If-Match": '"nope"'})
    assert stale.status_code == 412  # If-Match from the form is a header
    gone = alternate(lrs, "DELETE", "/activities/state", {**auth_form(lrs), **scope, "If-Match": etag})
    assert gone.status_code == 204
    assert alternate(lrs, "GET", "/activities/state", {**auth_form(lrs), **scope}).status_code == 404


def test_form_authorization_is_checked(lrs: Any) -> None:
    bad = {**auth_form(lrs), "Authorization": basic(lrs.key, "wrong")}
    assert alternate(lrs, "GET", "/statements", bad).status_code == 401
    assert alternate(lrs, "GET", "/statements", {"X-Experience-API-Version": "1.0.3"}).status_code == 401
    read_only = lrs.credential(["statements/read"])
    denied = alternate(lrs, "PUT", "/statements", {**auth_form(lrs), "Authorization": read_only,
                                                   "statementId": new_id(), "content": json.dumps(statement())})
    assert denied.status_code == 403  # the scope of the method asked for, not of POST


def _reject(lrs: Any, case: str, sid: str) -> Any:
    form = {**auth_form(lrs), "statementId": sid, "content": json.dumps(statement())}
    header_auth = {"Authorization": basic(lrs.key, lrs.secret), "X-Experience-API-Version": "1.0.3"}
    url = lrs.base + "/statements?method=PUT"
    raw = urlencode({k: v for k, v in form.items() if k != "content"}) + "&content=" + quote(b"\xff\xfe")
    cases = {
        "extra query parameter": lambda: alternate(lrs, "PUT", "/statements", form,
                                                   query=f"method=PUT&statementId={sid}"),
        "not a POST": lambda: alternate(lrs, "POST", "/statements", form, http_method="PUT"),
        "unknown method": lambda: alternate(lrs, "PATCH", "/statements", form),
        "method=HEAD": lambda: alternate(lrs, "HEAD", "/statements", form),
        "method repeated": lambda: alternate(lrs, "PUT", "/statements", form, query="method=PUT&method=GET"),
        "not form-encoded": lambda: alternate(lrs, "PUT", "/statements", form,
                                              headers={"Content-Type": "application/json"}),
        "form version wins over header": lambda: alternate(
            lrs, "PUT", "/statements", {**form, "X-Experience-API-Version": "0.8"}, headers=header_auth),
        "no content": lambda: lrs.api.client.http.request("POST", url, headers=header_auth, body=b""),
        "body not url-encoded": lambda: lrs.api.client.http.request(
            "POST", url, headers={**FORM, **header_auth}, body=json.dumps(form).encode()),
        "content not utf-8": lambda: lrs.api.client.http.request("POST", url, headers=FORM, body=raw.encode()),
        "unknown form parameter": lambda: alternate(lrs, "PUT", "/statements", {**form, "colour": "blue"}),
        "method not served by the resource": lambda: alternate(lrs, "DELETE", "/statements", form),
    }
    return cases[case]()


@pytest.mark.parametrize("case", [
    "extra query parameter", "not a POST", "unknown method", "method=HEAD", "method repeated", "not form-encoded",
    "form version wins over header", "no content", "body not url-encoded", "content not utf-8",
    "unknown form parameter", "method not served by the resource",
])
def test_rejections_are_400(lrs: Any, case: str) -> None:
    sid = new_id()
    resp = _reject(lrs, case, sid)
    assert resp.status_code == 400, (case, resp.body)
    assert resp.headers["X-Experience-API-Version"] == "1.0.3"
    assert lrs.request("GET", f"/statements?statementId={sid}").status_code == 404  # nothing stored
