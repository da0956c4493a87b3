"""cmi5 (Quartz): launching an AU, its one-time auth-token fetch, and reading outcomes from its statements.

The LMS side of the cmi5 runtime, with this platform's LRS as the integrated LRS:

* `launch_redirect` (spec 8.1, 10, 9.3.1): the AU's URL with the five launch parameters. Before it returns,
  the `LMS.LaunchData` state document is written (10.2) and the LMS's "launched" statement stored (9.3.1,
  9.6.3), both for the same activityId, actor and registration that go in the URL.
* `fetch_token` (8.2): the fetch URL hands out, once, an `auth-token` (Basic `key:secret` of a short-lived
  LRS credential of the tenant); errors are `{"error-code", "error-text"}` with the 8.2.3.2 codes.
* `outcome`, `move_on_met`, `course_satisfied` (9.3, 9.5, 13.1.4 moveOn): what an AU's "cmi5 defined"
  statement says about completion, success and score, and whether the moveOn criteria are met.
* `satisfied_statement` / `record_satisfied` (9.3.9, 9.4): the LMS's "satisfied" statement for the course.

The AU's activityId is generated (8.1.5: it MUST NOT be the publisher's AU id), stable per course and AU
across launches and registrations; the publisher id goes in `contextActivities.grouping` (9.6.2.3). The
registration is a UUIDv5 of the attempt (a new attempt is a new registration), the session id a fresh UUID
per launch.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from pynamodb.models import Model

from chalicelib import observability
from chalicelib.auth.passwords import hash_secret
from chalicelib.auth.principal import Principal, TenantContext
from chalicelib.clock import new_secret, utcnow_iso
from chalicelib.config import settings
from chalicelib.content import launch
from chalicelib.errors import Conflict, NotFound, OnrampError
from chalicelib.lrs import documents, statements
from chalicelib.lrs.documents import Conditions, Scope
from chalicelib.lrs.facets import agent_key
from chalicelib.store import keys
from chalicelib.store.models import Attempt, Cmi5Fetch, Item, LrsCredential, plain
from chalicelib.store.tx import Tx, TxConflict

# -- vocabulary (cmi5 Quartz) ---------------------------------------------------------------------------------
LAUNCHED = "http://adlnet.gov/expapi/verbs/launched"
INITIALIZED = "http://adlnet.gov/expapi/verbs/initialized"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
FAILED = "http://adlnet.gov/expapi/verbs/failed"
TERMINATED = "http://adlnet.gov/expapi/verbs/terminated"
SATISFIED = "https://w3id.org/xapi/adl/verbs/satisfied"
CATEGORY_CMI5 = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
CATEGORY_MOVEON = "https://w3id.org/xapi/cmi5/context/categories/moveon"
COURSE_TYPE = "https://w3id.org/xapi/cmi5/activitytype/course"
_EXT = "https://w3id.org/xapi/cmi5/context/extensions/"
SESSION_ID = _EXT + "sessionid"
MASTERY_SCORE = _EXT + "masteryscore"
LAUNCH_MODE = _EXT + "launchmode"
LAUNCH_URL = _EXT + "launchurl"
MOVE_ON = _EXT + "moveon"
LAUNCH_PARAMETERS = _EXT + "launchparameters"
LAUNCH_DATA = "LMS.LaunchData"
MOVE_ON_VALUES = ("Passed", "Completed", "CompletedAndPassed", "CompletedOrPassed", "NotApplicable")
LAUNCH_PARAMS = ("endpoint", "fetch", "actor", "registration", "activityId")

# -- the platform's choices -----------------------------------------------------------------------------------
FETCH_SECONDS = 30 * 60  # the fetch URL: an AU fetches its token as it loads
SESSION_SECONDS = launch.LAUNCH_SECONDS  # the AU's LRS credential: one learning session (8.2.1)
AU_KEY_PREFIX = "cmi5-"  # LRS credential keys handed to AUs: `lrs:cmi5-…` principals
AU_SCOPES = ["statements/write", "statements/read/mine", "state", "define"]  # define: read cmi5LearnerPreferences
PLATFORM_SUBJECT = "system:cmi5"
_NS = uuid.UUID("6f1c2d0a-3b9e-4e57-8a41-c5d2e7f90b13")  # Onramp's namespace for cmi5 registrations and ids

ALREADY_USED, SECURITY_ERROR, APPLICATION_ERROR = "1", "2", "3"  # 8.2.3.2


# -- identifiers ----------------------------------------------------------------------------------------------
def registration(tenant_id: str, attempt_id: str) -> str:
    """The attempt's cmi5 registration (8.1.4): a UUID derived from it, so every launch of it agrees."""
    return str(uuid.uuid5(_NS, f"{tenant_id}/attempt/{attempt_id}"))


