"""Tenant isolation, built from the app's own route table.

Every route in `app.routes` must have a case in CASES (a new route without one fails here, naming the
route). For a tenant-scoped route the case says how to build the victim's real path ids and a valid body
so that the request succeeds for the victim's legitimate caller; the same request is then made with the
tokens of three attackers - another tenant's admin (a person's login token), another tenant's API client
(client credentials) and the admin of a partner whose customer the victim is *not* - and must be a 404
that returns nothing of the victim's and changes nothing. The legitimate call must then succeed, so the
test cannot pass by everything failing. Routes outside /v1/tenants/{tenantId} get cases of their own.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from app import app
from tests.unit import callcount

PASSWORD = "correct-horse-battery"
ATTACKERS = ("attacker_admin", "attacker_client", "other_partner_admin")
_seq = itertools.count(1)


# --- the world: a victim customer of partner P1, an unrelated attacker tenant, a rival partner P2 -------

@dataclass
class World:
    api: Any
    operator: str
    p1: dict[str, Any]
    p2: dict[str, Any]
    victim: dict[str, Any]
    attacker: dict[str, Any]
    rival_customer: dict[str, Any]
    tokens: dict[str, str]
    victim_admin: dict[str, Any]
    victim_user: dict[str, Any]
    victim_client: dict[str, Any]
    attacker_admin_email: str
    attacker_client: dict[str, Any]
    sandbox: dict[str, Any] | None = None

    def token(self, who: str | None) -> str | None:
        return None if who is None else self.tokens[who]

    def secrets(self) -> set[str]:
        """Strings that belong to the victim (and its partner): none may reach an attacker."""
        found = {self.victim["id"], self.victim["slug"], self.victim["name"], self.p1["id"], self.p1["name"],
                 self.p1["slug"], self.victim_client["clientId"]}
        for user in (self.victim_admin, self.victim_user):
            found |= {user["id"], user["email"], user["displayName"]}
        if self.sandbox:
            found |= {self.sandbox["id"], self.sandbox["slug"]}
        return found

    def snapshot(self) -> list[Any]:
        """The victim's state as the operator sees it: any write by an attacker would change it."""
        vid = self.victim["id"]
        paths = [f"/v1/tenants/{vid}", f"/v1/tenants/{vid}/users?limit=100",
                 f"/v1/tenants/{vid}/clients?limit=100", f"/v1/tenants/{vid}/users/{self.victim_user['id']}",
                 f"/v1/tenants/{self.p1['id']}"]
        if self.sandbox:
            paths.append(f"/v1/tenants/{self.sandbox['id']}")
        state = []
        for path in paths:
            resp = self.api.call("GET", path, self.operator)
            state.append((path, resp.status_code, self.api.json(resp)))
        return state


def _admin(api: Any, tenant_id: str, email: str, name: str) -> tuple[dict[str, Any], str]:
    user = api.make_user(tenant_id, roles=["admin"], email=email, password=PASSWORD, displayName=name)
    return user, api.login(tenant_id, email, PASSWORD)


def _client(api: Any, tenant_id: str, token: str, name: str) -> dict[str, Any]:
    from chalicelib.auth.scopes import ALL

    resp = api.call("POST", f"/v1/tenants/{tenant_id}/clients", token, {"name": name, "scopes": sorted(ALL)})
    assert resp.status_code == 201, resp.body
    return dict(api.json(resp))


