"""Count AWS calls (DynamoDB above all) instead of timing moto.

PLATFORM_NOTES suggests a `before-call.dynamodb.*` handler appended to
`botocore.handlers.BUILTIN_HANDLERS`; that only reaches sessions created *after* the append, and
pynamodb keeps one connection (its own botocore session and client) on the `Item` class for the whole
process, while `chalicelib.aws.client()` caches boto3 clients. Whether those exist before this module is
imported depends on test order. Every botocore client, boto3's and pynamodb's alike, sends its requests
through `botocore.client.BaseClient._make_api_call` (the same place `before-call` is emitted), so the
counter wraps that one class attribute, once: clients made before or after the install are all seen.

    with counting() as calls:
        api.call("GET", ...)
    assert calls.dynamodb == {"GetItem": 1}

`LEDGER` keeps every call made since the install (service, operation), so a test module can assert
that no Scan happened anywhere while it ran.

Below the counter: one typical successful call of every route (SCENARIOS) and `route_costs()`, which
test_call_budget.py holds to budgets and `python -m bench.run` reports.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.client

_lock = threading.Lock()
_active: list[CallCounter] = []
LEDGER: Counter[tuple[str, str]] = Counter()  # (service, operation) -> calls since install
_seq = itertools.count(1)


class CallCounter:
    """The AWS calls made while it is active, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def record(self, service: str, operation: str) -> None:
        self.calls.append((service, operation))

    def of(self, service: str) -> Counter[str]:
        return Counter(op for svc, op in self.calls if svc == service)

    @property
    def dynamodb(self) -> Counter[str]:
        return self.of("dynamodb")

    def __repr__(self) -> str:
        return f"CallCounter({dict(Counter(self.calls))})"


def _service(client: Any) -> str:
    try:
        return str(client.meta.service_model.service_name)
    except AttributeError:  # pragma: no cover - every botocore client has a service model
        return "unknown"


def install() -> None:
    """Wrap BaseClient._make_api_call once per process (idempotent)."""
    original = botocore.client.BaseClient._make_api_call
    if getattr(original, "_onramp_counting", False):
        return

    def _make_api_call(self: Any, operation_name: str, api_params: Any) -> Any:
        service = _service(self)
        with _lock:
            LEDGER[(service, operation_name)] += 1
            for counter in _active:
                counter.record(service, operation_name)
        return original(self, operation_name, api_params)

    _make_api_call._onramp_counting = True  # type: ignore[attr-defined]
    _make_api_call.__wrapped__ = original  # type: ignore[attr-defined]
    botocore.client.BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]


@contextmanager
def counting() -> Iterator[CallCounter]:
    counter = CallCounter()
    with _lock:
        _active.append(counter)
    try:
        yield counter
    finally:
        with _lock:
            _active.remove(counter)


def dynamodb_ledger() -> Counter[str]:
    """Every DynamoDB operation since the install, by name."""
    with _lock:
        return Counter({op: n for (svc, op), n in LEDGER.items() if svc == "dynamodb"})



# --- what each route costs: one typical successful call per route, tenant cache warm ------------------

@dataclass
class CostWorld:
    """A small tenant world to call every route once: an operator, a partner, a customer tenant with
    an admin (logged in), a learner and an API client."""

    api: Any
    operator: str
    partner: dict[str, Any]
    tenant: dict[str, Any]
    admin: str
    admin_email: str
    password: str
    user: dict[str, Any]
    client_id: str
    client_secret: str
    extra: dict[str, Any] = field(default_factory=dict)

    def ids(self) -> dict[str, str]:
        return {"tenant": self.tenant["id"], "user": self.user["id"], "client": self.client_id,
                "partner": self.partner["id"]}

    def prime(self) -> None:
        """Warm the per-container tenant cache for every tenant of the world (outside any count)."""
        from chalicelib.tenancy import cache

        for tenant_id in (self.tenant["id"], self.partner["id"], self.tenant.get("sandboxId")):
            if tenant_id:
                cache.tenant_record(tenant_id)


def build_world(api: Any) -> CostWorld:
    n = next(_seq)
    operator = api.operator
    partner = api.make_tenant(name=f"Cost Partner {n}", slug=f"cost-partner-{n}", template="reseller")
    tenant = api.make_tenant(name=f"Cost Tenant {n}", slug=f"cost-tenant-{n}", parentTenantId=partner["id"])
    email, password = f"cost-admin-{n}@example.com", "correct-horse-battery"
    api.make_user(tenant["id"], roles=["admin"], email=email, password=password)
    admin = api.login(tenant["id"], email, password)
    user = api.make_user(tenant["id"], email=f"cost-learner-{n}@example.com")
    created = api.call("POST", f"/v1/tenants/{tenant['id']}/clients", admin,
                       {"name": "cost client", "scopes": ["users:read", "tenants:read"]})
    assert created.status_code == 201, created.body
    doc = api.json(created)
    return CostWorld(api, operator, partner, tenant, admin, email, password, user, doc["clientId"],
                     doc["clientSecret"])


def _call(method: str, path: str, who: str = "admin", body: Callable[[CostWorld], Any] | None = None
          ) -> Callable[[CostWorld], Any]:
    def run(w: CostWorld) -> Any:
        token = {"admin": w.admin, "operator": w.operator, "none": None}[who]
        return w.api.call(method, path.format(**w.ids()), token, body(w) if body else None)

    return run


def _token(w: CostWorld) -> Any:
    return w.api.token_for_client(w.client_id, w.client_secret)


def _login(w: CostWorld) -> Any:
    return w.api.call("POST", f"/v1/tenants/{w.tenant['id']}/sessions", None,
                      {"email": w.admin_email, "password": w.password})


def _revocable(collection: str, id_field: str, scopes: list[str]) -> tuple[Any, Any]:
    """(run, prepare) for revoking a freshly made secret holder (API client, LRS credential)."""
    def prepare(w: CostWorld) -> None:
        made = w.api.call("POST", f"/v1/tenants/{w.tenant['id']}/{collection}", w.admin,
                          {"name": "to revoke", "scopes": scopes})
        assert made.status_code == 201, made.body
        w.extra[collection] = w.api.json(made)[id_field]

    def run(w: CostWorld) -> Any:
        return w.api.call("DELETE", f"/v1/tenants/{w.tenant['id']}/{collection}/{w.extra[collection]}", w.admin)

    return run, prepare


def _sandbox(w: CostWorld) -> None:
    if not w.tenant.get("sandboxId"):
        made = w.api.call("POST", f"/v1/tenants/{w.tenant['id']}/sandbox", w.admin)
        w.tenant["sandboxId"] = w.api.json(made)["id"]


def _suspended(w: CostWorld) -> None:
    w.api.call("POST", f"/v1/tenants/{w.tenant['id']}/suspend", w.operator)


def _deactivated(w: CostWorld) -> None:
    w.api.call("POST", f"/v1/tenants/{w.tenant['id']}/users/{w.user['id']}/deactivate", w.admin)


def _new_tenant(w: CostWorld) -> dict[str, Any]:
    n = next(_seq)
    return {"name": f"Cost New {n}", "slug": f"cost-new-{n}", "template": "sales-team"}


def _new_user(w: CostWorld) -> dict[str, Any]:
    return {"email": f"cost-new-{next(_seq)}@example.com", "displayName": "New Person"}


T, U = "/v1/tenants/{tenant}", "/v1/tenants/{tenant}/users/{user}"
XAPI_HEADERS = {"X-Experience-API-Version": "1.0.3"}
AGENT = '{"mbox": "mailto:cost-learner@example.com"}'


def xapi_statement(n: int = 0) -> dict[str, Any]:
    return {"actor": {"mbox": "mailto:cost-learner@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": f"http://example.com/activities/{n}"}}


def _xapi(method: str, query: str = "", body: Callable[[CostWorld], Any] | None = None
          ) -> Callable[[CostWorld], Any]:
    """An xAPI request with the tenant admin's bearer token (LRS Basic credentials cost the same, cached)."""
    def run(w: CostWorld) -> Any:
        from urllib.parse import quote

        path = f"/v1/tenants/{w.tenant['id']}/xapi/statements" + query.replace("{agent}", quote(AGENT))
        return w.api.call(method, path, w.admin, body(w) if body else None, headers=XAPI_HEADERS)

    return run


DOC_QUERIES = {
    "activities/state": "?activityId=http://example.com/a&agent=%7B%22mbox%22%3A%22mailto%3Aa%40example.com%22%7D"
                        "&stateId=bookmark",
    "activities/profile": "?activityId=http://example.com/a&profileId=p",
    "agents/profile": "?agent=%7B%22mbox%22%3A%22mailto%3Aa%40example.com%22%7D&profileId=p",
}


