"""SCIM 2.0 over the real app: tokens, discovery, Users and Groups (filters, pagination, PATCH, ETags, errors)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.store import keys
from tests.unit.callcount import counting

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_JSON = "application/scim+json"


class Scim:
    """A tenant with an admin and a SCIM token; `call` speaks SCIM (the token, application/scim+json)."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.tenant = api.make_tenant()
        self.tid = self.tenant["id"]
        self.admin = api.tenant_admin(self.tid)
        made = api.call("POST", f"/v1/tenants/{self.tid}/scim-tokens", self.admin, {"name": "Okta"})
        assert made.status_code == 201, made.body
        self.token_doc = api.json(made)
        self.token = self.token_doc["token"]
        self.base = f"/v1/tenants/{self.tid}/scim/v2"

    def call(self, method: str, path: str, body: Any = None, token: str | None = None,
             headers: dict[str, str] | None = None) -> Any:
        hdrs = {"Content-Type": SCIM_JSON, "Authorization": f"Bearer {token or self.token}", **(headers or {})}
        payload = json.dumps(body) if body is not None else None
        return self.api.client.http.request(method, self.base + path, headers=hdrs, body=payload)

    def ok(self, method: str, path: str, body: Any = None, status: int = 200, **kw: Any) -> Any:
        resp = self.call(method, path, body, **kw)
        assert resp.status_code == status, (resp.status_code, resp.body)
        return json.loads(resp.body) if resp.body else None

    def user(self, user_name: str, **extra: Any) -> dict[str, Any]:
        return dict(self.ok("POST", "/Users", {"schemas": [USER], "userName": user_name, **extra}, 201))

    def group(self, name: str, members: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
        body = {"schemas": [GROUP], "displayName": name, "members": [{"value": m} for m in members]}
        return dict(self.ok("POST", "/Groups", body, 201))

    def patch(self, path: str, *operations: dict[str, Any], status: int = 200, **kw: Any) -> Any:
        return self.ok("PATCH", path, {"schemas": [PATCH], "Operations": list(operations)}, status, **kw)

    def platform_user(self, user_id: str) -> dict[str, Any]:
        resp = self.api.call("GET", f"/v1/tenants/{self.tid}/users/{user_id}", self.admin)
        assert resp.status_code == 200, resp.body
        return dict(self.api.json(resp))


@pytest.fixture()
def scim(api: Any) -> Scim:
    return Scim(api)


def _error(resp: Any, status: int, scim_type: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, (resp.status_code, resp.body)
    assert resp.headers["Content-Type"].startswith(SCIM_JSON)
    doc = json.loads(resp.body)
    assert doc["schemas"] == [ERROR] and doc["status"] == str(status), doc
    assert doc.get("scimType") == scim_type, doc
    return dict(doc)


# --- tokens and discovery ---------------------------------------------------------------------------

def test_the_token_is_shown_once_listed_without_its_secret_and_revocable(scim: Scim) -> None:
    assert scim.token.startswith(scim.token_doc["id"] + ".")
    listed = scim.api.json(scim.api.call("GET", f"/v1/tenants/{scim.tid}/scim-tokens", scim.admin))
    assert [t["id"] for t in listed["items"]] == [scim.token_doc["id"]]
    assert "token" not in listed["items"][0] and scim.token.split(".")[1] not in json.dumps(listed)
    scim.ok("GET", "/Users")
    gone = scim.api.call("DELETE", f"/v1/tenants/{scim.tid}/scim-tokens/{scim.token_doc['id']}", scim.admin)
    assert gone.status_code == 204
    _error(scim.call("GET", "/Users"), 401)


@pytest.mark.parametrize("token", ["", "scim-nope.nope", "not-a-jwt", "scim-"])
def test_a_bad_token_is_a_scim_401(scim: Scim, token: str) -> None:
    resp = scim.api.client.http.get(scim.base + "/Users", headers={"Authorization": f"Bearer {token}"})
    assert _error(resp, 401) and "WWW-Authenticate" in resp.headers or resp.headers.get("www-authenticate")


def test_another_tenants_token_is_unknown_here(scim: Scim, api: Any) -> None:
    other = Scim(api)
    other.user("someone@other.example")
    _error(scim.call("GET", "/Users", token=other.token), 401)
    _error(other.call("GET", "/Users", token=scim.token), 401)
    _error(scim.call("POST", "/Users", {"schemas": [USER], "userName": "x@y.example"}, token=other.token), 401)


def test_discovery_documents_come_from_scim2_models(scim: Scim) -> None:
    config = scim.ok("GET", "/ServiceProviderConfig")
    assert config["patch"]["supported"] and config["etag"]["supported"] and not config["bulk"]["supported"]
    assert config["filter"] == {"supported": True, "maxResults": 100}
    types = scim.ok("GET", "/ResourceTypes")
    assert {t["id"]: t["endpoint"] for t in types["Resources"]} == {"User": "/Users", "Group": "/Groups"}
    assert scim.ok("GET", "/ResourceTypes/User")["schemaExtensions"] == [{"schema": ENTERPRISE, "required": False}]
    schemas = scim.ok("GET", "/Schemas")
    assert {s["id"] for s in schemas["Resources"]} == {USER, ENTERPRISE, GROUP}
    assert scim.ok("GET", f"/Schemas/{GROUP}")["name"] == "Group"
    _error(scim.call("GET", "/Schemas/urn:nope"), 404)
    _error(scim.call("GET", "/ResourceTypes/Pet"), 404)


# --- users ------------------------------------------------------------------------------------------

def test_create_maps_onto_the_platform_user_and_back(scim: Scim) -> None:
    manager = scim.user("boss@corp.example")
    made = scim.user("Barbara.Jensen@corp.example", externalId="okta-1", name={"givenName": "Barbara",
                     "familyName": "Jensen"}, title="AE", addresses=[{"region": "EMEA", "primary": True}],
                     schemas=[USER, ENTERPRISE], **{ENTERPRISE: {"department": "Sales",
                                                                 "manager": {"value": manager["id"]}}})
    assert made["userName"] == "Barbara.Jensen@corp.example" and made["externalId"] == "okta-1"
    # what the client wrote reads back as written: no displayName or emails invented, the name as sent
    assert "displayName" not in made and "emails" not in made and "active" not in made and made["title"] == "AE"
    assert made["name"] == {"givenName": "Barbara", "familyName": "Jensen"}
    assert made[ENTERPRISE]["department"] == "Sales" and made[ENTERPRISE]["manager"]["value"] == manager["id"]
    assert made["meta"]["resourceType"] == "User" and made["meta"]["version"] == 'W/"1"'
    assert made["meta"]["location"].endswith(f"/scim/v2/Users/{made['id']}")
    mine = scim.platform_user(made["id"])
    assert (mine["email"], mine["displayName"], mine["salesRole"], mine["region"], mine["department"],
            mine["managerId"], mine["roles"]) == ("Barbara.Jensen@corp.example", "Barbara Jensen", "AE", "EMEA",
                                                  "Sales", manager["id"], ["learner"])
    got = scim.call("GET", f"/Users/{made['id']}")
    assert got.status_code == 200 and got.headers["ETag"] == 'W/"1"'
    assert got.headers["Content-Type"].startswith(SCIM_JSON)
    assert json.loads(got.body) == made


def test_duplicates_are_409_uniqueness_and_bad_values_400(scim: Scim) -> None:
    scim.user("dup@corp.example", externalId="e-1")
    _error(scim.call("POST", "/Users", {"schemas": [USER], "userName": "DUP@corp.example"}), 409, "uniqueness")
    _error(scim.call("POST", "/Users", {"schemas": [USER], "userName": "new@corp.example", "externalId": "e-1"}),
           409, "uniqueness")
    _error(scim.call("POST", "/Users", {"schemas": [USER], "userName": "x", "emails": [{"value": "DUP@corp.example"}]}),
           409, "uniqueness")  # the email is taken
    _error(scim.call("POST", "/Users", {"schemas": [USER], "userName": "y", "emails": [{"value": "not-an-email"}]}),
           400, "invalidValue")
    _error(scim.call("POST", "/Users", {"schemas": [USER]}), 400, "invalidValue")
    _error(scim.call("POST", "/Users", {"schemas": [USER], "userName": 5}), 400, "invalidValue")
    resp = scim.api.client.http.post(scim.base + "/Users", body="{not json",
                                     headers={"Content-Type": SCIM_JSON, "Authorization": f"Bearer {scim.token}"})
    _error(resp, 400, "invalidSyntax")
    nobody = {"schemas": [USER, ENTERPRISE], "userName": "m@corp.example", ENTERPRISE: {"manager": {"value": "us-x"}}}
    _error(scim.call("POST", "/Users", nobody), 400, "invalidValue")
    # plain application/json is accepted too
    plain = scim.call("POST", "/Users", {"schemas": [USER], "userName": "json@corp.example"},
                      headers={"Content-Type": "application/json"})
    assert plain.status_code == 201, plain.body


def test_filters_served_by_keys(scim: Scim) -> None:
    a = scim.user("ann@corp.example", externalId="x-ann")
    scim.user("andy@corp.example")
    scim.user("bob@corp.example", title="SE")

    def names(filter_: str, *, reads: dict[str, int] | None = None) -> list[str]:
        with counting() as calls:
            doc = scim.ok("GET", "/Users?filter=" + filter_.replace(" ", "%20").replace('"', "%22"))
        if reads is not None:
            assert dict(calls.dynamodb) == reads, (filter_, calls)
        assert doc["totalResults"] == len(doc.get("Resources", []))
        return [r["userName"] for r in doc.get("Resources", [])]

    assert names('userName eq "ANN@corp.example"', reads={"GetItem": 2}) == ["ann@corp.example"]
    assert names('externalId eq "x-ann"', reads={"GetItem": 2}) == ["ann@corp.example"]
    assert names(f'id eq "{a["id"]}"', reads={"GetItem": 1}) == ["ann@corp.example"]
    assert names('userName sw "an"', reads={"Query": 1}) == ["andy@corp.example", "ann@corp.example"]  # listed
    assert names('userName eq "nobody@corp.example"', reads={"GetItem": 2}) == []  # username, then email claim
    assert names('userName eq "ann@corp.example" and title pr') == []
    # the others page through the tenant's users (GSI1 Query), never a Scan
    assert names('userName co "nd"', reads={"Query": 1}) == ["andy@corp.example"]
    assert names('title eq "SE" or userName ew "ann@corp.example"') == ["ann@corp.example", "bob@corp.example"]
    rest = names('userName ne "bob@corp.example" and not (userName sw "andy")')
    assert "ann@corp.example" in rest and not {"bob@corp.example", "andy@corp.example"} & set(rest)


def test_a_username_that_is_not_an_email_and_only_the_required_attributes(scim: Scim, api: Any) -> None:
    bare = scim.user("3f0c2a9e-7d51-4e0b-9a57-b2c1e0d4f8aa")
    assert {k for k in bare if k not in ("schemas", "id", "meta")} == {"userName"}
    mine = scim.platform_user(bare["id"])
    assert (mine["username"], mine["email"], mine["displayName"], mine["hasPassword"]) == (
        "3f0c2a9e-7d51-4e0b-9a57-b2c1e0d4f8aa", None, "3f0c2a9e-7d51-4e0b-9a57-b2c1e0d4f8aa", False)
    with counting() as calls:
        found = scim.ok("GET", "/Users?filter=userName%20eq%20%223F0C2A9E-7d51-4e0b-9a57-b2c1e0d4f8aa%22")
    assert [r["id"] for r in found["Resources"]] == [bare["id"]] and dict(calls.dynamodb) == {"GetItem": 2}
    # listed with the tenant's users (sorted after the emails, by `@<username>`), not under an email prefix
    listed = api.json(api.call("GET", f"/v1/tenants/{scim.tid}/users", scim.admin))
    assert bare["id"] in [u["id"] for u in listed["items"]]
    by_prefix = api.json(api.call("GET", f"/v1/tenants/{scim.tid}/users?emailPrefix=3f0c", scim.admin))
    assert by_prefix["items"] == []
    # an email given later becomes the user's email (and login name); removing it leaves the username alone
    scim.patch(f"/Users/{bare['id']}", {"op": "add", "path": "emails", "value": [{"value": "Pat@corp.example"}]})
    assert scim.platform_user(bare["id"])["email"] == "Pat@corp.example"
    scim.patch(f"/Users/{bare['id']}", {"op": "remove", "path": "emails"})
    assert scim.platform_user(bare["id"])["email"] is None
    assert scim.api.call("POST", f"/v1/tenants/{scim.tid}/users", scim.admin,
                         {"email": "pat@corp.example", "displayName": "Pat"}).status_code == 201  # released


def test_usernames_are_unique_case_blind_and_against_emails(scim: Scim) -> None:
    scim.user("jdoe", emails=[{"value": "john.doe@corp.example", "primary": True}])
    _error(scim.call("POST", "/Users", {"schemas": [USER], "userName": "JDoe"}), 409, "uniqueness")
    # a userName that is another user's email would make `userName eq` ambiguous
    _error(scim.call("POST", "/Users", {"schemas": [USER], "userName": "John.Doe@corp.example",
                                        "emails": [{"value": "other@corp.example"}]}), 409, "uniqueness")
    other = scim.user("kim")
    _error(scim.call("PATCH", f"/Users/{other['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "userName", "value": "JDOE"}]}), 409, "uniqueness")
    renamed = scim.patch(f"/Users/{other['id']}", {"op": "replace", "path": "userName", "value": "kim.lee"})
    assert renamed["userName"] == "kim.lee"
    scim.user("KIM")  # the old username is free again


def test_unmapped_attributes_read_back_as_written_and_removal_sticks(scim: Scim) -> None:
    made = scim.user("ann", displayName="Ann", nickName="annie", phoneNumbers=[{"value": "555", "type": "work"}],
                     schemas=[USER, ENTERPRISE], **{ENTERPRISE: {"employeeNumber": "42"}})
    assert made["nickName"] == "annie" and made["phoneNumbers"] == [{"value": "555", "type": "work"}]
    assert made[ENTERPRISE] == {"employeeNumber": "42"}
    after = scim.patch(f"/Users/{made['id']}", {"op": "remove", "path": "displayName"},
                       {"op": "remove", "path": "nickName"})
    assert "displayName" not in after and "nickName" not in after
    assert scim.platform_user(made["id"])["displayName"] == "ann"  # derived: name, else userName
    # a change made in the portal shows through
    scim.api.call("PATCH", f"/v1/tenants/{scim.tid}/users/{made['id']}", scim.admin, {"displayName": "Ann B."})
    assert scim.ok("GET", f"/Users/{made['id']}")["displayName"] == "Ann B."
    assert "password" not in json.dumps(scim.ok("PUT", f"/Users/{made['id']}", {
        "schemas": [USER], "userName": "ann", "password": "a-long-secret-123"}))


def test_an_unknown_endpoint_is_a_scim_404_and_root_search_501(scim: Scim) -> None:
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        _error(scim.call(method, "/Pets", {} if method != "GET" else None), 404)
    _error(scim.call("POST", "/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}), 501)
    u = scim.user("attr", title="AE", name={"formatted": "A. T."})
    assert "name" not in scim.ok("GET", f"/Users/{u['id']}?excludedAttributes=name")
    only = scim.ok("GET", f"/Users/{u['id']}?attributes=title")
    assert only["title"] == "AE" and "name" not in only and "userName" not in only and only["id"] == u["id"]


def test_bad_filters_are_400_invalid_filter(scim: Scim) -> None:
    for bad in ('userName eqq "x"', "userName eq", 'nosuch eq "x"', '(userName eq "x"'):
        _error(scim.call("GET", "/Users?filter=" + bad.replace(" ", "%20").replace('"', "%22")), 400,
               "invalidFilter")


def test_pagination_start_index_count_total(scim: Scim) -> None:
    for n in range(5):
        scim.user(f"page{n}@corp.example")
    q = "filter=userName%20sw%20%22page%22"
    first = scim.ok("GET", f"/Users?{q}&startIndex=1&count=2")
    assert (first["totalResults"], first["startIndex"], first["itemsPerPage"]) == (5, 1, 2)
    assert [r["userName"] for r in first["Resources"]] == ["page0@corp.example", "page1@corp.example"]
    last = scim.ok("GET", f"/Users?{q}&startIndex=5&count=2")
    assert [r["userName"] for r in last["Resources"]] == ["page4@corp.example"]
    assert scim.ok("GET", f"/Users?{q}&count=0")["totalResults"] == 5
    assert scim.ok("GET", f"/Users?{q}&startIndex=9")["itemsPerPage"] == 0
    assert scim.ok("GET", f"/Users?{q}&startIndex=0&count=-1")["startIndex"] == 1
    everyone = scim.ok("GET", "/Users")
    assert everyone["totalResults"] == 6  # the five and the tenant's admin
    assert [r["userName"] for r in scim.ok("GET", f"/Users?{q}&attributes=userName")["Resources"]][:1] == [
        "page0@corp.example"]
    assert set(scim.ok("GET", f"/Users?{q}&attributes=userName")["Resources"][0]) == {"schemas", "id", "userName"}
    _error(scim.call("GET", "/Users?count=many"), 400, "invalidValue")


def test_put_replaces_and_clears_what_is_left_out(scim: Scim) -> None:
    u = scim.user("put@corp.example", title="AE", externalId="p-1", addresses=[{"region": "APAC"}])
    body = {"schemas": [USER], "userName": "put.renamed@corp.example", "displayName": "Put Person",
            "externalId": "p-2"}
    done = scim.ok("PUT", f"/Users/{u['id']}", body)
    assert done["userName"] == "put.renamed@corp.example" and "title" not in done and done["externalId"] == "p-2"
    assert scim.platform_user(u["id"])["region"] is None
    found = scim.ok("GET", "/Users?filter=externalId%20eq%20%22p-2%22")
    assert found["totalResults"] == 1
    assert scim.ok("GET", "/Users?filter=externalId%20eq%20%22p-1%22")["totalResults"] == 0
    assert scim.ok("GET", "/Users?filter=userName%20eq%20%22put@corp.example%22")["totalResults"] == 0
    # id is read-only: a PUT naming another id is served as ignoring it (RFC 7644 §3.5.1)
    assert scim.ok("PUT", f"/Users/{u['id']}", {**body, "id": "us-other"})["id"] == u["id"]


def test_patch_users_with_and_without_path_and_active_false_deactivates(scim: Scim) -> None:
    u = scim.user("patch@corp.example")
    done = scim.patch(f"/Users/{u['id']}", {"op": "replace", "path": "title", "value": "SDR"},
                      {"op": "add", "value": {"displayName": "Pat Ch", ENTERPRISE + ":department": "Ops"}})
    assert (done["title"], done["displayName"], done[ENTERPRISE]["department"]) == ("SDR", "Pat Ch", "Ops")
    done = scim.patch(f"/Users/{u['id']}", {"op": "remove", "path": "title"})
    assert "title" not in done
    done = scim.patch(f"/Users/{u['id']}", {"op": "replace", "value": {"active": False}})
    assert done["active"] is False and scim.platform_user(u["id"])["status"] == "deactivated"
    done = scim.patch(f"/Users/{u['id']}", {"op": "Replace", "path": "active", "value": True})
    assert scim.platform_user(u["id"])["status"] == "active"
    _error(scim.call("PATCH", f"/Users/{u['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "groups", "value": [{"value": "gr-x"}]}]}), 400, "mutability")
    _error(scim.call("PATCH", f"/Users/{u['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "jump", "path": "title"}]}), 400, "invalidValue")


def test_etags_if_match_412(scim: Scim) -> None:
    u = scim.user("etag@corp.example")
    stale = 'W/"1"'
    scim.patch(f"/Users/{u['id']}", {"op": "replace", "path": "title", "value": "AE"}, headers={"If-Match": stale})
    again = scim.call("PATCH", f"/Users/{u['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "title", "value": "SE"}]}, headers={"If-Match": stale})
    _error(again, 412)
    assert scim.platform_user(u["id"])["salesRole"] == "AE"
    _error(scim.call("DELETE", f"/Users/{u['id']}", headers={"If-Match": stale}), 412)
    scim.ok("PUT", f"/Users/{u['id']}", {"schemas": [USER], "userName": "etag@corp.example"},
            headers={"If-Match": 'W/"2"'})
    scim.ok("DELETE", f"/Users/{u['id']}", status=204, headers={"If-Match": "*"})


def test_delete_deactivates_and_the_user_is_gone_for_scim(scim: Scim) -> None:
    u = scim.user("gone@corp.example", externalId="g-1")
    scim.ok("DELETE", f"/Users/{u['id']}", status=204)
    assert scim.platform_user(u["id"])["status"] == "deactivated"
    _error(scim.call("GET", f"/Users/{u['id']}"), 404)
    _error(scim.call("DELETE", f"/Users/{u['id']}"), 404)
    _error(scim.call("PATCH", f"/Users/{u['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "title", "value": "x"}]}), 404)
    assert scim.ok("GET", "/Users?filter=userName%20eq%20%22gone@corp.example%22")["totalResults"] == 0
    assert scim.ok("GET", "/Users?filter=userName%20co%20%22gone%22")["totalResults"] == 0
    # provisioned again: the same person comes back (history kept), active
    back = scim.user("gone@corp.example", externalId="g-1", title="AE")
    assert back["id"] == u["id"] and back.get("active", True) is True and back["title"] == "AE"
    assert scim.platform_user(u["id"])["status"] == "active"


# --- groups -----------------------------------------------------------------------------------------

def _members(doc: dict[str, Any]) -> set[str]:
    return {m["value"] for m in doc.get("members", [])}


def test_groups_members_are_the_users_groups_and_index_entries(scim: Scim) -> None:
    from chalicelib.store.models import UserIndexEntry

    a, b, c = (scim.user(f"{n}@corp.example") for n in ("ga", "gb", "gc"))
    g = scim.group("Sales EMEA", [a["id"], b["id"]])
    assert _members(g) == {a["id"], b["id"]} and g["meta"]["location"].endswith(f"/Groups/{g['id']}")
    assert scim.platform_user(a["id"])["groups"] == [g["id"]]
    assert scim.ok("GET", f"/Users/{a['id']}")["groups"][0]["value"] == g["id"]
    entries = UserIndexEntry.query(keys.user_attribute_pk(scim.tid, "group", g["id"]))
    assert {e.user_id for e in entries} == {a["id"], b["id"]}
    # PATCH: add, remove by filter, remove by value (Entra), replace
    g2 = scim.patch(f"/Groups/{g['id']}", {"op": "add", "path": "members", "value": [{"value": c["id"]}]})
    assert _members(g2) == {a["id"], b["id"], c["id"]}
    g2 = scim.patch(f"/Groups/{g['id']}", {"op": "remove", "path": f'members[value eq "{a["id"]}"]'})
    assert _members(g2) == {b["id"], c["id"]} and scim.platform_user(a["id"])["groups"] == []
    g2 = scim.patch(f"/Groups/{g['id']}", {"op": "remove", "path": "members", "value": [{"value": b["id"]}]})
    assert _members(g2) == {c["id"]}
    g2 = scim.patch(f"/Groups/{g['id']}", {"op": "replace", "value": {"displayName": "Sales Europe"}})
    assert g2["displayName"] == "Sales Europe" and _members(g2) == {c["id"]}
    g2 = scim.patch(f"/Groups/{g['id']}", {"op": "replace", "path": "members", "value": [{"value": a["id"]}]})
    assert _members(g2) == {a["id"]}
    entries = UserIndexEntry.query(keys.user_attribute_pk(scim.tid, "group", g["id"]))
    assert {e.user_id for e in entries} == {a["id"]}
    _error(scim.call("PATCH", f"/Groups/{g['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": "us-nobody"}]}]}), 400, "invalidValue")
    assert _members(scim.ok("GET", f"/Groups/{g['id']}")) == {a["id"]}


def test_group_names_filters_put_and_delete(scim: Scim) -> None:
    a = scim.user("gx@corp.example")
    g = scim.group("Partners")
    _error(scim.call("POST", "/Groups", {"schemas": [GROUP], "displayName": "partners"}), 409, "uniqueness")
    _error(scim.call("POST", "/Groups", {"schemas": [GROUP], "displayName": "X", "members": [{"value": "us-no"}]}),
           400, "invalidValue")
    scim.group("Partner Managers")
    found = scim.ok("GET", "/Groups?filter=displayName%20eq%20%22partners%22&excludedAttributes=members")
    assert [r["id"] for r in found["Resources"]] == [g["id"]]
    assert scim.ok("GET", "/Groups?filter=displayName%20sw%20%22Partner%22")["totalResults"] == 2
    assert scim.ok("GET", "/Groups")["totalResults"] == 2
    put = scim.ok("PUT", f"/Groups/{g['id']}", {"schemas": [GROUP], "displayName": "Channel",
                                                 "members": [{"value": a["id"]}]})
    assert put["displayName"] == "Channel" and _members(put) == {a["id"]}
    assert scim.ok("GET", "/Groups?filter=displayName%20eq%20%22Partners%22")["totalResults"] == 0
    with_member = scim.ok("GET", f'/Groups?filter=members%5Bvalue%20eq%20%22{a["id"]}%22%5D')
    assert [r["id"] for r in with_member["Resources"]] == [g["id"]]
    scim.group("Partners")  # the old name is free again
    _error(scim.call("PUT", f"/Groups/{g['id']}", {"schemas": [GROUP], "displayName": "Channel"},
                     headers={"If-Match": 'W/"1"'}), 412)
    scim.ok("DELETE", f"/Groups/{g['id']}", status=204)
    _error(scim.call("GET", f"/Groups/{g['id']}"), 404)
    assert scim.platform_user(a["id"])["groups"] == []
    scim.group("Channel")


def test_an_admin_bearer_token_works_and_no_scan_is_ever_made(scim: Scim) -> None:
    from tests.unit.callcount import dynamodb_ledger

    before = dynamodb_ledger()["Scan"]
    doc = scim.ok("GET", "/Users", token=scim.admin)
    assert doc["totalResults"] == 1
    assert dynamodb_ledger()["Scan"] == before