def actor(user_id: str) -> dict[str, Any]:
    """The learner as an account agent of the platform, without PII (8.1.3, 9.2)."""
    return {"objectType": "Agent", "account": {"homePage": settings().issuer, "name": user_id}}


def course_activity_id(tenant_id: str, attempt: Attempt) -> str:
    """The LMS's course object (9.4): generated, never the publisher's course id."""
    return f"{settings().issuer}/tenants/{tenant_id}/courses/{attempt.course_id}/cmi5"


def publisher_id(au: dict[str, Any]) -> str:
    return str(au.get("activityId") or au["id"])


def au_activity_id(tenant_id: str, attempt: Attempt, au: dict[str, Any]) -> str:
    """The AU's activityId (8.1.5): generated, not the publisher id, the same for every launch and registration."""
    return f"{course_activity_id(tenant_id, attempt)}/aus/{uuid.uuid5(_NS, publisher_id(au))}"


def fetch_path(tenant_id: str, attempt_id: str) -> str:
    """The fetch route (POST, public: authorised by the one-time token in its query)."""
    return f"/v1/tenants/{tenant_id}/attempts/{attempt_id}/cmi5/fetch"


def endpoint(base_url: str, tenant_id: str) -> str:
    return f"{base_url.rstrip('/')}/v1/tenants/{tenant_id}/xapi/"


def _au(attempt: Attempt, sco_index: int) -> dict[str, Any]:
    scos = [plain(s) for s in attempt.scos or []]
    if attempt.format != "cmi5" or not 0 <= sco_index < len(scos):
        raise NotFound("No such AU in this attempt.")
    return dict(scos[sco_index])


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


# -- launch (8.1, 10, 9.3.1) ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Launch:
    tenant_id: str
    attempt: Attempt
    index: int
    au: dict[str, Any]
    session_id: str
    registration: str
    actor: dict[str, Any]
    activity_id: str
    au_url: str  # fully qualified, without the launch parameters


def au_url(au: dict[str, Any], base_url: str, content_url: str) -> str:
    declared = str(au["launch"])
    parts = urlsplit(declared)
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return declared
    return base_url.rstrip("/") + content_url if content_url.startswith("/") else content_url


def with_params(url: str, params: dict[str, str]) -> str:
    """The URL with the launch parameters appended to its own query (8.1), each value fully URL-encoded."""
    parts = urlsplit(url)
    added = "&".join(f"{name}={quote(value, safe='')}" for name, value in params.items())
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def launch_data(au: dict[str, Any], session_id: str, return_url: str | None = None) -> dict[str, Any]:
    """The `LMS.LaunchData` state document (10.2)."""
    doc: dict[str, Any] = {
        "contextTemplate": {
            "contextActivities": {"grouping": [{"objectType": "Activity", "id": publisher_id(au)}]},
            "extensions": {SESSION_ID: session_id},
        },
        "launchMode": "Normal",
        "moveOn": au.get("moveOn") or "NotApplicable",
    }
    if au.get("masteryScore") is not None:
        doc["masteryScore"] = _number(au["masteryScore"])
    if au.get("launchData") is not None:
        doc["launchParameters"] = str(au["launchData"])
    if return_url:
        doc["returnURL"] = return_url
    return doc


def _launched(run: _Launch) -> dict[str, Any]:
    """The LMS's "launched" statement (9.3.1) with the 9.6.3 extensions a launched statement carries."""
    extensions: dict[str, Any] = {SESSION_ID: run.session_id, LAUNCH_MODE: "Normal", LAUNCH_URL: run.au_url,
                                  MOVE_ON: run.au.get("moveOn") or "NotApplicable"}
    if run.au.get("masteryScore") is not None:
        extensions[MASTERY_SCORE] = _number(run.au["masteryScore"])
    if run.au.get("launchData") is not None:
        extensions[LAUNCH_PARAMETERS] = str(run.au["launchData"])
    return {
        "id": str(uuid.uuid5(_NS, f"{run.tenant_id}/session/{run.session_id}/launched")),
        "actor": run.actor,
        "verb": {"id": LAUNCHED, "display": {"en-US": "launched"}},
        "object": {"objectType": "Activity", "id": run.activity_id,
                   "definition": {"name": {"en-US": str(run.au.get("title") or publisher_id(run.au))}}},
        "context": {"registration": run.registration,
                    "contextActivities": {"category": [{"objectType": "Activity", "id": CATEGORY_CMI5}],
                                          "grouping": [{"objectType": "Activity", "id": publisher_id(run.au)}]},
                    "extensions": extensions},
        "timestamp": utcnow_iso(),
    }