def _doc(method: str, resource: str, query: str | None = None) -> Callable[[CostWorld], Any]:
    def run(w: CostWorld) -> Any:
        path = f"/v1/tenants/{w.tenant['id']}/xapi/{resource}" + (DOC_QUERIES[resource] if query is None else query)
        headers = {**XAPI_HEADERS, "If-Match": "*"} if method in ("PUT", "DELETE") else XAPI_HEADERS
        return w.api.call(method, path, w.admin, {"v": 1} if method in ("PUT", "POST") else None, headers=headers)

    return run


def _ignore(run: Callable[[CostWorld], Any]) -> Callable[[CostWorld], None]:
    return lambda w: None if run(w) is None else None


def _doc_scenarios() -> tuple[Scenario, ...]:
    out = []
    for resource in DOC_QUERIES:
        route = "/v1/tenants/{tenantId}/xapi/" + resource
        stored = _doc("POST", resource)
        out += [Scenario("POST", route, _doc("POST", resource), note="merge into a new document"),
                Scenario("PUT", route, _doc("PUT", resource), note="replace (If-Match: *)"),
                Scenario("GET", route, _doc("GET", resource), _ignore(stored), note="one document"),
                Scenario("DELETE", route, _doc("DELETE", resource), _ignore(stored))]
    return tuple(out)


def _statement_id(w: CostWorld) -> str:
    import uuid

    return str(uuid.uuid4())


def _put_statement(w: CostWorld) -> Any:
    path = f"/v1/tenants/{w.tenant['id']}/xapi/statements?statementId={_statement_id(w)}"
    return w.api.call("PUT", path, w.admin, xapi_statement(), headers=XAPI_HEADERS)


@dataclass(frozen=True)
class Scenario:
    method: str
    path: str  # the route as app.routes spells it
    run: Callable[[CostWorld], Any]
    prepare: Callable[[CostWorld], None] | None = None
    note: str = ""
    status: int | None = None  # the status a success is (a redirect); None: any 2xx


# --- courses, enrollments, the player: one tenant course (version 1 published, files in the bucket), a learner
LIB = "/v1/library/courses"
C = T + "/courses/{course}"
FILE_DEPTHS = range(1, 9)  # /play/<token>/… and /content/…: one route per depth


def _learning(w: CostWorld) -> None:
    """The tenant's course with version 1 published and its files (every depth) in the bucket, public assets
    at every depth, and a learner who logs in: made once, outside any count."""
    from tests.unit.course_helpers import FakePackage, FakeSco, add_version, nested, put_files

    x = w.extra
    if "course" in x:
        return
    tid = w.tenant["id"]
    made = w.api.call("POST", f"/v1/tenants/{tid}/courses", w.admin, {"title": "Cost Course"})
    assert made.status_code == 201, made.body
    course = w.api.json(made)["id"]
    prefix = f"packages/{tid}/{course}/x/"
    number = add_version(tid, course, FakePackage(scos=(FakeSco("sco-1", "Lesson", "page.html"),)), prefix)
    published = w.api.call("POST", f"/v1/tenants/{tid}/courses/{course}/versions/{number}/publish", w.admin)
    assert published.status_code == 200, published.body
    put_files({prefix + "/".join(nested(d)): "<p>a page</p>" for d in FILE_DEPTHS})
    put_files({"content/" + "/".join(nested(d, "asset.txt")): "an asset" for d in FILE_DEPTHS}, "text/plain")
    learner, token = w.api.user_token(tid, ["learner"])
    x.update(course=course, prefix=prefix, number=number, learner=learner["id"], learner_token=token)


def _spare_enrollment(w: CostWorld) -> None:
    """A second learner's enrollment in the course, to withdraw (the first one's attempt scenarios follow)."""
    _learning(w)
    learner = w.api.make_user(w.tenant["id"])
    made = w.api.call("POST", f"/v1/tenants/{w.tenant['id']}/enrollments", w.admin,
                      {"userId": learner["id"], "courseId": w.extra["course"]})
    assert made.status_code == 201, made.body
    w.extra["spare_enrollment"] = w.api.json(made)["id"]


def _draft(w: CostWorld) -> None:
    """A new draft version of the course (what publish and retire act on)."""
    from tests.unit.course_helpers import add_version

    _learning(w)
    w.extra["number"] = add_version(w.tenant["id"], w.extra["course"], prefix=w.extra["prefix"])


def _upload(w: CostWorld) -> None:
    _learning(w)
    if "upload" not in w.extra:
        made = w.api.call("POST", f"/v1/tenants/{w.tenant['id']}/courses/{w.extra['course']}/uploads", w.admin, {})
        w.extra["upload"] = w.api.json(made)["id"]


def _library(w: CostWorld) -> None:
    """A shared-library course (POST /v1/library/courses made it, or made here) and a pending upload of it."""
    from tests.unit.course_helpers import add_version

    if "lib" not in w.extra:
        w.extra["lib"] = w.api.json(w.api.call("POST", LIB, w.operator, {"title": "Cost Library Course"}))["id"]
    if "lib_number" not in w.extra:
        w.extra["lib_number"] = add_version("library", w.extra["lib"])
    if "lib_upload" not in w.extra:
        w.extra["lib_upload"] = w.api.json(w.api.call("POST", f"{LIB}/{w.extra['lib']}/uploads", w.operator, {}))["id"]


def _path(w: CostWorld) -> None:
    """A learning path of the tenant's course (POST …/paths made it, or made here)."""
    _learning(w)
    if "path" not in w.extra:
        made = w.api.call("POST", f"/v1/tenants/{w.tenant['id']}/paths", w.admin, _path_body(w))
        assert made.status_code == 201, made.body
        w.extra["path"] = w.api.json(made)["id"]


def _path_body(w: CostWorld) -> dict[str, Any]:
    return {"title": "Onboarding", "courses": [{"courseId": w.extra["course"]}]}


CMI5_AU = "https://example.com/cost/au"


def _cmi5(w: CostWorld) -> None:
    """A published cmi5 course (one AU), the learner enrolled and an attempt started: its launch token."""
    from urllib.parse import quote

    from tests.unit.course_helpers import add_version, cmi5_package, url_token

    _learning(w)
    x = w.extra
    if "cmi5_attempt" in x:
        return
    tid, admin = w.tenant["id"], w.admin
    made = w.api.call("POST", f"/v1/tenants/{tid}/courses", admin, {"title": "Cost cmi5 Course"})
    course = w.api.json(made)["id"]
    number = add_version(tid, course, cmi5_package(CMI5_AU), f"packages/{tid}/{course}/x/")
    published = w.api.call("POST", f"/v1/tenants/{tid}/courses/{course}/versions/{number}/publish", admin)
    assert published.status_code == 200, published.body
    enrolled = w.api.call("POST", f"/v1/tenants/{tid}/enrollments", admin, {"userId": x["learner"], "courseId": course})
    assert enrolled.status_code == 201, enrolled.body
    started = w.api.call("POST", f"/v1/tenants/{tid}/enrollments/{w.api.json(enrolled)['id']}/attempts",
                         x["learner_token"])
    assert started.status_code == 201, started.body
    doc = w.api.json(started)
    x.update(cmi5_attempt=doc["id"], cmi5_launch=url_token(doc["launchUrl"]), cmi5_sco=quote(CMI5_AU, safe=""))


CMI5_LAUNCH = T + "/attempts/{cmi5_attempt}/cmi5/launch?token={cmi5_launch}&sco={cmi5_sco}"


def _cmi5_fetch(w: CostWorld) -> None:
    """A fresh launch of the cmi5 AU (outside the count): its fetch URL, not used yet."""
    from tests.unit.course_helpers import cmi5_launch

    _cmi5(w)
    w.extra["cmi5_fetch"] = cmi5_launch(w.api, CMI5_LAUNCH.format_map({**w.ids(), **w.extra}))["fetchUrl"]


def _fetch(w: CostWorld) -> Any:
    """The AU's fetch (POST, no body): a success is the auth-token (errors are 200s too)."""
    resp = w.api.call("POST", w.extra["cmi5_fetch"], None)
    assert "auth-token" in w.api.json(resp), resp.body
    return resp


