"""The partner program over HTTP against the running stack (`onramp dev`, what `make run` starts): partners with
routing profiles, a brand kit approved and live on a customer through the event pump, a lead routed and claimed,
an unclaimed lead timed out and re-routed by `onramp jobs run lead-claim-timeouts`, and a scorecard computed by
`onramp jobs run scorecards --quarter`."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

pytestmark = pytest.mark.integration
PASSWORD = "partner-integration-password"


def _ok(reply: Any, status: int = 200) -> Any:
    assert reply.status == status, reply.body
    return reply.json()


def _partner(stack: Any, tag: str, name: str, tier: str, region: str, industries: list[str]) -> dict[str, Any]:
    made = stack.make_tenant(f"{name}-{tag}", template="reseller")
    _ok(stack.call("PUT", f"/v1/partners/{made['id']}/tier", {"tier": tier}, stack.operator))
    email = f"admin@{name}-{tag}.example"
    stack.make_user(made["id"], email, ["admin"], PASSWORD)
    admin = stack.login(made["id"], email, PASSWORD)
    _ok(stack.call("PUT", f"/v1/partners/{made['id']}/routing-profile",
                   {"industries": industries, "regions": [region], "products": ["*"], "maxOpenLeads": 5}, admin))
    return {"id": made["id"], "admin": admin}


def _eventually(check: Any, seconds: float = 20.0) -> Any:
    """The event pump applies stream subscribers within a second or two locally."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.25)


def test_partners_brand_kit_lead_claim_timeout_and_scorecard_over_http(stack: Any) -> None:
    tag = uuid.uuid4().hex[:6]
    region = f"R{tag}"  # a territory only these partners serve: the demo partners are excluded by the region gate
    north = _partner(stack, tag, "north", "preferred", region, ["Software"])
    south = _partner(stack, tag, "south", "registered", region, ["Healthcare"])
    customer = stack.make_tenant(f"cust-{tag}", parentTenantId=north["id"])
    # co-branding: submitted by the partner, approved by the operator, live on the customer through the pump
    kit = {"displayName": "North Learning", "logoUrl": "https://cdn.north.example/logo.png",
           "colors": {"primary": "#0f766e", "accent": "#facc15", "text": "#111827"},
           "emailTemplates": {"welcomeSubject": "Welcome to {{tenantName}}",
                              "welcomeBody": "Hello {{learnerName}}, welcome.", "footer": "Sent by {{partnerName}}"},
           "documentTemplate": {"certificateFooter": "Delivered with {{partnerName}}"},
           "support": {"email": "help@north.example", "hours": "Mon-Fri 9-17", "message": "We answer within 4 hours."}}
    _ok(stack.call("PUT", f"/v1/partners/{north['id']}/brand-kit/draft", kit, north["admin"]))
    version = _ok(stack.call("POST", f"/v1/partners/{north['id']}/brand-kit/draft/submit", None, north["admin"]),
                  201)["version"]
    _ok(stack.call("POST", f"/v1/partners/{north['id']}/brand-kits/{version}/approve", None, stack.operator))
    live = _eventually(lambda: (_ok(stack.call("GET", f"/v1/tenants/{customer['id']}/branding", None,
                                               stack.operator)).get("deliveredBy") or {}).get("name"))
    assert live == "North Learning"
    # a lead: routed to the best fit, claimed once
    lead = {"industry": "Software", "region": region, "product": "LMS", "dealSize": "15000.00"}
    first = _ok(stack.call("POST", "/v1/leads", {**lead, "externalId": f"it-{tag}-1"}, stack.operator), 201)
    assert first["offer"]["partnerId"] == north["id"]
    again = stack.call("POST", "/v1/leads", {**lead, "externalId": f"it-{tag}-1"}, stack.operator)
    assert again.status == 200 and again.json()["id"] == first["id"]  # idempotent on externalId
    claim = f"/v1/partners/{north['id']}/leads/{first['id']}/claim"
    assert _ok(stack.call("POST", claim, None, north["admin"]))["ownerPartnerId"] == north["id"]
    assert stack.call("POST", claim, None, north["admin"]).status == 409
    assert stack.call("POST", f"/v1/partners/{south['id']}/leads/{first['id']}/claim", None,
                      south["admin"]).status == 404  # never offered to them
    # another lead nobody claims: the job, run after its window, re-routes it to the other partner
    idle = _ok(stack.call("POST", "/v1/leads", {**lead, "externalId": f"it-{tag}-2"}, stack.operator), 201)
    assert idle["offer"]["partnerId"] == north["id"]
    expires = datetime.fromisoformat(idle["offer"]["expiresAt"].replace("Z", "+00:00"))
    done = stack.cli("jobs", "run", "lead-claim-timeouts", "--as-of", (expires + timedelta(minutes=15)).isoformat())
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rerouted"] >= 1
    shown = _ok(stack.call("GET", f"/v1/leads/{idle['id']}", None, stack.operator))
    assert shown["offer"]["partnerId"] == south["id"] and shown["attempts"] == 2
    # the quarter's scorecard, computed by the job as the quarter closes
    now = datetime.now(UTC)
    quarter = f"{now.year}Q{(now.month - 1) // 3 + 1}"
    done = stack.cli("jobs", "run", "scorecards", "--quarter", quarter)
    assert done.returncode == 0, done.stderr
    card = _ok(stack.call("GET", f"/v1/partners/{north['id']}/scorecards/{quarter}", None, north["admin"]))
    kpis = {k["id"]: k for k in card["kpis"]}
    assert kpis["claimRate"]["value"] == "50.00" and kpis["pipeline"]["value"] == "15000.00"
    assert all(k["explanation"] for k in card["kpis"])
    assert stack.call("GET", f"/v1/partners/{north['id']}/scorecards/{quarter}", None,
                      south["admin"]).status == 404
