"""Tenant isolation, built from the app's own route table.

Every route in `app.routes` must have a case in CASES (a new route without one fails here, naming the
route). For a tenant-scoped route the case says how to build the victim's real path ids and a valid body
so that the request succeeds for the victim's legitimate caller; the same request is then made with the
tokens of three attackers - another tenant's admin (a person's login token), another tenant's API client
(client credentials) and the admin of a partner whose customer the victim is *not* - and must be a 404
that returns nothing of the victim's and changes nothing. The legitimate call must then succeed, so the
test cannot pass by everything failing. Routes outside /v1/tenants/{tenantId} get cases of their own.

Courses and learning: the victim's course (a published version whose files are in the bucket, a pending
upload), its learner's enrollment and launched attempt, the attacker's own course and attempt (the tokens an
attacker can hold legitimately) and a shared-library course are built lazily, by the cases that need them
(`prepare`, or a path parameter), before the victim's state is snapshotted; so are a learning path of the
victim's course and a cmi5 attempt of the victim's learner (its AU launched once), with the attacker's own
cmi5 attempt. The routes authorised by a token in the URL (the player page, runtime commits, the cmi5 launch
and auth-token fetch, `/play/<token>/…`) are attacked with the attacker's own valid tokens and with tampered
ones; `/content/…` (public assets) with paths aimed outside its prefix. A cmi5 fetch answers 200 whatever
happens: there an attack must get an error code and no auth-token (`Case.check`).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import jwt
import pytest

from app import app
from tests.unit import callcount
from tests.unit.course_helpers import (
    FakePackage,
    FakeSco,
    add_version,
    cmi5_launch,
    cmi5_package,
    nested,
    player_tokens,
    put_files,
    tamper,
    url_token,
)

PASSWORD = "correct-horse-battery"
XAPI_VERSION = {"X-Experience-API-Version": "1.0.3"}
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
    learning: dict[str, Any] = field(default_factory=dict)  # courses, attempts, tokens: built lazily
    extra_secrets: set[str] = field(default_factory=set)  # the victim's strings of the lazy parts

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
        return found | self.extra_secrets

    def snapshot(self) -> list[Any]:
        """The victim's state as the operator sees it: any write by an attacker would change it."""
        vid = self.victim["id"]
        paths = [f"/v1/tenants/{vid}", f"/v1/tenants/{vid}/users?limit=100",
                 f"/v1/tenants/{vid}/clients?limit=100", f"/v1/tenants/{vid}/users/{self.victim_user['id']}",
                 f"/v1/tenants/{self.p1['id']}"]
        if self.sandbox:
            paths.append(f"/v1/tenants/{self.sandbox['id']}")
        paths += self._learning_paths()
        state = []
        for path in paths:
            headers = XAPI_VERSION if "/xapi/" in path else None
            resp = self.api.call("GET", path, self.operator, headers=headers)
            state.append((path, resp.status_code, self.api.json(resp)))
        return state

    def _learning_paths(self) -> list[str]:
        t, c = f"/v1/tenants/{self.victim['id']}", self.learning
        paths = []  # each write route changes at least one of these (entries carry the course's fields)
        if "courseId" in c:
            paths += [f"{t}/catalog?limit=100", f"{c['base']}/versions?limit=100"]
            paths += [f"{t}/users/{u['id']}/enrollments?limit=100" for u in (self.victim_admin, self.victim_user)]
        if "ruleId" in c:  # every field of every rule, their back-fill counts too
            paths.append(f"{t}/enrollment-rules")
        if "attemptId" in c:  # the enrollment's attempt id is in the listing above; the runtime state is here
            paths.append(f"{t}/attempts/{c['attemptId']}")
        if "library" in c:  # the library's courses and versions, and the catalogs an attacker would grant itself
            paths += [f"{LIB}?limit=100", f"{LIB}/{c['library']['courseId']}/versions?limit=100",
                      f"/v1/tenants/{self.attacker['id']}/catalog?limit=100",
                      f"/v1/tenants/{self.p2['id']}/catalog?limit=100"]
        if "path" in c:  # the listing carries every field of every path
            paths.append(f"{t}/paths?limit=100")
        if "importId" in c:  # user imports: the listing carries every import's status and counts
            paths.append(f"{t}/user-imports?limit=100")
        if "cmi5" in c:  # a cmi5 launch rewrites LMS.LaunchData and stores a "launched" statement
            v = c["cmi5"]
            paths += [f"{t}/attempts/{v['attemptId']}", f"{t}/xapi/statements?limit=100", v["launchData"]]
        if "forwarding" in c:  # where the victim's statements go, and with which credentials
            paths.append(f"{t}/xapi-forwarding")
        if "scimGroup" in c:  # the victim's SCIM group: its name, externalId and members
            paths.append(f"{t}/scim/v2/Groups/{c['scimGroup']}")
        return paths + self._certification_paths() + self._sla_paths() + self._scorecard_paths()

    def _scorecard_paths(self) -> list[str]:
        """P1's onboarding plan, its scorecards (and KPI inputs, inside them) and the operator's thresholds."""
        if "scorecards" not in self.learning:
            return []
        p = f"/v1/partners/{self.p1['id']}"
        return [f"{p}/onboarding", f"{p}/scorecards", f"{p}/scorecards/{SCORE_QUARTER}", "/v1/scorecard-thresholds"]

    def _sla_paths(self) -> list[str]:
        """The victim's support case (clocks, responses) and its partner's SLA calendar and uptime figures."""
        if "supportCase" not in self.learning:
            return []
        t, p = f"/v1/tenants/{self.victim['id']}", f"/v1/partners/{self.p1['id']}"
        return [f"{t}/support-cases/{self.learning['supportCase']}", f"{p}/sla-calendar", f"{p}/uptime"]

    def _certification_paths(self) -> list[str]:
        t, c, paths = f"/v1/tenants/{self.victim['id']}", self.learning, []
        if "program" in c:  # the victim's certification programs, their counts
            paths.append(f"{t}/certifications?limit=100")
        if "programId" in c.get("library", {}):  # the operator's shared certification programs (every field)
            paths.append("/v1/library/certifications?limit=100")
        if "issued" in c:  # the victim's certificate (status, revocation)
            paths += [f"{t}/certificates/{c['issued']}", f"{t}/users/{self.victim_user['id']}/certificates?limit=100"]
        if "brandKit" in c:  # the victim's partner's brand kit (draft, versions, decisions, audit), live kit shown
            b = f"/v1/partners/{self.p1['id']}"
            paths += [f"{b}/brand-kit/draft", f"{b}/brand-kits?limit=100", f"{b}/brand-kit/audit?limit=100",
                      f"{t}/branding", f"/v1/tenants/{self.p1['id']}/branding"]
        if "lead" in c:  # the victim's partner's lead (offer, owner, outcome), its routing card and decisions
            paths += [f"/v1/leads/{c['lead']}", f"/v1/leads/{c['lead']}/routing",
                      f"/v1/partners/{self.p1['id']}/routing-profile", "/v1/lead-routing"]
        return paths


def _admin(api: Any, tenant_id: str, email: str, name: str) -> tuple[dict[str, Any], str]:
    user = api.make_user(tenant_id, roles=["admin"], email=email, password=PASSWORD, displayName=name)
    return user, api.login(tenant_id, email, PASSWORD)


# CreateClient takes at most 16 scopes and there are 18 (the course scopes made the difference): a client
# cannot hold them all. These two are left out: the attacks need neither (an attacker's client is stopped at
# the tenant check, before its scopes are looked at), and every course and learning scope stays in.
_NOT_ASKED_FOR = ("xapi:statements:read:mine", "clients:read")


def _client_scopes() -> list[str]:
    from chalicelib.api.schemas import CreateClient
    from chalicelib.auth.scopes import ALL

    limit = min(m.max_length for m in CreateClient.model_fields["scopes"].metadata if hasattr(m, "max_length"))
    scopes = sorted(ALL)
    for name in _NOT_ASKED_FOR:
        if len(scopes) > limit:
            scopes.remove(name)
    return scopes


def _client(api: Any, tenant_id: str, token: str, name: str) -> dict[str, Any]:
    resp = api.call("POST", f"/v1/tenants/{tenant_id}/clients", token, {"name": name, "scopes": _client_scopes()})
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
                                displayName=f"Victor Learner {n}", roles=["learner"], password=PASSWORD)
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
    params: dict[str, Callable[[World], str]] = field(default_factory=dict)  # overrides VICTIM_PARAMS
    own_expect: int = 404  # the attacker's own tenant id with the victim's object ids
    legit_expect: int | None = None  # the legitimate call's status (a redirect); None: any 2xx
    # more to assert of a response than its status: (world, who, response), `who` an attacker, "own" (the
    # attacker's own tenant id with the victim's ids) or "legit"; replaces the own variant's empty-page check
    check: Callable[[World, str, Any], None] | None = None


def _call(world: World, method: str, who: str | None, path: str, body: Any) -> Any:
    return world.api.call(method, path, world.token(who), body)