def _state_scope(tenant_id: str, activity_id: str, agent: dict[str, Any], reg: str) -> Scope:
    """The state scope the xAPI State resource reads for (activityId, agent, registration)."""
    return Scope(tenant_id, "state", f"{activity_id}|{agent_key(agent)}", reg.lower())


def platform_context(tenant_id: str) -> TenantContext:
    """The LMS itself, storing its own cmi5 statements in the tenant's LRS."""
    return statements.platform_context(tenant_id, PLATFORM_SUBJECT)


def launch_redirect(tenant_id: str, attempt: Attempt, sco_index: int, base_url: str, content_url: str, *,
                    return_url: str | None = None) -> str:
    """The URL that launches AU `sco_index` of a cmi5 attempt (8.1), once its launch data is in the LRS.

    `content_url` is where a package-relative AU is served (`/play/<content token>/<launch>`, made absolute
    with `base_url`); an AU declared with an absolute URL is launched there.
    """
    au = _au(attempt, sco_index)
    learner = actor(attempt.user_id)
    run = _Launch(tenant_id, attempt, sco_index, au, str(uuid.uuid4()), registration(tenant_id, attempt.id),
                  learner, au_activity_id(tenant_id, attempt, au), au_url(au, base_url, content_url))
    token = launch.sign("cmi5-fetch", {"t": tenant_id, "a": attempt.id, "u": attempt.user_id, "i": sco_index,
                                       "s": run.session_id, "r": run.registration, "ac": run.activity_id,
                                       "j": secrets.token_hex(10)}, ttl=FETCH_SECONDS)
    content = json.dumps(launch_data(au, run.session_id, return_url), separators=(",", ":")).encode()
    documents.write(_state_scope(tenant_id, run.activity_id, learner, run.registration), LAUNCH_DATA, content,
                    documents.JSON, Conditions(), merge=False)
    statements.store(platform_context(tenant_id), [_launched(run)])
    observability.count("Cmi5Launched")
    return with_params(run.au_url, {
        "endpoint": endpoint(base_url, tenant_id),
        "fetch": f"{base_url.rstrip('/')}{fetch_path(tenant_id, attempt.id)}?token={quote(token, safe='')}",
        "actor": json.dumps(learner, separators=(",", ":")),
        "registration": run.registration,
        "activityId": run.activity_id,
    })


# -- the auth-token fetch (8.2) -------------------------------------------------------------------------------
class FetchError(Exception):
    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


def _fetch_claims(tenant_id: str, attempt_id: str, token: str | None) -> dict[str, Any]:
    """The token's claims if it is a cmi5-fetch token of this tenant and attempt; its expiry checked apart."""
    try:
        # `now=1`: signature, shape and binding only, so an expired token is told from a forged one
        claims = launch.verify("cmi5-fetch", token, now=1.0, t=tenant_id, a=attempt_id)
    except OnrampError:
        raise FetchError(SECURITY_ERROR, "The fetch URL is not valid.") from None
    if not keys.is_safe(str(claims.get("j", ""))):
        raise FetchError(SECURITY_ERROR, "The fetch URL is not valid.")
    if int(claims.get("x", 0)) < time.time():
        raise FetchError(ALREADY_USED, "The fetch URL has expired; launch the AU again.")
    if not launch.tenant_active(tenant_id):
        raise FetchError(SECURITY_ERROR, "The fetch URL is not valid.")
    return claims