def _at(method: str, path: str, who: str = "admin", body: Callable[[CostWorld], Any] | None = None,
        keep: Callable[[CostWorld, Any], None] | None = None, headers: dict[str, str] | None = None,
        raw: Callable[[CostWorld], str] | None = None) -> Callable[[CostWorld], Any]:
    """A request whose path names the world's ids and `extra` ({course}, {attempt}, {content}...); `keep`
    stores what later scenarios need from the response (no AWS call)."""
    def run(w: CostWorld) -> Any:
        token = {"admin": w.admin, "operator": w.operator, "learner": w.extra.get("learner_token"), "none": None}[who]
        resp = w.api.call(method, path.format_map({**w.ids(), **w.extra}), token, body(w) if body else None,
                          headers=headers, raw=raw(w) if raw else None)
        if keep and 200 <= resp.status_code < 300:
            keep(w, resp)
        return resp

    return run


def _keep(**names: str) -> Callable[[CostWorld, Any], None]:
    def keep(w: CostWorld, resp: Any) -> None:
        doc = w.api.json(resp)
        w.extra.update({name: doc[field_] for name, field_ in names.items()})

    return keep


def _keep_player(w: CostWorld, resp: Any) -> None:
    from tests.unit.course_helpers import content_token, page_config, url_token

    config = page_config(resp)
    w.extra.update(commit=url_token(config["commitUrl"]), content=content_token(config))


def _keep_launch(w: CostWorld, resp: Any) -> None:
    from tests.unit.course_helpers import url_token

    doc = w.api.json(resp)
    w.extra.update(attempt=doc["id"], launch=url_token(doc["launchUrl"]))


PROGRESS = {"cmi": {"core": {"lesson_status": "incomplete", "lesson_location": "2", "exit": "suspend",
                             "session_time": "0000:00:30.00"}}}


def _course_scenarios() -> tuple[Scenario, ...]:
    from tests.unit.course_helpers import nested

    enroll = {"userId": "{learner}", "courseId": "{course}"}
    files = tuple(
        Scenario("GET", root + "".join(f"/{{p{i}}}" for i in range(1, d + 1)),
                 _at("GET", prefix + "/".join(nested(d, name)), "none"), _learning,
                 note=f"{what}: no table access, one S3 GetObject")
        for d in FILE_DEPTHS
        for root, prefix, name, what in (("/play/{token}", "/play/{content}/", "page.html", "content token (HMAC)"),
                                         ("/content", "/content/", "asset.txt", "public asset")))
    return (
        Scenario("GET", "/v1/tenants/{tenantId}/catalog", _at("GET", T + "/catalog"), _learning,
                 note="one Query of the tenant's materialised catalog partition"),
        Scenario("POST", "/v1/tenants/{tenantId}/courses", _at("POST", T + "/courses", body=lambda w: {"title": "New"}),
                 note="course, its own catalog entry and CourseCreated in one transaction"),
        Scenario("GET", "/v1/tenants/{tenantId}/courses", _at("GET", T + "/courses"), note="one Query (GSI1)"),
        Scenario("GET", "/v1/tenants/{tenantId}/courses/{courseId}", _at("GET", C), note="the catalog entry"),
        Scenario("PATCH", "/v1/tenants/{tenantId}/courses/{courseId}",
                 _at("PATCH", C, body=lambda w: {"description": "Changed"}),
                 note="own course: entry (source?), course, one transaction (the reply built from what was written)"),
        Scenario("GET", "/v1/tenants/{tenantId}/courses/{courseId}/versions", _at("GET", C + "/versions"),
                 note="the course (404 if unknown), then one Query"),
        Scenario("GET", "/v1/tenants/{tenantId}/courses/{courseId}/versions/{number}",
                 _at("GET", C + "/versions/{number}"), note="the version item"),
        Scenario("POST", "/v1/tenants/{tenantId}/courses/{courseId}/versions/{number}/publish",
                 _at("POST", C + "/versions/{number}/publish"), _draft,
                 note="course, draft, the published version it retires; one transaction with the event"),
        Scenario("POST", "/v1/tenants/{tenantId}/courses/{courseId}/versions/{number}/retire",
                 _at("POST", C + "/versions/{number}/retire"), _draft, note="course, version; one transaction"),
        Scenario("POST", "/v1/tenants/{tenantId}/courses/{courseId}/uploads",
                 _at("POST", C + "/uploads", body=lambda w: {}, keep=_keep(upload="id")),
                 note="the course, then the pending upload (PutItem); the presigned POST is signed locally"),
        Scenario("GET", "/v1/tenants/{tenantId}/courses/{courseId}/uploads/{uploadId}",
                 _at("GET", C + "/uploads/{upload}"), _upload, note="the upload item"),
        Scenario("POST", "/v1/tenants/{tenantId}/enrollments",
                 _at("POST", T + "/enrollments", body=lambda w: {k: v.format_map(w.extra) for k, v in enroll.items()},
                     keep=_keep(enrollment="id")),
                 note="user, catalog entry; claim, enrollment and event in one transaction"),
        Scenario("GET", "/v1/tenants/{tenantId}/enrollments", _at("GET", T + "/enrollments?courseId={course}"),
                 note="a course's enrollments: one Query (GSI2)"),
        Scenario("POST", "/v1/tenants/{tenantId}/enrollment-rules",
                 _at("POST", T + "/enrollment-rules", body=lambda w: {
                     "name": "AEs", "conditions": [{"attribute": "salesRole", "op": "eq", "value": "AE"}],
                     "courseId": w.extra["course"]}, keep=_keep(rule="id")),
                 note="the target's catalog entry; rule + event in one transaction (the back-fill runs on the stream)"),
        Scenario("GET", "/v1/tenants/{tenantId}/enrollment-rules", _at("GET", T + "/enrollment-rules"),
                 note="every rule of the tenant: one Query"),
        Scenario("GET", "/v1/tenants/{tenantId}/enrollment-rules/{ruleId}", _at("GET", T + "/enrollment-rules/{rule}"),
                 note="the rule"),
        Scenario("PATCH", "/v1/tenants/{tenantId}/enrollment-rules/{ruleId}",
                 _at("PATCH", T + "/enrollment-rules/{rule}", body=lambda w: {"name": "Renamed"}),
                 note="the rule; a conditional put (new target or conditions: + the back-fill event, one transaction)"),
        Scenario("DELETE", "/v1/tenants/{tenantId}/enrollment-rules/{ruleId}",
                 _at("DELETE", T + "/enrollment-rules/{rule}"), note="the rule, then its deletion"),
        Scenario("GET", "/v1/tenants/{tenantId}/enrollments/{enrollmentId}",
                 _at("GET", T + "/enrollments/{enrollment}"),
                 note="the enrollment (an admin sees everyone's: no user read)"),
        Scenario("DELETE", "/v1/tenants/{tenantId}/enrollments/{enrollmentId}",
                 _at("DELETE", T + "/enrollments/{spare_enrollment}"), _spare_enrollment,
                 note="the enrollment; status, claim deleted and event in one transaction"),
        Scenario("GET", "/v1/tenants/{tenantId}/users/{userId}/enrollments",
                 _at("GET", T + "/users/{learner}/enrollments"),
                 note="an admin: the user (404 if unknown), one Query (GSI1)"),
        Scenario("GET", "/v1/tenants/{tenantId}/me/enrollments", _at("GET", T + "/me/enrollments", "learner"),
                 note="the learner's own: one Query"),
        Scenario("POST", "/v1/tenants/{tenantId}/enrollments/{enrollmentId}/attempts",
                 _at("POST", T + "/enrollments/{enrollment}/attempts", "learner", keep=_keep_launch),
                 note="a new attempt: enrollment, version (SCOs copied), learner's name; one transaction"),
        Scenario("GET", "/v1/tenants/{tenantId}/attempts/{attemptId}", _at("GET", T + "/attempts/{attempt}"),
                 note="the attempt"),
        Scenario("GET", "/v1/tenants/{tenantId}/attempts/{attemptId}/launch",
                 _at("GET", T + "/attempts/{attempt}/launch?token={launch}", "none", keep=_keep_player),
                 note="the player page: the attempt, the tenant's branding (tokens are HMACs, no read)"),
        Scenario("PUT", "/v1/tenants/{tenantId}/attempts/{attemptId}/runtime",
                 _at("PUT", T + "/attempts/{attempt}/runtime?token={commit}", "none", body=lambda w: PROGRESS),
                 note="a progress commit (not completing): one UpdateItem"),
        Scenario("POST", "/v1/tenants/{tenantId}/attempts/{attemptId}/runtime",
                 _at("POST", T + "/attempts/{attempt}/runtime?token={commit}", "none",
                     headers={"Content-Type": "text/plain;charset=UTF-8"}, raw=lambda w: json.dumps(PROGRESS)),
                 note="a sendBeacon commit (text/plain), not completing: one UpdateItem"),
        Scenario("GET", "/v1/tenants/{tenantId}/attempts/{attemptId}/cmi5/launch", _at("GET", CMI5_LAUNCH, "none"),
                 _cmi5, status=302,
                 note="cmi5 AU launch (302): the attempt; LMS.LaunchData (read, then write) and 'launched' stored"),
        Scenario("POST", "/v1/tenants/{tenantId}/attempts/{attemptId}/cmi5/fetch", _fetch, _cmi5_fetch,
                 note="cmi5 auth-token, once: the token's use and the session's LRS credential in one transaction"),
        *files,
        # learning paths
        Scenario("POST", "/v1/tenants/{tenantId}/paths",
                 _at("POST", T + "/paths", body=_path_body, keep=_keep(path="id")), _learning,
                 note="the courses' catalog entries (one BatchGetItem); path, members, event in one transaction"),
        Scenario("GET", "/v1/tenants/{tenantId}/paths", _at("GET", T + "/paths"), _path, note="one Query (GSI1)"),
        Scenario("GET", "/v1/tenants/{tenantId}/paths/{pathId}", _at("GET", T + "/paths/{path}"), _path,
                 note="the path item"),
        Scenario("PATCH", "/v1/tenants/{tenantId}/paths/{pathId}",
                 _at("PATCH", T + "/paths/{path}", body=lambda w: {"title": "Ramp-up"}), _path,
                 note="the path, then one conditional UpdateItem"),
        Scenario("GET", "/v1/tenants/{tenantId}/users/{userId}/paths/{pathId}/progress",
                 _at("GET", T + "/users/{learner}/paths/{path}/progress"), _path,
                 note="an admin: the path, then the learner's enrollments (one Query)"),
        # the shared library (operator)
        Scenario("POST", LIB, _at("POST", LIB, "operator", body=lambda w: {"title": "Lib", "slug": f"lib-{next(_seq)}"},
                                  keep=_keep(lib="id")), note="course and its slug claim in one transaction"),
        Scenario("GET", LIB, _at("GET", LIB, "operator"), note="one Query (GSI1)"),
        Scenario("GET", LIB + "/{courseId}", _at("GET", LIB + "/{lib}", "operator"), _library, note="the course"),
        Scenario("PATCH", LIB + "/{courseId}", _at("PATCH", LIB + "/{lib}", "operator", body=lambda w: {"title": "L"}),
                 _library, note="read, then course and CourseUpdated in one transaction (fan-out: stream)"),
        Scenario("GET", LIB + "/{courseId}/versions", _at("GET", LIB + "/{lib}/versions", "operator"), _library,
                 note="the course, then one Query"),
        Scenario("POST", LIB + "/{courseId}/versions/{number}/publish",
                 _at("POST", LIB + "/{lib}/versions/{lib_number}/publish", "operator"), _library,
                 note="course, draft (no previous version); one transaction"),
        Scenario("POST", LIB + "/{courseId}/uploads",
                 _at("POST", LIB + "/{lib}/uploads", "operator", body=lambda w: {}), _library,
                 note="the course, then the pending upload (PutItem); presigning calls nothing"),
        Scenario("GET", LIB + "/{courseId}/uploads/{uploadId}", _at("GET", LIB + "/{lib}/uploads/{lib_upload}",
                                                                    "operator"), _library, note="the upload item"),
        Scenario("POST", LIB + "/{courseId}/grants",
                 _at("POST", LIB + "/{lib}/grants", "operator", body=lambda w: {"tenantId": w.tenant["id"]}), _library,
                 note="the course (grantee from the warm cache); grant + event, then the tenant's catalog entry"),
        Scenario("POST", "/v1/library/packages/{package}/grants",
                 _at("POST", "/v1/library/packages/cost-tier/grants", "operator",
                     body=lambda w: {"tenantId": w.tenant["id"]}), _library,
                 note="grant + event; the package's members (1 Query; none here), an entry per member course"),
        Scenario("GET", "/v1/library/packages/{package}", _at("GET", "/v1/library/packages/cost-tier", "operator"),
                 _library, note="one Query of the package's partition: members and grants"),
    )


