"""Courses: private and shared libraries, versions, catalogs with overlays, grants, partner sharing."""

from __future__ import annotations

import pytest

from tests.unit.course_helpers import FakePackage, FakeSco, Stream, add_version

LIB = "/v1/library/courses"


@pytest.fixture()
def stream(api):
    return Stream(api)


def _library_course(api, **body):
    resp = api.call("POST", LIB, api.operator, {"title": "Prospecting 101", **body})
    assert resp.status_code == 201, resp.body
    return api.json(resp)


def _publish(api, token, base, number):
    resp = api.call("POST", f"{base}/versions/{number}/publish", token)
    assert resp.status_code == 200, resp.body
    return api.json(resp)


def test_own_course_lifecycle_drafts_hidden_from_learners(api):
    tenant = api.make_tenant()
    t = tenant["id"]
    admin = api.tenant_admin(t)
    _, learner = api.user_token(t, ["learner"])
    resp = api.call("POST", f"/v1/tenants/{t}/courses", admin, {"title": "Our pricing", "allowSelfEnroll": True})
    assert resp.status_code == 201, resp.body
    course = api.json(resp)
    assert resp.headers["Location"] == f"/v1/tenants/{t}/courses/{course['id']}"
    assert course["owner"] == t and course["latestVersion"] is None

    assert [c["id"] for c in api.json(api.call("GET", f"/v1/tenants/{t}/catalog", admin))["items"]] == [course["id"]]
    assert api.json(api.call("GET", f"/v1/tenants/{t}/catalog", learner))["items"] == []
    assert api.call("GET", f"/v1/tenants/{t}/courses/{course['id']}", learner).status_code == 404

    number = add_version(t, course["id"])
    base = f"/v1/tenants/{t}/courses/{course['id']}"
    assert api.json(api.call("GET", f"{base}/versions/{number}", admin))["status"] == "draft"
    published = _publish(api, admin, base, number)
    assert published["status"] == "published" and published["publishedAt"]
    seen = api.json(api.call("GET", f"/v1/tenants/{t}/courses/{course['id']}", learner))
    assert seen["latestVersion"] == 1 and seen["source"] == "own"
    assert seen["latest"]["format"] == "scorm12" and seen["latest"]["scos"][0]["id"] == "sco-1"

    second = add_version(t, course["id"])
    _publish(api, admin, base, second)
    versions = api.json(api.call("GET", f"{base}/versions", admin))["items"]
    assert [(v["number"], v["status"]) for v in versions] == [(2, "published"), (1, "retired")]
    assert api.json(api.call("GET", f"/v1/tenants/{t}/courses/{course['id']}", learner))["latestVersion"] == 2


def test_publishing_twice_is_a_no_op_and_retired_cannot_be_published(api):
    t = api.make_tenant()["id"]
    admin = api.tenant_admin(t)
    course = api.json(api.call("POST", f"/v1/tenants/{t}/courses", admin, {"title": "C"}))
    base = f"/v1/tenants/{t}/courses/{course['id']}"
    one = add_version(t, course["id"])
    _publish(api, admin, base, one)
    _publish(api, admin, base, one)
    two = add_version(t, course["id"])
    _publish(api, admin, base, two)
    resp = api.call("POST", f"{base}/versions/{one}/publish", admin)
    assert resp.status_code == 409
    assert api.call("POST", f"{base}/versions/99/publish", admin).status_code == 404
    assert api.call("POST", f"{base}/versions/abc/publish", admin).status_code == 404
    assert api.call("POST", f"{base}/versions/{two}/retire", admin).status_code == 409


def test_learners_and_managers_cannot_manage_courses(api):
    t = api.make_tenant()["id"]
    _, learner = api.user_token(t, ["learner"])
    _, manager = api.user_token(t, ["manager"])
    for token in (learner, manager):
        assert api.call("POST", f"/v1/tenants/{t}/courses", token, {"title": "x"}).status_code == 403
    admin = api.tenant_admin(t)
    assert api.call("POST", f"/v1/tenants/{t}/courses", admin, {"title": "x", "slug": "abc"}).status_code == 400
    assert api.call("POST", LIB, admin, {"title": "x"}).status_code == 403
    assert api.call("GET", LIB, admin).status_code == 403