def build_world(api: Any) -> World:
    n = next(_seq)
    operator = api.operator
    p1 = api.make_tenant(name=f"Patron Partner {n}", slug=f"patron-{n}", template="reseller")
    p2 = api.make_tenant(name=f"Rival Partner {n}", slug=f"rival-{n}", template="reseller")
    victim = api.make_tenant(name=f"Victim Corp {n}", slug=f"victim-{n}", parentTenantId=p1["id"])
    attacker = api.make_tenant(name=f"Mallory Inc {n}", slug=f"mallory-{n}")
    rival_customer = api.make_tenant(name=f"Rival Customer {n}", slug=f"rivalcust-{n}", parentTenantId=p2["id"])
    victim_admin, victim_token = _admin(api, victim["id"], f"vera.{n}@victim.example", f"Vera Victim {n}")
    victim_user = api.make_user(victim["id"], email=f"vic.learner.{n}@victim.example",
                                displayName=f"Victor Learner {n}", roles=["learner"])
    victim_client = _client(api, victim["id"], victim_token, f"victim-crm-{n}")
    _, p1_token = _admin(api, p1["id"], f"pat.{n}@patron.example", f"Pat Patron {n}")
    _, p2_token = _admin(api, p2["id"], f"rita.{n}@rival.example", f"Rita Rival {n}")
    attacker_email = f"mal.{n}@mallory.example"
    _, attacker_token = _admin(api, attacker["id"], attacker_email, f"Mal Lory {n}")
    attacker_client = _client(api, attacker["id"], attacker_token, f"mallory-bot-{n}")
    issued = api.token_for_client(attacker_client["clientId"], attacker_client["clientSecret"])
    assert issued.status_code == 200, issued.body
    tokens = {"operator": operator, "victim_admin": victim_token, "partner_admin": p1_token,
              "other_partner_admin": p2_token, "attacker_admin": attacker_token,
              "attacker_client": api.json(issued)["access_token"]}
    return World(api, operator, p1, p2, victim, attacker, rival_customer, tokens, victim_admin, victim_user,
                 victim_client, attacker_email, attacker_client)


@pytest.fixture()
def world(api: Any) -> World:
    return build_world(api)


# --- the route table --------------------------------------------------------------------------------

Request = Callable[[World, str, str | None, str, Any], Any]  # (world, method, who, path, body) -> response


@dataclass(frozen=True)
class Case:
    legit: str | None = "victim_admin"  # whose call must succeed (None: no token)
    body: Callable[[World], Any] | None = None
    prepare: Callable[[World], None] | None = None
    public: bool = False  # no token: the attackers use what they have (their own credentials)
    expect: int = 404  # what every attacker gets; `expect_for` overrides per attacker
    expect_for: dict[str, int] = field(default_factory=dict)
    request: Request | None = None  # a non-JSON request (the token endpoint)
    attack_body: Callable[[World, str], Any] | None = None  # the attacker's body, if not `body`
    legit_body: Callable[[World], Any] | None = None


def _call(world: World, method: str, who: str | None, path: str, body: Any) -> Any:
    return world.api.call(method, path, world.token(who), body)


# path placeholder -> the victim's real value
VICTIM_PARAMS: dict[str, Callable[[World], str]] = {
    "tenantId": lambda w: w.victim["id"],
    "userId": lambda w: w.victim_user["id"],
    "clientId": lambda w: w.victim_client["clientId"],
    "key": lambda w: w.victim["lrsKey"],
}
# path placeholder -> an id of the attacker's own (the "own tenant, victim's object" variant)
ATTACKER_PARAMS: dict[str, Callable[[World], str]] = {"tenantId": lambda w: w.attacker["id"]}


def _make_sandbox(w: World) -> None:
    if w.sandbox is None:
        resp = w.api.call("POST", f"/v1/tenants/{w.victim['id']}/sandbox", w.tokens["victim_admin"])
        assert resp.status_code == 201, resp.body
        w.sandbox = w.api.json(resp)


def _suspend_victim(w: World) -> None:
    resp = w.api.call("POST", f"/v1/tenants/{w.victim['id']}/suspend", w.operator)
    assert resp.status_code == 200, resp.body


def _deactivate_victim_user(w: World) -> None:
    resp = w.api.call("POST", f"/v1/tenants/{w.victim['id']}/users/{w.victim_user['id']}/deactivate",
                      w.tokens["victim_admin"])
    assert resp.status_code == 200, resp.body


def _new_user(w: World) -> dict[str, Any]:
    return {"email": f"new.{next(_seq)}@victim.example", "displayName": "New Person"}