# --- CRM inbound: the tenant's settings, one Salesforce message and one HubSpot batch that create a rep
def _crm_configured(w: CostWorld) -> None:
    from tests.unit import crm_helpers as crm

    if not w.extra.get("crm"):
        crm.configure_salesforce(w.api, w.tenant["id"], w.admin)
        crm.configure_hubspot(w.api, w.tenant["id"], w.admin)
        w.extra["crm"] = True


def _salesforce_message(w: CostWorld) -> Any:
    from tests.unit import crm_helpers as crm

    n = next(_seq)
    return crm.post_soap(w.api, w.tenant["id"], crm.soap([crm.sf_user(f"0055g{n:013d}", f"sf-{n}@example.com")]))


def _hubspot_batch(w: CostWorld) -> Any:
    from tests.unit import crm_helpers as crm

    n = 5000 + next(_seq)
    return crm.post_hubspot(w.api, w.tenant["id"], [crm.hs_event(n, "creation"),
                                                    crm.hs_event(n, name="email", value=f"hs-{n}@example.com"),
                                                    crm.hs_event(n, name="firstname", value="Hub")])


def _crm_scenarios() -> tuple[Scenario, ...]:
    from tests.unit.crm_helpers import ORG, SECRET

    base = "/v1/tenants/{tenantId}/integrations"
    return (
        Scenario("PUT", base + "/salesforce", _call("PUT", T + "/integrations/salesforce",
                                                    body=lambda w: {"organizationId": ORG}), note="settings + event"),
        Scenario("GET", base + "/salesforce", _call("GET", T + "/integrations/salesforce"), _crm_configured),
        Scenario("PUT", base + "/hubspot", _call("PUT", T + "/integrations/hubspot",
                                                 body=lambda w: {"appSecret": SECRET}), _crm_configured,
                 note="the secret sealed (no table call)"),
        Scenario("GET", base + "/hubspot", _call("GET", T + "/integrations/hubspot"), _crm_configured),
        Scenario("POST", base + "/salesforce/outbound-messages", _salesforce_message, _crm_configured,
                 note="one notification that creates a rep"),
        Scenario("POST", base + "/hubspot/webhooks", _hubspot_batch, _crm_configured,
                 note="a contact's creation, email and first name in one batch: one new rep"),
    )


# --- SCIM 2.0: a SCIM token of the tenant (its check cached, as in a warm container), a provisioned user, a group
SCIM_BASE = T + "/scim/v2"
_SCIM_USER, _SCIM_GROUP = "urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:core:2.0:Group"
_SCIM_PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _scim(method: str, path: str, body: Callable[[CostWorld], Any] | None = None) -> Callable[[CostWorld], Any]:
    def run(w: CostWorld) -> Any:
        headers = {"Authorization": f"Bearer {w.extra['scim_token']}", "Content-Type": "application/scim+json"}
        return w.api.call(method, (SCIM_BASE + path).format_map({**w.ids(), **w.extra}), None,
                          body(w) if body else None, headers=headers)

    return run


def _scim_ready(w: CostWorld) -> None:
    """A SCIM token (its check warm), a SCIM-provisioned user and a group with that user in it."""
    x = w.extra
    if "scim_token" not in x:
        made = w.api.call("POST", f"/v1/tenants/{w.tenant['id']}/scim-tokens", w.admin, {"name": "IdP"})
        assert made.status_code == 201, made.body
        x["scim_token"] = w.api.json(made)["token"]
    if "scim_user" not in x:
        made = _scim("POST", "/Users", lambda w: {"schemas": [_SCIM_USER], "userName": "scim.cost@example.com"})(w)
        assert made.status_code == 201, made.body
        x["scim_user"] = w.api.json(made)["id"]
    if "scim_group" not in x:
        made = _scim("POST", "/Groups", lambda w: {"schemas": [_SCIM_GROUP], "displayName": "Cost Group",
                                                     "members": [{"value": w.extra["scim_user"]}]})(w)
        assert made.status_code == 201, made.body
        x["scim_group"] = w.api.json(made)["id"]


def _scim_token_to_revoke(w: CostWorld) -> None:
    made = w.api.call("POST", f"/v1/tenants/{w.tenant['id']}/scim-tokens", w.admin, {"name": "to revoke"})
    w.extra["scim_token_id"] = w.api.json(made)["id"]


def _scim_patch(*operations: dict[str, Any]) -> Callable[[CostWorld], Any]:
    return lambda w: {"schemas": [_SCIM_PATCH], "Operations": list(operations)}