def test_library_course_reaches_tenants_by_grant_with_overlays_that_survive_versions(api, stream):
    course = _library_course(api, slug="prospecting-101", description="Find the right buyers")
    base = f"{LIB}/{course['id']}"
    _publish(api, api.operator, base, add_version("library", course["id"]))
    t = api.make_tenant()["id"]
    admin = api.tenant_admin(t)
    _, learner = api.user_token(t, ["learner"])
    assert api.json(api.call("GET", f"/v1/tenants/{t}/catalog", learner))["items"] == []

    resp = api.call("POST", f"{base}/grants", api.operator, {"tenantId": t})
    assert resp.status_code == 201, resp.body
    items = api.json(api.call("GET", f"/v1/tenants/{t}/catalog", learner))["items"]
    assert [(c["id"], c["source"], c["latestVersion"]) for c in items] == [(course["id"], "library", 1)]

    # the tenant customises its view; the owner's fields are the owner's
    path = f"/v1/tenants/{t}/courses/{course['id']}"
    resp = api.call("PATCH", path, admin, {"title": "Prospecting at Acme", "introText": "Start here",
                                           "hiddenLessons": ["sco-2"]})
    assert resp.status_code == 200, resp.body
    assert api.call("PATCH", path, admin, {"shareWithCustomers": True}).status_code == 400
    assert api.call("PATCH", path, learner, {"title": "mine"}).status_code == 403

    # a new version and a new description from the owner fan out; the overlay stays
    two = FakePackage(scos=(FakeSco("sco-1", "Lesson", "index.html"), FakeSco("sco-2", "Quiz", "quiz.html")))
    _publish(api, api.operator, base, add_version("library", course["id"], two))
    api.call("PATCH", base, api.operator, {"description": "Find and reach the right buyers"})
    stream.drain()
    seen = api.json(api.call("GET", path, learner))
    assert seen["latestVersion"] == 2
    assert seen["title"] == "Prospecting at Acme" and seen["introText"] == "Start here"
    assert seen["description"] == "Find and reach the right buyers"
    assert seen["base"]["title"] == "Prospecting 101"
    assert [s["id"] for s in seen["latest"]["scos"]] == ["sco-1"]  # sco-2 hidden by the overlay


def test_grant_to_a_partner_reaches_its_customers_and_new_ones(api, stream):
    course = _library_course(api, title="Closing Techniques")
    _publish(api, api.operator, f"{LIB}/{course['id']}", add_version("library", course["id"]))
    partner = api.make_tenant(template="reseller")
    existing = api.make_tenant(parentTenantId=partner["id"])
    resp = api.call("POST", f"{LIB}/{course['id']}/grants", api.operator,
                    {"tenantId": partner["id"], "includeCustomers": True})
    assert resp.status_code == 201 and api.json(resp)["includeCustomers"] is True
    stream.drain()
    later = api.make_tenant(parentTenantId=partner["id"])
    stream.drain()
    other = api.make_tenant()
    stream.drain()
    for tenant, expected in ((partner, 1), (existing, 1), (later, 1), (other, 0)):
        items = api.json(api.call("GET", f"/v1/tenants/{tenant['id']}/catalog", api.operator))["items"]
        assert len([i for i in items if i["id"] == course["id"]]) == expected, tenant["name"]


def test_partner_course_shared_with_customers(api, stream):
    partner = api.make_tenant(template="reseller")
    customer = api.make_tenant(parentTenantId=partner["id"])
    p_admin = api.tenant_admin(partner["id"])
    course = api.json(api.call("POST", f"/v1/tenants/{partner['id']}/courses", p_admin,
                               {"title": "Selling our bundle", "shareWithCustomers": True}))
    _publish(api, p_admin, f"/v1/tenants/{partner['id']}/courses/{course['id']}",
             add_version(partner["id"], course["id"]))
    stream.drain()
    items = api.json(api.call("GET", f"/v1/tenants/{customer['id']}/catalog", api.operator))["items"]
    assert [(i["id"], i["source"]) for i in items] == [(course["id"], "partner")]
    # the customer can't manage the partner's course: it only customises its view
    c_admin = api.tenant_admin(customer["id"])
    assert api.call("GET", f"/v1/tenants/{customer['id']}/courses/{course['id']}/versions", c_admin).status_code \
        == 404