def _login_attack(w: World, attacker: str) -> dict[str, str]:
    """Without a token, an attacker tries the victim's login with its own or the victim's email."""
    if attacker == "attacker_admin":
        return {"email": w.attacker_admin_email, "password": PASSWORD}
    return {"email": w.victim_admin["email"], "password": "not-the-password"}


def _token_request(w: World, method: str, who: str | None, path: str, body: Any) -> Any:
    """The token endpoint: the legitimate caller uses the victim's client; an attacker presents the
    victim's client id with its own secret."""
    client_id = w.victim_client["clientId"]
    secret = w.victim_client["clientSecret"] if who == "victim_client" else w.attacker_client["clientSecret"]
    return w.api.token_for_client(client_id, secret)


def _victim_lrs_credential(w: World) -> None:
    resp = w.api.call("POST", f"/v1/tenants/{w.victim['id']}/xapi-credentials", w.tokens["victim_admin"],
                      {"name": "Victim LMS", "scopes": ["all"]})
    assert resp.status_code == 201, resp.body
    w.victim["lrsKey"] = w.api.json(resp)["key"]


_STATEMENT_ID = "9e3c2a4b-7d1f-4c6e-8a2b-3f4d5e6a7b8c"


def _xapi(query: str = "") -> Request:
    """An xAPI request: the version header, the query string the resource needs, and (a profile PUT
    must name the version it replaces) If-None-Match."""
    def request(w: World, method: str, who: str | None, path: str, body: Any) -> Any:
        headers = {"X-Experience-API-Version": "1.0.3", **({"If-None-Match": "*"} if method == "PUT" else {})}
        return w.api.call(method, path + query, w.token(who), body, headers=headers)

    return request


def _statement(w: World) -> dict[str, Any]:
    return {"actor": {"mbox": "mailto:someone@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/did"},
            "object": {"id": "http://example.com/activity"}}


_AGENT_Q = "agent=%7B%22mbox%22%3A%22mailto%3Aa%40x.example%22%7D"
_STATE_QUERY = f"?activityId=http://x.example/a&{_AGENT_Q}&stateId=s1"
_APROF_QUERY = "?activityId=http://x.example/a&profileId=p1"
_GPROF_QUERY = f"?{_AGENT_Q}&profileId=p1"


_NEW_TENANT: Callable[[World], Any] = lambda w: {  # noqa: E731
    "name": f"Fresh {next(_seq)}", "slug": f"fresh-{next(_seq)}", "template": "sales-team",
    "parentTenantId": w.p1["id"]}