def issue_credential(tenant_id: str, claims: dict[str, Any]) -> str:
    """Record the token's use and create the session's credential in one transaction; the auth-token."""
    now, token_id = utcnow_iso(), str(claims["j"])
    key, secret = f"{AU_KEY_PREFIX}{token_id}", new_secret()
    expires = int(time.time()) + SESSION_SECONDS
    marker = Cmi5Fetch(PK=keys.cmi5_fetch_pk(tenant_id, token_id), SK=keys.CMI5_FETCH_SK, ttl=expires,
                       tenant_id=tenant_id,
                       attempt_id=str(claims["a"]), user_id=str(claims["u"]), sco_index=int(claims["i"]),
                       session_id=str(claims["s"]), registration=str(claims["r"]), activity_id=str(claims["ac"]),
                       credential_key=key, created_at=now)
    cred = LrsCredential(PK=keys.lrs_credential_pk(tenant_id, key), SK=keys.LRS_KEY_SK, ttl=expires, key=key,
                         tenant_id=tenant_id, name=f"cmi5 session {claims['s']}", scopes=list(AU_SCOPES),
                         secret_hash=hash_secret(secret), status="active", created_by=PLATFORM_SUBJECT,
                         created_at=now)
    tx = Tx()
    tx.put(marker, Item.PK.does_not_exist(), "fetch")
    tx.put(cred, Item.PK.does_not_exist(), "credential")
    try:
        tx.commit()
    except TxConflict:
        raise FetchError(ALREADY_USED, "The authorization token has already been returned.") from None
    return base64.b64encode(f"{key}:{secret}".encode()).decode()


def fetch_token(tenant_id: str, attempt_id: str, token: str | None) -> dict[str, str]:
    """The fetch URL's JSON answer (always HTTP 200, application/json): the auth-token once, else an error."""
    try:
        claims = _fetch_claims(tenant_id, attempt_id, token)
        auth = issue_credential(tenant_id, claims)
    except FetchError as err:
        return {"error-code": err.code, "error-text": err.text}
    except Exception:  # 8.2.3.2 code 3: the AU gets a JSON answer whatever failed here
        observability.logger().exception("cmi5 fetch failed")
        return {"error-code": APPLICATION_ERROR, "error-text": "The authorization token could not be issued."}
    observability.count("Cmi5TokenFetched")
    return {"auth-token": auth}


@dataclass(frozen=True)
class AuSession:
    """The AU launch session an AU's LRS credential belongs to."""

    attempt_id: str
    user_id: str
    sco_index: int
    session_id: str
    registration: str
    activity_id: str
    expires: int | None


def credential_key(principal: Principal) -> str | None:
    """The AU credential key of an `lrs:cmi5-…` principal; None for every other caller."""
    kind, _, key = principal.subject.partition(":")
    return key if principal.kind == "lrs" and kind == "lrs" and key.startswith(AU_KEY_PREFIX) else None


def session_for(tenant_id: str, key: str) -> AuSession | None:
    """The session of an AU credential key (`cmi5-<token id>`), from its fetch marker."""
    token_id = key[len(AU_KEY_PREFIX):] if key.startswith(AU_KEY_PREFIX) else ""
    if not (keys.is_safe(tenant_id) and keys.is_safe(token_id)):
        return None
    try:
        m = Cmi5Fetch.get(keys.cmi5_fetch_pk(tenant_id, token_id), keys.CMI5_FETCH_SK)
    except Model.DoesNotExist:
        return None
    return AuSession(m.attempt_id, m.user_id, int(m.sco_index), m.session_id, m.registration, m.activity_id,
                     None if m.ttl is None else int(m.ttl))


# -- outcomes and moveOn (9.3, 9.5, 13.1.4) -------------------------------------------------------------------
def _categories(statement: dict[str, Any]) -> set[str]:
    activities = ((statement.get("context") or {}).get("contextActivities") or {}).get("category") or []
    items = activities if isinstance(activities, list) else [activities]
    return {str(item.get("id")) for item in items if isinstance(item, dict)}


def is_cmi5_defined(statement: dict[str, Any]) -> bool:
    """A "cmi5 defined" statement carries the cmi5 category (7.1.3); others are "cmi5 allowed" and not judged."""
    return CATEGORY_CMI5 in _categories(statement)


def scaled_score(score: Any) -> float | None:
    """result.score as a scaled value: `scaled`, else raw within min..max."""
    if not isinstance(score, dict):
        return None
    if score.get("scaled") is not None:
        return float(score["scaled"])
    raw, low, high = score.get("raw"), score.get("min"), score.get("max")
    if raw is None or low is None or high is None or float(high) <= float(low):
        return None
    return (float(raw) - float(low)) / (float(high) - float(low))


def _bound(statement: dict[str, Any], activity_id: str | None, reg: str | None) -> bool:
    obj = statement.get("object") or {}
    if activity_id is not None and obj.get("id") != activity_id:
        return False
    found = str((statement.get("context") or {}).get("registration") or "").lower()
    return reg is None or found == reg.lower()


