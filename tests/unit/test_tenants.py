"""Tenants: templates, slugs, partner hierarchy, listing, changes, suspension, sandboxes, events."""

from __future__ import annotations

from chalicelib.store import keys
from chalicelib.store.models import Event, Item


def _events(tenant_id: str) -> list[Event]:
    out = []
    for shard in range(keys.EVENT_SHARDS):
        out += [e for e in Item.query(keys.event_pk(tenant_id, shard)) if isinstance(e, Event)]
    return sorted(out, key=lambda e: e.occurred_at)


def test_create_from_template_copies_branding_roles_catalog_and_reminders(api):
    resp = api.call("POST", "/v1/tenants", api.operator,
                    {"name": "Globex", "slug": "globex", "template": "regulated-sales",
                     "branding": {"primaryColor": "#112233"}})
    assert resp.status_code == 201
    tenant = api.json(resp)
    assert resp.headers["Location"] == f"/v1/tenants/{tenant['id']}"
    assert tenant["kind"] == "customer" and tenant["region"] == "eu-west-1"
    assert tenant["branding"]["primaryColor"] == "#112233" and tenant["branding"]["font"] == "Times"
    assert tenant["settings"]["reminders"]["certificationExpiryDays"] == [90, 60, 30, 7]
    assert "library:compliance-essentials" in tenant["starterCatalog"]
    assert [e.event_type for e in _events(tenant["id"])] == ["TenantCreated"]


def test_reseller_template_makes_a_partner(api):
    assert api.make_tenant(template="reseller")["kind"] == "partner"


def test_slug_is_unique_and_nothing_is_half_written(api):
    api.make_tenant(slug="acme")
    resp = api.call("POST", "/v1/tenants", api.operator, {"name": "Other", "slug": "acme", "template": "sales-team"})
    assert resp.status_code == 409
    problem = api.json(resp)
    assert problem["errors"][0]["field"] == "slug"
    listed = api.json(api.call("GET", "/v1/tenants", api.operator))["items"]
    assert [t["slug"] for t in listed] == ["acme"]


def test_unknown_template_names_the_field(api):
    resp = api.call("POST", "/v1/tenants", api.operator, {"name": "X", "slug": "xyz", "template": "nope"})
    assert resp.status_code == 400 and api.json(resp)["errors"][0]["field"] == "template"


def test_partner_admin_creates_customers_and_lists_only_them(api):
    partner = api.make_tenant(template="reseller", slug="northwind")
    other_partner = api.make_tenant(template="reseller", slug="southwind")
    api.make_tenant(slug="loner")
    admin = api.tenant_admin(partner["id"])
    customer = api.make_tenant(token=admin, slug="contoso")
    assert customer["parentTenantId"] == partner["id"]
    api.make_tenant(parentTenantId=other_partner["id"], slug="fabrikam")
    listed = api.json(api.call("GET", "/v1/tenants", admin))["items"]
    assert [t["slug"] for t in listed] == ["contoso"]
    foreign = api.call("GET", f"/v1/tenants?parentTenantId={other_partner['id']}", admin)
    assert foreign.status_code == 404
    # the partner admin administers its customer: reads it, creates its users
    assert api.call("GET", f"/v1/tenants/{customer['id']}", admin).status_code == 200
    api.make_user(customer["id"], token=admin)


def test_partner_cannot_parent_a_tenant_elsewhere(api):
    partner = api.make_tenant(template="reseller")
    other = api.make_tenant(template="reseller")
    admin = api.tenant_admin(partner["id"])
    resp = api.call("POST", "/v1/tenants", admin, {"name": "X", "slug": "xyz", "template": "sales-team",
                                                   "parentTenantId": other["id"]})
    assert resp.status_code == 403


def test_parent_must_be_a_partner(api):
    plain = api.make_tenant()
    resp = api.call("POST", "/v1/tenants", api.operator,
                    {"name": "X", "slug": "xyz", "template": "sales-team", "parentTenantId": plain["id"]})
    assert resp.status_code == 400 and api.json(resp)["errors"][0]["field"] == "parentTenantId"


def test_tenant_admins_and_learners_cannot_create_or_list_tenants(api):
    tenant = api.make_tenant()
    admin = api.tenant_admin(tenant["id"])
    body = {"name": "X", "slug": "xyz", "template": "sales-team"}
    assert api.call("POST", "/v1/tenants", admin, body).status_code == 403
    assert api.call("GET", "/v1/tenants", admin).status_code == 403


