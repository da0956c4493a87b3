"""LRS credentials, HTTP Basic and bearer auth on the xAPI endpoint, the version header, About."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.lrs_helpers import basic, make_lrs


def test_admin_creates_lists_and_revokes_credentials_secret_shown_once(api: Any) -> None:
    lrs = make_lrs(api, ["statements/write", "statements/read/mine"])
    listed = api.call("GET", f"/v1/tenants/{lrs.tenant_id}/xapi-credentials", lrs.admin)
    assert listed.status_code == 200
    items = json.loads(listed.body)["items"]
    assert [c["key"] for c in items] == [lrs.key]
    assert items[0]["scopes"] == ["statements/write", "statements/read/mine"]
    assert "secret" not in items[0] and lrs.secret not in listed.body.decode()
    from chalicelib.store import keys
    from chalicelib.store.models import LrsCredential

    stored = LrsCredential.get(keys.lrs_credential_pk(lrs.tenant_id, lrs.key), keys.LRS_KEY_SK)
    assert lrs.secret not in stored.secret_hash  # hashed at rest
    assert lrs.request("GET", "/statements").status_code == 200  # read/mine may list (its own)
    gone = api.call("DELETE", f"/v1/tenants/{lrs.tenant_id}/xapi-credentials/{lrs.key}", lrs.admin)
    assert gone.status_code == 204 and gone.body in (b"", "")
    assert lrs.request("GET", "/statements").status_code == 401
    missing = api.call("DELETE", f"/v1/tenants/{lrs.tenant_id}/xapi-credentials/lk-nope", lrs.admin)
    assert missing.status_code == 404


def test_learners_cannot_manage_credentials(api: Any) -> None:
    lrs = make_lrs(api)
    _, learner = api.user_token(lrs.tenant_id, ["learner"])
    resp = api.call("POST", f"/v1/tenants/{lrs.tenant_id}/xapi-credentials", learner,
                    {"name": "x", "scopes": ["all"]})
    assert resp.status_code == 403


def test_unknown_scope_is_rejected(api: Any) -> None:
    lrs = make_lrs(api)
    resp = api.call("POST", f"/v1/tenants/{lrs.tenant_id}/xapi-credentials", lrs.admin,
                    {"name": "x", "scopes": ["statements/delete"]})
    assert resp.status_code == 400


@pytest.mark.parametrize("auth", ["", "Basic !!!", "Basic " + "bm9jb2xvbg==", "Digest abc"])
def test_missing_or_malformed_credentials_are_401_with_a_basic_challenge(api: Any, auth: str) -> None:
    lrs = make_lrs(api)
    resp = lrs.request("GET", "/statements", auth=auth or " ")
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Basic")
    assert resp.headers["X-Experience-API-Version"] == "1.0.3"


def test_wrong_secret_and_other_tenants_key_are_401(api: Any) -> None:
    lrs, other = make_lrs(api), make_lrs(api)
    assert lrs.request("GET", "/statements", auth=basic(lrs.key, "wrong")).status_code == 401
    assert lrs.request("GET", "/statements", auth=basic(other.key, other.secret)).status_code == 401


def test_bearer_tokens_of_the_tenant_work_and_others_are_404(api: Any) -> None:
    lrs, other = make_lrs(api), make_lrs(api)
    assert lrs.request("GET", "/statements", auth=f"Bearer {lrs.admin}").status_code == 200
    assert lrs.request("GET", "/statements", auth=f"Bearer {other.admin}").status_code == 404


def test_scopes_limit_what_a_credential_does(api: Any) -> None:
    lrs = make_lrs(api, ["statements/write"])
    assert lrs.request("GET", "/statements").status_code == 403
    reader = lrs.credential(["statements/read"])
    assert lrs.request("GET", "/statements", auth=reader).status_code == 200


@pytest.mark.parametrize(("version", "status"), [(None, 400), ("0.95", 400), ("2.0.0", 400), ("1.0", 200),
                                                 ("1.0.0", 200), ("1.0.3", 200), ("1.0.9", 200)])
def test_version_header_is_required_and_must_be_1_0_x(api: Any, version: str | None, status: int) -> None:
    lrs = make_lrs(api)
    headers = {"X-Experience-API-Version": version} if version else {}
    resp = lrs.request("GET", "/statements", headers=headers, version=False)
    assert resp.status_code == status, resp.body
    assert resp.headers["X-Experience-API-Version"] == "1.0.3"


def test_about_needs_no_auth_and_lists_versions(api: Any) -> None:
    lrs = make_lrs(api)
    resp = api.client.http.get(f"{lrs.base}/about")
    assert resp.status_code == 200
    doc = json.loads(resp.body)
    assert "1.0.3" in doc["version"] and doc["extensions"] == {}
    assert resp.headers["X-Experience-API-Version"] == "1.0.3"
    head = api.client.http.request("HEAD", f"{lrs.base}/about")
    assert head.status_code == 200 and head.body in (b"", "")


def test_browsers_get_the_xapi_cors_headers(api: Any) -> None:
    lrs = make_lrs(api)
    resp = lrs.request("GET", "/statements", headers={"Origin": "https://portal.example"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Experience-API-Version" in resp.headers["Access-Control-Allow-Headers"]
    assert "X-Experience-API-Consistent-Through" in resp.headers["Access-Control-Expose-Headers"]


def _store(lrs: Any, auth: str) -> str:
    from tests.unit.lrs_helpers import statement

    resp = lrs.request("POST", "/statements", statement(), auth=auth)
    assert resp.status_code == 200, resp.body
    return str(json.loads(resp.body)[0])


def test_read_mine_sees_only_its_own_statements_by_id_and_in_lists(api: Any) -> None:
    lrs = make_lrs(api)
    everyone = basic(lrs.key, lrs.secret)
    mine = lrs.credential(["statements/write", "statements/read/mine"])
    theirs_id, mine_id = _store(lrs, everyone), _store(lrs, mine)
    assert lrs.request("GET", f"/statements?statementId={mine_id}", auth=mine).status_code == 200
    assert lrs.request("GET", f"/statements?statementId={theirs_id}", auth=mine).status_code == 404
    listed = json.loads(lrs.request("GET", "/statements", auth=mine).body)["statements"]
    assert [s["id"] for s in listed] == [mine_id]
    assert lrs.request("GET", f"/statements?statementId={theirs_id}", auth=everyone).status_code == 200


def test_read_mine_works_for_a_bearer_client_too(api: Any) -> None:
    lrs = make_lrs(api)
    other_id = _store(lrs, basic(lrs.key, lrs.secret))
    made = json.loads(api.call("POST", f"/v1/tenants/{lrs.tenant_id}/clients", lrs.admin, {
        "name": "lms", "scopes": ["xapi:statements:write", "xapi:statements:read:mine"]}).body)
    token = json.loads(api.token_for_client(made["clientId"], made["clientSecret"]).body)["access_token"]
    bearer = f"Bearer {token}"
    mine_id = _store(lrs, bearer)
    listed = json.loads(lrs.request("GET", "/statements", auth=bearer).body)["statements"]
    assert [s["id"] for s in listed] == [mine_id]
    assert lrs.request("GET", f"/statements?statementId={other_id}", auth=bearer).status_code == 404


@pytest.mark.parametrize(("path", "headers", "body"), [
    ("/statements", {"Authorization": "Basic é"}, None),
    ("/statements?limit=²", {}, None),
    ("/statements?format=canonical", {"Accept-Language": "en;q=²"}, None),
    ("/statements", {}, {"actor": {"mbox": "mailto:a@b.co"}, "verb": {"id": "http://x.example/v"},
                         "object": {"id": "http://x.example/a", "definition": {"interactionType": []}}}),
])
def test_odd_client_input_is_never_a_500(api: Any, path: str, headers: dict[str, str], body: Any) -> None:
    lrs = make_lrs(api)
    resp = lrs.request("POST" if body else "GET", path, body, headers=headers)
    assert resp.status_code < 500, resp.body  # a bad Accept-Language weight is ignored (200); the rest are 4xx


def test_a_statement_id_with_a_trailing_newline_is_rejected(api: Any) -> None:
    from tests.unit.lrs_helpers import statement

    lrs = make_lrs(api)
    resp = lrs.request("PUT", "/statements?statementId=12345678-1234-4234-8234-123456789abc%0A", statement())
    assert resp.status_code == 400