CASES: dict[tuple[str, str], Case] = {
    # tenants
    ("GET", "/v1/tenants/{tenantId}"): Case(),
    ("PATCH", "/v1/tenants/{tenantId}"): Case(body=lambda w: {"name": "Hijacked Name"}),
    ("POST", "/v1/tenants/{tenantId}/suspend"): Case(legit="partner_admin"),
    ("POST", "/v1/tenants/{tenantId}/resume"): Case(legit="partner_admin", prepare=_suspend_victim),
    ("POST", "/v1/tenants/{tenantId}/sandbox"): Case(),
    ("GET", "/v1/tenants/{tenantId}/sandbox"): Case(prepare=_make_sandbox),
    ("POST", "/v1/tenants/{tenantId}/sandbox/reset"): Case(prepare=_make_sandbox),
    # auth
    ("POST", "/v1/tenants/{tenantId}/sessions"): Case(
        legit=None, public=True, expect=401, attack_body=_login_attack,
        legit_body=lambda w: {"email": w.victim_admin["email"], "password": PASSWORD}),
    ("POST", "/v1/tenants/{tenantId}/clients"): Case(body=lambda w: {"name": "Stolen", "scopes": ["users:read"]}),
    ("GET", "/v1/tenants/{tenantId}/clients"): Case(),
    ("DELETE", "/v1/tenants/{tenantId}/clients/{clientId}"): Case(),
    # users
    ("POST", "/v1/tenants/{tenantId}/users"): Case(body=_new_user),
    ("GET", "/v1/tenants/{tenantId}/users"): Case(),
    ("GET", "/v1/tenants/{tenantId}/users/{userId}"): Case(),
    ("PATCH", "/v1/tenants/{tenantId}/users/{userId}"): Case(body=lambda w: {"displayName": "Hijacked"}),
    ("POST", "/v1/tenants/{tenantId}/users/{userId}/deactivate"): Case(),
    ("POST", "/v1/tenants/{tenantId}/users/{userId}/reactivate"): Case(prepare=_deactivate_victim_user),
    # the LRS (xAPI): credentials, and the endpoint (Basic credentials of another tenant: test_lrs_*)
    ("POST", "/v1/tenants/{tenantId}/xapi-credentials"): Case(body=lambda w: {"name": "Stolen", "scopes": ["all"]}),
    ("GET", "/v1/tenants/{tenantId}/xapi-credentials"): Case(),
    ("DELETE", "/v1/tenants/{tenantId}/xapi-credentials/{key}"): Case(prepare=_victim_lrs_credential),
    ("GET", "/v1/tenants/{tenantId}/xapi/about"): Case(legit=None, public=True, expect=200),
    ("PUT", "/v1/tenants/{tenantId}/xapi/statements"): Case(body=_statement,
                                                             request=_xapi(f"?statementId={_STATEMENT_ID}")),
    ("POST", "/v1/tenants/{tenantId}/xapi/statements"): Case(body=_statement, request=_xapi()),
    ("GET", "/v1/tenants/{tenantId}/xapi/statements"): Case(request=_xapi("?limit=5")),
    **{(method, "/v1/tenants/{tenantId}/xapi/" + resource): Case(body=lambda w: {"v": 1}, request=_xapi(query))
       for resource, query in (("activities/state", _STATE_QUERY), ("activities/profile", _APROF_QUERY),
                               ("agents/profile", _GPROF_QUERY))
       for method in ("PUT", "POST", "DELETE")},
    ("GET", "/v1/tenants/{tenantId}/xapi/activities/state"): Case(request=_xapi(_STATE_QUERY.split("&stateId")[0])),
    ("GET", "/v1/tenants/{tenantId}/xapi/activities/profile"): Case(request=_xapi("?activityId=http://x.example/a")),
    ("GET", "/v1/tenants/{tenantId}/xapi/agents/profile"): Case(request=_xapi(_GPROF_QUERY.split("&profileId")[0])),
    ("GET", "/v1/tenants/{tenantId}/xapi/activities"): Case(request=_xapi("?activityId=http://x.example/a")),
    ("GET", "/v1/tenants/{tenantId}/xapi/agents"): Case(request=_xapi("?" + _AGENT_Q)),
    # outside /v1/tenants/{tenantId}: see also the dedicated tests below
    ("GET", "/v1/tenants"): Case(legit="operator", expect=403, expect_for={"other_partner_admin": 200}),
    ("POST", "/v1/tenants"): Case(legit="operator", expect=403, body=_NEW_TENANT),
    ("POST", "/v1/oauth/token"): Case(legit="victim_client", public=True, expect=401, request=_token_request),
    ("GET", "/.well-known/jwks.json"): Case(legit=None, public=True, expect=200),
    ("GET", "/openapi.json"): Case(legit=None, public=True, expect=200),
    ("GET", "/docs"): Case(legit=None, public=True, expect=200),
    ("GET", "/v1/health"): Case(legit=None, public=True, expect=200),
}


def app_routes() -> list[tuple[str, str]]:
    return sorted((method, path) for path, methods in app.routes.items() for method in methods)


def case_for(method: str, path: str) -> Case | None:
    """HEAD is served by the GET view (routing.route lists it), so it shares the GET case."""
    return CASES.get(("GET" if method == "HEAD" else method, path))


# --- helpers ----------------------------------------------------------------------------------------

def _path(template: str, params: dict[str, Callable[[World], str]], w: World) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            pytest.fail(f"No way to build path parameter {{{name}}} of {template}: add it to VICTIM_PARAMS.")
        return params[name](w)

    return re.sub(r"\{(\w+)\}", value, template)


