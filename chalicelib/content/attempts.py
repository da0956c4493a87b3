"""Attempts: start or resume, the player page, runtime commits, the rolled-up course status.

An attempt copies what the player needs from its content version (SCOs, launch paths, mastery,
navigation) so the launch page costs two reads (attempt, tenant branding) and a runtime commit one
UpdateItem: the commit's values go straight into the SCO's map (`runtime.s<index>`), completion is
sticky (`completedAt` is set once with if_not_exists, so a SCO that later sets `cmi.exit=suspend` stays
completed) and the session's time is kept per session id (a retried commit overwrites, never adds).
When the rolled-up status turns complete, one more transaction completes attempt and enrollment and
writes `CourseCompleted` (or `CourseFailed`) to the outbox, exactly once.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote

from pynamodb.models import Model

from chalicelib import aws, observability
from chalicelib.auth.principal import TenantContext
from chalicelib.catalog.courses import load_version
from chalicelib.clock import new_id, utcnow_iso
from chalicelib.config import settings
from chalicelib.content import launch
from chalicelib.enrollment.service import can_see_user, load_enrollment
from chalicelib.errors import Conflict, Forbidden, NotFound, field_error
from chalicelib.events.outbox import event_item
from chalicelib.store import keys
from chalicelib.store.models import Attempt, Enrollment, Item, Tenant, plain
from chalicelib.store.tx import Tx, TxConflict
from chalicelib.users.service import load_user

PLAYABLE = {"scorm12", "scorm2004", "cmi5", "xapi"}


def sco_states(attempt: Attempt) -> list[dict[str, Any]]:
    runtime = plain(attempt.runtime) if attempt.runtime else {}
    return [runtime.get(f"s{i}", {}) for i in range(len(attempt.scos or []))]


def total_seconds(state: dict[str, Any]) -> float:
    return float(sum((state.get("sessions") or {}).values()))


def attempt_json(a: Attempt) -> dict[str, Any]:
    scos = []
    for sco, state in zip((plain(s) for s in a.scos or []), sco_states(a), strict=True):
        scos.append({"id": sco["id"], "title": sco["title"], "completion": state.get("completion"),
                     "success": state.get("success"), "score": state.get("score"),
                     "location": state.get("location"), "completedAt": state.get("completedAt"),
                     "totalSeconds": total_seconds(state)})
    return {
        "id": a.id, "enrollmentId": a.enrollment_id, "userId": a.user_id, "courseId": a.course_id,
        "courseOwner": a.course_owner, "courseTitle": a.course_title, "version": int(a.version),
        "format": a.format, "status": a.status, "success": a.success,
        "score": None if a.score is None else float(a.score), "startedAt": a.started_at,
        "completedAt": a.completed_at, "updatedAt": a.updated_at,
        "durationSeconds": sum(s["totalSeconds"] for s in scos), "scos": scos,
    }


def load_attempt(tenant_id: str, attempt_id: str) -> Attempt:
    try:
        return Attempt.get(keys.attempt_pk(tenant_id, attempt_id), keys.ATTEMPT_SK)
    except (Model.DoesNotExist, ValueError):
        raise NotFound("No such attempt.") from None


def get_attempt(ctx: TenantContext, attempt_id: str) -> dict[str, Any]:
    attempt = load_attempt(ctx.tenant_id, attempt_id)
    if not can_see_user(ctx, attempt.user_id):
        raise NotFound("No such attempt.")
    return attempt_json(attempt)


def launch_url(tenant_id: str, attempt: Attempt) -> str:
    token = launch.sign("launch", {"t": tenant_id, "a": attempt.id, "u": attempt.user_id})
    return f"/v1/tenants/{tenant_id}/attempts/{attempt.id}/launch?token={token}"


# -- start or resume ------------------------------------------------------------------------------------
def start(ctx: TenantContext, enrollment_id: str) -> tuple[dict[str, Any], bool]:
    """The learner's open attempt (resumed) or a new one on the enrollment's version; (doc, created)."""
    enrollment = load_enrollment(ctx.tenant_id, enrollment_id)
    if enrollment.user_id != ctx.principal.subject:
        if can_see_user(ctx, enrollment.user_id):
            raise Forbidden("Only the learner plays their own course.")
        raise NotFound("No such enrollment.")
    if enrollment.status in ("withdrawn", "expired"):
        raise Conflict(f"The enrollment is {enrollment.status}.")
    _check_prerequisites(ctx.tenant_id, enrollment)
    if enrollment.attempt_id:
        current = load_attempt(ctx.tenant_id, enrollment.attempt_id)
        if current.status == "in_progress":
            return {**attempt_json(current), "launchUrl": launch_url(ctx.tenant_id, current)}, False
    if enrollment.attempt_id is None:
        _start_on_latest(ctx.tenant_id, enrollment)
    attempt = _new_attempt(ctx, enrollment)
    tx = Tx()
    tx.put(attempt, Item.PK.does_not_exist(), "attempt")
    previous = enrollment.attempt_id
    tx.update(enrollment, [Enrollment.attempt_id.set(attempt.id), Enrollment.status.set("in_progress"),
                           Enrollment.version.set(int(enrollment.version)),
                           Enrollment.updated_at.set(attempt.started_at)],
              (Enrollment.attempt_id == previous) if previous else Enrollment.attempt_id.does_not_exist(),
              "enrollment")
    tx.put(event_item(ctx.tenant_id, "AttemptStarted",
                      {"attemptId": attempt.id, "enrollmentId": enrollment.id, "userId": attempt.user_id,
                       "courseId": attempt.course_id, "version": int(attempt.version)},
                      actor=ctx.principal.subject, correlation_id=ctx.correlation_id))
    try:
        tx.commit()
    except TxConflict:
        raise Conflict("Another attempt was started at the same moment; retry to resume it.") from None
    observability.count("AttemptStarted")
    return {**attempt_json(attempt), "launchUrl": launch_url(ctx.tenant_id, attempt)}, True


def _check_prerequisites(tenant_id: str, enrollment: Enrollment) -> None:
    """A course of a learning path starts once the courses it requires are completed."""
    from chalicelib.enrollment.service import existing

    for course_id in enrollment.requires or []:
        try:
            done = existing(tenant_id, enrollment.user_id, course_id).status == "completed"
        except NotFound:
            done = False
        if not done:
            raise Conflict(f"Complete {course_id} first: this course of the learning path requires it.",
                           errors=[field_error("requires", course_id)])


def _start_on_latest(tenant_id: str, enrollment: Enrollment) -> None:
    """A learner who never started takes the version published since they enrolled; from the first attempt
    on the enrollment keeps its version (a learner in progress stays on the content they started)."""
    from chalicelib.catalog.catalog import load_entry

    try:
        latest = load_entry(tenant_id, enrollment.course_id).latest_version
    except NotFound:
        return  # no longer in the catalog: what they enrolled on is still theirs to take
    if latest is not None:
        enrollment.version = int(latest)


def _new_attempt(ctx: TenantContext, enrollment: Enrollment) -> Attempt:
    version = load_version(enrollment.course_owner, enrollment.course_id, int(enrollment.version))
    if version.format not in PLAYABLE:
        raise Conflict(f"{version.format} content launches outside the SCORM player (not yet supported).")
    learner = load_user(ctx.tenant_id, enrollment.user_id)
    now, attempt_id = utcnow_iso(), new_id("at")
    scos = [plain(s) for s in version.scos or []]
    return Attempt(
        PK=keys.attempt_pk(ctx.tenant_id, attempt_id), SK=keys.ATTEMPT_SK, id=attempt_id,
        tenant_id=ctx.tenant_id, user_id=enrollment.user_id, enrollment_id=enrollment.id,
        course_id=enrollment.course_id, course_owner=enrollment.course_owner,
        course_title=version.package_title, version=int(enrollment.version), format=version.format,
        content_prefix=version.content_prefix, scos=scos, choice=bool(version.choice), flow=bool(version.flow),
        runtime={f"s{i}": {"sessions": {}, "learnerName": learner.display_name} for i in range(len(scos))},
        status="in_progress", started_at=now, updated_at=now)


# -- the player page ------------------------------------------------------------------------------------
def _pick(attempt: Attempt, requested: str | None) -> int:
    """The SCO to show: the one asked for where the package's navigation allows it (any with choice; with
    flow only, one whose predecessors are complete), else the first incomplete one."""
    ids = [plain(s)["id"] for s in attempt.scos or []]
    states = sco_states(attempt)
    first_open = next((i for i, state in enumerate(states) if not state.get("completedAt")), 0)
    if requested in ids:
        wanted = ids.index(str(requested))
        if attempt.choice or wanted <= first_open:
            return wanted
    return first_open


def _brand(tenant_id: str) -> dict[str, Any]:
    try:
        tenant = Tenant.get(keys.tenant_pk(tenant_id), keys.TENANT_SK)
    except Model.DoesNotExist:
        raise NotFound("No such attempt.") from None
    if tenant.status != "active":  # a suspended tenant's launch links stop with it
        raise NotFound("No such attempt.")
    from chalicelib.tenancy.branding import effective  # the partner's live kit is on the item: no extra read

    brand = effective(tenant)
    return {"name": brand["displayName"], **brand}


def player_context(tenant_id: str, attempt_id: str, token: str | None, requested: str | None,
                   base_url: str = "") -> dict[str, Any]:
    from chalicelib.content import runtime

    attempt = _launched_attempt(tenant_id, attempt_id, token)
    index = _pick(attempt, requested)
    scos = [plain(s) for s in attempt.scos or []]
    sco, state = scos[index], sco_states(attempt)[index]
    content = launch.sign("content", {"p": attempt.content_prefix, "t": tenant_id, "a": attempt.id})
    commit = launch.sign("commit", {"t": tenant_id, "a": attempt.id, "u": attempt.user_id, "i": index,
                                    "s": new_id("ss"), "std": attempt.format, "m": sco.get("masteryScore"),
                                    "ct": sco.get("completionThreshold")})
    cmi = {} if attempt.format not in runtime.STANDARDS else runtime.resume_cmi(
        attempt.format, state.get("cmi"), learner_id=attempt.user_id,
        learner_name=str(state.get("learnerName") or attempt.user_id), total_seconds=total_seconds(state),
        mastery=sco.get("masteryScore"), completion_threshold=sco.get("completionThreshold"),
        launch_data=sco.get("launchData"))
    base = f"/v1/tenants/{tenant_id}/attempts/{attempt.id}"
    doc = attempt_json(attempt)

    def url(s: dict[str, Any]) -> str:  # a cmi5 AU launches through the cmi5 route, with its parameters
        if attempt.format == "cmi5":
            return f"{base}/cmi5/launch?token={quote(token or '')}&sco={quote(s['id'], safe='')}"
        if attempt.format == "xapi":  # this activity's session credential is issued as the page renders
            if s["id"] != sco["id"]:
                return f"{base}/launch?token={quote(token or '')}&sco={quote(s['id'], safe='')}"
            from chalicelib.content import tincan

            return tincan.launch_url(tenant_id, attempt, index, base_url, f"/play/{content}/{s['launch']}")
        return f"/play/{content}/{s['launch']}"

    return {
        "brand": _brand(tenant_id), "course_title": attempt.course_title,
        "config": {
            "standard": attempt.format, "attemptId": attempt.id, "scoId": sco["id"],
            "scos": [{"id": s["id"], "title": s["title"], "url": url(s), "launchMethod": s.get("launchMethod")}
                     for s in scos],
            "commitUrl": f"{base}/runtime?token={commit}", "launchUrl": f"{base}/launch?token={quote(token or '')}",
            "cmi": cmi, "navigation": {"choice": bool(attempt.choice), "flow": bool(attempt.flow)},
            "exitUrl": None, "assetBase": "/content/player/",
            "status": {"completion": doc["status"], "success": doc["success"], "score": doc["score"]},
        },
    }


def _launched_attempt(tenant_id: str, attempt_id: str, token: str | None) -> Attempt:
    claims = launch.verify("launch", token, t=tenant_id, a=attempt_id)
    attempt = load_attempt(tenant_id, attempt_id)
    if attempt.user_id != claims.get("u"):
        raise NotFound("No such attempt.")
    return attempt


def cmi5_launch_url(tenant_id: str, attempt_id: str, token: str | None, requested: str | None,
                    base_url: str) -> str:
    """Where a cmi5 AU launches: its URL with the cmi5 parameters (LaunchData and "launched" written first)."""
    from chalicelib.content import cmi5

    attempt = _launched_attempt(tenant_id, attempt_id, token)
    if attempt.format != "cmi5" or not launch.tenant_active(tenant_id):
        raise NotFound("No such attempt.")
    index = _pick(attempt, requested)
    sco = plain(attempt.scos[index])
    content = launch.sign("content", {"p": attempt.content_prefix, "t": tenant_id, "a": attempt.id})
    back = f"{base_url}/v1/tenants/{tenant_id}/attempts/{attempt.id}/launch?token={quote(token or '')}"
    return cmi5.launch_redirect(tenant_id, attempt, index, base_url, f"{base_url}/play/{content}/{sco['launch']}",
                                return_url=back)


def fold_au_statements(tenant_id: str, credential_key: str, docs: list[dict[str, Any]]) -> None:
    """Statements a cmi5 AU or an xAPI activity stored through its session's credential advance its attempt
    (cmi5: 9.3 and moveOn; xAPI packages: completed/passed/failed about the launched activity)."""
    from types import SimpleNamespace

    from chalicelib.content import cmi5, tincan

    session = cmi5.session_for(tenant_id, credential_key)
    if session is None:
        return
    attempt = load_attempt(tenant_id, session.attempt_id)
    au, item = plain(attempt.scos[session.sco_index]), None
    for doc in docs:
        if attempt.format == "cmi5":
            completion, success, scaled = cmi5.outcome(doc, au, activity_id=session.activity_id,
                                                       registration=session.registration)
        else:
            completion, success, scaled = tincan.outcome(doc, session.activity_id, session.registration)
        if completion or success:
            item = _apply(tenant_id, attempt.id, attempt.user_id, session.sco_index, session.session_id,
                          SimpleNamespace(cmi=None, completion=completion, success=success,
                                          score=None if scaled is None else {"scaled": scaled}, location=None,
                                          suspend_data=None, exit=None, interactions=None, session_seconds=None))
    if item is not None:
        attempt = Attempt.from_raw_data(item)
        status = _rollup(attempt)
        if status is not None:
            _finish(attempt, *status)
            if attempt.format == "cmi5":
                cmi5.record_satisfied(tenant_id, attempt, session.session_id)  # a no-op if already stored


def render_player(context: dict[str, Any]) -> str:
    from chalicelib.pages import render

    return render("player.html", **context)


# -- runtime commits ------------------------------------------------------------------------------------
def commit(tenant_id: str, attempt_id: str, token: str | None, body: bytes) -> dict[str, Any]:
    from chalicelib.content import runtime

    claims = launch.verify("commit", token, t=tenant_id, a=attempt_id)
    parsed = runtime.parse_commit(str(claims["std"]), body, claims.get("m"),
                                  completion_threshold=claims.get("ct"))
    item = _apply(tenant_id, attempt_id, str(claims["u"]), int(claims["i"]), str(claims["s"]), parsed)
    attempt = Attempt.from_raw_data(item)
    rolled = _rollup(attempt)
    if rolled is not None:
        _finish(attempt, *rolled)  # a concurrent commit that finished it first finished it the same way
        status, success, score = rolled
    else:
        status, success, score = attempt.status, attempt.success, attempt.score
    return {"result": True, "errorCode": 0, "attempt": {
        "completion": status, "success": success, "score": None if score is None else float(score)}}


def _apply(tenant_id: str, attempt_id: str, user_id: str, index: int, session: str, c: Any) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    now = utcnow_iso()
    names = {"#rt": "runtime", "#s": f"s{index}", "#u": "user_id"}
    values: dict[str, Any] = {":now": now, ":user": user_id}
    sets = ["updated_at = :now"]
    fields = {"cmi": c.cmi, "completion": c.completion, "success": c.success, "score": c.score,
              "location": c.location, "suspendData": c.suspend_data, "exit": c.exit,
              "interactions": c.interactions or None}
    for name, value in fields.items():
        if value is not None:
            names[f"#{name}"] = name
            values[f":{name}"] = value
            sets.append(f"#rt.#s.#{name} = :{name}")
    if c.session_seconds is not None:
        names.update({"#sessions": "sessions", "#sid": session})
        values[":secs"] = c.session_seconds
        sets.append("#rt.#s.#sessions.#sid = :secs")
    for flag, when in (("completedAt", c.completion == "completed"), ("passedAt", c.success == "passed")):
        if when:
            names[f"#{flag}"] = flag
            sets.append(f"#rt.#s.#{flag} = if_not_exists(#rt.#s.#{flag}, :now)")
    serializer = TypeSerializer()
    try:
        result = aws.dynamodb().update_item(
            TableName=settings().table_name,
            Key={"PK": {"S": keys.attempt_pk(tenant_id, attempt_id)}, "SK": {"S": keys.ATTEMPT_SK}},
            UpdateExpression="SET " + ", ".join(sets), ConditionExpression="#u = :user",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={k: serializer.serialize(_decimal(v)) for k, v in values.items()},
            ReturnValues="ALL_NEW")
    except aws.dynamodb().exceptions.ConditionalCheckFailedException:
        raise NotFound("No such attempt.") from None
    return dict(result["Attributes"])


def _decimal(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _decimal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimal(v) for v in value]
    return value


def _percent(score: dict[str, Any] | None) -> float | None:
    if not score:
        return None
    if score.get("scaled") is not None:
        return round(float(score["scaled"]) * 100, 2)
    raw, low, high = score.get("raw"), score.get("min"), score.get("max")
    if raw is None:
        return None
    if high is not None and float(high) > float(low or 0):
        return round((float(raw) - float(low or 0)) / (float(high) - float(low or 0)) * 100, 2)
    return float(raw)


def _rollup(attempt: Attempt) -> tuple[str, str | None, float | None] | None:
    """(status, success, score) once every SCO is complete, if that changes the attempt's status."""
    if attempt.format == "cmi5":
        return _rollup_cmi5(attempt)
    scos = [plain(s) for s in attempt.scos or []]
    states = [s for sco, s in zip(scos, sco_states(attempt), strict=True) if sco.get("type") != "asset"] or \
        sco_states(attempt)
    if not all(s.get("completedAt") or s.get("passedAt") for s in states):
        return None
    failed = any(s.get("success") == "failed" and not s.get("passedAt") for s in states)
    judged = [s for s in states if s.get("passedAt") or s.get("success") == "failed"]
    success = "failed" if failed else ("passed" if judged else None)
    scores = [p for p in (_percent(s.get("score")) for s in states) if p is not None]
    score = round(sum(scores) / len(scores), 2) if scores else None
    status = "failed" if failed else "completed"
    if attempt.status == status or attempt.status == "completed":
        return None
    return status, success, score


