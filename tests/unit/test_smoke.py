def test_tenant_and_user_round_trip(api):
    tenant = api.make_tenant(name="Acme", slug="acme")
    assert tenant["kind"] == "customer" and tenant["branding"]["displayName"] == "Acme"
    user = api.make_user(tenant["id"], email="Rep@Acme.com")
    got = api.call("GET", f"/v1/tenants/{tenant['id']}/users/{user['id']}", api.operator)
    assert got.status_code == 200, got.body
    assert api.json(got)["email"] == "Rep@Acme.com"