def _leaks(resp: Any, secrets: set[str], sent: str) -> list[str]:
    """The victim's strings in a response (body and headers), except those the caller sent itself
    (a problem's `instance` echoes the request path)."""
    text = (resp.body.decode() if isinstance(resp.body, bytes) else str(resp.body or ""))
    text += "\n" + json.dumps(dict(resp.headers))
    return sorted(s for s in secrets if s and s not in sent and s.lower() in text.lower())


def _sent(path: str, body: Any) -> str:
    return path + "\n" + (json.dumps(body) if body is not None else "")


def _attack(w: World, case: Case, method: str, route: str, who: str, path: str, body: Any) -> None:
    if case.attack_body:
        body = case.attack_body(w, who)
    if case.request:
        resp = case.request(w, method, who, path, body)
    else:
        resp = _call(w, method, None if case.public else who, path, body)
    expected = case.expect_for.get(who, case.expect)
    assert resp.status_code == expected, (
        f"{who} -> {method} {path} ({route}): {resp.status_code}, expected {expected}: {resp.body!r}")
    leaked = _leaks(resp, w.secrets(), _sent(path, body))
    assert not leaked, f"{who} -> {method} {path} ({route}) returned the victim's {leaked}: {resp.body!r}"


# --- the matrix -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "route"), app_routes(), ids=[f"{m} {p}" for m, p in app_routes()])
def test_no_route_serves_another_tenants_data(api: Any, world: World, method: str, route: str) -> None:
    case = case_for(method, route)
    if case is None:
        pytest.fail(f"Route {method} {route} has no isolation case: add one to CASES in "
                    f"tests/unit/test_isolation.py (how to build its path ids and a valid body).")
    w = world
    if case.prepare:
        case.prepare(w)
    path = _path(route, VICTIM_PARAMS, w)
    body = case.body(w) if case.body else None
    before = w.snapshot()
    for who in ATTACKERS:
        _attack(w, case, method, route, who, path, body)
    # the attacker's own tenant id with the victim's object ids (user, client): still nothing
    if "{tenantId}" in route and len(re.findall(r"\{\w+\}", route)) > 1:
        own = _path(route, {**VICTIM_PARAMS, **ATTACKER_PARAMS}, w)
        resp = _call(w, method, "attacker_admin", own, body)
        assert resp.status_code == 404, f"attacker_admin -> {method} {own}: {resp.status_code} {resp.body!r}"
        assert not _leaks(resp, w.secrets(), _sent(own, body))
    assert w.snapshot() == before, f"an attacker's {method} {route} changed the victim's data"
    legit_body = case.legit_body(w) if case.legit_body else body
    if case.request:
        resp = case.request(w, method, case.legit, path, legit_body)
    else:
        resp = _call(w, method, case.legit, path, legit_body)
    assert 200 <= resp.status_code < 300, (
        f"the legitimate caller ({case.legit}) of {method} {path} got {resp.status_code}: {resp.body!r}")


def test_every_route_has_a_case_and_every_case_a_route() -> None:
    routes = set(app_routes())
    missing = sorted(f"{m} {p}" for m, p in routes if case_for(m, p) is None)
    assert not missing, f"routes without an isolation case in CASES: {missing}"
    stale = sorted(f"{m} {p}" for m, p in CASES if (m, p) not in routes)
    assert not stale, f"isolation cases for routes the app no longer has: {stale}"
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            spec = getattr(entry.view_function, "spec", None)
            assert spec is not None, f"{method} {path} was not declared with chalicelib.http.routing.route"
            assert spec.path == path and spec.tenant_scoped == ("{tenantId}" in path)
            if spec.tenant_scoped and not spec.public:
                assert spec.scope, f"{method} {path} is tenant-scoped but names no scope"


@pytest.fixture(scope="module", autouse=True)
def _no_scan_in_this_module() -> Iterator[None]:
    before = callcount.dynamodb_ledger()
    yield
    scans = callcount.dynamodb_ledger()["Scan"] - before["Scan"]
    assert scans == 0, f"{scans} DynamoDB Scan(s) while the isolation tests ran"