def _scim_scenarios() -> tuple[Scenario, ...]:
    r = "/v1/tenants/{tenantId}/scim/v2"
    tokens = "/v1/tenants/{tenantId}/scim-tokens"
    eq = "?filter=userName%20eq%20%22scim.cost@example.com%22"
    return (
        Scenario("POST", tokens, _call("POST", T + "/scim-tokens", body=lambda w: {"name": "Okta"})),
        Scenario("GET", tokens, _call("GET", T + "/scim-tokens")),
        Scenario("DELETE", tokens + "/{tokenId}", _at("DELETE", T + "/scim-tokens/{scim_token_id}"),
                 _scim_token_to_revoke),
        *(Scenario("GET", r + route, _call("GET", SCIM_BASE + doc, "none"), note="static")
          for route, doc in (("/ServiceProviderConfig", "/ServiceProviderConfig"), ("/ResourceTypes", "/ResourceTypes"),
                             ("/ResourceTypes/{resourceType}", "/ResourceTypes/User"), ("/Schemas", "/Schemas"),
                             ("/Schemas/{schemaId}", "/Schemas/" + _SCIM_GROUP))),
        Scenario("POST", r + "/Users", _scim("POST", "/Users", lambda w: {
            "schemas": [_SCIM_USER], "userName": f"scim.new.{next(_seq)}@example.com", "externalId": f"x{next(_seq)}"}),
            _scim_ready, note="with an externalId"),
        Scenario("GET", r + "/Users", _scim("GET", "/Users" + eq), _scim_ready, note="filter userName eq"),
        Scenario("GET", r + "/Users/{userId}", _scim("GET", "/Users/{scim_user}"), _scim_ready),
        Scenario("PUT", r + "/Users/{userId}", _scim("PUT", "/Users/{scim_user}", lambda w: {
            "schemas": [_SCIM_USER], "userName": "scim.cost@example.com", "displayName": "Put Name"}), _scim_ready,
            note="a new displayName"),
        Scenario("PATCH", r + "/Users/{userId}", _scim("PATCH", "/Users/{scim_user}", _scim_patch(
            {"op": "replace", "path": "title", "value": "AE"})), _scim_ready, note="one attribute"),
        Scenario("POST", r + "/Groups", _scim("POST", "/Groups", lambda w: {
            "schemas": [_SCIM_GROUP], "displayName": f"Group {next(_seq)}",
            "members": [{"value": w.extra["scim_user"]}]}),
            _scim_ready, note="with one member"),
        Scenario("GET", r + "/Groups", _scim("GET", "/Groups?filter=displayName%20eq%20%22Cost%20Group%22"),
                 _scim_ready, note="filter displayName eq, members included"),
        Scenario("GET", r + "/Groups/{groupId}", _scim("GET", "/Groups/{scim_group}"), _scim_ready),
        Scenario("PUT", r + "/Groups/{groupId}", _scim("PUT", "/Groups/{scim_group}", lambda w: {
            "schemas": [_SCIM_GROUP], "displayName": "Cost Group", "externalId": "g-1",
            "members": [{"value": w.extra["scim_user"]}]}), _scim_ready, note="same members, new externalId"),
        Scenario("PATCH", r + "/Groups/{groupId}", _scim("PATCH", "/Groups/{scim_group}", lambda w: _scim_patch(
            {"op": "remove", "path": f'members[value eq "{w.extra["scim_user"]}"]'})(w)), _scim_ready,
            note="one member removed"),
        Scenario("DELETE", r + "/Groups/{groupId}", _scim("DELETE", "/Groups/{scim_group}"), _scim_ready,
                 note="a group with no members left"),
        Scenario("DELETE", r + "/Users/{userId}", _scim("DELETE", "/Users/{scim_user}"), _scim_ready),
        *(Scenario(m, r + "/{resource}", _scim(m, "/Pets", (lambda w: {}) if m != "GET" else None),
                   _scim_ready, note="an unknown endpoint: SCIM 404", status=404)
          for m in ("GET", "POST", "PUT", "PATCH", "DELETE")),
    )


def _user_import(w: CostWorld) -> None:
    if "user_import" not in w.extra:
        made = w.api.call("POST", f"/v1/tenants/{w.tenant['id']}/user-imports", w.admin, {})
        assert made.status_code == 201, made.body
        w.extra["user_import"] = w.api.json(made)["id"]


def _import_scenarios() -> tuple[Scenario, ...]:
    return (
        Scenario("POST", "/v1/tenants/{tenantId}/user-imports",
                 _at("POST", T + "/user-imports", body=lambda w: {"fileName": "staff.csv"},
                     keep=_keep(user_import="id")),
                 note="the import item (PutItem); the presigned POST is signed locally"),
        Scenario("GET", "/v1/tenants/{tenantId}/user-imports", _at("GET", T + "/user-imports"), _user_import,
                 note="one Query (GSI1), newest first"),
        Scenario("GET", "/v1/tenants/{tenantId}/user-imports/{importId}", _at("GET", T + "/user-imports/{user_import}"),
                 _user_import, note="the import item (a report URL is signed locally)"),
    )


def _certificate(w: CostWorld) -> None:
    """A certificate of the world's learner, written with the models (tests/unit/cert_helpers.py)."""
    from tests.unit.cert_helpers import make_certificate

    if "certificate" not in w.extra:
        w.extra["certificate"] = make_certificate(w.tenant["id"], w.user["id"]).id


def _certificate_scenarios() -> tuple[Scenario, ...]:
    return (
        Scenario("GET", "/v1/tenants/{tenantId}/certificates/{certificateId}/pdf",
                 _at("GET", T + "/certificates/{certificate}/pdf"), _certificate, status=302,
                 note="first download: certificate + tenant read, PDF rendered and stored, pdf_key recorded"),
        Scenario("GET", "/v1/verify/{certificateId}", _at("GET", "/v1/verify/{certificate}", "none"), _certificate,
                 note="public: locator, then certificate + tenant in one BatchGetItem"),
        Scenario("GET", "/verify/{certificateId}", _at("GET", "/verify/{certificate}", "none"), _certificate,
                 note="the HTML page: the same reads"),
    )


def _program(w: CostWorld) -> None:
    """A certification program requiring the world's course (POST …/certifications made it, or made here)."""
    _learning(w)
    if "program" not in w.extra:
        made = w.api.call("POST", f"/v1/tenants/{w.tenant['id']}/certifications", w.admin, _program_body(w))
        assert made.status_code == 201, made.body
        w.extra["program"] = w.api.json(made)["id"]


def _program_body(w: CostWorld) -> dict[str, Any]:
    return {"name": "Cost Certified", "requirements": [{"kind": "course", "courseId": w.extra["course"]}],
            "validityDays": 365}


def _issue_to(w: CostWorld, user_id: str, name: str) -> None:
    """A certificate of the program issued to a user by certification.issue (outside the count)."""
    from chalicelib.certification import issue, programs
    from chalicelib.certification.criteria import Learner
    from chalicelib.events.consumer import EventEnvelope

    _program(w)
    if name not in w.extra:
        program = programs.load_program(w.tenant["id"], w.extra["program"])
        completed = [{"kind": "course", "courseId": w.extra["course"], "version": 1, "score": 90.0}]
        cause = EventEnvelope("ev-cost", "CourseCompleted", w.tenant["id"], "", None, None, {})
        w.extra[name] = issue.issue(program, Learner(w.tenant["id"], user_id), 1, completed, None, cause)


def _issued(w: CostWorld) -> None:
    _issue_to(w, w.user["id"], "issued")


def _issued_to_revoke(w: CostWorld) -> None:
    _learning(w)
    _issue_to(w, w.extra["learner"], "to_revoke")


def _library_program(w: CostWorld) -> None:
    """A shared certification program on the library course, which is granted to the world's tenant (so the
    tenant's listing shows it: its catalog entry and counts in one BatchGetItem)."""
    _library(w)
    if "lib_program" not in w.extra:
        w.api.call("POST", f"{LIB}/{w.extra['lib']}/grants", w.operator, {"tenantId": w.tenant["id"]})
        body = {"name": "Cost Shared", "requirements": [{"kind": "course", "courseId": w.extra["lib"]}]}
        made = w.api.call("POST", "/v1/library/certifications", w.operator, body)
        assert made.status_code == 201, made.body
        w.extra["lib_program"] = w.api.json(made)["id"]


def _programs_and_shared(w: CostWorld) -> None:
    _program(w)
    _library_program(w)


def _library_program_body(w: CostWorld) -> dict[str, Any]:
    return {"name": "Cost Shared 2", "requirements": [{"kind": "course", "courseId": w.extra["lib"]}]}


