"""Learning routes: enrollments, attempts, the player page and its runtime commits."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.http.routing import Call, Reply, route
from chalicelib.lazy import lazy

bp = Blueprint(__name__)
enrollment = lazy("chalicelib.enrollment.service")
attempts = lazy("chalicelib.content.attempts")
cmi5 = lazy("chalicelib.content.cmi5")
rules = lazy("chalicelib.enrollment.rules")
TAG, PLAYER_TAG, RULES_TAG = "Enrollments", "Player", "Enrollment rules"
T = "/v1/tenants/{tenantId}"
RUNTIME_TYPES = ("application/json", "text/plain")  # a sendBeacon commit is text/plain
NO_STORE = {"Cache-Control": "no-store"}


@route(bp, "POST", T + "/enrollments",
       summary="Enroll a user in a course or a learning path (again: the existing enrollments, 200)",
       tag=TAG, scope="enrollments:write", body="CreateEnrollment", status=201, responses=(400, 403))
def create_enrollment(call: Call) -> Any:
    doc, created = enrollment.enroll(call.ctx, call.body)
    where = {"Location": f"/v1/tenants/{call.params['tenantId']}/enrollments/{doc['id']}"} if "id" in doc else {}
    return Reply(doc, 201 if created else 200, where)


@route(bp, "GET", T + "/enrollments", summary="Enrollments in a course (admins) or of a user (`courseId` or `userId`)",
       tag=TAG, scope="enrollments:read", query="EnrollmentListQuery", responses=(400, 403))
def list_enrollments(call: Call) -> Any:
    return enrollment.list_enrollments(call.ctx, call.query)


@route(bp, "GET", T + "/enrollments/{enrollmentId}", summary="Get an enrollment", tag=TAG,
       scope="enrollments:read")
def get_enrollment(call: Call) -> Any:
    return enrollment.get_enrollment(call.ctx, call.params["enrollmentId"])


@route(bp, "DELETE", T + "/enrollments/{enrollmentId}",
       summary="Withdraw an enrollment (admins; managers for their reports)", tag=TAG, scope="enrollments:write",
       status=204, responses=(403, 409))
def withdraw_enrollment(call: Call) -> Any:
    enrollment.withdraw(call.ctx, call.params["enrollmentId"])
    return Reply("", 204)


@route(bp, "GET", T + "/users/{userId}/enrollments", summary="A user's enrollments", tag=TAG,
       scope="enrollments:read", query="PageQuery")
def list_user_enrollments(call: Call) -> Any:
    return enrollment.list_user_enrollments(call.ctx, call.params["userId"], call.query)


@route(bp, "GET", T + "/me/enrollments", summary="The caller's enrollments", tag=TAG, scope="enrollments:read",
       query="PageQuery")
def list_my_enrollments(call: Call) -> Any:
    return enrollment.list_user_enrollments(call.ctx, call.subject, call.query)


@route(bp, "POST", T + "/enrollments/{enrollmentId}/attempts",
       summary="Start (or resume) the learner's attempt: returns its launchUrl", tag=PLAYER_TAG,
       scope="learning:play", status=201, responses=(403, 409))
def start_attempt(call: Call) -> Any:
    doc, created = attempts.start(call.ctx, call.params["enrollmentId"])
    return Reply(doc, 201 if created else 200)


@route(bp, "GET", T + "/attempts/{attemptId}", summary="An attempt: status, score, version, each SCO's state",
       tag=PLAYER_TAG, scope="enrollments:read")
def get_attempt(call: Call) -> Any:
    return attempts.get_attempt(call.ctx, call.params["attemptId"])


@route(bp, "GET", T + "/attempts/{attemptId}/launch",
       summary="The player page (authorised by the launch token in the URL)", tag=PLAYER_TAG, public=True,
       produces="text/html", responses=(401, 404))
def launch_attempt(call: Call) -> Any:
    query = call.request.query_params or {}
    context = attempts.player_context(call.params["tenantId"], call.params["attemptId"], query.get("token"),
                                      query.get("sco"), base_url(call.request))
    return Reply(attempts.render_player(context), 200,
                 {"Content-Type": "text/html; charset=utf-8", **NO_STORE, "Referrer-Policy": "same-origin"})


def _commit(call: Call) -> Any:
    query = call.request.query_params or {}
    return Reply(attempts.commit(call.params["tenantId"], call.params["attemptId"], query.get("token"),
                                 call.request.raw_body or b""), 200, NO_STORE)


@route(bp, "PUT", T + "/attempts/{attemptId}/runtime",
       summary="A SCORM runtime commit, as JSON (same as POST; authorised by the token in the URL)",
       tag=PLAYER_TAG, public=True, content_types=RUNTIME_TYPES, responses=(400, 401, 404))
def put_runtime(call: Call) -> Any:
    return _commit(call)


@route(bp, "POST", T + "/attempts/{attemptId}/runtime",
       summary="A SCORM runtime commit: the player's JSON POSTs and the text/plain beacon on terminate",
       tag=PLAYER_TAG,
       public=True, idempotent=False, content_types=RUNTIME_TYPES, responses=(400, 401, 404))
def post_runtime(call: Call) -> Any:
    return _commit(call)


def base_url(request: Any) -> str:
    """The API's public base URL: ONRAMP_PUBLIC_URL, else the scheme and host the request came to."""
    from chalicelib.config import settings

    if settings().public_url:
        return str(settings().public_url)
    headers = request.headers or {}
    return f"{headers.get('x-forwarded-proto', 'http')}://{headers.get('host', '127.0.0.1')}"


