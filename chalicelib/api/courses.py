"""Course routes: a tenant's catalog and courses, the operator's shared library, versions, uploads, grants."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.errors import Forbidden
from chalicelib.http.routing import Call, Reply, route
from chalicelib.lazy import lazy

bp = Blueprint(__name__)
courses = lazy("chalicelib.catalog.courses")
catalog = lazy("chalicelib.catalog.catalog")
ingest = lazy("chalicelib.content.ingest")
paths = lazy("chalicelib.catalog.paths")
TAG, LIB_TAG = "Courses", "Shared library"
T = "/v1/tenants/{tenantId}"
LIB = "/v1/library/courses"


def _admin(call: Call) -> str:
    """The tenant that owns what this call creates or changes (tenant admins only)."""
    if call.ctx is None or not call.ctx.acts_as_admin:
        raise Forbidden("Only admins manage courses.")
    return call.ctx.tenant_id


def _operator(call: Call) -> str:
    if call.principal is None or not call.principal.is_operator:
        raise Forbidden("Only the operator manages the shared library.")
    return str(courses.LIBRARY)


def _version(call: Call) -> int:
    from chalicelib.errors import NotFound

    raw = call.params["number"]
    if not raw.isdigit() or not 0 < int(raw) < 1_000_000:
        raise NotFound("No such version of this course.")
    return int(raw)


# -- a tenant's catalog and courses ---------------------------------------------------------------------
@route(bp, "GET", T + "/catalog", summary="The tenant's catalog: own, shared-library and partner courses",
       tag=TAG, scope="courses:read", query="PageQuery")
def list_catalog(call: Call) -> Any:
    return catalog.list_catalog(call.ctx, call.query)


@route(bp, "POST", T + "/courses", summary="Create a course in the tenant's private library", tag=TAG,
       scope="courses:write", body="CreateCourse", status=201, responses=(400, 403))
def create_course(call: Call) -> Any:
    course = courses.create_course(_admin(call), call.subject, call.body, call.correlation_id)
    return Reply(course, 201, {"Location": f"/v1/tenants/{call.params['tenantId']}/courses/{course['id']}"})


@route(bp, "GET", T + "/courses", summary="List the tenant's own courses", tag=TAG, scope="courses:read",
       query="PageQuery", responses=(403,))
def list_courses(call: Call) -> Any:
    return courses.list_courses(_admin(call), call.query)


@route(bp, "GET", T + "/courses/{courseId}", summary="A course as this tenant sees it (with its overlay)",
       tag=TAG, scope="courses:read")
def get_course(call: Call) -> Any:
    return catalog.get_catalog_course(call.ctx, call.params["courseId"])


@route(bp, "PATCH", T + "/courses/{courseId}",
       summary="Change an own course, or customise a shared one (an overlay that survives new versions)",
       tag=TAG, scope="courses:write", body="UpdateCourse", responses=(400, 403, 409))
def update_course(call: Call) -> Any:
    return catalog.customise(call.ctx, call.params["courseId"], call.body)


@route(bp, "GET", T + "/courses/{courseId}/versions", summary="List an own course's versions", tag=TAG,
       scope="courses:read", query="PageQuery", responses=(403,))
def list_versions(call: Call) -> Any:
    return courses.list_versions(_admin(call), call.params["courseId"], call.query)


@route(bp, "GET", T + "/courses/{courseId}/versions/{number}", summary="Get a version of an own course",
       tag=TAG, scope="courses:read", responses=(403,))
def get_version(call: Call) -> Any:
    return courses.get_version(_admin(call), call.params["courseId"], _version(call))


@route(bp, "POST", T + "/courses/{courseId}/versions/{number}/publish",
       summary="Publish a draft version (new enrollments start on it; the previous one retires)", tag=TAG,
       scope="courses:write", responses=(403, 409))
def publish_version(call: Call) -> Any:
    return courses.publish_version(_admin(call), call.params["courseId"], _version(call),
                                   call.subject, call.correlation_id)


@route(bp, "POST", T + "/courses/{courseId}/versions/{number}/retire", summary="Retire a version", tag=TAG,
       scope="courses:write", responses=(403, 409))
def retire_version(call: Call) -> Any:
    return courses.retire_version(_admin(call), call.params["courseId"], _version(call),
                                  call.subject, call.correlation_id)


@route(bp, "POST", T + "/courses/{courseId}/uploads",
       summary="Start a package upload: a presigned POST for the zip (SCORM 1.2/2004, cmi5, xAPI)", tag=TAG,
       scope="courses:write", body="CreateUpload", status=201, responses=(400, 403))
def create_upload(call: Call) -> Any:
    return Reply(ingest.create_upload(_admin(call), call.params["courseId"], call.subject, call.body), 201)


@route(bp, "GET", T + "/courses/{courseId}/uploads/{uploadId}",
       summary="An upload's status: pending, ingested (with its version) or rejected (with the problem)",
       tag=TAG, scope="courses:read", responses=(403,))
def get_upload(call: Call) -> Any:
    return ingest.get_upload(_admin(call), call.params["courseId"], call.params["uploadId"])


# -- learning paths -------------------------------------------------------------------------------------
@route(bp, "POST", T + "/paths", summary="Create a learning path: ordered catalog courses with prerequisites",
       tag=TAG, scope="courses:write", body="CreatePath", status=201, responses=(400, 403))
def create_path(call: Call) -> Any:
    path = paths.create_path(call.ctx, call.body)
    return Reply(path, 201, {"Location": f"/v1/tenants/{call.params['tenantId']}/paths/{path['id']}"})


@route(bp, "GET", T + "/paths", summary="List the tenant's learning paths", tag=TAG, scope="courses:read",
       query="PageQuery")
def list_paths(call: Call) -> Any:
    return paths.list_paths(call.ctx, call.query)


@route(bp, "GET", T + "/paths/{pathId}", summary="Get a learning path", tag=TAG, scope="courses:read")
def get_path(call: Call) -> Any:
    return paths.get_path(call.ctx, call.params["pathId"])


@route(bp, "PATCH", T + "/paths/{pathId}", summary="Change a learning path's title or description", tag=TAG,
       scope="courses:write", body="UpdatePath", responses=(400, 403))
def update_path(call: Call) -> Any:
    return paths.update_path(call.ctx, call.params["pathId"], call.body)


@route(bp, "GET", T + "/users/{userId}/paths/{pathId}/progress",
       summary="A learner's progress on a path: each course's status, locked until its prerequisites are done",
       tag=TAG, scope="enrollments:read")
def path_progress(call: Call) -> Any:
    return paths.progress(call.ctx, call.params["userId"], call.params["pathId"])


# -- the operator's shared library ----------------------------------------------------------------------
@route(bp, "POST", LIB, summary="Create a shared-library course", tag=LIB_TAG, scope="courses:write",
       body="CreateCourse", status=201, responses=(400, 403, 409))
def create_library_course(call: Call) -> Any:
    course = courses.create_course(_operator(call), call.subject, call.body, call.correlation_id)
    return Reply(course, 201, {"Location": f"{LIB}/{course['id']}"})


@route(bp, "GET", LIB, summary="List shared-library courses", tag=LIB_TAG, scope="courses:read",
       query="PageQuery", responses=(403,))
def list_library_courses(call: Call) -> Any:
    return courses.list_courses(_operator(call), call.query)


@route(bp, "GET", LIB + "/{courseId}", summary="Get a shared-library course", tag=LIB_TAG, scope="courses:read",
       responses=(403,))
def get_library_course(call: Call) -> Any:
    return courses.get_course(_operator(call), call.params["courseId"])


@route(bp, "PATCH", LIB + "/{courseId}", summary="Change a shared-library course (tenants see it change)",
       tag=LIB_TAG, scope="courses:write", body="UpdateCourse", responses=(400, 403, 409))
def update_library_course(call: Call) -> Any:
    return courses.update_course(_operator(call), call.params["courseId"], call.body, call.subject,
                                 call.correlation_id)


@route(bp, "GET", LIB + "/{courseId}/versions", summary="List a shared-library course's versions", tag=LIB_TAG,
       scope="courses:read", query="PageQuery", responses=(403,))
def list_library_versions(call: Call) -> Any:
    return courses.list_versions(_operator(call), call.params["courseId"], call.query)


@route(bp, "POST", LIB + "/{courseId}/versions/{number}/publish", summary="Publish a shared-library version",
       tag=LIB_TAG, scope="courses:write", responses=(403, 409))
def publish_library_version(call: Call) -> Any:
    return courses.publish_version(_operator(call), call.params["courseId"], _version(call),
                                   call.subject, call.correlation_id)


@route(bp, "POST", LIB + "/{courseId}/uploads", summary="Start a shared-library package upload", tag=LIB_TAG,
       scope="courses:write", body="CreateUpload", status=201, responses=(400, 403))
def create_library_upload(call: Call) -> Any:
    return Reply(ingest.create_upload(_operator(call), call.params["courseId"], call.subject,
                                      call.body), 201)


@route(bp, "GET", LIB + "/{courseId}/uploads/{uploadId}", summary="A shared-library upload's status",
       tag=LIB_TAG, scope="courses:read", responses=(403,))
def get_library_upload(call: Call) -> Any:
    return ingest.get_upload(_operator(call), call.params["courseId"], call.params["uploadId"])


@route(bp, "POST", LIB + "/{courseId}/grants",
       summary="Entitle a tenant (or a partner and its customers) to a shared-library course", tag=LIB_TAG,
       scope="courses:write", body="GrantCourse", status=201, responses=(400, 403))
def grant_library_course(call: Call) -> Any:
    _operator(call)
    return Reply(catalog.grant(call.params["courseId"], call.body, call.subject, call.correlation_id), 201)


@route(bp, "POST", "/v1/library/packages/{package}/grants",
       summary="Entitle a tenant (or a partner and its customers) to a named content package: its courses now "
               "and later", tag=LIB_TAG, scope="courses:write", body="GrantCourse", status=201, responses=(400, 403))
def grant_package(call: Call) -> Any:
    _operator(call)
    return Reply(catalog.grant_package(_package(call), call.body, call.subject, call.correlation_id), 201)


@route(bp, "GET", "/v1/library/packages/{package}", summary="A content package: its courses and grants",
       tag=LIB_TAG, scope="courses:read", responses=(403,))
def get_package(call: Call) -> Any:
    _operator(call)
    return catalog.get_package(_package(call))


def _package(call: Call) -> str:
    import re

    from chalicelib.errors import NotFound

    name = call.params["package"]
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])", name):
        raise NotFound("No such content package.")
    return name