def _finished_export(w: CostWorld) -> None:
    """A completed background certificate export of the tenant (the item, as export_job leaves it)."""
    from chalicelib.clock import new_id, utcnow_iso
    from chalicelib.store import keys
    from chalicelib.store.models import CertificateExport

    export_id, now = new_id("ex"), utcnow_iso()
    t = w.tenant["id"]
    CertificateExport(PK=keys.certificate_export_pk(t, export_id), SK=keys.CERT_EXPORT_SK, id=export_id,
                      tenant_id=t, format="csv", status="completed", requested_by="us-cost", rows=3,
                      chunks=1, object_key=keys.certificate_export_key(t, export_id, "csv"), size_bytes=300,
                      created_at=now, updated_at=now, completed_at=now).save()
    w.extra["export"] = export_id


def _certification_scenarios() -> tuple[Scenario, ...]:
    p = "/v1/tenants/{tenantId}/certifications"
    lib = "/v1/library/certifications"
    return (
        Scenario("POST", lib, _at("POST", lib, "operator", body=_library_program_body), _library,
                 note="the library course checked (one BatchGetItem); program, target, event"),
        Scenario("GET", lib, _at("GET", lib, "operator"), _library_program, note="one Query (GSI1)"),
        Scenario("GET", lib + "/{certificationId}", _at("GET", lib + "/{lib_program}", "operator"), _library_program),
        Scenario("PATCH", lib + "/{certificationId}", _at("PATCH", lib + "/{lib_program}", "operator",
                                                          body=lambda w: {"name": "Shared Renamed"}), _library_program,
                 note="a new name: read, then a conditional UpdateItem"),
        Scenario("POST", p, _at("POST", T + "/certifications", body=_program_body, keep=_keep(program="id")), _learning,
                 note="catalog entries + tenant (default reminders) in one BatchGetItem; program, targets, event"),
        Scenario("GET", p, _at("GET", T + "/certifications"), _programs_and_shared,
                 note="own programs (one Query) + the library's (one Query) + catalog entries and counts of the "
                      "shared ones (one BatchGetItem)"),
        Scenario("GET", p + "/{certificationId}", _at("GET", T + "/certifications/{program}"), _program,
                 note="the program with its counts"),
        Scenario("PATCH", p + "/{certificationId}", _at("PATCH", T + "/certifications/{program}",
                                                        body=lambda w: {"name": "Renamed"}), _program,
                 note="a new name: read, then a conditional UpdateItem (targets unchanged)"),
        Scenario("GET", "/v1/tenants/{tenantId}/users/{userId}/certificates", _at("GET", U + "/certificates"),
                 _issued, note="admin: the user (404 if unknown) + one Query (GSI1)"),
        Scenario("GET", "/v1/tenants/{tenantId}/certificates/{certificateId}",
                 _at("GET", T + "/certificates/{issued}"), _issued),
        Scenario("POST", "/v1/tenants/{tenantId}/certificates/{certificateId}/revoke",
                 _at("POST", T + "/certificates/{to_revoke}/revoke", body=lambda w: {"reason": "test"}),
                 _issued_to_revoke, note="certificate read; certificate + counts + event in one transaction"),
        Scenario("GET", "/v1/tenants/{tenantId}/certificates/export", _at("GET", T + "/certificates/export?format=csv"),
                 _issued_to_revoke, note="admin, 2 certificates: claims Query (GSI1) + one BatchGetItem"),
        Scenario("GET", "/v1/tenants/{tenantId}/certificates/exports/{exportId}",
                 _at("GET", T + "/certificates/exports/{export}"), _finished_export,
                 note="completed: the export item; the presigned URL is signed locally"),
    )


def _partner_tiers_body(w: CostWorld) -> dict[str, Any]:
    from chalicelib.partners.tiers import DEFAULT_TIERS

    return {"tiers": DEFAULT_TIERS}


def _partner_scenarios() -> tuple[Scenario, ...]:
    p = "/v1/partners/{partnerId}"
    return (
        Scenario("GET", "/v1/partner-tiers", _call("GET", "/v1/partner-tiers"),
                 note="the operator's item (or the defaults)"),
        Scenario("PUT", "/v1/partner-tiers", _call("PUT", "/v1/partner-tiers", "operator", _partner_tiers_body),
                 note="operator: read the version, then item + event in one conditional transaction"),
        Scenario("PUT", p + "/tier", _call("PUT", "/v1/partners/{partner}/tier", "operator",
                                           lambda w: {"tier": "preferred"}),
                 note="operator: tiers + partner read, then tenant + event conditional on its version"),
        Scenario("POST", p + "/quotes", _call("POST", "/v1/partners/{partner}/quotes", "operator",
                                              lambda w: {"seats": 250, "listPricePerSeat": "40", "termYears": 3}),
                 note="partner + tiers in one BatchGetItem; nothing written"),
    )


def _brand_kit_body(w: CostWorld, name: str = "Cost Partner Learning") -> dict[str, Any]:
    return {"displayName": name, "logoUrl": "https://cdn.example.com/logo.png",
            "colors": {"primary": "#0f766e", "accent": "#facc15", "text": "#111827"},
            "emailTemplates": {"welcomeSubject": "Welcome, {{learnerName}}", "welcomeBody": "Hello {{learnerName}}."},
            "documentTemplate": {"certificateFooter": "Delivered by {{partnerName}}"},
            "support": {"email": "help@example.com", "hours": "Mon-Fri 9-17", "message": "Ask us anything."}}


def _as_partner_admin(method: str, path: str, body: Callable[[CostWorld], Any] | None = None,
                      who: str = "partner_admin") -> Callable[[CostWorld], Any]:
    """A brand-kit call by the partner's admin (made once, outside any count) or the operator."""
    def run(w: CostWorld) -> Any:
        if "partner_admin" not in w.extra:
            w.extra["partner_admin"] = w.api.tenant_admin(w.partner["id"])
        token = w.operator if who == "operator" else w.extra["partner_admin"]
        return w.api.call(method, path.format(**w.ids()), token, body(w) if body else None)

    return run


def _second_kit_version(w: CostWorld) -> None:
    """A changed draft submitted as version 2 (what the operator sends back with comments)."""
    _as_partner_admin("PUT", "/v1/partners/{partner}/brand-kit/draft", lambda x: _brand_kit_body(x, "Second"))(w)
    done = _as_partner_admin("POST", "/v1/partners/{partner}/brand-kit/draft/submit")(w)
    assert done.status_code == 201, done.body


def _brand_kit_scenarios() -> tuple[Scenario, ...]:
    k, ks = "/v1/partners/{partnerId}/brand-kit", "/v1/partners/{partnerId}/brand-kits"
    mk, mks = "/v1/partners/{partner}/brand-kit", "/v1/partners/{partner}/brand-kits"
    return (
        Scenario("PUT", k + "/draft", _as_partner_admin("PUT", mk + "/draft", _brand_kit_body),
                 _ignore(_as_partner_admin("GET", mk + "/draft")),
                 note="the draft (revision), then draft + audit entry in one conditional transaction"),
        Scenario("GET", k + "/draft", _as_partner_admin("GET", mk + "/draft")),
        Scenario("POST", k + "/draft/submit", _as_partner_admin("POST", mk + "/draft/submit"),
                 note="the draft, then version + draft + audit + event in one conditional transaction"),
        Scenario("GET", ks, _as_partner_admin("GET", mks), note="one Query (newest first)"),
        Scenario("GET", ks + "/{version}", _as_partner_admin("GET", mks + "/1"), note="with its decisions"),
        Scenario("POST", ks + "/{version}/approve", _as_partner_admin("POST", mks + "/1/approve", who="operator"),
                 note="version + partner tenant in one BatchGetItem; version, live kit, audit, event in one "
                      "transaction (customers follow through the stream)"),
        Scenario("POST", ks + "/{version}/request-changes",
                 _as_partner_admin("POST", mks + "/2/request-changes", lambda w: {"comment": "Bigger logo"},
                                   who="operator"), _second_kit_version,
                 note="the version, then version + audit + event conditional on status"),
        Scenario("GET", k + "/audit", _as_partner_admin("GET", mk + "/audit"), note="one Query"),
        Scenario("GET", "/v1/tenants/{tenantId}/branding", _call("GET", T + "/branding"),
                 note="the tenant item: the live kit rides on it"),
    )


def _routed_lead(w: CostWorld) -> None:
    """A lead offered to the world's partner (its routing profile set): `{lead}` for the later scenarios."""
    made = w.api.call("POST", "/v1/leads", w.operator, _lead_body(w))
    assert made.status_code == 201 and w.api.json(made)["status"] == "offered", made.body
    w.extra["lead"] = w.api.json(made)["id"]