@route(bp, "GET", T + "/attempts/{attemptId}/cmi5/launch",
       summary="cmi5: launch an AU with the cmi5 launch parameters (302; launch token in the URL)", tag=PLAYER_TAG,
       public=True, produces="text/html", responses=(302, 401, 404))
def cmi5_launch(call: Call) -> Any:
    query = call.request.query_params or {}
    url = attempts.cmi5_launch_url(call.params["tenantId"], call.params["attemptId"], query.get("token"),
                                   query.get("sco"), base_url(call.request))
    return Reply("", 302, {"Location": url, **NO_STORE, "Referrer-Policy": "no-referrer"})


@route(bp, "POST", T + "/attempts/{attemptId}/cmi5/fetch",
       summary="cmi5: the AU's LRS auth-token, once (fetch token in the URL; errors as cmi5 error codes)",
       tag=PLAYER_TAG, public=True, idempotent=False, content_types=("application/json", "text/plain",
                                                                      "application/x-www-form-urlencoded"))
def cmi5_fetch(call: Call) -> Any:
    query = call.request.query_params or {}
    return Reply(cmi5.fetch_token(call.params["tenantId"], call.params["attemptId"], query.get("token")), 200,
                 NO_STORE)


@route(bp, "POST", T + "/enrollment-rules", summary="Create an automatic enrollment rule (starts its back-fill)",
       tag=RULES_TAG, scope="enrollments:write", body="CreateEnrollmentRule", status=201, responses=(400, 403))
def create_rule(call: Call) -> Any:
    rule = rules.create_rule(call.ctx, call.body)
    return Reply(rule, 201, {"Location": f"/v1/tenants/{call.params['tenantId']}/enrollment-rules/{rule['id']}"})


@route(bp, "GET", T + "/enrollment-rules", summary="The tenant's enrollment rules", tag=RULES_TAG,
       scope="enrollments:read", responses=(403,))
def list_rules(call: Call) -> Any:
    return rules.list_rules(call.ctx)


@route(bp, "GET", T + "/enrollment-rules/{ruleId}", summary="An enrollment rule and its back-fill's progress",
       tag=RULES_TAG, scope="enrollments:read", responses=(403,))
def get_rule(call: Call) -> Any:
    return rules.get_rule(call.ctx, call.params["ruleId"])


@route(bp, "PATCH", T + "/enrollment-rules/{ruleId}",
       summary="Change an enrollment rule (new conditions or target: a new back-fill)", tag=RULES_TAG,
       scope="enrollments:write", body="UpdateEnrollmentRule", responses=(400, 403, 409))
def update_rule(call: Call) -> Any:
    return rules.update_rule(call.ctx, call.params["ruleId"], call.body)


@route(bp, "DELETE", T + "/enrollment-rules/{ruleId}", summary="Delete an enrollment rule (its enrollments stay)",
       tag=RULES_TAG, scope="enrollments:write", status=204, responses=(403,))
def delete_rule(call: Call) -> Any:
    rules.delete_rule(call.ctx, call.params["ruleId"])
    return Reply("", 204)
