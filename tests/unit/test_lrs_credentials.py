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
    assert lrs.request("GET", "/statements").status_code in (200, 403)
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