def _judged(verb: str, result: dict[str, Any], mastery: float | None) -> tuple[str | None, float | None]:
    """(success, scaled score) of a passed/failed statement; a score on the wrong side of masteryScore
    (9.3.4, 9.3.5) makes it count for nothing."""
    scaled = scaled_score(result.get("score"))
    if verb == PASSED and result.get("success") is True:
        if mastery is not None and scaled is not None and scaled < mastery:
            return None, None
        return "passed", scaled
    if verb == FAILED and result.get("success") is False:
        if mastery is not None and scaled is not None and scaled >= mastery:
            return None, None
        return "failed", scaled
    return None, None


def outcome(statement: dict[str, Any], au: dict[str, Any], *, activity_id: str | None = None,
            registration: str | None = None) -> tuple[str | None, str | None, float | None]:
    """(completion, success, scaled score) an AU's statement reports: ("completed", None, None) for a
    "completed", (None, "passed"|"failed", scaled) for "passed"/"failed", (None, None, None) for anything else
    (other verbs, "cmi5 allowed" statements, results that contradict the verb). With `activity_id` and
    `registration`, a statement about another AU or registration reports nothing."""
    if not is_cmi5_defined(statement) or not _bound(statement, activity_id, registration):
        return None, None, None
    verb = str((statement.get("verb") or {}).get("id"))
    result = statement.get("result") or {}
    if not isinstance(result, dict):
        return None, None, None
    if verb == COMPLETED:
        return ("completed" if result.get("completion") is True else None), None, None
    success, scaled = _judged(verb, result, _number(au.get("masteryScore")))
    return None, success, scaled


def move_on_met(move_on: str | None, completed: bool, passed: bool) -> bool:
    """Whether an AU's moveOn criteria (13.1.4) are met; None is the default, NotApplicable."""
    rule = move_on or "NotApplicable"
    if rule not in MOVE_ON_VALUES:
        raise ValueError(f"unknown moveOn {move_on!r}")
    return {"Passed": passed, "Completed": completed, "CompletedAndPassed": completed and passed,
            "CompletedOrPassed": completed or passed, "NotApplicable": True}[rule]


def course_satisfied(attempt: Attempt) -> bool:
    """Every AU of the attempt meets its moveOn (9.3.9: the course is satisfied). Completion and passing are
    sticky: `completedAt` / `passedAt` in the AU's runtime state, as the SCORM runtime keeps them."""
    runtime = plain(attempt.runtime) if attempt.runtime else {}
    for index, au in enumerate(plain(s) for s in attempt.scos or []):
        state = runtime.get(f"s{index}") or {}
        if not move_on_met(au.get("moveOn"), bool(state.get("completedAt")), bool(state.get("passedAt"))):
            return False
    return True


# -- satisfied (9.3.9) ----------------------------------------------------------------------------------------
def satisfied_statement(tenant_id: str, attempt: Attempt, session_id: str | None = None, *,
                        course_publisher_id: str | None = None) -> dict[str, Any]:
    """The LMS's "satisfied" statement for the course (its object is the generated course object, 9.4).
    `session_id` is the AU launch session that satisfied it; without one (e.g. satisfied at registration by
    NotApplicable AUs) a new session id is generated, as 9.3.9 requires. The id is derived from the attempt:
    one satisfied statement per course and registration. `course_publisher_id` (cmi5.xml's course id) goes in
    the grouping (9.6.2.3) when known."""
    activities: dict[str, Any] = {"category": [{"objectType": "Activity", "id": CATEGORY_CMI5}]}
    if course_publisher_id:
        activities["grouping"] = [{"objectType": "Activity", "id": course_publisher_id}]
    return {
        "id": str(uuid.uuid5(_NS, f"{tenant_id}/attempt/{attempt.id}/satisfied")),
        "actor": actor(attempt.user_id),
        "verb": {"id": SATISFIED, "display": {"en-US": "satisfied"}},
        "object": {"objectType": "Activity", "id": course_activity_id(tenant_id, attempt),
                   "definition": {"type": COURSE_TYPE, "name": {"en-US": attempt.course_title or attempt.course_id}}},
        "context": {"registration": registration(tenant_id, attempt.id),
                    "contextActivities": activities,
                    "extensions": {SESSION_ID: session_id or str(uuid.uuid4())}},
        "timestamp": utcnow_iso(),
    }


def record_satisfied(tenant_id: str, attempt: Attempt, session_id: str | None = None, *,
                     course_publisher_id: str | None = None) -> bool:
    """Store the satisfied statement once; False when it was stored before (its id is per attempt)."""
    doc = satisfied_statement(tenant_id, attempt, session_id, course_publisher_id=course_publisher_id)
    try:
        statements.store(platform_context(tenant_id), [doc])
    except Conflict:
        return False
    return True