def test_starter_catalog_from_the_template(api, stream):
    course = _library_course(api, slug="closing-techniques", title="Closing Techniques")
    _publish(api, api.operator, f"{LIB}/{course['id']}", add_version("library", course["id"]))
    tenant = api.make_tenant(template="sales-team")  # its starter catalog names library:closing-techniques
    stream.drain()
    items = api.json(api.call("GET", f"/v1/tenants/{tenant['id']}/catalog", api.operator))["items"]
    assert [i["id"] for i in items] == [course["id"]]


def test_library_slug_is_unique_and_validation_names_fields(api):
    _library_course(api, slug="dup-course")
    resp = api.call("POST", LIB, api.operator, {"title": "Again", "slug": "dup-course"})
    assert resp.status_code == 409 and api.json(resp)["errors"][0]["field"] == "slug"
    resp = api.call("POST", LIB, api.operator, {"title": ""})
    assert resp.status_code == 400 and api.json(resp)["errors"][0]["field"] == "title"
    resp = api.call("POST", f"{LIB}/cs-nope/grants", api.operator, {"tenantId": "tn-nope"})
    assert resp.status_code == 404


def test_a_course_id_outside_the_id_alphabet_is_a_404_with_or_without_a_cursor(api):
    t = api.make_tenant()["id"]
    admin = api.tenant_admin(t)
    for path in (f"/v1/tenants/{t}/courses/%C2%84/versions", f"{LIB}/%C2%84/versions"):
        token = admin if path.startswith("/v1/tenants") else api.operator
        assert api.call("GET", path, token).status_code == 404
        assert api.call("GET", path + "?cursor=abc.def", token).status_code == 404


def test_a_content_package_entitles_its_courses_now_and_later(api, stream):
    first = _library_course(api, title="Negotiation", packages=["preferred-tier"])
    _publish(api, api.operator, f"{LIB}/{first['id']}", add_version("library", first["id"]))
    partner = api.make_tenant(template="reseller")
    customer = api.make_tenant(parentTenantId=partner["id"])
    resp = api.call("POST", "/v1/library/packages/preferred-tier/grants", api.operator,
                    {"tenantId": partner["id"], "includeCustomers": True})
    assert resp.status_code == 201 and api.json(resp)["courses"] == [first["id"]]
    stream.drain()
    # a course that joins the package later reaches the grantees; so does a customer created later
    later = _library_course(api, title="Pricing", packages=[])
    api.call("PATCH", f"{LIB}/{later['id']}", api.operator, {"packages": ["preferred-tier"]})
    stream.drain()
    newcomer = api.make_tenant(parentTenantId=partner["id"])
    stream.drain()
    for tenant in (partner, customer, newcomer):
        ids = {i["id"] for i in api.json(api.call("GET", f"/v1/tenants/{tenant['id']}/catalog",
                                                  api.operator))["items"]}
        assert {first["id"], later["id"]} <= ids, tenant["name"]
    outsider = api.make_tenant(template="regulated-sales")
    assert api.json(api.call("GET", f"/v1/tenants/{outsider['id']}/catalog", api.operator))["items"] == []
    package = api.json(api.call("GET", "/v1/library/packages/preferred-tier", api.operator))
    assert sorted(package["courses"]) == sorted([first["id"], later["id"]])
    assert package["grants"] == [{"tenantId": partner["id"], "includeCustomers": True,
                                  "createdAt": package["grants"][0]["createdAt"]}]
    # packages are a shared-library notion
    t = api.make_tenant()["id"]
    resp = api.call("POST", f"/v1/tenants/{t}/courses", api.tenant_admin(t), {"title": "x", "packages": ["a-b"]})
    assert resp.status_code == 400 and api.json(resp)["errors"][0]["field"] == "packages"
    assert api.call("GET", "/v1/library/packages/NOPE", api.operator).status_code == 404