# --- routes outside a tenant's path, and the hierarchy ----------------------------------------------

def _ids(resp: Any) -> set[str]:
    return {item["id"] for item in resp.json_body["items"]} if resp.status_code == 200 else set()


def test_tenant_directory_is_scoped_to_the_caller(api: Any, world: World) -> None:
    w = world
    listing = {who: api.call("GET", "/v1/tenants?limit=100", w.tokens[who])
               for who in ("operator", "partner_admin", "other_partner_admin", "attacker_admin",
                           "attacker_client", "victim_admin")}
    everyone = {t["id"] for t in (w.p1, w.p2, w.victim, w.attacker, w.rival_customer)}
    assert everyone <= _ids(listing["operator"])
    assert _ids(listing["partner_admin"]) == {w.victim["id"]}
    assert _ids(listing["other_partner_admin"]) == {w.rival_customer["id"]}
    for who in ("attacker_admin", "attacker_client", "victim_admin"):
        assert listing[who].status_code == 403, (who, listing[who].body)
        assert not _leaks(listing[who], w.secrets(), "")
    # a partner cannot list another partner's customers by naming that partner
    resp = api.call("GET", f"/v1/tenants?parentTenantId={w.p1['id']}", w.tokens["other_partner_admin"])
    assert resp.status_code == 404 and not _leaks(resp, w.secrets(), w.p1["id"])


def test_partners_create_tenants_only_under_themselves(api: Any, world: World) -> None:
    w = world
    body = {"name": "Planted", "slug": f"planted-{next(_seq)}", "template": "sales-team"}
    resp = api.call("POST", "/v1/tenants", w.tokens["other_partner_admin"], {**body, "parentTenantId": w.p1["id"]})
    assert resp.status_code == 403 and not _leaks(resp, w.secrets(), w.p1["id"])
    resp = api.call("POST", "/v1/tenants", w.tokens["other_partner_admin"], body)
    assert resp.status_code == 201 and resp.json_body["parentTenantId"] == w.p2["id"]
    for who in ("attacker_admin", "attacker_client", "victim_admin"):
        resp = api.call("POST", "/v1/tenants", w.tokens[who], {**body, "slug": f"planted-{next(_seq)}"})
        assert resp.status_code == 403, (who, resp.body)
    assert _ids(api.call("GET", "/v1/tenants?limit=100", w.tokens["partner_admin"])) == {w.victim["id"]}


def test_client_credentials_are_bound_to_their_tenant(api: Any, world: World) -> None:
    w = world
    mine = api.token_for_client(w.attacker_client["clientId"], w.attacker_client["clientSecret"])
    assert mine.status_code == 200
    import jwt

    claims = jwt.decode(mine.json_body["access_token"], options={"verify_signature": False})
    assert claims["tenant"] == w.attacker["id"]
    # the victim's client id with the attacker's secret, and a forged id in the victim's partition
    forged = f"{w.victim['id']}_{w.attacker_client['clientId'].partition('_')[2]}"
    for client_id in (w.victim_client["clientId"], forged):
        resp = api.token_for_client(client_id, w.attacker_client["clientSecret"])
        assert resp.status_code == 401 and resp.json_body["error"] == "invalid_client"
        assert not _leaks(resp, w.secrets(), client_id)


def test_credentials_do_not_cross_tenants_at_login(api: Any, world: World) -> None:
    w = world
    resp = api.call("POST", f"/v1/tenants/{w.attacker['id']}/sessions", None,
                    {"email": w.victim_admin["email"], "password": PASSWORD})
    assert resp.status_code == 401 and not _leaks(resp, w.secrets(), w.victim_admin["email"])


def test_public_documents_carry_no_tenant_data(api: Any, world: World) -> None:
    w = world
    for path in ("/v1/health", "/.well-known/jwks.json", "/openapi.json", "/docs"):
        for who in (None, "attacker_admin", "attacker_client"):
            resp = api.call("GET", path, w.token(who))
            assert resp.status_code == 200 and not _leaks(resp, w.secrets(), ""), (path, who)