def _rollup_cmi5(attempt: Attempt) -> tuple[str, str | None, float | None] | None:
    """cmi5 is judged by each AU's moveOn; a failed AU may be retaken, so it never fails the attempt."""
    from chalicelib.content import cmi5

    if attempt.status == "completed" or not cmi5.course_satisfied(attempt):
        return None
    states = sco_states(attempt)
    scores = [p for p in (_percent(s.get("score")) for s in states) if p is not None]
    return ("completed", "passed" if any(s.get("passedAt") for s in states) else None,
            round(sum(scores) / len(scores), 2) if scores else None)


def _finish(attempt: Attempt, status: str, success: str | None, score: float | None) -> None:
    now = utcnow_iso()
    duration = sum(total_seconds(s) for s in sco_states(attempt))
    actions: list[Any] = [Attempt.status.set(status), Attempt.updated_at.set(now)]
    actions.append(Attempt.success.set(success) if success else Attempt.success.remove())
    if score is not None:
        actions.append(Attempt.score.set(score))
    if status == "completed":
        actions.append(Attempt.completed_at.set(now))
    tx = Tx()
    tx.update(attempt, actions, Attempt.status == attempt.status, "attempt")
    enrollment = Enrollment(PK=keys.enrollment_pk(attempt.tenant_id, attempt.enrollment_id), SK=keys.ENROLLMENT_SK)
    e_actions: list[Any] = [Enrollment.status.set(status), Enrollment.updated_at.set(now)]
    if score is not None:
        e_actions.append(Enrollment.score.set(score))
    if status == "completed":
        e_actions.append(Enrollment.completed_at.set(now))
    tx.update(enrollment, e_actions, Enrollment.attempt_id == attempt.id, "enrollment")
    tx.put(event_item(attempt.tenant_id, "CourseCompleted" if status == "completed" else "CourseFailed",
                      {"userId": attempt.user_id, "courseId": attempt.course_id, "courseOwner": attempt.course_owner,
                       "courseTitle": attempt.course_title, "version": int(attempt.version),
                       "enrollmentId": attempt.enrollment_id, "attemptId": attempt.id, "score": score,
                       "success": success, "durationSeconds": duration, "at": now},
                      actor=attempt.user_id))
    try:
        tx.commit()
    except TxConflict:
        return  # a concurrent commit finished it first
    observability.count("CourseCompleted" if status == "completed" else "CourseFailed")