# path placeholder -> the victim's real value
VICTIM_PARAMS: dict[str, Callable[[World], str]] = {
    "tenantId": lambda w: w.victim["id"],
    "userId": lambda w: w.victim_user["id"],
    "clientId": lambda w: w.victim_client["clientId"],
    "key": lambda w: w.victim["lrsKey"],
    "courseId": lambda w: _course(w)["courseId"],
    "number": lambda w: str(_course(w)["number"]),
    "uploadId": lambda w: _course(w)["uploadId"],
    "enrollmentId": lambda w: _learning(w)["enrollmentId"],
    "attemptId": lambda w: _learning(w)["attemptId"],
    "pathId": lambda w: _learning_path(w)["pathId"],
    "importId": lambda w: _user_import(w),
    "tokenId": lambda w: _victim_scim_token(w),
    "groupId": lambda w: _victim_scim_group(w),
    "ruleId": lambda w: _rule(w)["ruleId"],
    "certificateId": lambda w: _victim_certificate(w),
    "certificationId": lambda w: _victim_program(w),
    "caseId": lambda w: _victim_case(w),
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


def _victim_forwarding(w: World) -> None:
    """The victim forwards its statements to its own external LRS (PUT, GET and DELETE act on these settings)."""
    if "forwarding" not in w.learning:
        n = next(_seq)
        host, user = f"lrs{n}.victim.example", f"victim-forwarder-{n}"
        resp = w.api.call("PUT", f"/v1/tenants/{w.victim['id']}/xapi-forwarding", w.tokens["victim_admin"],
                          {"endpoint": f"https://{host}/xapi/", "username": user, "password": f"victim-pass-{n}"})
        assert resp.status_code == 200, resp.body
        w.learning["forwarding"] = True
        w.extra_secrets |= {host, user}


def _victim_certificate(w: World) -> str:
    """A certificate of the victim's learner, written with the models as issuing writes it (the PDF's row rules:
    tests/unit/test_certificate_pdf.py); its program name is the victim's."""
    from tests.unit.cert_helpers import make_certificate

    if "certificate" not in w.learning:
        program = f"Victim Closer Programme {next(_seq)}"
        w.learning["certificate"] = make_certificate(w.victim["id"], w.victim_user["id"], program_name=program,
                                                     learner_name=w.victim_user["displayName"]).id
        w.extra_secrets.add(program)
    return str(w.learning["certificate"])


def _victim_program(w: World) -> str:
    """The victim's certification program (requires the victim's course), watched by the snapshot."""
    c = _course(w)
    if "program" not in c:
        name = f"Victim Certified Pro {next(_seq)}"
        made = _ok(w.api.call("POST", f"/v1/tenants/{w.victim['id']}/certifications", w.tokens["victim_admin"],
                              {"name": name, "requirements": [{"kind": "course", "courseId": c["courseId"]}],
                               "validityDays": 365}))
        c["program"] = w.api.json(made)["id"]
        w.extra_secrets |= {name, c["program"]}
    return str(c["program"])


def _victim_issued(w: World) -> str:
    """A certificate of the victim's learner issued by certification.issue on the victim's program."""
    c = _course(w)
    if "issued" not in c:
        from chalicelib.certification import issue, programs
        from chalicelib.certification.criteria import Learner
        from chalicelib.events.consumer import EventEnvelope

        program = programs.load_program(w.victim["id"], _victim_program(w))
        completed = [{"kind": "course", "courseId": c["courseId"], "version": 1, "score": 90.0}]
        cause = EventEnvelope("ev-x", "CourseCompleted", w.victim["id"], "", None, None, {})
        c["issued"] = issue.issue(program, Learner(w.victim["id"], w.victim_user["id"]), 1, completed, None, cause)
        w.extra_secrets.add(c["issued"])
    return str(c["issued"])


def _victim_export(w: World) -> str:
    """A background certificate export of the victim's admin (the item only: no message is queued)."""
    c = _course(w)
    if "export" not in c:
        from chalicelib.clock import new_id, utcnow_iso
        from chalicelib.store import keys
        from chalicelib.store.models import CertificateExport

        export_id, now = new_id("ex"), utcnow_iso()
        CertificateExport(PK=keys.certificate_export_pk(w.victim["id"], export_id), SK=keys.CERT_EXPORT_SK,
                          id=export_id, tenant_id=w.victim["id"], format="csv", status="running",
                          requested_by=w.victim_user["id"], created_at=now, updated_at=now).save()
        c["export"] = export_id
        w.extra_secrets.add(export_id)
    return str(c["export"])


def _victim_case(w: World) -> str:
    """A support case of the victim's admin with its partner P1 (SLAs), watched by the snapshot."""
    c = w.learning
    if "supportCase" not in c:
        subject = f"Victim outage {next(_seq)}"
        made = _ok(w.api.call("POST", f"/v1/tenants/{w.victim['id']}/support-cases", w.tokens["victim_admin"],
                              {"subject": subject, "description": "Nothing loads.", "severity": "high"}))
        c["supportCase"] = w.api.json(made)["id"]
        w.extra_secrets |= {subject, c["supportCase"]}
    return str(c["supportCase"])


SCORE_QUARTER = "2026Q3"  # a quarter that has started (quarters in the future are a 400)


def _scorecards(w: World) -> None:
    """P1 has its onboarding plan (made as its TenantCreated would) and a computed scorecard, watched by the
    snapshot; the thresholds are the operator's."""
    if "scorecards" not in w.learning:
        from chalicelib.clock import utcnow_iso
        from chalicelib.partners import onboarding

        onboarding.create_plan(w.p1["id"], utcnow_iso())
        _ok(w.api.call("PUT", "/v1/scorecard-thresholds", w.operator, {"tiers": {"registered": {
            "certifiedReps": {"green": "3", "amber": "1"}}}}))
        _ok(w.api.call("PUT", f"/v1/partners/{w.p1['id']}/kpi-inputs/{SCORE_QUARTER}", w.operator,
                       {"customerSatisfactionPercent": "87.25"}))
        _ok(w.api.call("POST", f"/v1/partners/{w.p1['id']}/scorecards/{SCORE_QUARTER}/compute", w.operator))
        w.learning["scorecards"] = True


def _scorecard_case(**options: Any) -> Case:
    """P1's scorecards and onboarding: its admins (KPI inputs and computing: the operator); everyone else 404."""
    return Case(**{"legit": "partner_admin", "prepare": _scorecards,
                   "params": {"partnerId": lambda w: w.p1["id"], "quarter": lambda w: SCORE_QUARTER,
                              "milestoneId": lambda w: "kickoff", "deliverableId": lambda w: "pitch-deck"},
                   **options})


def _sla_case(**options: Any) -> Case:
    """P1's SLA settings, cases and uptime: its admins (the operator for uptime figures); everyone else 404."""
    return Case(**{"legit": "partner_admin", "params": {"partnerId": lambda w: w.p1["id"],
                                                        "month": lambda w: "2027-01"},
                   "prepare": lambda w: None if _victim_case(w) else None, **options})


def _pdf_untouched(w: World, who: str, resp: Any) -> None:
    """No attacker's request rendered (and recorded) the victim's PDF; the legitimate one did."""
    from chalicelib.store import keys
    from chalicelib.store.models import Certificate

    cert = Certificate.get(keys.certificate_pk(w.victim["id"], _victim_certificate(w)), keys.CERTIFICATE_SK)
    assert (cert.pdf_key is not None) == (who == "legit"), (who, cert.pdf_key)


def _verify_request(w: World, method: str, who: str | None, path: str, body: Any) -> Any:
    """Public verification by certificate id. Whoever holds the victim's id sees its public face (the legitimate
    call: `_public_face_only`). Attackers use what they have: the attacker's own certificate (200, its own data
    only), a guessed id (404) and the victim's tenant id in the id's place (404)."""
    from chalicelib.clock import new_id
    from tests.unit.cert_helpers import make_certificate

    if who is None:
        return _sent_to(w, method, path)
    root = path.rsplit("/", 1)[0]
    if who == "attacker_admin":
        me = jwt.decode(w.tokens["attacker_admin"], options={"verify_signature": False})["sub"]
        return _sent_to(w, method, f"{root}/{make_certificate(w.attacker['id'], me).id}")
    return _sent_to(w, method, f"{root}/{new_id('ce') if who == 'attacker_client' else w.victim['id']}")


def _public_face_only(w: World, who: str, resp: Any) -> None:
    """The victim's certificate shows status, program, learner name, issuer, dates: no email, user or tenant id."""
    text = resp.body.decode() if isinstance(resp.body, bytes) else str(resp.body or "")
    if who != "legit" or not text:  # HEAD: no body
        return
    assert w.victim_user["displayName"] in text
    for private in (w.victim["id"], w.victim_user["id"], w.victim_user["email"], w.p1["id"], w.p1["name"]):
        assert private not in text, private
    if "json" in resp.headers.get("Content-Type", ""):
        assert set(w.api.json(resp)) == {"status", "program", "learnerName", "issuer", "issuedOn", "expiresOn"}


def _brand_kit_body(name: str) -> dict[str, Any]:
    return {"displayName": name, "logoUrl": "https://cdn.patron.example/logo.png",
            "colors": {"primary": "#0f766e", "accent": "#facc15", "text": "#111827"},
            "emailTemplates": {"welcomeSubject": "Welcome {{learnerName}}", "welcomeBody": "Hello {{learnerName}}"},
            "documentTemplate": {"certificateFooter": "With {{partnerName}}"},
            "support": {"email": "help@patron.example", "hours": "Mon-Fri", "message": "Ask Patron."}}


def _brand_kit(w: World, live: bool = False) -> None:
    """The victim's partner (P1) has a brand kit: a draft submitted as version 1 (approved and live on the victim
    when `live`); watched by the snapshot."""
    if "brandKit" not in w.learning:
        name = f"Patron Kit {next(_seq)}"
        base = f"/v1/partners/{w.p1['id']}"
        _ok(w.api.call("PUT", f"{base}/brand-kit/draft", w.tokens["partner_admin"], _brand_kit_body(name)))
        _ok(w.api.call("POST", f"{base}/brand-kit/draft/submit", w.tokens["partner_admin"]))
        w.learning["brandKit"] = 1
        w.extra_secrets.add(name)
    if live and not w.learning.get("brandKitLive"):
        from chalicelib.partners import brandkit_review

        _ok(w.api.call("POST", f"/v1/partners/{w.p1['id']}/brand-kits/1/approve", w.operator))
        brandkit_review.fan_out(w.p1["id"])
        w.learning["brandKitLive"] = True


def _brand_kit_edited(w: World) -> None:
    """A submitted kit whose draft changed since (what a submit turns into version 2)."""
    _brand_kit(w)
    _ok(w.api.call("PUT", f"/v1/partners/{w.p1['id']}/brand-kit/draft", w.tokens["partner_admin"],
                   _brand_kit_body(f"Patron Kit Edited {next(_seq)}")))


def _brand_kit_case(legit: str = "partner_admin", **options: Any) -> Case:
    options.setdefault("prepare", _brand_kit)
    return Case(legit=legit, params={"partnerId": lambda w: w.p1["id"], "version": lambda w: "1"}, **options)


def _verify_case() -> Case:
    return Case(legit=None, public=True, request=_verify_request, prepare=lambda w: None if _victim_certificate(w)
                else None, expect_for={"attacker_admin": 200}, check=_public_face_only)


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


SCIM_USER, SCIM_GROUP = "urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:core:2.0:Group"
SCIM_PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _victim_scim_token(w: World) -> str:
    if "scimToken" not in w.learning:
        made = _ok(w.api.call("POST", f"/v1/tenants/{w.victim['id']}/scim-tokens", w.tokens["victim_admin"],
                              {"name": "Victim IdP"}))
        w.learning["scimToken"] = w.api.json(made)["id"]
    return str(w.learning["scimToken"])


def _victim_scim_group(w: World) -> str:
    """The victim's SCIM group (the victim's learner in it), watched by the snapshot."""
    if "scimGroup" not in w.learning:
        name = f"Victim Group {next(_seq)}"
        made = _ok(w.api.call("POST", f"/v1/tenants/{w.victim['id']}/scim/v2/Groups", w.tokens["victim_admin"],
                              {"schemas": [SCIM_GROUP], "displayName": name,
                               "members": [{"value": w.victim_user["id"]}]}))
        w.learning["scimGroup"] = w.api.json(made)["id"]
        w.extra_secrets |= {name, w.learning["scimGroup"]}
    return str(w.learning["scimGroup"])


def _scim_discovery(**params: Callable[[World], str]) -> Case:
    """Public SCIM discovery: the same documents for anyone, nothing of any tenant's."""
    return Case(legit=None, public=True, expect=200, own_expect=200, params=params,
                check=lambda w, who, resp: None)


def _scim_patch(*operations: dict[str, Any]) -> Callable[[World], Any]:
    return lambda w: {"schemas": [SCIM_PATCH], "Operations": list(operations)}


# --- courses and learning, built lazily (each layer once per world) --------------------------------------

LIB = "/v1/library/courses"
DEPTHS = range(1, 9)  # /play/<token>/… and /content/…: one route per depth (chalicelib.api.content)


def _ok(resp: Any, *statuses: int) -> Any:
    assert resp.status_code in (statuses or (200, 201)), resp.body
    return resp


def _course(w: World) -> dict[str, Any]:
    """The victim's course: version 1 published (its files in the bucket, `_files`) and a pending upload."""
    c = w.learning
    if "courseId" in c:
        return c
    n, vid, admin = next(_seq), w.victim["id"], w.tokens["victim_admin"]
    title, package, lesson = f"Victim Secret Course {n}", f"Victim Package {n}", f"Victim Lesson {n}"
    cid = w.api.json(_ok(w.api.call("POST", f"/v1/tenants/{vid}/courses", admin, {"title": title})))["id"]
    base, prefix = f"/v1/tenants/{vid}/courses/{cid}", f"packages/{vid}/{cid}/x/"
    number = add_version(vid, cid, FakePackage(title=package, scos=(FakeSco("sco-1", lesson, "page.html"),)), prefix)
    _ok(w.api.call("POST", f"{base}/versions/{number}/publish", admin))
    upload = w.api.json(_ok(w.api.call("POST", f"{base}/uploads", admin, {"fileName": "victim.zip"})))["id"]
    c.update(courseId=cid, number=number, uploadId=upload, base=base, prefix=prefix)
    w.extra_secrets |= {cid, title, package, lesson, upload}
    _files(w)
    return c


def _spare_enrollment(w: World) -> str:
    """An enrollment of a further victim user in the victim's course, for the withdrawal case alone."""
    c = _course(w)
    if "spare" not in c:
        vid, n = w.victim["id"], next(_seq)
        user = w.api.make_user(vid, email=f"spare{n}@victim.example", displayName=f"Victim Spare {n}")
        made = _ok(w.api.call("POST", f"/v1/tenants/{vid}/enrollments", w.tokens["victim_admin"],
                              {"userId": user["id"], "courseId": c["courseId"]}))
        c["spare"] = w.api.json(made)["id"]
        w.extra_secrets |= {user["id"], user["email"], user["displayName"], c["spare"]}
    return str(c["spare"])


def _make_rule(w: World, name: str) -> str:
    body = {"name": name, "conditions": [{"attribute": "region", "op": "eq", "value": "Nowhere"}],
            "courseId": _course(w)["courseId"]}
    made = _ok(w.api.call("POST", f"/v1/tenants/{w.victim['id']}/enrollment-rules", w.tokens["victim_admin"], body))
    rule_id = str(w.api.json(made)["id"])
    w.extra_secrets.add(rule_id)
    return rule_id


def _rule(w: World) -> dict[str, Any]:
    """An enrollment rule of the victim's (matching no one), on its course."""
    c = _course(w)
    if "ruleId" not in c:
        c["ruleId"] = _make_rule(w, "Victim rule")
    return c


def _spare_rule(w: World) -> str:
    """A second rule, for the deletion case alone (the legitimate call deletes it)."""
    c = _rule(w)
    if "spareRule" not in c:
        c["spareRule"] = _make_rule(w, "Victim spare rule")
    return str(c["spareRule"])


def _course_query(w: World, method: str, who: str | None, path: str, body: Any) -> Any:
    return w.api.call(method, f"{path}?courseId={_learning(w)['courseId']}", w.token(who), body)


def _still_enrolled(w: World, who: str) -> None:
    """Withdrawing twice is a 204 too, so the legitimate call can't tell: no attacker may have withdrawn it."""
    if who != "legit":
        doc = w.api.json(w.api.call("GET", f"/v1/tenants/{w.victim['id']}/enrollments/{_spare_enrollment(w)}",
                                    w.operator))
        assert doc["status"] == "enrolled", f"{who} withdrew the victim's enrollment"


def _files(w: World) -> dict[str, Any]:
    """The victim's objects outside the public `content/` prefix, by how many segments their keys have (1-12):
    stray objects, an upload's zip and the package's files at every depth. Under the course's real prefix once
    there is a course (`/play` climbs into it); the `/content` cases need no course, only the objects."""
    c = w.learning
    if "outside" in c:
        return c
    n, vid = next(_seq), w.victim["id"]
    prefix, upload = c.get("prefix", f"packages/{vid}/cs-{n}/x/"), c.get("uploadId", f"up-{n}")
    marker = f"victim-file-{n}"
    outside = {1: f"stray-{vid}.txt", 2: f"uploads/{vid}.zip", 3: f"packages/{vid}/stray.html",
               4: f"uploads/{vid}/{prefix.split('/')[2]}/{upload}.zip",
               **{4 + d: prefix + "/".join(nested(d)) for d in DEPTHS}}
    put_files({key: f"<p>{marker}: {key}</p>" for key in outside.values()})
    c.update(marker=marker, outside={k: key.split("/") for k, key in outside.items()})
    w.extra_secrets.add(marker)
    return c


def _learning(w: World) -> dict[str, Any]:
    """The victim's learner enrolled in the course, with an attempt started and launched once (its tokens)."""
    c = _course(w)
    if "attemptId" in c:
        return c
    vid = w.victim["id"]
    w.tokens["victim_learner"] = w.api.login(vid, w.victim_user["email"], PASSWORD)
    enrolled = _ok(w.api.call("POST", f"/v1/tenants/{vid}/enrollments", w.tokens["victim_admin"],
                              {"userId": w.victim_user["id"], "courseId": c["courseId"]}))
    eid = w.api.json(enrolled)["id"]
    attempt = w.api.json(_ok(w.api.call("POST", f"/v1/tenants/{vid}/enrollments/{eid}/attempts",
                                        w.tokens["victim_learner"])))
    c.update(enrollmentId=eid, attemptId=attempt["id"], tokens=player_tokens(w.api, attempt["launchUrl"]))
    w.extra_secrets |= {eid, attempt["id"]}
    return c


def _mallory(w: World) -> dict[str, Any]:
    """The attacker's own course and launched attempt (its admin is the learner): the tokens an attacker holds
    legitimately, and its own files at every depth (so a 404 elsewhere is not a broken token)."""
    m = w.learning.setdefault("mallory", {})
    if m:
        return m
    n, aid, admin = next(_seq), w.attacker["id"], w.tokens["attacker_admin"]
    cid = w.api.json(_ok(w.api.call("POST", f"/v1/tenants/{aid}/courses", admin, {"title": f"Mallory {n}"})))["id"]
    prefix, marker = f"packages/{aid}/{cid}/x/", f"mallory-own-{n}"
    number = add_version(aid, cid, FakePackage(title=f"Mallory Package {n}"), prefix)
    _ok(w.api.call("POST", f"/v1/tenants/{aid}/courses/{cid}/versions/{number}/publish", admin))
    put_files({prefix + "/".join(nested(d)): f"<p>{marker}</p>" for d in DEPTHS})
    me = jwt.decode(admin, options={"verify_signature": False})["sub"]
    eid = w.api.json(_ok(w.api.call("POST", f"/v1/tenants/{aid}/enrollments", admin,
                                    {"userId": me, "courseId": cid})))["id"]
    attempt = w.api.json(_ok(w.api.call("POST", f"/v1/tenants/{aid}/enrollments/{eid}/attempts", admin)))
    m.update(courseId=cid, prefix=prefix, marker=marker, userId=me, attemptId=attempt["id"],
             tokens=player_tokens(w.api, attempt["launchUrl"]))
    return m


def _library(w: World) -> dict[str, Any]:
    """A shared-library course (the operator's) with a draft version and a pending upload."""
    lib = w.learning.setdefault("library", {})
    if lib:
        return lib
    title = f"Library Secret Course {next(_seq)}"
    lid = w.api.json(_ok(w.api.call("POST", LIB, w.operator, {"title": title})))["id"]
    upload = w.api.json(_ok(w.api.call("POST", f"{LIB}/{lid}/uploads", w.operator, {})))["id"]
    lib.update(courseId=lid, number=add_version("library", lid), uploadId=upload)
    w.extra_secrets |= {title}
    return lib


def _assets(w: World) -> None:
    """A public asset at every depth under the bucket's `content/` prefix."""
    if not w.learning.get("assets"):
        put_files({"content/" + "/".join(nested(d, "asset.txt")): "a public asset" for d in DEPTHS}, "text/plain")
        w.learning["assets"] = True


def _draft(w: World) -> None:
    """A new draft version of the victim's course: what publish and retire act on."""
    c = _course(w)
    c["number"] = add_version(w.victim["id"], c["courseId"], prefix=c["prefix"])


def _library_draft(w: World) -> None:
    lib = _library(w)
    lib["number"] = add_version("library", lib["courseId"])


def _user_import(w: World) -> str:
    """A user import of the victim's, waiting for its CSV (made lazily, once per world)."""
    if "importId" not in w.learning:
        made = _ok(w.api.call("POST", f"/v1/tenants/{w.victim['id']}/user-imports", w.tokens["victim_admin"],
                              {"fileName": "victim-staff.csv"}))
        w.learning["importId"] = w.api.json(made)["id"]
        w.extra_secrets |= {w.learning["importId"], "victim-staff.csv"}
    return str(w.learning["importId"])


def _learning_path(w: World) -> dict[str, Any]:
    """A learning path of the victim's course (the victim's own title and description)."""
    c = _course(w)
    p = w.learning.setdefault("path", {})
    if p:
        return p
    n = next(_seq)
    title, notes = f"Victim Secret Path {n}", f"Victim path notes {n}"
    made = _ok(w.api.call("POST", f"/v1/tenants/{w.victim['id']}/paths", w.tokens["victim_admin"],
                          {"title": title, "description": notes, "courses": [{"courseId": c["courseId"]}]}))
    p.update(pathId=w.api.json(made)["id"])
    w.extra_secrets |= {p["pathId"], title, notes}
    return p


def _cmi5_attempt(w: World, tenant_id: str, admin: str, learner_id: str, learner: str, title: str,
                  au: str) -> dict[str, Any]:
    """A published cmi5 course of one AU in `tenant_id`, the learner enrolled, an attempt started and its AU
    launched once through the cmi5 route: ids, the launch token and an unused fetch token."""
    from chalicelib.content import cmi5

    t = f"/v1/tenants/{tenant_id}"
    cid = w.api.json(_ok(w.api.call("POST", f"{t}/courses", admin, {"title": title})))["id"]
    number = add_version(tenant_id, cid, cmi5_package(au, title), f"packages/{tenant_id}/{cid}/x/")
    _ok(w.api.call("POST", f"{t}/courses/{cid}/versions/{number}/publish", admin))
    eid = w.api.json(_ok(w.api.call("POST", f"{t}/enrollments", admin, {"userId": learner_id, "courseId": cid})))["id"]
    attempt = w.api.json(_ok(w.api.call("POST", f"{t}/enrollments/{eid}/attempts", learner)))
    aid, launch = attempt["id"], url_token(attempt["launchUrl"])
    base, sco = f"{t}/attempts/{aid}/cmi5", quote(au, safe="")
    launched = cmi5_launch(w.api, f"{base}/launch?token={launch}&sco={sco}")
    state = urlencode({"activityId": launched["activityId"], "agent": launched["actor"],
                       "registration": launched["registration"], "stateId": cmi5.LAUNCH_DATA})
    return {"courseId": cid, "title": title, "enrollmentId": eid, "attemptId": aid, "userId": learner_id,
            "launch": launch, "fetch": launched["token"], "sco": sco, "base": base,
            "registration": launched["registration"], "launchData": f"{t}/xapi/activities/state?{state}"}


def _cmi5(w: World) -> dict[str, Any]:
    """The victim's learner on a cmi5 course: an attempt whose AU was launched once (its fetch token unused)."""
    c = _course(w)
    if "cmi5" not in c:
        vid, n = w.victim["id"], next(_seq)
        if "victim_learner" not in w.tokens:
            w.tokens["victim_learner"] = w.api.login(vid, w.victim_user["email"], PASSWORD)
        v = c["cmi5"] = _cmi5_attempt(w, vid, w.tokens["victim_admin"], w.victim_user["id"],
                                      w.tokens["victim_learner"], f"Victim Secret cmi5 Course {n}",
                                      f"https://victim.example/au/{n}")
        w.extra_secrets |= {v["courseId"], v["title"], v["enrollmentId"], v["attemptId"], v["registration"]}
    return dict(c["cmi5"])


def _mallory_cmi5(w: World) -> dict[str, Any]:
    """The attacker's own cmi5 attempt (its admin is the learner): a valid launch token and fetch token."""
    m = w.learning.setdefault("mallory_cmi5", {})
    if not m:
        aid, admin, n = w.attacker["id"], w.tokens["attacker_admin"], next(_seq)
        me = jwt.decode(admin, options={"verify_signature": False})["sub"]
        m.update(_cmi5_attempt(w, aid, admin, me, admin, f"Mallory cmi5 {n}", f"https://mallory.example/au/{n}"))
    return m


def _with(*layers: Callable[[World], Any]) -> Callable[[World], None]:
    def prepare(w: World) -> None:
        for layer in layers:
            layer(w)

    return prepare


_PROGRESS = {"cmi": {"core": {"lesson_status": "incomplete", "lesson_location": "7", "exit": "suspend",
                              "session_time": "0000:00:10.00"}}}


def _sent_to(w: World, method: str, url: str, body: Any = None) -> Any:
    """A request without a bearer token; the response remembers the URL (a problem's `instance` echoes it)."""
    resp = w.api.call(method, url, None, body)
    resp.sent_url = url
    return resp


def _attempt_token(kind: str) -> Request:
    """A player-page or runtime request: authorised by the token in its URL, never by a bearer token. The
    legitimate caller holds the victim's `kind` token. Attackers: the attacker's own valid `kind` token from
    its own attempt (404: bound to another tenant and attempt), the victim's token with its payload re-pointed
    at the attacker's learner (401), and the attacker's content token in place of a `kind` token (401)."""
    def request(w: World, method: str, who: str | None, path: str, body: Any) -> Any:
        victim, own = _learning(w)["tokens"], _mallory(w)["tokens"]
        token = {None: victim[kind], "attacker_admin": own[kind],
                 "attacker_client": tamper(victim[kind], u=_mallory(w)["userId"]),
                 "other_partner_admin": own["content"]}[who]
        return _sent_to(w, method, f"{path}?token={token}", body)

    return request


def _token_case(kind: str, body: Callable[[World], Any] | None = None) -> Case:
    return Case(legit=None, public=True, request=_attempt_token(kind), body=body, prepare=_with(_learning, _mallory),
                expect_for={"attacker_client": 401, "other_partner_admin": 401})


def _cmi5_request(kind: str) -> Request:
    """The cmi5 routes, authorised by the token in the URL: `launch` (302 to the AU with its launch parameters)
    and `fetch` (the AU's auth-token, once). The legitimate caller holds the victim's launch token, or for a
    fetch the fetch token of a fresh launch by the victim (each is good once). Attackers: the attacker's own
    valid `kind` token from its own cmi5 attempt, the victim's token re-pointed at the attacker's learner, and
    the attacker's token of the other kind."""
    other = {"launch": "fetch", "fetch": "launch"}[kind]

    def request(w: World, method: str, who: str | None, path: str, body: Any) -> Any:
        v, own = _cmi5(w), _mallory_cmi5(w)
        if who is None and kind == "fetch":
            token = cmi5_launch(w.api, f"{v['base']}/launch?token={v['launch']}&sco={v['sco']}")["token"]
        else:
            token = {None: v[kind], "attacker_admin": own[kind], "attacker_client": tamper(v[kind], u=own["userId"]),
                     "other_partner_admin": own[other]}[who]
        sco = f"&sco={v['sco']}" if kind == "launch" else ""
        return _sent_to(w, method, f"{path}?token={quote(token, safe='')}{sco}", body)

    return request


def _redirects_the_victim_only(w: World, who: str, resp: Any) -> None:
    """Only the victim's own launch redirects (to its AU, with its registration); an attacker gets no Location."""
    location = resp.headers.get("Location") or resp.headers.get("location")
    if who == "legit":
        assert location and f"registration={_cmi5(w)['registration']}" in location, resp.headers
    else:
        assert not location, (who, location)


def _fetch_answer(w: World, who: str, resp: Any) -> None:
    """A fetch is always a 200 JSON: the victim's fresh token gets the auth-token, every attacker the cmi5
    error code 2 (a token not valid for this URL) and no auth-token."""
    answer = w.api.json(resp)
    if who == "legit":
        assert set(answer) == {"auth-token"}, answer
    else:
        assert "auth-token" not in answer and answer.get("error-code") == "2", (who, answer)


_CMI5_PARAMS: dict[str, Callable[[World], str]] = {"attemptId": lambda w: _cmi5(w)["attemptId"]}


def _cmi5_case(kind: str) -> Case:
    prepare = _with(_cmi5, _mallory_cmi5)
    if kind == "launch":
        return Case(legit=None, public=True, request=_cmi5_request(kind), params=_CMI5_PARAMS, prepare=prepare,
                    expect_for={"attacker_client": 401, "other_partner_admin": 401}, legit_expect=302,
                    check=_redirects_the_victim_only)
    return Case(legit=None, public=True, request=_cmi5_request(kind), params=_CMI5_PARAMS, prepare=prepare,
                expect=200, own_expect=200, check=_fetch_answer)


def _climb(w: World, depth: int) -> list[str]:
    """From the attacker's package prefix (4 segments) up and into one of the victim's objects."""
    outside = _files(w)["outside"]
    return [".."] * 4 + outside[depth - 4] if depth > 4 else [".."] * depth


def _play_case(depth: int) -> Case:
    """/play/<token>/<path>: the token decides the prefix. The victim's learner reads the victim's file; the
    attacker's own token on the same path reads the attacker's own file (200, nothing of the victim's), on a
    path climbing out of its prefix gets 404, and its token re-pointed at the victim's prefix is a 401."""
    def request(w: World, method: str, who: str | None, path: str, body: Any) -> Any:
        own = _mallory(w)["tokens"]["content"]
        url = {None: path, "attacker_admin": f"/play/{own}/" + "/".join(nested(depth)),
               "attacker_client": f"/play/{own}/" + "/".join(_climb(w, depth)),
               "other_partner_admin": f"/play/{tamper(own, p=_course(w)['prefix'])}/" + "/".join(nested(depth))}[who]
        return _sent_to(w, method, url)

    params = {"token": lambda w: _learning(w)["tokens"]["content"],
              **{f"p{i}": (lambda w, i=i: nested(depth)[i - 1]) for i in range(1, depth + 1)}}
    return Case(legit=None, public=True, request=request, params=params, prepare=_with(_learning, _mallory),
                expect_for={"attacker_admin": 200, "other_partner_admin": 401})


def _asset_case(depth: int) -> Case:
    """/content/<path>: public assets only. Attackers aim at the victim's packages and uploads: the key
    itself (read under `content/`), `..` out of the prefix, and `..` smuggled in an encoded slash."""
    def request(w: World, method: str, who: str | None, path: str, body: Any) -> Any:
        outside = _files(w)["outside"]
        parts = {None: None, "attacker_admin": outside[depth],
                 "attacker_client": [".."] + outside[depth - 1] if depth > 1 else [".."],
                 "other_partner_admin": ["..%2F" + outside[depth][0], *outside[depth][1:]]}[who]
        return _sent_to(w, method, path if parts is None else "/content/" + "/".join(parts))

    params = {f"p{i}": (lambda w, i=i: nested(depth, "asset.txt")[i - 1]) for i in range(1, depth + 1)}
    return Case(legit=None, public=True, request=request, params=params, prepare=_with(_files, _assets))


_LIB_PARAMS: dict[str, Callable[[World], str]] = {
    "courseId": lambda w: _library(w)["courseId"], "number": lambda w: str(_library(w)["number"]),
    "uploadId": lambda w: _library(w)["uploadId"], "package": lambda w: "isolation-tier"}


def _library_program(w: World) -> str:
    """A shared certification program (the operator's) requiring the library course."""
    lib = _library(w)
    if "programId" not in lib:
        body = {"name": f"Library Secret Program {next(_seq)}",
                "requirements": [{"kind": "course", "courseId": lib["courseId"]}]}
        lib["programId"] = w.api.json(_ok(w.api.call("POST", "/v1/library/certifications", w.operator, body)))["id"]
        w.extra_secrets |= {body["name"]}
    return str(lib["programId"])


def _library_program_case(**options: Any) -> Case:
    """Shared certification programs are the operator's, like the library's courses: everyone else gets 403."""
    return _library_case(**{"params": {**_LIB_PARAMS, "certificationId": _library_program},
                            "prepare": lambda w: None if _library_program(w) else None, **options})


def _library_case(**options: Any) -> Case:
    """The shared library is the operator's: tenant admins, their clients and partner admins get 403."""
    return Case(**{"legit": "operator", "expect": 403, "params": _LIB_PARAMS, "prepare": _library, **options})


def _own_tenant(w: World, who: str) -> dict[str, Any]:
    """A grant an attacker would like: the library course for its own tenant (and customers)."""
    mine = w.p2 if who == "other_partner_admin" else w.attacker
    return {"tenantId": mine["id"], "includeCustomers": who == "other_partner_admin"}


# CRM inbound: the victim takes Salesforce messages of its org and HubSpot webhooks signed with its secret;
# the attacker's tenant has its own org and secret. The public inbound routes are attacked with what an
# attacker holds legitimately: a message of its own org, a batch signed with its own secret (401, no write).
_ATTACKER_SECRET = "mallory-hubspot-secret"


def _crm(w: World) -> None:
    from tests.unit import crm_helpers as crm

    if "crm" not in w.learning:
        crm.configure_salesforce(w.api, w.victim["id"], w.tokens["victim_admin"])
        crm.configure_hubspot(w.api, w.victim["id"], w.tokens["victim_admin"])
        crm.configure_salesforce(w.api, w.attacker["id"], w.tokens["attacker_admin"], organizationId=crm.OTHER_ORG)
        crm.configure_hubspot(w.api, w.attacker["id"], w.tokens["attacker_admin"], appSecret=_ATTACKER_SECRET)
        w.learning["crm"] = True


def _salesforce_message(w: World, method: str, who: str | None, path: str, body: Any) -> Any:
    from tests.unit import crm_helpers as crm

    org = crm.ORG if who is None else crm.OTHER_ORG
    resp = crm.post_soap(w.api, w.victim["id"], crm.soap([crm.sf_user(f"0055g{next(_seq):013d}",
                                                                       f"sf.{next(_seq)}@victim.example")], org=org))
    resp.sent_url = path
    return resp


def _hubspot_batch(w: World, method: str, who: str | None, path: str, body: Any) -> Any:
    from tests.unit import crm_helpers as crm

    events = [crm.hs_event(next(_seq), name="email", value=f"hs.{next(_seq)}@victim.example")]
    resp = crm.post_hubspot(w.api, w.victim["id"], events, secret=crm.SECRET if who is None else _ATTACKER_SECRET)
    resp.sent_url = path
    return resp


_NEW_TENANT: Callable[[World], Any] = lambda w: {  # noqa: E731
    "name": f"Fresh {next(_seq)}", "slug": f"fresh-{next(_seq)}", "template": "sales-team",
    "parentTenantId": w.p1["id"]}

LEAD_PROFILE = {"industries": ["SaaS"], "regions": ["EMEA"], "products": ["LMS"], "maxOpenLeads": 5}


def _victim_lead(w: World) -> str:
    """A lead routed to the victim's partner P1 (its routing profile set; the only card in the pool)."""
    if "lead" not in w.learning:
        _ok(w.api.call("PUT", f"/v1/partners/{w.p1['id']}/routing-profile", w.tokens["partner_admin"], LEAD_PROFILE))
        company = f"Victim Lead Co {next(_seq)}"
        made = _ok(w.api.call("POST", "/v1/leads", w.operator, {
            "industry": "SaaS", "region": "EMEA", "product": "LMS", "dealSize": "5000", "company": {"name": company}}))
        assert w.api.json(made)["offer"]["partnerId"] == w.p1["id"], made.body
        w.learning["lead"] = w.api.json(made)["id"]
        w.extra_secrets.add(company)
    return str(w.learning["lead"])


def _victim_lead_claimed(w: World) -> None:
    lead = _victim_lead(w)
    _ok(w.api.call("POST", f"/v1/partners/{w.p1['id']}/leads/{lead}/claim", w.tokens["partner_admin"]))


def _lead_case(prepare: Callable[[World], Any] | None = _victim_lead, **options: Any) -> Case:
    """P1's routes of lead routing: P1's admins succeed; other tenants' admins and clients and the rival partner
    get 404 (no relation to P1, or a lead never offered to them)."""
    params = {"partnerId": lambda w: w.p1["id"], "leadId": _victim_lead}
    return Case(legit="partner_admin", params=params,
                prepare=(lambda w: None if prepare(w) else None) if prepare else None, **options)


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
    # bulk user imports (the processing is driven by S3 object keys and queue messages, not by a caller)
    ("POST", "/v1/tenants/{tenantId}/user-imports"): Case(prepare=_user_import,
                                                          body=lambda w: {"fileName": "evil.csv"}),
    ("GET", "/v1/tenants/{tenantId}/user-imports"): Case(prepare=_user_import),
    ("GET", "/v1/tenants/{tenantId}/user-imports/{importId}"): Case(),
    # the LRS (xAPI): credentials, and the endpoint (Basic credentials of another tenant: test_lrs_*)
    ("POST", "/v1/tenants/{tenantId}/xapi-credentials"): Case(body=lambda w: {"name": "Stolen", "scopes": ["all"]}),
    ("GET", "/v1/tenants/{tenantId}/xapi-credentials"): Case(),
    ("DELETE", "/v1/tenants/{tenantId}/xapi-credentials/{key}"): Case(prepare=_victim_lrs_credential),
    ("PUT", "/v1/tenants/{tenantId}/xapi-forwarding"): Case(
        prepare=_victim_forwarding, body=lambda w: {"endpoint": "https://lrs.mallory.example/xapi/", "token": "t"}),
    ("GET", "/v1/tenants/{tenantId}/xapi-forwarding"): Case(prepare=_victim_forwarding),
    ("DELETE", "/v1/tenants/{tenantId}/xapi-forwarding"): Case(prepare=_victim_forwarding),
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
    # courses: the catalog, own courses, versions, uploads
    ("GET", "/v1/tenants/{tenantId}/catalog"): Case(prepare=_course),
    ("POST", "/v1/tenants/{tenantId}/courses"): Case(prepare=_course, body=lambda w: {"title": "Planted Course"}),
    ("GET", "/v1/tenants/{tenantId}/courses"): Case(prepare=_course),
    ("GET", "/v1/tenants/{tenantId}/courses/{courseId}"): Case(),
    ("PATCH", "/v1/tenants/{tenantId}/courses/{courseId}"): Case(body=lambda w: {"title": "Hijacked Course"}),
    ("GET", "/v1/tenants/{tenantId}/courses/{courseId}/versions"): Case(),
    ("GET", "/v1/tenants/{tenantId}/courses/{courseId}/versions/{number}"): Case(),
    ("POST", "/v1/tenants/{tenantId}/courses/{courseId}/versions/{number}/publish"): Case(prepare=_draft),
    ("POST", "/v1/tenants/{tenantId}/courses/{courseId}/versions/{number}/retire"): Case(prepare=_draft),
    ("POST", "/v1/tenants/{tenantId}/courses/{courseId}/uploads"): Case(body=lambda w: {"fileName": "evil.zip"}),
    ("GET", "/v1/tenants/{tenantId}/courses/{courseId}/uploads/{uploadId}"): Case(),
    # enrollments and attempts (the victim's learner plays; admins read)
    ("POST", "/v1/tenants/{tenantId}/enrollments"): Case(
        body=lambda w: {"userId": w.victim_admin["id"], "courseId": _course(w)["courseId"]}),
    ("GET", "/v1/tenants/{tenantId}/enrollments/{enrollmentId}"): Case(),
    ("GET", "/v1/tenants/{tenantId}/enrollments"): Case(request=_course_query, prepare=_learning),
    ("POST", "/v1/tenants/{tenantId}/enrollment-rules"): Case(
        body=lambda w: {"name": "Evil", "conditions": [], "courseId": _course(w)["courseId"]}, prepare=_rule),
    ("GET", "/v1/tenants/{tenantId}/enrollment-rules"): Case(prepare=_rule),
    ("GET", "/v1/tenants/{tenantId}/enrollment-rules/{ruleId}"): Case(),
    ("PATCH", "/v1/tenants/{tenantId}/enrollment-rules/{ruleId}"): Case(body=lambda w: {"name": "Renamed"}),
    ("DELETE", "/v1/tenants/{tenantId}/enrollment-rules/{ruleId}"): Case(params={"ruleId": _spare_rule}),
    ("DELETE", "/v1/tenants/{tenantId}/enrollments/{enrollmentId}"): Case(
        params={"enrollmentId": _spare_enrollment}, check=lambda w, who, resp: _still_enrolled(w, who)),
    # an admin of its own tenant naming the victim's user id: a 404 (an unknown user, as GET …/users/{userId})
    ("GET", "/v1/tenants/{tenantId}/users/{userId}/enrollments"): Case(prepare=_learning),
    ("GET", "/v1/tenants/{tenantId}/me/enrollments"): Case(legit="victim_learner", prepare=_learning),
    ("POST", "/v1/tenants/{tenantId}/enrollments/{enrollmentId}/attempts"): Case(legit="victim_learner"),
    ("GET", "/v1/tenants/{tenantId}/attempts/{attemptId}"): Case(),
    # the player page and its commits: a token in the URL, bound to tenant, attempt and learner
    ("GET", "/v1/tenants/{tenantId}/attempts/{attemptId}/launch"): _token_case("launch"),
    **{(method, "/v1/tenants/{tenantId}/attempts/{attemptId}/runtime"): _token_case("commit", lambda w: _PROGRESS)
       for method in ("PUT", "POST")},
    # cmi5: the AU's launch (302) and its one-time auth-token fetch (always a 200 JSON), a token in the URL
    ("GET", "/v1/tenants/{tenantId}/attempts/{attemptId}/cmi5/launch"): _cmi5_case("launch"),
    ("POST", "/v1/tenants/{tenantId}/attempts/{attemptId}/cmi5/fetch"): _cmi5_case("fetch"),
    # learning paths (of the victim's catalog courses) and a learner's progress on one
    ("POST", "/v1/tenants/{tenantId}/paths"): Case(
        prepare=_learning_path,
        body=lambda w: {"title": "Planted Path", "courses": [{"courseId": _course(w)["courseId"]}]}),
    ("GET", "/v1/tenants/{tenantId}/paths"): Case(prepare=_learning_path),
    ("GET", "/v1/tenants/{tenantId}/paths/{pathId}"): Case(),
    ("PATCH", "/v1/tenants/{tenantId}/paths/{pathId}"): Case(body=lambda w: {"title": "Hijacked Path"}),
    ("GET", "/v1/tenants/{tenantId}/users/{userId}/paths/{pathId}/progress"): Case(),
    # the shared library (operator only)
    ("POST", LIB): _library_case(body=lambda w: {"title": f"Planted Library Course {next(_seq)}"}),
    ("GET", LIB): _library_case(),
    ("GET", LIB + "/{courseId}"): _library_case(),
    ("PATCH", LIB + "/{courseId}"): _library_case(body=lambda w: {"title": "Hijacked Library Course"}),
    ("GET", LIB + "/{courseId}/versions"): _library_case(),
    ("POST", LIB + "/{courseId}/versions/{number}/publish"): _library_case(prepare=_library_draft),
    ("POST", LIB + "/{courseId}/uploads"): _library_case(body=lambda w: {"fileName": "evil.zip"}),
    ("GET", LIB + "/{courseId}/uploads/{uploadId}"): _library_case(),
    ("POST", LIB + "/{courseId}/grants"): _library_case(body=lambda w: {"tenantId": w.victim["id"]},
                                                        attack_body=_own_tenant),
    ("POST", "/v1/library/packages/{package}/grants"): _library_case(body=lambda w: {"tenantId": w.victim["id"]},
                                                                     attack_body=_own_tenant),
    ("GET", "/v1/library/packages/{package}"): _library_case(),
    # shared certification programs (operator only)
    ("POST", "/v1/library/certifications"): _library_program_case(body=lambda w: {
        "name": "Planted Shared Program", "requirements": [{"kind": "course", "courseId": _library(w)["courseId"]}]}),
    ("GET", "/v1/library/certifications"): _library_program_case(),
    ("GET", "/v1/library/certifications/{certificationId}"): _library_program_case(),
    ("PATCH", "/v1/library/certifications/{certificationId}"): _library_program_case(
        body=lambda w: {"name": "Hijacked Shared Program"}),
    # course files behind a content token, and public assets: one route per depth
    **{("GET", "/play/{token}" + "".join(f"/{{p{i}}}" for i in range(1, d + 1))): _play_case(d) for d in DEPTHS},
    **{("GET", "/content" + "".join(f"/{{p{i}}}" for i in range(1, d + 1))): _asset_case(d) for d in DEPTHS},
    # partner program: the operator's tiers (everyone reads them), a partner's tier (operator), quotes (its admins)
    ("GET", "/v1/partner-tiers"): Case(legit="operator", expect=200),
    ("PUT", "/v1/partner-tiers"): Case(legit="operator", expect=403, body=lambda w: {"tiers": [
        {"id": "planted", "name": "Planted", "marginBand": {"min": "90", "max": "100"}}]}),
    ("PUT", "/v1/partners/{partnerId}/tier"): Case(legit="operator", body=lambda w: {"tier": "strategic"},
                                                   params={"partnerId": lambda w: w.p1["id"]}),
    ("POST", "/v1/partners/{partnerId}/quotes"): Case(
        legit="partner_admin", params={"partnerId": lambda w: w.p1["id"]},
        body=lambda w: {"seats": 250, "listPricePerSeat": "40", "requestedMarginPercent": "99"}),
    # co-branding: the partner's admins edit and submit its kit, the operator decides, a tenant's users read
    # its branding
    ("GET", "/v1/partners/{partnerId}/brand-kit/draft"): _brand_kit_case(),
    ("PUT", "/v1/partners/{partnerId}/brand-kit/draft"): _brand_kit_case(
        body=lambda w: _brand_kit_body("Hijacked Kit")),
    ("POST", "/v1/partners/{partnerId}/brand-kit/draft/submit"): _brand_kit_case(prepare=_brand_kit_edited),
    ("GET", "/v1/partners/{partnerId}/brand-kit/audit"): _brand_kit_case(),
    ("GET", "/v1/partners/{partnerId}/brand-kits"): _brand_kit_case(),
    ("GET", "/v1/partners/{partnerId}/brand-kits/{version}"): _brand_kit_case(),
    ("POST", "/v1/partners/{partnerId}/brand-kits/{version}/approve"): _brand_kit_case(legit="operator"),
    ("POST", "/v1/partners/{partnerId}/brand-kits/{version}/request-changes"): _brand_kit_case(
        legit="operator", body=lambda w: {"comment": "Planted comment"}),
    ("GET", "/v1/tenants/{tenantId}/branding"): Case(prepare=lambda w: _brand_kit(w, live=True)),
    # lead routing: the operator's settings, leads and explanations (others: 403); P1's profile, leads, claims
    ("GET", "/v1/lead-routing"): Case(legit="operator", expect=403),
    ("PUT", "/v1/lead-routing"): Case(legit="operator", expect=403, body=lambda w: {"maxAttempts": 1}),
    ("POST", "/v1/leads"): Case(legit="operator", expect=403, body=lambda w: {
        "industry": "SaaS", "region": "EMEA", "product": "LMS", "dealSize": "1"}),
    ("GET", "/v1/leads"): Case(legit="operator", expect=403, prepare=lambda w: None if _victim_lead(w) else None),
    ("GET", "/v1/leads/{leadId}/routing"): Case(legit="operator", expect=403, params={"leadId": _victim_lead}),
    ("GET", "/v1/leads/{leadId}"): _lead_case(),
    ("GET", "/v1/partners/{partnerId}/routing-profile"): _lead_case(),
    ("PUT", "/v1/partners/{partnerId}/routing-profile"): _lead_case(
        body=lambda w: {**LEAD_PROFILE, "regions": ["APAC"], "accepting": False}),
    ("GET", "/v1/partners/{partnerId}/leads"): _lead_case(),
    ("POST", "/v1/partners/{partnerId}/leads/{leadId}/claim"): _lead_case(),
    ("POST", "/v1/partners/{partnerId}/leads/{leadId}/decline"): _lead_case(),
    ("POST", "/v1/partners/{partnerId}/leads/{leadId}/outcome"): _lead_case(
        prepare=_victim_lead_claimed, body=lambda w: {"status": "won", "amount": "4000"}),
    # SLAs: P1's calendar, its customers' cases and uptime (its admins; uptime figures by the operator), the
    # operator's policy (everyone reads it), the victim's cases (answered by P1's admins: the victim's own admin,
    # like an attacker on its own tenant, gets 403 there)
    ("GET", "/v1/partners/{partnerId}/sla-calendar"): _sla_case(),
    ("PUT", "/v1/partners/{partnerId}/sla-calendar"): _sla_case(body=lambda w: {
        "timezone": "Pacific/Kiritimati", "workingDays": ["sun"], "workingHours": {"start": "23:00", "end": "24:00"}}),
    ("GET", "/v1/sla-policy"): Case(legit="operator", expect=200),
    ("PUT", "/v1/sla-policy"): Case(legit="operator", expect=403, body=lambda w: {
        k: {"responseHours": 1000, "resolutionHours": 5000} for k in ("high", "medium", "low")}),
    ("GET", "/v1/partners/{partnerId}/support-cases"): _sla_case(),
    ("PUT", "/v1/partners/{partnerId}/uptime/{month}"): _sla_case(legit="operator", body=lambda w: {"percent": "1"}),
    ("GET", "/v1/partners/{partnerId}/uptime"): _sla_case(),
    ("POST", "/v1/tenants/{tenantId}/support-cases"): Case(body=lambda w: {
        "subject": "Planted", "description": "Planted by an attacker", "severity": "high"}),
    ("GET", "/v1/tenants/{tenantId}/support-cases"): Case(prepare=lambda w: None if _victim_case(w) else None),
    ("GET", "/v1/tenants/{tenantId}/support-cases/{caseId}"): Case(),
    ("POST", "/v1/tenants/{tenantId}/support-cases/{caseId}/responses"): Case(
        legit="partner_admin", own_expect=403, body=lambda w: {"message": "Planted response"}),
    ("POST", "/v1/tenants/{tenantId}/support-cases/{caseId}/resolve"): Case(
        legit="partner_admin", own_expect=403, body=lambda w: {"resolution": "Closed by an attacker"}),
    # scorecards and onboarding: P1's admins read theirs and complete milestones; the operator enters KPI inputs,
    # computes and sets the thresholds (which everyone reads)
    ("GET", "/v1/scorecard-thresholds"): Case(legit="operator", expect=200, prepare=_scorecards),
    ("PUT", "/v1/scorecard-thresholds"): Case(legit="operator", expect=403, prepare=_scorecards, body=lambda w: {
        "tiers": {"registered": {"certifiedReps": {"green": "0", "amber": "0"}}}}),
    ("GET", "/v1/partners/{partnerId}/scorecards"): _scorecard_case(),
    ("GET", "/v1/partners/{partnerId}/scorecards/{quarter}"): _scorecard_case(),
    ("POST", "/v1/partners/{partnerId}/scorecards/{quarter}/compute"): _scorecard_case(legit="operator"),
    ("PUT", "/v1/partners/{partnerId}/kpi-inputs/{quarter}"): _scorecard_case(
        legit="operator", body=lambda w: {"customerSatisfactionPercent": "1", "renewalRatePercent": "1"}),
    ("GET", "/v1/partners/{partnerId}/onboarding"): _scorecard_case(),
    ("POST", "/v1/partners/{partnerId}/onboarding/milestones/{milestoneId}/complete"): _scorecard_case(),
    ("POST", "/v1/partners/{partnerId}/onboarding/deliverables/{deliverableId}/complete"): _scorecard_case(),
    # outside /v1/tenants/{tenantId}: see also the dedicated tests below
    ("GET", "/v1/tenants"): Case(legit="operator", expect=403, expect_for={"other_partner_admin": 200}),
    ("POST", "/v1/tenants"): Case(legit="operator", expect=403, body=_NEW_TENANT),
    ("POST", "/v1/oauth/token"): Case(legit="victim_client", public=True, expect=401, request=_token_request),
    ("GET", "/.well-known/jwks.json"): Case(legit=None, public=True, expect=200),
    ("GET", "/openapi.json"): Case(legit=None, public=True, expect=200),
    ("GET", "/docs"): Case(legit=None, public=True, expect=200),
    ("GET", "/v1/health"): Case(legit=None, public=True, expect=200),
    # certification programs, certificates (issued by certification.issue), revocation, exports
    ("POST", "/v1/tenants/{tenantId}/certifications"): Case(
        prepare=lambda w: None if _victim_program(w) else None,
        body=lambda w: {"name": "Planted", "requirements": [{"kind": "course", "courseId": _course(w)["courseId"]}]}),
    ("GET", "/v1/tenants/{tenantId}/certifications"): Case(prepare=lambda w: None if _victim_program(w) else None),
    ("GET", "/v1/tenants/{tenantId}/certifications/{certificationId}"): Case(),
    ("PATCH", "/v1/tenants/{tenantId}/certifications/{certificationId}"): Case(body=lambda w: {"name": "Hijacked"}),
    ("GET", "/v1/tenants/{tenantId}/users/{userId}/certificates"): Case(
        prepare=lambda w: None if _victim_issued(w) else None),
    ("GET", "/v1/tenants/{tenantId}/certificates/export"): Case(prepare=lambda w: None if _victim_issued(w) else None),
    ("GET", "/v1/tenants/{tenantId}/certificates/exports/{exportId}"): Case(params={"exportId": _victim_export}),
    ("GET", "/v1/tenants/{tenantId}/certificates/{certificateId}"): Case(params={"certificateId": _victim_issued}),
    ("POST", "/v1/tenants/{tenantId}/certificates/{certificateId}/revoke"): Case(
        params={"certificateId": _victim_issued}, body=lambda w: {"reason": "Revoked by an attacker"}),
    # certificates: the PDF (learner, manager, admins), public verification by id (JSON and the HTML page)
    ("GET", "/v1/tenants/{tenantId}/certificates/{certificateId}/pdf"): Case(legit_expect=302, check=_pdf_untouched),
    ("GET", "/v1/verify/{certificateId}"): _verify_case(),
    ("GET", "/verify/{certificateId}"): _verify_case(),
    # CRM integrations: settings (admins), and the inbound endpoints (public, authenticated by org id / signature)
    ("PUT", "/v1/tenants/{tenantId}/integrations/salesforce"): Case(
        body=lambda w: {"organizationId": "00D5g000001HiJaEAK"}),
    ("GET", "/v1/tenants/{tenantId}/integrations/salesforce"): Case(prepare=_crm),
    ("PUT", "/v1/tenants/{tenantId}/integrations/hubspot"): Case(body=lambda w: {"appSecret": "stolen-secret-1"}),
    ("GET", "/v1/tenants/{tenantId}/integrations/hubspot"): Case(prepare=_crm),
    ("POST", "/v1/tenants/{tenantId}/integrations/salesforce/outbound-messages"): Case(
        legit=None, public=True, expect=401, prepare=_crm, request=_salesforce_message),
    ("POST", "/v1/tenants/{tenantId}/integrations/hubspot/webhooks"): Case(
        legit=None, public=True, expect=401, prepare=_crm, request=_hubspot_batch),
    # SCIM 2.0: tokens (admins), discovery (public), Users and Groups (a SCIM token of the tenant or an admin's
    # bearer token; another tenant's SCIM token is a 401: tests/unit/test_scim.py)
    ("POST", "/v1/tenants/{tenantId}/scim-tokens"): Case(body=lambda w: {"name": "Stolen"}),
    ("GET", "/v1/tenants/{tenantId}/scim-tokens"): Case(prepare=lambda w: None if _victim_scim_token(w) else None),
    ("DELETE", "/v1/tenants/{tenantId}/scim-tokens/{tokenId}"): Case(),
    ("GET", "/v1/tenants/{tenantId}/scim/v2/ServiceProviderConfig"): _scim_discovery(),
    ("GET", "/v1/tenants/{tenantId}/scim/v2/ResourceTypes"): _scim_discovery(),
    ("GET", "/v1/tenants/{tenantId}/scim/v2/ResourceTypes/{resourceType}"): _scim_discovery(
        resourceType=lambda w: "User"),
    ("GET", "/v1/tenants/{tenantId}/scim/v2/Schemas"): _scim_discovery(),
    ("GET", "/v1/tenants/{tenantId}/scim/v2/Schemas/{schemaId}"): _scim_discovery(schemaId=lambda w: SCIM_GROUP),
    ("POST", "/v1/tenants/{tenantId}/scim/v2/Users"): Case(
        body=lambda w: {"schemas": [SCIM_USER], "userName": f"planted.{next(_seq)}@victim.example"}),
    ("GET", "/v1/tenants/{tenantId}/scim/v2/Users"): Case(),
    ("GET", "/v1/tenants/{tenantId}/scim/v2/Users/{userId}"): Case(),
    ("PUT", "/v1/tenants/{tenantId}/scim/v2/Users/{userId}"): Case(
        body=lambda w: {"schemas": [SCIM_USER], "userName": w.victim_user["email"], "displayName": "Hijacked"}),
    ("PATCH", "/v1/tenants/{tenantId}/scim/v2/Users/{userId}"): Case(
        body=_scim_patch({"op": "replace", "value": {"active": False, "displayName": "Hijacked"}})),
    ("DELETE", "/v1/tenants/{tenantId}/scim/v2/Users/{userId}"): Case(),
    ("POST", "/v1/tenants/{tenantId}/scim/v2/Groups"): Case(
        body=lambda w: {"schemas": [SCIM_GROUP], "displayName": f"Planted {next(_seq)}",
                        "members": [{"value": w.victim_user["id"]}]}),
    ("GET", "/v1/tenants/{tenantId}/scim/v2/Groups"): Case(prepare=lambda w: None if _victim_scim_group(w) else None),
    ("GET", "/v1/tenants/{tenantId}/scim/v2/Groups/{groupId}"): Case(),
    ("PUT", "/v1/tenants/{tenantId}/scim/v2/Groups/{groupId}"): Case(
        body=lambda w: {"schemas": [SCIM_GROUP], "displayName": "Hijacked", "members": []}),
    ("PATCH", "/v1/tenants/{tenantId}/scim/v2/Groups/{groupId}"): Case(
        body=lambda w: _scim_patch({"op": "add", "path": "members", "value": [{"value": w.victim_admin["id"]}]})(w)),
    ("DELETE", "/v1/tenants/{tenantId}/scim/v2/Groups/{groupId}"): Case(),
    # any other name under the SCIM base: a SCIM 404 for anyone (nothing read, nothing written)
    **{(m, "/v1/tenants/{tenantId}/scim/v2/{resource}"): Case(
        legit=None, public=True, expect=404, own_expect=404, legit_expect=404, params={"resource": lambda w: "Pets"},
        body=(lambda w: {}) if m != "GET" else None, check=lambda w, who, resp: None)
       for m in ("GET", "POST", "PUT", "PATCH", "DELETE")},
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
    leaked = _leaks(resp, w.secrets(), _sent(getattr(resp, "sent_url", path), body))
    assert not leaked, f"{who} -> {method} {path} ({route}) returned the victim's {leaked}: {resp.body!r}"
    if case.check:
        case.check(w, who, resp)


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
    params = {**VICTIM_PARAMS, **case.params}
    path = _path(route, params, w)
    body = case.body(w) if case.body else None
    before = w.snapshot()
    for who in ATTACKERS:
        _attack(w, case, method, route, who, path, body)
    # the attacker's own tenant id with the victim's object ids (user, client): still nothing
    if "{tenantId}" in route and len(re.findall(r"\{\w+\}", route)) > 1:
        own = _path(route, {**params, **ATTACKER_PARAMS}, w)
        resp = (case.request or _call)(w, method, "attacker_admin", own, body)
        assert resp.status_code == case.own_expect, (
            f"attacker_admin -> {method} {own}: {resp.status_code} {resp.body!r}")
        assert not _leaks(resp, w.secrets(), _sent(getattr(resp, "sent_url", own), body))
        if case.check:
            case.check(w, "own", resp)
        elif resp.status_code == 200 and method != "HEAD":
            assert w.api.json(resp)["items"] == [], f"attacker_admin -> {method} {own}: {resp.body!r}"
    assert w.snapshot() == before, f"an attacker's {method} {route} changed the victim's data"
    legit_body = case.legit_body(w) if case.legit_body else body
    if case.request:
        resp = case.request(w, method, case.legit, path, legit_body)
    else:
        resp = _call(w, method, case.legit, path, legit_body)
    ok = resp.status_code == case.legit_expect if case.legit_expect else 200 <= resp.status_code < 300
    assert ok, f"the legitimate caller ({case.legit}) of {method} {path} got {resp.status_code}: {resp.body!r}"
    if case.check:
        case.check(w, "legit", resp)


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


# --- the player's tokens, course files and public assets ------------------------------------------------

def _text(resp: Any) -> str:
    return resp.body.decode("utf-8", "replace") if isinstance(resp.body, bytes) else str(resp.body or "")


def _squeeze(parts: list[str], depth: int, sep: str = "%2F") -> list[str]:
    """`parts` as exactly `depth` path segments: the leading ones joined by an encoded separator (a gateway
    that decoded it would hand the view one parameter holding a whole relative path)."""
    head = len(parts) - depth + 1
    return [sep.join(parts[:head]), *parts[head:]]


def _dotted(parts: list[str], dots: str) -> list[str]:
    return [p.replace("..", dots) for p in parts]


@contextmanager
def _s3_keys() -> Iterator[list[str]]:
    """The object keys the app asks S3 for (GetObject) while active. moto, like S3, takes a key literally,
    so `a/../b` finds nothing there either way: what shows a path escaping its prefix is the key asked for."""
    from chalicelib import aws

    keys: list[str] = []

    def seen(params: dict[str, Any], **_: Any) -> None:
        keys.append(str(params.get("Key")))

    events = aws.s3().meta.events
    events.register("provide-client-params.s3.GetObject", seen, unique_id="isolation-s3-keys")
    try:
        yield keys
    finally:
        events.unregister("provide-client-params.s3.GetObject", unique_id="isolation-s3-keys")


def _outside(keys: list[str], prefix: str) -> list[str]:
    """The keys not under `prefix`, or with a `.`, `..` or empty segment below it (S3 or anything between
    might resolve those)."""
    return [k for k in keys if not k.startswith(prefix)
            or any(seg in ("", ".", "..") for seg in k[len(prefix):].split("/"))]


def test_attempt_tokens_are_bound_to_tenant_attempt_and_learner(api: Any, world: World) -> None:
    """The player page and its commits: the attacker's own valid tokens open only its own attempt, in its own
    tenant; the victim's tokens, tampered with or used for another purpose, open nothing; nothing changes."""
    w = world
    c, m = _learning(w), _mallory(w)
    vid, aid = w.victim["id"], w.attacker["id"]
    victim, own = f"/v1/tenants/{vid}/attempts/{c['attemptId']}", f"/v1/tenants/{aid}/attempts/{m['attemptId']}"
    crossed = (victim, f"/v1/tenants/{aid}/attempts/{c['attemptId']}", f"/v1/tenants/{vid}/attempts/{m['attemptId']}")
    before = w.snapshot()
    for kind, suffix, method, body in (("launch", "/launch", "GET", None), ("commit", "/runtime", "PUT", _PROGRESS),
                                       ("commit", "/runtime", "POST", _PROGRESS)):
        mine, theirs = m["tokens"][kind], c["tokens"][kind]
        others = [t for k, t in (*m["tokens"].items(), *c["tokens"].items()) if k != kind]
        attempts: list[tuple[str, str, int]] = [(path, mine, 404) for path in crossed]
        attempts += [(victim, token, 401) for token in (
            "", "not-a-token", *others, tamper(theirs, u=m["userId"]), tamper(theirs, x=2**40),
            tamper(mine, t=vid, a=c["attemptId"]), tamper(theirs, t=aid, a=m["attemptId"]))]
        attempts.append((own, tamper(theirs, t=aid, a=m["attemptId"], u=m["userId"]), 401))
        for path, token, expected in attempts:
            url = f"{path}{suffix}?token={token}"
            resp = api.call(method, url, None, body)
            assert resp.status_code == expected, (method, url, resp.status_code, _text(resp))
            assert not _leaks(resp, w.secrets(), url), (method, url)
        # the same token of the attacker's works on the attacker's own attempt: the 404s above are the binding
        assert api.call(method, f"{own}{suffix}?token={mine}", None, body).status_code == 200, (kind, method)
    assert w.snapshot() == before, "an attacker's launch or commit changed the victim's attempt"
    resp = api.call("PUT", f"{victim}/runtime?token={c['tokens']['commit']}", None, _PROGRESS)
    assert resp.status_code == 200 and w.snapshot() != before  # the snapshot does see a commit


def test_play_tokens_decide_the_prefix(api: Any, world: World) -> None:
    """/play/<token>/<path> reads under the prefix its token names: the attacker's own content token reaches
    its own files only, whatever the path (dots, the victim's keys, encoded slashes); a token re-pointed at
    the victim's prefix, or a token of another kind, is a 401."""
    w = world
    c, m = _learning(w), _mallory(w)
    mine, theirs, outside = m["tokens"]["content"], c["tokens"]["content"], c["outside"]
    sibling = c["prefix"].split("/")[1:4]  # the victim's tenant, course and version folder
    for depth in DEPTHS:
        rel = "/".join(nested(depth))
        legit = api.call("GET", f"/play/{theirs}/{rel}")
        assert legit.status_code == 200 and c["marker"] in _text(legit), (depth, legit.status_code)
        own = api.call("GET", f"/play/{mine}/{rel}")
        assert own.status_code == 200 and m["marker"] in _text(own) and c["marker"] not in _text(own), depth
        climb = [".."] * 4 + outside[12]  # from the attacker's prefix to the victim's deepest file
        evil = [_climb(w, depth), [".."] * depth, outside[depth], _squeeze(climb, depth),
                _squeeze(_dotted(climb, "%2e%2e"), depth), _squeeze(climb, depth, "%5C"),
                _dotted(_climb(w, depth), ".%2e")]
        if depth > 1:  # an empty segment (`//`)
            evil.append(["", *outside[depth - 1]])
        if depth >= 7:
            evil.append([".."] * 3 + sibling + nested(depth - 6))
        with _s3_keys() as asked:
            for parts in evil:
                url = f"/play/{mine}/" + "/".join(parts)
                resp = api.call("GET", url)
                assert resp.status_code == 404, (url, resp.status_code, _text(resp))
                assert not _leaks(resp, w.secrets(), url), url
        assert not _outside(asked, m["prefix"]), f"keys asked for outside the prefix: {_outside(asked, m['prefix'])}"
        forged = [tamper(mine, p=c["prefix"]), tamper(mine, p=""), tamper(theirs, p=m["prefix"]),
                  m["tokens"]["launch"], m["tokens"]["commit"], c["tokens"]["launch"], "", "x.y"]
        for token in forged:
            url = f"/play/{token}/{rel}"
            resp = api.call("GET", url)
            assert resp.status_code in (401, 404) and c["marker"] not in _text(resp), (url, resp.status_code)
            assert resp.status_code == 401 or not token, (url, resp.status_code)


def test_public_assets_never_reach_packages_or_uploads(api: Any, world: World) -> None:
    """/content/<path> serves the bucket's `content/` prefix only: the victim's packages and uploads (and any
    other object) are out of reach by their keys, by dots, by encoded dots and slashes, by empty segments."""
    w = world
    c = _files(w)
    _assets(w)
    outside = c["outside"]
    for depth in DEPTHS:
        asset = api.call("GET", "/content/" + "/".join(nested(depth, "asset.txt")))
        assert asset.status_code == 200 and "a public asset" in _text(asset), depth
        climb = [".."] + outside[12]
        evil = [outside[depth], [".."] * depth, _squeeze(climb, depth), _squeeze(_dotted(climb, "%2e%2e"), depth),
                _squeeze(_dotted(climb, "%2E%2E"), depth), _squeeze(climb, depth, "%5C")]
        if depth > 1:
            evil += [[".."] + outside[depth - 1], _dotted([".."] + outside[depth - 1], ".%2e"),
                     ["", *outside[depth - 1]]]
        with _s3_keys() as asked:
            for parts in evil:
                url = "/content/" + "/".join(parts)
                resp = api.call("GET", url)
                assert resp.status_code == 404, (url, resp.status_code, _text(resp))
                assert c["marker"] not in _text(resp) and not _leaks(resp, w.secrets(), url), url
        assert not _outside(asked, "content/"), f"keys asked for outside content/: {_outside(asked, 'content/')}"


def test_a_decoded_slash_in_a_path_parameter_stays_inside_the_prefix(api: Any, world: World) -> None:
    """What API Gateway may hand the views for `..%2F..%2F…`: one parameter holding a relative path."""
    from chalicelib.content import serve
    from chalicelib.errors import NotFound

    w = world
    m, outside = _mallory(w), _files(w)["outside"]
    with _s3_keys() as asked:
        for parts in (["/".join([".."] * 4 + outside[12])], ["lvl1", "/".join([".."] * 5 + outside[5])]):
            with pytest.raises(NotFound):
                serve.course_file(m["tokens"]["content"], parts)
        with pytest.raises(NotFound):
            serve.asset(["/".join([".."] + outside[12])])
    assert not _outside(asked[:-1], m["prefix"]) and not _outside(asked[-1:], "content/"), asked


def test_cmi5_launch_and_fetch_tokens_are_bound_and_good_once(api: Any, world: World) -> None:
    """The cmi5 launch and the AU's auth-token fetch: the attacker's own valid tokens open only its own attempt in
    its own tenant (a launch elsewhere is a 404 and redirects nowhere; a fetch elsewhere is error-code 2 and writes
    nothing); tampered tokens and tokens of the other kind fail; the victim's fetch token, once used, is good for
    nobody (error-code 1); nothing of the victim's changes."""
    from chalicelib.content import cmi5
    from chalicelib.content import launch as launch_tokens
    from chalicelib.store import keys
    from chalicelib.store.models import Cmi5Fetch, LrsCredential

    w = world
    v, m = _cmi5(w), _mallory_cmi5(w)
    vid, aid = w.victim["id"], w.attacker["id"]
    victim = f"/v1/tenants/{vid}/attempts/{v['attemptId']}/cmi5"
    crossed = (victim, f"/v1/tenants/{aid}/attempts/{v['attemptId']}/cmi5",
               f"/v1/tenants/{vid}/attempts/{m['attemptId']}/cmi5")
    before = w.snapshot()
    seen = {path: (status, body) for path, status, body in before}
    statements = f"/v1/tenants/{vid}/xapi/statements?limit=100"
    assert seen[statements][0] == 200 and seen[statements][1]["statements"], seen[statements]  # "launched" is there
    assert seen[v["launchData"]][0] == 200, seen[v["launchData"]]

    def launch(path: str, token: str) -> Any:
        url = f"{path}/launch?token={quote(token, safe='')}&sco={v['sco']}"
        resp = api.call("GET", url, None)
        assert "location" not in {h.lower() for h in resp.headers}, (url, resp.headers)
        assert not _leaks(resp, w.secrets(), url), url
        return resp.status_code

    def fetch(path: str, token: str) -> dict[str, Any]:
        url = f"{path}/fetch?token={quote(token, safe='')}"
        resp = api.call("POST", url, None)
        assert resp.status_code == 200 and not _leaks(resp, w.secrets(), url), (url, resp.status_code)
        answer = dict(api.json(resp))
        assert "auth-token" not in answer, (url, answer)
        return answer

    for path in crossed:
        assert launch(path, m["launch"]) == 404, path
        assert fetch(path, m["fetch"])["error-code"] == "2", path
    for token in ("", "not-a-token", m["fetch"], v["fetch"], tamper(v["launch"], u=m["userId"]),
                  tamper(v["launch"], x=2**40), tamper(m["launch"], t=vid, a=v["attemptId"])):
        assert launch(victim, token) == 401, token
    for token in ("", "not-a-token", m["launch"], v["launch"], tamper(v["fetch"], u=m["userId"]),
                  tamper(v["fetch"], x=2**40), tamper(m["fetch"], t=vid, a=v["attemptId"])):
        assert fetch(victim, token)["error-code"] == "2", token
    # nothing was written for the attacker's token in the victim's tenant: no use marked, no credential
    j = json.loads(launch_tokens._unb64(m["fetch"].split(".")[0]))["j"]  # the token's id: its marker's key
    for model, pk, sk in ((Cmi5Fetch, keys.cmi5_fetch_pk(vid, j), keys.CMI5_FETCH_SK),
                          (LrsCredential, keys.lrs_credential_pk(vid, f"{cmi5.AU_KEY_PREFIX}{j}"), keys.LRS_KEY_SK)):
        assert model.count(pk, model.SK == sk) == 0, model.__name__
    assert w.snapshot() == before, "an attacker's cmi5 launch or fetch changed the victim's data"

    # the attacker's tokens do work on its own attempt: the failures above are the binding
    own = f"/v1/tenants/{aid}/attempts/{m['attemptId']}/cmi5"
    assert api.call("GET", f"{own}/launch?token={m['launch']}&sco={m['sco']}", None).status_code == 302
    assert "auth-token" in api.json(api.call("POST", f"{own}/fetch?token={m['fetch']}", None))
    # the victim's fetch token: once, then good for nobody, on its own URL or any other
    first = api.json(api.call("POST", f"{victim}/fetch?token={v['fetch']}", None))
    assert set(first) == {"auth-token"}, first
    assert fetch(victim, v["fetch"])["error-code"] == "1"
    for path in crossed[1:]:
        assert fetch(path, v["fetch"])["error-code"] == "2", path
    # ...and the credential it handed out is the victim tenant's alone
    basic = {"Authorization": f"Basic {first['auth-token']}", **XAPI_VERSION}
    assert api.client.http.get(f"/v1/tenants/{vid}/xapi/statements?limit=1", headers=basic).status_code == 200
    other = api.client.http.get(f"/v1/tenants/{aid}/xapi/statements?limit=1", headers=basic)
    assert other.status_code in (401, 403, 404) and not _leaks(other, w.secrets(), ""), other.status_code
    # a legitimate launch does change the snapshot (it would see an attacker's)
    settled = w.snapshot()
    cmi5_launch(api, f"{victim}/launch?token={v['launch']}&sco={v['sco']}")
    assert w.snapshot() != settled


def test_paths_name_only_the_tenants_own_courses_and_paths(api: Any, world: World) -> None:
    """In its own tenant an admin cannot build a path of the victim's course, enroll in the victim's path, or read
    progress on it: each is refused as unknown, with nothing of the victim's in the answer and nothing changed."""
    w = world
    p, c = _learning_path(w), _course(w)
    aid, admin = w.attacker["id"], w.tokens["attacker_admin"]
    me = jwt.decode(admin, options={"verify_signature": False})["sub"]
    mine = _mallory(w)["courseId"]
    before = w.snapshot()
    t = f"/v1/tenants/{aid}"
    attempts = [
        ("POST", f"{t}/paths", {"title": "Borrowed", "courses": [{"courseId": c["courseId"]}]}, 400),
        ("POST", f"{t}/paths", {"title": "Borrowed", "courses": [{"courseId": mine},
                                                                {"courseId": c["courseId"], "prerequisites": [mine]}]},
         400),
        ("POST", f"{t}/enrollments", {"userId": me, "pathId": p["pathId"]}, 400),
        ("GET", f"{t}/paths/{p['pathId']}", None, 404),
        ("GET", f"{t}/users/{me}/paths/{p['pathId']}/progress", None, 404),
        ("GET", f"{t}/users/{w.victim_user['id']}/paths/{p['pathId']}/progress", None, 404),
    ]
    for method, path, body, expected in attempts:
        resp = api.call(method, path, admin, body)
        assert resp.status_code == expected, (method, path, resp.status_code, resp.body)
        assert not _leaks(resp, w.secrets(), _sent(path, body)), (method, path)
    assert api.json(api.call("GET", f"{t}/paths", admin))["items"] == []
    assert w.snapshot() == before, "an attacker's path request changed the victim's data"
    # the same requests with the attacker's own course succeed: the refusals above are the tenant binding
    made = api.call("POST", f"{t}/paths", admin, {"title": "Own", "courses": [{"courseId": mine}]})
    assert made.status_code == 201, made.body
    own = api.json(made)["id"]
    assert api.call("POST", f"{t}/enrollments", admin, {"userId": me, "pathId": own}).status_code in (200, 201)
    progress = api.call("GET", f"{t}/users/{me}/paths/{own}/progress", admin)
    assert progress.status_code == 200 and api.json(progress)["totalCourses"] == 1