def test_partner_admin_reads_its_customer_and_the_customers_users(api: Any, world: World) -> None:
    w = world
    token, vid = w.tokens["partner_admin"], w.victim["id"]
    assert api.call("GET", f"/v1/tenants/{vid}", token).json_body["id"] == vid
    users = api.call("GET", f"/v1/tenants/{vid}/users?limit=100", token)
    assert users.status_code == 200
    assert {w.victim_admin["id"], w.victim_user["id"]} <= _ids(users)
    got = api.call("GET", f"/v1/tenants/{vid}/users/{w.victim_user['id']}", token)
    assert got.status_code == 200 and got.json_body["email"] == w.victim_user["email"]
    # ...and nothing of a tenant that is not its customer, nor of the rival partner itself
    for tenant in (w.attacker, w.p2, w.rival_customer):
        resp = api.call("GET", f"/v1/tenants/{tenant['id']}/users", token)
        assert resp.status_code == 404, (tenant["slug"], resp.body)


def test_customer_admin_cannot_reach_its_partner(api: Any, world: World) -> None:
    w = world
    for path in (f"/v1/tenants/{w.p1['id']}", f"/v1/tenants/{w.p1['id']}/users"):
        resp = api.call("GET", path, w.tokens["victim_admin"])
        assert resp.status_code == 404 and "Pat Patron" not in resp.body.decode()


def test_operator_reads_everything(api: Any, world: World) -> None:
    w = world
    for tenant in (w.p1, w.p2, w.victim, w.attacker, w.rival_customer):
        resp = api.call("GET", f"/v1/tenants/{tenant['id']}", w.operator)
        assert resp.status_code == 200 and resp.json_body["id"] == tenant["id"]
        assert api.call("GET", f"/v1/tenants/{tenant['id']}/users", w.operator).status_code == 200
    got = api.call("GET", f"/v1/tenants/{w.victim['id']}/users/{w.victim_user['id']}", w.operator)
    assert got.status_code == 200 and got.json_body["id"] == w.victim_user["id"]
    clients = api.call("GET", f"/v1/tenants/{w.victim['id']}/clients", w.operator)
    assert w.victim_client["clientId"] in {c["clientId"] for c in clients.json_body["items"]}


def test_sandbox_belongs_to_its_tenant_and_its_partner_only(api: Any, world: World) -> None:
    w = world
    vid = w.victim["id"]
    resp = api.call("POST", f"/v1/tenants/{vid}/sandbox", w.tokens["attacker_admin"])
    assert resp.status_code == 404 and not _leaks(resp, w.secrets(), vid)
    _make_sandbox(w)
    assert w.sandbox is not None
    sid = w.sandbox["id"]
    assert w.sandbox["sandboxOf"] == vid
    for who in ("victim_admin", "partner_admin", "operator"):
        resp = api.call("GET", f"/v1/tenants/{sid}", w.tokens[who])
        assert resp.status_code == 200 and resp.json_body["id"] == sid, (who, resp.body)
        assert api.call("GET", f"/v1/tenants/{sid}/users", w.tokens[who]).status_code == 200, who
    for who in ATTACKERS:
        for method, path in (("GET", f"/v1/tenants/{sid}"), ("GET", f"/v1/tenants/{sid}/users"),
                             ("GET", f"/v1/tenants/{vid}/sandbox"), ("POST", f"/v1/tenants/{vid}/sandbox/reset")):
            resp = api.call(method, path, w.tokens[who])
            assert resp.status_code == 404, (who, method, path, resp.body)
            assert not _leaks(resp, w.secrets(), path), (who, path)
    # the attacker's own sandbox is its own business
    own = api.call("POST", f"/v1/tenants/{w.attacker['id']}/sandbox", w.tokens["attacker_admin"])
    assert own.status_code == 201 and own.json_body["sandboxOf"] == w.attacker["id"]