def _claimed_lead(w: CostWorld) -> None:
    _routed_lead(w)
    done = w.api.call("POST", f"/v1/partners/{w.partner['id']}/leads/{w.extra['lead']}/claim", w.operator)
    assert done.status_code == 200, done.body


def _lead_body(w: CostWorld) -> dict[str, Any]:
    return {"industry": "SaaS", "region": "EMEA", "product": "LMS", "dealSize": "20000", "company": {"name": "Cost"}}


def _lead_scenarios() -> tuple[Scenario, ...]:
    pl = "/v1/partners/{partner}/leads/{lead}"
    return (
        Scenario("GET", "/v1/lead-routing", _call("GET", "/v1/lead-routing", "operator"),
                 note="the operator's item (or the defaults)"),
        Scenario("PUT", "/v1/lead-routing", _call("PUT", "/v1/lead-routing", "operator", lambda w: {"maxAttempts": 3}),
                 note="tiers (validation) + version read, then item + event in one conditional transaction"),
        Scenario("PUT", "/v1/partners/{partnerId}/routing-profile",
                 _call("PUT", "/v1/partners/{partner}/routing-profile", "operator",
                       lambda w: {"industries": ["SaaS"], "regions": ["EMEA"], "products": ["LMS"]}),
                 note="partner + settings in one BatchGetItem, card + event in one transaction, card read back "
                      "(no certification gate: no count read)"),
        Scenario("GET", "/v1/partners/{partnerId}/routing-profile",
                 _call("GET", "/v1/partners/{partner}/routing-profile", "operator"),
                 note="card + settings in one BatchGetItem"),
        Scenario("POST", "/v1/leads", _call("POST", "/v1/leads", "operator", _lead_body),
                 note="settings + tiers (+ external id) in one BatchGetItem, the pool in one Query, lead + offer + "
                      "decision + card + events in one transaction: the same at 10 or 1,000 partners"),
        Scenario("GET", "/v1/leads", _call("GET", "/v1/leads?status=offered", "operator"), note="one Query (GSI1)"),
        Scenario("GET", "/v1/leads/{leadId}", _at("GET", "/v1/leads/{lead}", "operator"), _routed_lead),
        Scenario("GET", "/v1/leads/{leadId}/routing", _at("GET", "/v1/leads/{lead}/routing", "operator"),
                 note="one Query of the lead's partition: lead, offers, decisions"),
        Scenario("GET", "/v1/partners/{partnerId}/leads", _call("GET", "/v1/partners/{partner}/leads", "operator"),
                 note="one Query (GSI1 on the offers)"),
        Scenario("POST", "/v1/partners/{partnerId}/leads/{leadId}/decline", _at("POST", pl + "/decline", "operator"),
                 note="lead + settings + tiers in one BatchGetItem, the pool, one transaction (here: escalated, "
                      "no other partner), the lead read back"),
        Scenario("POST", "/v1/partners/{partnerId}/leads/{leadId}/claim", _at("POST", pl + "/claim", "operator"),
                 _routed_lead, note="the lead (consistent), then lead + offer + card + event in one conditional "
                                    "transaction"),
        Scenario("POST", "/v1/partners/{partnerId}/leads/{leadId}/outcome",
                 _at("POST", pl + "/outcome", "operator", lambda w: {"status": "won"}), _claimed_lead,
                 note="the lead, then lead + offer + card + event in one conditional transaction"),
    )


def _sla(method: str, path: str, who: str = "admin", body: Callable[[CostWorld], Any] | None = None,
         keep: str | None = None) -> Callable[[CostWorld], Any]:
    """An SLA call by the customer's admin, the partner's admin or the operator; `keep` stores the made case id."""
    def run(w: CostWorld) -> Any:
        if who == "partner_admin" and "partner_admin" not in w.extra:
            w.extra["partner_admin"] = w.api.tenant_admin(w.partner["id"])
        token = {"admin": w.admin, "operator": w.operator, "partner_admin": w.extra.get("partner_admin")}[who]
        resp = w.api.call(method, path.format(**w.ids(), **w.extra), token, body(w) if body else None)
        if keep and resp.status_code == 201:
            w.extra[keep] = w.api.json(resp)["id"]
        return resp

    return run


def _sla_scenarios() -> tuple[Scenario, ...]:
    p, mp = "/v1/partners/{partnerId}", "/v1/partners/{partner}"
    c, mc = T.replace("{tenant}", "{tenantId}") + "/support-cases", T + "/support-cases"
    calendar = {"timezone": "Europe/Berlin", "workingDays": ["mon", "tue", "wed", "thu", "fri"],
                "workingHours": {"start": "09:00", "end": "17:00"}, "holidays": ["2027-12-25"]}
    policy = {k: {"responseHours": 4, "resolutionHours": 48} for k in ("high", "medium", "low")}
    case = {"subject": "Login fails", "description": "Since 09:40", "severity": "high"}
    return (
        Scenario("GET", p + "/sla-calendar", _sla("GET", mp + "/sla-calendar", "partner_admin"),
                 note="calendar + policy in one BatchGetItem"),
        Scenario("PUT", p + "/sla-calendar", _sla("PUT", mp + "/sla-calendar", "partner_admin", lambda w: calendar),
                 note="calendar + event in one transaction (no read)"),
        Scenario("GET", "/v1/sla-policy", _sla("GET", "/v1/sla-policy")),
        Scenario("PUT", "/v1/sla-policy", _sla("PUT", "/v1/sla-policy", "operator", lambda w: policy),
                 note="operator: policy + event"),
        Scenario("POST", c, _sla("POST", mc, body=lambda w: case, keep="sla_case"),
                 note="the partner from the tenant cache; calendar + policy (BatchGetItem); case, two due entries "
                      "and the event in one transaction"),
        Scenario("GET", c, _sla("GET", mc), note="one Query (GSI1)"),
        Scenario("GET", c + "/{caseId}", _sla("GET", mc + "/{sla_case}"), note="one Query: case + responses"),
        Scenario("POST", c + "/{caseId}/responses", _sla("POST", mc + "/{sla_case}/responses", "partner_admin",
                                                         lambda w: {"message": "On it"}),
                 note="the case, then response + case + due entry deleted + event in one conditional transaction"),
        Scenario("POST", c + "/{caseId}/resolve", _sla("POST", mc + "/{sla_case}/resolve", "partner_admin",
                                                       lambda w: {"resolution": "Fixed"}),
                 note="the case, then case + due entry deleted + event in one conditional transaction"),
        Scenario("GET", p + "/support-cases", _sla("GET", mp + "/support-cases", "partner_admin"),
                 note="one Query (GSI2)"),
        Scenario("PUT", p + "/uptime/{month}", _sla("PUT", mp + "/uptime/2027-01", "operator",
                                                   lambda w: {"percent": "99.912"}), note="item + event"),
        Scenario("GET", p + "/uptime", _sla("GET", mp + "/uptime", "partner_admin"), note="one Query"),
    )


def _score(method: str, path: str, who: str = "partner_admin", body: Callable[[CostWorld], Any] | None = None
           ) -> Callable[[CostWorld], Any]:
    """A scorecard/onboarding call by the partner's admin (made once, outside any count) or the operator."""
    def run(w: CostWorld) -> Any:
        if who == "partner_admin" and "partner_admin" not in w.extra:
            w.extra["partner_admin"] = w.api.tenant_admin(w.partner["id"])
        token = w.operator if who == "operator" else w.extra["partner_admin"]
        return w.api.call(method, path.format(**w.ids()), token, body(w) if body else None)

    return run


def _onboarding_plan(w: CostWorld) -> None:
    """The partner's onboarding plan, as its TenantCreated makes it (the stream is not drained here)."""
    from chalicelib.clock import utcnow_iso
    from chalicelib.partners import onboarding

    onboarding.create_plan(w.partner["id"], utcnow_iso())


