"""Co-branding: brand-kit drafts, versions, the operator's review, the live kit on partners and customers."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest

from tests.unit.callcount import counting
from tests.unit.course_helpers import Stream, stream_records

PASSWORD = "correct-horse-battery"


def kit(**overrides: Any) -> dict[str, Any]:
    body = {"displayName": "Patron Learning", "logoUrl": "https://cdn.patron.example/logo.png",
            "colors": {"primary": "#0f766e", "accent": "#facc15", "text": "#111827"},
            "emailTemplates": {"welcomeSubject": "Welcome to {{tenantName}}, {{ learnerName }}",
                               "welcomeBody": "Hello {{learnerName}}, {{partnerName}} set up {{portalUrl}} for you.",
                               "footer": "Sent for {{tenantName}} by {{partnerName}}"},
            "documentTemplate": {"certificateFooter": "Delivered with {{partnerName}} for {{tenantName}}"},
            "support": {"email": "help@patron.example", "phone": "+1 555 0100", "hours": "Mon-Fri 9-17 ET",
                        "message": "Questions? Patron's team answers within 4 business hours."}}
    return {**body, **overrides}


@pytest.fixture()
def world(api: Any) -> dict[str, Any]:
    partner = api.make_tenant(name="Patron Partner", slug="patron", template="reseller")
    customer = api.make_tenant(name="Acme Corp", slug="acme", parentTenantId=partner["id"])
    _, partner_admin = api.user_token(partner["id"], ["admin"])
    _, partner_learner = api.user_token(partner["id"], ["learner"])
    _, customer_admin = api.user_token(customer["id"], ["admin"])
    _, customer_learner = api.user_token(customer["id"], ["learner"])
    return {"p": partner["id"], "c": customer["id"], "pa": partner_admin, "pl": partner_learner,
            "ca": customer_admin, "cl": customer_learner, "op": api.operator,
            "kit": f"/v1/partners/{partner['id']}/brand-kit", "kits": f"/v1/partners/{partner['id']}/brand-kits"}


def _ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, resp.body
    return resp.json_body


def _submit(api: Any, w: dict[str, Any], body: dict[str, Any] | None = None) -> int:
    _ok(api.call("PUT", w["kit"] + "/draft", w["pa"], body or kit()))
    return int(_ok(api.call("POST", w["kit"] + "/draft/submit", w["pa"]), 201)["version"])


def _branding(api: Any, tenant_id: str, token: str) -> dict[str, Any]:
    return dict(_ok(api.call("GET", f"/v1/tenants/{tenant_id}/branding", token)))


def _actions(api: Any, w: dict[str, Any]) -> list[tuple[str, int | None]]:
    items = _ok(api.call("GET", w["kit"] + "/audit?limit=100", w["op"]))["items"]
    return [(i["action"], i["version"]) for i in items]


# -- validation ------------------------------------------------------------------------------------------
def test_missing_mandatory_fields_are_each_named_and_nothing_is_written(api: Any, world: dict[str, Any]) -> None:
    w = world
    body = {"displayName": "Patron", "colors": {"primary": "#0f766e"},
            "emailTemplates": {"welcomeSubject": "Hi"}, "support": {"email": "not-an-email"}}
    resp = api.call("PUT", w["kit"] + "/draft", w["pa"], body)
    assert resp.status_code == 400 and resp.headers["Content-Type"] == "application/problem+json"
    fields = {e["field"] for e in resp.json_body["errors"]}
    assert {"logoUrl", "colors.accent", "colors.text", "emailTemplates.welcomeBody", "documentTemplate",
            "support.email", "support.hours", "support.message"} <= fields
    assert api.call("GET", w["kit"] + "/draft", w["pa"]).status_code == 404
    assert _actions(api, w) == []


def test_placeholders_contrast_and_logo_are_validated(api: Any, world: dict[str, Any]) -> None:
    w = world
    bad = kit(logoUrl="http://insecure.example/logo.png",
              colors={"primary": "#ffff00", "accent": "#bbbbbb", "text": "#cccccc"},
              emailTemplates={"welcomeSubject": "Hi {{ learnerName }}", "welcomeBody": "{{password}} {% if x %}",
                              "footer": "{{learnerName}}"},
              documentTemplate={"certificateFooter": "{{partnerName} broken"})
    resp = api.call("PUT", w["kit"] + "/draft", w["pa"], bad)
    assert resp.status_code == 400, resp.body
    assert {e["field"] for e in resp.json_body["errors"]} == {"logoUrl"}  # the schema first
    resp = api.call("PUT", w["kit"] + "/draft", w["pa"], {**bad, "logoUrl": "/content/branding/patron.svg"})
    errors = {e["field"]: e["detail"] for e in resp.json_body["errors"]}
    assert set(errors) == {"colors.text", "colors.primary", "colors.accent", "emailTemplates.welcomeBody",
                           "emailTemplates.footer", "documentTemplate.certificateFooter"}, errors
    assert "password" in errors["emailTemplates.welcomeBody"] and "learnerName" in errors["emailTemplates.footer"]
    assert "contrast" in errors["colors.text"]
    assert api.call("GET", w["kit"] + "/draft", w["pa"]).status_code == 404
    assert api.call("POST", w["kit"] + "/draft/submit", w["pa"]).status_code == 404  # nothing to submit


def test_request_changes_needs_a_comment(api: Any, world: dict[str, Any]) -> None:
    w = world
    v = _submit(api, w)
    resp = api.call("POST", f"{w['kits']}/{v}/request-changes", w["op"], {"comments": []})
    assert resp.status_code == 400 and resp.json_body["errors"][0]["field"] == "comments"
    assert _ok(api.call("GET", f"{w['kits']}/{v}", w["op"]))["status"] == "submitted"


# -- the whole path ----------------------------------------------------------------------------------------
def test_draft_submit_changes_resubmit_approve_goes_live_everywhere(api: Any, world: dict[str, Any]) -> None:
    w, stream = world, Stream(api)
    before_partner = _branding(api, w["p"], w["pa"])
    assert before_partner["source"] == "tenant" and before_partner["brandKitVersion"] is None
    draft = _ok(api.call("PUT", w["kit"] + "/draft", w["pa"], kit(displayName="Patron Draft")))
    assert draft["status"] == "editing" and draft["revision"] == 1
    first = api.call("POST", w["kit"] + "/draft/submit", w["pa"])
    assert first.status_code == 201 and first.json_body["version"] == 1 and first.json_body["status"] == "submitted"
    again = api.call("POST", w["kit"] + "/draft/submit", w["pa"])  # unchanged draft: the same version, 200
    assert again.status_code == 200 and again.json_body["version"] == 1
    changes = _ok(api.call("POST", f"{w['kits']}/1/request-changes", w["op"],
                           {"comments": ["The logo is blurry", "Name it Patron Learning"]}))
    assert changes["status"] == "changes_requested"
    assert api.call("POST", f"{w['kits']}/1/approve", w["op"]).status_code == 409  # decided once
    assert _branding(api, w["p"], w["pa"])["source"] == "tenant"  # nothing live
    _submit(api, w, kit())
    shown = _ok(api.call("GET", f"{w['kits']}/2", w["pa"]))
    assert shown["status"] == "submitted" and shown["kit"]["displayName"] == "Patron Learning"
    approved = _ok(api.call("POST", f"{w['kits']}/2/approve", w["op"]))
    assert approved["status"] == "approved" and approved["liveAt"]
    assert [d["action"] for d in approved["decisions"]] == ["approved"]
    v1 = _ok(api.call("GET", f"{w['kits']}/1", w["pa"]))
    assert v1["kit"]["displayName"] == "Patron Draft"  # submitted versions never change
    assert v1["decisions"][0]["comments"] == ["The logo is blurry", "Name it Patron Learning"]
    listing = _ok(api.call("GET", w["kits"], w["pa"]))["items"]
    assert [(i["version"], i["status"]) for i in listing] == [(2, "approved"), (1, "changes_requested")]

    partner = _branding(api, w["p"], w["pl"])  # any user of the partner
    assert partner["source"] == "brandKit" and partner["displayName"] == "Patron Learning"
    assert partner["primaryColor"] == "#0f766e" and partner["brandKitVersion"] == 2
    assert _branding(api, w["c"], w["cl"])["deliveredBy"] is None  # the customer follows through the stream
    stream.drain()
    for token in (w["cl"], w["ca"], w["pa"], w["op"]):  # its users, its partner, the operator
        customer = _branding(api, w["c"], token)
        assert customer["displayName"] == "Acme Corp" and customer["source"] == "tenant+partner"
        assert customer["deliveredBy"]["name"] == "Patron Learning" and customer["brandKitVersion"] == 2
        assert customer["support"]["email"] == "help@patron.example"
        assert customer["certificateFooter"] == "Delivered with Patron Learning for Acme Corp"
        assert customer["emailFooter"] == "Sent for Acme Corp by Patron Learning"
    later = api.make_tenant(w["pa"], name="Later Inc", slug="later-inc", template="sales-team")
    assert _branding(api, later["id"], w["pa"])["deliveredBy"]["name"] == "Patron Learning"  # at creation

    assert _actions(api, w) == [("draft_saved", None), ("submitted", 1), ("changes_requested", 1),
                                ("draft_saved", None), ("submitted", 2), ("approved", 2), ("went_live", 2)]
    audit = _ok(api.call("GET", w["kit"] + "/audit", w["pa"]))["items"]
    assert all(a["actor"] and a["at"] for a in audit)
    assert audit[2]["comments"] == ["The logo is blurry", "Name it Patron Learning"]
    events = [(e["event_type"]["S"], e["detail"]["M"]) for e in _event_images()
              if e["event_type"]["S"].startswith("BrandKit")]
    assert [(t, int(d["version"]["N"]), d["partnerId"]["S"]) for t, d in events] == [
        ("BrandKitSubmitted", 1, w["p"]), ("BrandKitChangesRequested", 1, w["p"]),
        ("BrandKitSubmitted", 2, w["p"]), ("BrandKitApproved", 2, w["p"])]


def _event_images() -> list[dict[str, Any]]:
    images = [r["dynamodb"]["NewImage"] for r in stream_records() if r["eventName"] == "INSERT"]
    return sorted((i for i in images if i.get("type", {}).get("S") == "Event"), key=lambda i: i["SK"]["S"])


def test_an_older_approval_never_overrides_a_newer_live_kit(api: Any, world: dict[str, Any]) -> None:
    from chalicelib.tenancy import branding

    w, stream = world, Stream(api)
    _submit(api, w, kit(displayName="Patron One"))
    _submit(api, w, kit(displayName="Patron Two"))
    _ok(api.call("POST", f"{w['kits']}/2/approve", w["op"]))
    stream.drain()
    late = _ok(api.call("POST", f"{w['kits']}/1/approve", w["op"]))
    assert late["status"] == "approved" and late["liveAt"] is None
    stream.drain()
    for tenant in (w["p"], w["c"]):
        shown = _branding(api, tenant, w["op"])
        assert shown["brandKitVersion"] == 2
    assert _branding(api, w["p"], w["op"])["displayName"] == "Patron Two"
    old = {**branding.live_kit_of(w["p"]), "version": 1, "displayName": "Patron One"}  # type: ignore[dict-item]
    assert branding.copy_live_kit(w["c"], old) is False  # a late copy of an older kit is refused
    assert ("went_live", 1) not in _actions(api, w) and ("approved", 1) in _actions(api, w)


def test_fan_out_is_idempotent_and_reaches_every_customer(api: Any, world: dict[str, Any]) -> None:
    from chalicelib.partners import brandkit_review

    w = world
    others = [api.make_tenant(w["pa"], template="sales-team")["id"] for _ in range(3)]
    _submit(api, w)
    _ok(api.call("POST", f"{w['kits']}/1/approve", w["op"]))
    assert brandkit_review.fan_out(w["p"]) == 4
    assert brandkit_review.fan_out(w["p"]) == 0  # a redelivered event changes nothing
    assert all(_branding(api, t, w["op"])["brandKitVersion"] == 1 for t in others)
    Stream(api).drain()  # the real event through the stream, too


# -- who may do what ---------------------------------------------------------------------------------------
def test_partner_cannot_approve_its_own_kit_and_roles_are_enforced(api: Any, world: dict[str, Any]) -> None:
    w = world
    v = _submit(api, w)
    assert api.call("POST", f"{w['kits']}/{v}/approve", w["pa"]).status_code == 403
    assert api.call("POST", f"{w['kits']}/{v}/request-changes", w["pa"], {"comment": "fine"}).status_code == 403
    assert api.call("PUT", w["kit"] + "/draft", w["op"], kit()).status_code == 403  # the partner's admins edit
    assert api.call("POST", w["kit"] + "/draft/submit", w["op"]).status_code == 403
    assert api.call("GET", w["kits"], w["pl"]).status_code == 403  # its learners see no brand-kit workflow
    for token in (w["ca"], w["cl"]):  # the partner's customers have no relation to the partner itself
        assert api.call("GET", w["kits"], token).status_code == 404
    assert api.call("GET", f"/v1/partners/{w['c']}/brand-kits", w["pa"]).status_code == 404  # not a partner
    assert api.call("GET", f"{w['kits']}/abc", w["op"]).status_code == 404
    assert api.call("GET", f"{w['kits']}/9", w["op"]).status_code == 404
    assert _ok(api.call("GET", f"{w['kits']}/{v}", w["op"]))["status"] == "submitted"


def _operator_ctx(partner_id: str) -> Any:
    from chalicelib.auth.principal import Principal, TenantContext
    from chalicelib.auth.scopes import ALL

    principal = Principal(subject="operator-test", tenant_id=None, roles=frozenset({"operator"}), scopes=ALL,
                          kind="operator")
    return TenantContext(tenant_id=partner_id, principal=principal, relation="operator", tenant_kind="partner")


def test_racing_decisions_have_exactly_one_winner(api: Any, world: dict[str, Any]) -> None:
    from chalicelib.api.schemas import BrandKitChangeRequest
    from chalicelib.errors import Conflict
    from chalicelib.partners import brandkit_review

    w = world
    v = _submit(api, w)
    ctx, n = _operator_ctx(w["p"]), 12
    results: list[str] = []
    start = threading.Barrier(n)

    def decide(k: int) -> None:
        start.wait()
        try:
            if k % 2:
                brandkit_review.approve(ctx, str(v))
                results.append("approved")
            else:
                brandkit_review.request_changes(ctx, str(v), BrandKitChangeRequest(comment=f"operator {k}"))
                results.append("changes_requested")
        except Conflict:
            results.append("409")

    threads = [threading.Thread(target=decide, args=(k,)) for k in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    counts = Counter(results)
    assert counts["409"] == n - 1 and len(results) == n, counts
    winner = next(r for r in results if r != "409")
    shown = _ok(api.call("GET", f"{w['kits']}/{v}", w["op"]))
    assert shown["status"] == winner and len(shown["decisions"]) == 1
    assert [a for a, _ in _actions(api, w)].count(winner) == 1
    assert (_branding(api, w["p"], w["op"])["brandKitVersion"] == v) == (winner == "approved")


# -- where the effective branding shows ---------------------------------------------------------------------
def test_mail_pdf_and_player_use_the_effective_branding(api: Any, world: dict[str, Any]) -> None:
    from datetime import date

    from chalicelib.certification import mail, pdf
    from chalicelib.certification.downloads import tenant_brand
    from chalicelib.content.attempts import _brand
    from chalicelib.store import keys
    from chalicelib.store.models import Tenant

    w = world
    _submit(api, w)
    _ok(api.call("POST", f"{w['kits']}/1/approve", w["op"]))
    Stream(api).drain()
    customer = Tenant.get(keys.tenant_pk(w["c"]), keys.TENANT_SK)
    sent = mail.expiring(to="a@acme.example", tenant=customer, learner="Ann", program="Closer", certificate_id="ce-1",
                         expires_on="2030-01-31", today=date(2030, 1, 1), renew_url="https://x.example/r",
                         recertification=None)
    for body in (sent.text, sent.html):
        assert "Patron&#39;s team" in body or "Patron's team" in body
        assert "help@patron.example" in body and "Sent for Acme Corp by Patron Learning" in body
        assert "delivered by Patron Learning" in body
    brand = tenant_brand(customer)
    assert brand["displayName"] == "Acme Corp" and brand["certificateFooter"].startswith("Delivered with")
    cert = {"id": "ce-1", "learnerName": "Ann", "programName": "Closer", "issuedAt": "2030-01-01T00:00:00Z",
            "expiresAt": None, "completed": [], "status": "active"}
    plain_brand = {k: v for k, v in brand.items() if k not in ("certificateFooter", "deliveredBy")}
    assert pdf.render(cert, brand, "https://x.example/verify/ce-1") != pdf.render(
        cert, plain_brand, "https://x.example/verify/ce-1")
    assert _brand(w["c"])["deliveredBy"]["name"] == "Patron Learning" and _brand(w["c"])["name"] == "Acme Corp"
    assert _brand(w["p"])["name"] == "Patron Learning"  # the partner's own portal shows its kit


# -- exact costs ----------------------------------------------------------------------------------------------
def _cost(api: Any, method: str, path: str, token: str, body: Any = None, status: int | None = None) -> Counter[str]:
    with counting() as calls:
        resp = api.call(method, path, token, body)
    assert resp.status_code == (status or resp.status_code) and resp.status_code < 300, resp.body
    return calls.dynamodb


def test_exact_call_budgets(api: Any, world: dict[str, Any]) -> None:
    from chalicelib.partners import brandkit_review
    from chalicelib.tenancy import cache

    w = world
    for tenant in (w["p"], w["c"]):
        cache.tenant_record(tenant)
    get, tx = "GetItem", "TransactWriteItems"
    assert _cost(api, "PUT", w["kit"] + "/draft", w["pa"], kit()) == {get: 1, tx: 1}
    assert _cost(api, "PUT", w["kit"] + "/draft", w["pa"], kit(displayName="Patron B")) == {get: 1, tx: 1}
    assert _cost(api, "GET", w["kit"] + "/draft", w["pa"]) == {get: 1}
    assert _cost(api, "POST", w["kit"] + "/draft/submit", w["pa"]) == {get: 1, tx: 1}
    assert _cost(api, "POST", w["kit"] + "/draft/submit", w["pa"]) == {get: 2}  # a retry: draft, then its version
    assert _cost(api, "GET", w["kits"], w["pa"]) == {"Query": 1}
    assert _cost(api, "GET", w["kits"] + "/1", w["op"]) == {get: 1}
    assert _cost(api, "GET", w["kit"] + "/audit", w["op"]) == {"Query": 1}
    assert _cost(api, "POST", w["kits"] + "/1/approve", w["op"]) == {"BatchGetItem": 1, tx: 1}
    _submit(api, w)
    assert _cost(api, "POST", w["kits"] + "/2/request-changes", w["op"], {"comment": "no"}) == {get: 1, tx: 1}
    assert _cost(api, "GET", f"/v1/tenants/{w['c']}/branding", w["cl"]) == {get: 1}
    # a partner's new customer copies the live kit: one consistent read of the partner besides the transaction
    with counting() as calls:
        api.make_tenant(w["pa"], template="sales-team")
    assert calls.dynamodb == {get: 1, tx: 1}
    with counting() as calls:  # the fan-out: the partner, one Query per page of customers, one update each
        brandkit_review.fan_out(w["p"])
    assert calls.dynamodb == {get: 1, "Query": 1, "UpdateItem": 2}
