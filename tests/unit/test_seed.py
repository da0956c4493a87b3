"""The demo seed: the real services, every role, and a second run adds nothing."""

from __future__ import annotations

from typing import Any

from chalicelib import seed


def _items() -> int:
    from chalicelib import aws
    from chalicelib.config import settings

    return int(aws.dynamodb().scan(TableName=settings().table_name, Select="COUNT")["Count"])


def test_seed_twice_adds_nothing(aws: None) -> None:
    first = seed.run()
    assert (first.created, first.existing) == (seed.steps(), 0)
    count = _items()
    second = seed.run()
    assert (second.created, second.existing) == (0, seed.steps())
    assert [e.id for e in second.entries] == [e.id for e in first.entries]
    assert _items() == count  # not even an event item


def test_demo_covers_templates_partner_and_roles(api: Any) -> None:
    report = seed.run()
    tenants = {e.label: e.detail for e in report.entries if e.kind == "tenant"}
    assert {t["template"] for t in tenants.values()} == {"sales-team", "regulated-sales", "reseller"}
    partner = tenants["northwind-partners"]
    assert partner["kind"] == "partner"
    assert tenants["initech"]["parentTenantId"] == partner["id"]
    roles = {role for e in report.entries if e.kind == "user" for role in e.detail["roles"]}
    assert roles == {"admin", "manager", "learner"}

    acme = tenants["acme-software"]["id"]
    manager = api.login(acme, "manager@acme.example", seed.DEMO_PASSWORD)
    reports = api.json(api.call("GET", f"/v1/tenants/{acme}/users", manager))["items"]
    assert sorted(u["email"] for u in reports) == ["learner@acme.example", "sdr@acme.example"]

    partner_admin = api.login(partner["id"], "admin@northwind.example", seed.DEMO_PASSWORD)
    customers = api.call("GET", "/v1/tenants", partner_admin)
    assert customers.status_code == 200, customers.body
    assert [t["slug"] for t in api.json(customers)["items"]] == ["initech"]
    initech_users = api.call("GET", f"/v1/tenants/{tenants['initech']['id']}/users", partner_admin)
    assert initech_users.status_code == 200
    assert api.call("GET", f"/v1/tenants/{acme}/users", partner_admin).status_code == 404


def test_credentials_table_lists_every_demo_user(aws: None) -> None:
    rows = seed.credentials_table(seed.run())
    assert [r["email"] for r in rows] == [u.email for u in seed.USERS]
    assert all(r["password"] == seed.DEMO_PASSWORD and r["tenantId"].startswith("tn-") for r in rows)
    assert "partner admin" in next(r for r in rows if r["email"] == "admin@northwind.example")["roles"]


def test_a_concurrent_seed_that_wins_the_slug_counts_as_existing(aws: None, monkeypatch: Any) -> None:
    spec = seed.TENANTS[0]
    winner = seed._ensure_tenant(spec, {})
    real_lookup = seed._tenant_by_slug
    calls = iter([None])
    monkeypatch.setattr(seed, "_tenant_by_slug", lambda slug: next(calls, None) or real_lookup(slug))
    entry = seed._ensure_tenant(spec, {})
    assert (entry.created, entry.id) == (False, winner.id)


def test_demo_lrs_credential_is_kept_while_the_table_holds_it(aws: None) -> None:
    report = seed.run()
    made, created = seed.ensure_lrs_credential(report, None)
    assert created and made["key"].startswith("lk-") and made["secret"]
    again, created = seed.ensure_lrs_credential(report, made)
    assert not created and again == made
    replaced, created = seed.ensure_lrs_credential(report, {**made, "secret": "not-the-secret"})
    assert created and replaced["key"] != made["key"]
    fresh, created = seed.ensure_lrs_credential(report, {**made, "tenantId": "tn-gone"})
    assert created