def _scorecard_scenarios() -> tuple[Scenario, ...]:
    p, mp, q = "/v1/partners/{partnerId}", "/v1/partners/{partner}", "2026Q3"
    limits = {"tiers": {"strategic": {"certifiedReps": {"green": "12", "amber": "6"}}}}
    return (
        Scenario("PUT", "/v1/scorecard-thresholds", _score("PUT", "/v1/scorecard-thresholds", "operator",
                                                           lambda w: limits), note="config read, config + event"),
        Scenario("GET", "/v1/scorecard-thresholds", _score("GET", "/v1/scorecard-thresholds")),
        Scenario("PUT", p + "/kpi-inputs/{quarter}", _score("PUT", f"{mp}/kpi-inputs/{q}", "operator",
                                                           lambda w: {"customerSatisfactionPercent": "90"}),
                 note="inputs + event in one transaction"),
        Scenario("POST", p + "/scorecards/{quarter}/compute", _score("POST", f"{mp}/scorecards/{q}/compute",
                                                                     "operator"), _onboarding_plan,
                 note="partner, stored card, inputs, plan, tiers, thresholds in 1 BatchGetItem; routing settings; "
                      "lead figures (quarter + trailing year: 2 Queries each), SLA figures (2 Queries each); "
                      "card + event"),
        Scenario("GET", p + "/scorecards/{quarter}", _score("GET", f"{mp}/scorecards/{q}"), note="1 GetItem"),
        Scenario("GET", p + "/scorecards", _score("GET", f"{mp}/scorecards"), note="1 Query, newest first"),
        Scenario("GET", p + "/onboarding", _score("GET", f"{mp}/onboarding"), _onboarding_plan,
                 note="the plan is one item"),
        Scenario("POST", p + "/onboarding/milestones/{milestoneId}/complete",
                 _score("POST", f"{mp}/onboarding/milestones/kickoff/complete"),
                 note="the plan, then plan + event conditional on its version"),
        Scenario("POST", p + "/onboarding/deliverables/{deliverableId}/complete",
                 _score("POST", f"{mp}/onboarding/deliverables/pitch-deck/complete"),
                 note="the plan, then plan + event conditional on its version"),
    )


# In call order: some scenarios depend on earlier state (a revoked client, a suspended tenant...).
SCENARIOS: tuple[Scenario, ...] = (
    Scenario("GET", "/v1/health", _call("GET", "/v1/health", "none")),
    Scenario("GET", "/.well-known/jwks.json", _call("GET", "/.well-known/jwks.json", "none")),
    Scenario("GET", "/openapi.json", _call("GET", "/openapi.json", "none")),
    Scenario("GET", "/docs", _call("GET", "/docs", "none")),
    Scenario("POST", "/v1/oauth/token", _token, note="client_credentials of a tenant client"),
    Scenario("POST", "/v1/tenants", _call("POST", "/v1/tenants", "operator", _new_tenant), note="operator"),
    Scenario("GET", "/v1/tenants", _call("GET", "/v1/tenants", "operator"), note="operator: all tenants"),
    Scenario("GET", "/v1/tenants/{tenantId}", _call("GET", T)),
    Scenario("PATCH", "/v1/tenants/{tenantId}", _call("PATCH", T, body=lambda w: {"name": "Renamed"})),
    Scenario("POST", "/v1/tenants/{tenantId}/sessions", _login, note="email + password login"),
    Scenario("POST", "/v1/tenants/{tenantId}/clients",
             _call("POST", T + "/clients", body=lambda w: {"name": "c", "scopes": ["users:read"]})),
    Scenario("GET", "/v1/tenants/{tenantId}/clients", _call("GET", T + "/clients")),
    Scenario("DELETE", "/v1/tenants/{tenantId}/clients/{clientId}", *_revocable("clients", "clientId", ["users:read"])),
    Scenario("POST", "/v1/tenants/{tenantId}/users", _call("POST", T + "/users", body=_new_user)),
    Scenario("GET", "/v1/tenants/{tenantId}/users", _call("GET", T + "/users")),
    Scenario("GET", "/v1/tenants/{tenantId}/users/{userId}", _call("GET", U)),
    Scenario("PATCH", "/v1/tenants/{tenantId}/users/{userId}",
             _call("PATCH", U, body=lambda w: {"displayName": "Changed Name"})),
    Scenario("POST", "/v1/tenants/{tenantId}/users/{userId}/deactivate", _call("POST", U + "/deactivate")),
    Scenario("POST", "/v1/tenants/{tenantId}/users/{userId}/reactivate", _call("POST", U + "/reactivate"),
             _deactivated),
    Scenario("POST", "/v1/tenants/{tenantId}/sandbox", _call("POST", T + "/sandbox"), note="creates it"),
    Scenario("GET", "/v1/tenants/{tenantId}/sandbox", _call("GET", T + "/sandbox"), _sandbox),
    Scenario("POST", "/v1/tenants/{tenantId}/sandbox/reset", _call("POST", T + "/sandbox/reset"), _sandbox),
    Scenario("POST", "/v1/tenants/{tenantId}/xapi-credentials",
             _call("POST", T + "/xapi-credentials", body=lambda w: {"name": "LMS", "scopes": ["all"]})),
    Scenario("GET", "/v1/tenants/{tenantId}/xapi-credentials", _call("GET", T + "/xapi-credentials")),
    Scenario("DELETE", "/v1/tenants/{tenantId}/xapi-credentials/{key}",
             *_revocable("xapi-credentials", "key", ["all"])),
    Scenario("PUT", "/v1/tenants/{tenantId}/xapi-forwarding",
             _call("PUT", T + "/xapi-forwarding", body=lambda w: {"endpoint": "https://lrs.example.com/xapi/",
                                                                  "username": "onramp", "password": "pass"}),
             note="first settings (a later PUT costs the same)"),
    Scenario("GET", "/v1/tenants/{tenantId}/xapi-forwarding", _call("GET", T + "/xapi-forwarding")),
    Scenario("DELETE", "/v1/tenants/{tenantId}/xapi-forwarding", _call("DELETE", T + "/xapi-forwarding")),
    Scenario("GET", "/v1/tenants/{tenantId}/xapi/about", _call("GET", T + "/xapi/about", "none")),
    Scenario("PUT", "/v1/tenants/{tenantId}/xapi/statements", _put_statement, note="one statement"),
    Scenario("POST", "/v1/tenants/{tenantId}/xapi/statements",
             _xapi("POST", body=lambda w: [xapi_statement(n) for n in range(10)]), note="a batch of 10"),
    Scenario("GET", "/v1/tenants/{tenantId}/xapi/statements", _xapi("GET", "?agent={agent}&limit=10"),
             note="filtered by agent"),
    *_doc_scenarios(),
    Scenario("GET", "/v1/tenants/{tenantId}/xapi/activities",
             _doc("GET", "activities", "?activityId=http://example.com/a")),
    Scenario("GET", "/v1/tenants/{tenantId}/xapi/agents",
             _doc("GET", "agents", "?agent=%7B%22mbox%22%3A%22mailto%3Aa%40example.com%22%7D")),
    *_course_scenarios(),
    *_import_scenarios(),
    *_crm_scenarios(),
    *_scim_scenarios(),
    *_certificate_scenarios(),
    *_certification_scenarios(),
    *_partner_scenarios(),
    *_lead_scenarios(),
    *_brand_kit_scenarios(),
    *_sla_scenarios(),
    *_scorecard_scenarios(),
    Scenario("POST", "/v1/tenants/{tenantId}/suspend", _call("POST", T + "/suspend", "operator"),
             note="operator"),
    Scenario("POST", "/v1/tenants/{tenantId}/resume", _call("POST", T + "/resume", "operator"), _suspended,
             note="operator"),
)


@dataclass
class Cost:
    method: str
    path: str
    status: int
    dynamodb: Counter[str]
    note: str = ""
    s3: Counter[str] = field(default_factory=Counter)

    @property
    def route(self) -> str:
        return f"{self.method} {self.path}"


def measure(w: CostWorld, scenario: Scenario) -> Cost:
    if scenario.prepare:
        scenario.prepare(w)
    w.prime()
    with counting() as calls:
        resp = scenario.run(w)
    ok = resp.status_code == scenario.status if scenario.status else 200 <= resp.status_code < 300
    assert ok, (scenario.method, scenario.path, resp.status_code, resp.body)
    return Cost(scenario.method, scenario.path, resp.status_code, calls.dynamodb, scenario.note, calls.of("s3"))


def route_costs(api: Any) -> dict[str, Cost]:
    """'METHOD /path' -> the DynamoDB operations of one typical successful call (warm tenant cache)."""
    world = build_world(api)
    return {c.route: c for c in (measure(world, s) for s in SCENARIOS)}


def cold_get_tenant(api: Any) -> Counter[str]:
    """GET /v1/tenants/{id} by the tenant's admin with an empty tenant cache (a fresh container)."""
    from chalicelib.tenancy import cache

    world = build_world(api)
    cache.reset()
    with counting() as calls:
        resp = api.call("GET", f"/v1/tenants/{world.tenant['id']}", world.admin)
    assert resp.status_code == 200, resp.body
    return calls.dynamodb


install()