def test_listing_pages_with_signed_cursors(api):
    for n in range(5):
        api.make_tenant(slug=f"page-{n}")
    first = api.json(api.call("GET", "/v1/tenants?limit=2", api.operator))
    assert len(first["items"]) == 2 and first["nextCursor"]
    second = api.json(api.call("GET", f"/v1/tenants?limit=2&cursor={first['nextCursor']}", api.operator))
    assert {t["slug"] for t in second["items"]}.isdisjoint({t["slug"] for t in first["items"]})
    tampered = first["nextCursor"][:-2] + ("AA" if not first["nextCursor"].endswith("AA") else "BB")
    resp = api.call("GET", f"/v1/tenants?limit=2&cursor={tampered}", api.operator)
    assert resp.status_code == 400 and api.json(resp)["errors"][0]["field"] == "cursor"
    assert api.call("GET", "/v1/tenants?limit=101", api.operator).status_code == 400


def test_admin_patches_branding_and_an_event_is_written(api):
    tenant = api.make_tenant()
    admin = api.tenant_admin(tenant["id"])
    resp = api.call("PATCH", f"/v1/tenants/{tenant['id']}", admin,
                    {"branding": {"accentColor": "#abcdef"}, "reminderDays": [30, 90, 60]})
    assert resp.status_code == 200
    body = api.json(resp)
    assert body["branding"]["accentColor"] == "#abcdef" and body["branding"]["primaryColor"] == "#1f6feb"
    assert body["settings"]["reminders"]["certificationExpiryDays"] == [90, 60, 30]
    assert "TenantUpdated" in [e.event_type for e in _events(tenant["id"])]


def test_bad_patch_names_the_field_and_writes_nothing(api):
    tenant = api.make_tenant()
    resp = api.call("PATCH", f"/v1/tenants/{tenant['id']}", api.operator, {"branding": {"primaryColor": "red"}})
    assert resp.status_code == 400
    assert api.json(resp)["errors"][0]["field"] == "branding.primaryColor"
    assert api.json(api.call("GET", f"/v1/tenants/{tenant['id']}", api.operator))["updatedAt"] == tenant["updatedAt"]


def test_only_operator_or_owning_partner_suspends(api):
    tenant = api.make_tenant()
    admin = api.tenant_admin(tenant["id"])
    assert api.call("POST", f"/v1/tenants/{tenant['id']}/suspend", admin).status_code == 403
    partner = api.make_tenant(template="reseller")
    partner_admin = api.tenant_admin(partner["id"])
    customer = api.make_tenant(token=partner_admin)
    resp = api.call("POST", f"/v1/tenants/{customer['id']}/suspend", partner_admin)
    assert resp.status_code == 200 and api.json(resp)["status"] == "suspended"


def test_sandbox_create_is_idempotent_and_reset_retires_the_old_one(api):
    from chalicelib.tenancy import cache

    tenant = api.make_tenant(slug="acme")
    admin = api.tenant_admin(tenant["id"])
    first = api.call("POST", f"/v1/tenants/{tenant['id']}/sandbox", admin)
    assert first.status_code == 201
    sandbox = api.json(first)
    assert sandbox["sandboxOf"] == tenant["id"] and sandbox["slug"] == "acme-sandbox"
    assert sandbox["branding"] == {**tenant["branding"]}
    again = api.call("POST", f"/v1/tenants/{tenant['id']}/sandbox", admin)
    assert again.status_code == 200 and api.json(again)["id"] == sandbox["id"]
    # the tenant's admin works inside the sandbox, which has its own users and clients
    sandbox_user = api.make_user(sandbox["id"], token=admin)
    client = api.json(api.call("POST", f"/v1/tenants/{sandbox['id']}/clients", admin,
                               {"name": "test", "scopes": ["users:read"]}))
    sandbox_token = api.json(api.token_for_client(client["clientId"], client["clientSecret"]))["access_token"]
    assert api.call("GET", f"/v1/tenants/{sandbox['id']}/users/{sandbox_user['id']}", sandbox_token).status_code == 200
    # but the sandbox's token sees nothing of the real tenant
    assert api.call("GET", f"/v1/tenants/{tenant['id']}/users", sandbox_token).status_code == 404
    reset = api.call("POST", f"/v1/tenants/{tenant['id']}/sandbox/reset", admin)
    assert reset.status_code == 200
    fresh = api.json(reset)
    assert fresh["id"] != sandbox["id"] and fresh["slug"] == "acme-sandbox2"
    assert api.json(api.call("GET", f"/v1/tenants/{fresh['id']}/users", admin))["items"] == []
    cache.reset()
    assert api.call("GET", f"/v1/tenants/{sandbox['id']}/users", sandbox_token).status_code == 401
    assert api.json(api.call("GET", f"/v1/tenants/{tenant['id']}/sandbox", admin))["id"] == fresh["id"]
