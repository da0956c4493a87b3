"""Certification routes: programs, a user's certificates, one certificate, revocation, exports."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.errors import Forbidden
from chalicelib.http.routing import Call, Reply, route
from chalicelib.lazy import lazy

bp = Blueprint(__name__)
programs = lazy("chalicelib.certification.programs")
certificates = lazy("chalicelib.certification.certificates")
exports = lazy("chalicelib.certification.exports")
export_job = lazy("chalicelib.certification.export_job")
TAG, CERT_TAG = "Certifications", "Certificates"
T = "/v1/tenants/{tenantId}"
PROGRAMS = T + "/certifications"


@route(bp, "POST", PROGRAMS, summary="Create a certification program (admins)", tag=TAG,
       scope="certifications:write", body="CreateCertification", status=201, responses=(400, 403))
def create_certification(call: Call) -> Any:
    doc = programs.create_program(call.ctx, call.body)
    return Reply(doc, 201, {"Location": f"/v1/tenants/{call.params['tenantId']}/certifications/{doc['id']}"})


@route(bp, "GET", PROGRAMS, summary="List certification programs (admins, managers)", tag=TAG,
       scope="certifications:read", query="PageQuery", responses=(403,))
def list_certifications(call: Call) -> Any:
    return programs.list_programs(call.ctx, call.query)


@route(bp, "GET", PROGRAMS + "/{certificationId}", summary="Get a certification program with its counts by status",
       tag=TAG, scope="certifications:read", responses=(403,))
def get_certification(call: Call) -> Any:
    return programs.get_program(call.ctx, call.params["certificationId"])


@route(bp, "PATCH", PROGRAMS + "/{certificationId}", summary="Change a certification program (JSON merge patch)",
       tag=TAG, scope="certifications:write", body="UpdateCertification", responses=(400, 403, 409))
def update_certification(call: Call) -> Any:
    return programs.update_program(call.ctx, call.params["certificationId"], call.body)


# -- the operator's shared programs: apply in every tenant whose catalog has all their courses -----------
LIB = "/v1/library/certifications"
LIB_TAG = "Shared library"


def _operator(call: Call) -> None:
    if call.principal is None or not call.principal.is_operator:
        raise Forbidden("Only the operator manages shared certification programs.")


@route(bp, "POST", LIB, summary="Create a shared certification program (shared-library courses only)", tag=LIB_TAG,
       scope="certifications:write", body="CreateCertification", status=201, responses=(400, 403))
def create_library_certification(call: Call) -> Any:
    _operator(call)
    doc = programs.create_library_program(call.body, call.subject, call.correlation_id)
    return Reply(doc, 201, {"Location": f"{LIB}/{doc['id']}"})


@route(bp, "GET", LIB, summary="List shared certification programs", tag=LIB_TAG, scope="certifications:read",
       query="PageQuery", responses=(403,))
def list_library_certifications(call: Call) -> Any:
    _operator(call)
    return programs.list_library_programs(call.query)


@route(bp, "GET", LIB + "/{certificationId}", summary="Get a shared certification program", tag=LIB_TAG,
       scope="certifications:read", responses=(403,))
def get_library_certification(call: Call) -> Any:
    _operator(call)
    return programs.get_library_program(call.params["certificationId"])


@route(bp, "PATCH", LIB + "/{certificationId}", summary="Change a shared certification program (JSON merge patch)",
       tag=LIB_TAG, scope="certifications:write", body="UpdateCertification", responses=(400, 403, 409))
def update_library_certification(call: Call) -> Any:
    _operator(call)
    return programs.update_library_program(call.params["certificationId"], call.body)


@route(bp, "GET", T + "/users/{userId}/certificates", summary="A user's certificates (the user, their manager, admins)",
       tag=CERT_TAG, scope="certifications:read", query="PageQuery")
def list_user_certificates(call: Call) -> Any:
    return certificates.list_user_certificates(call.ctx, call.params["userId"], call.query)


@route(bp, "GET", T + "/certificates/export", summary="Export certificates as CSV or JSON (admins; managers: reports)",
       tag=CERT_TAG, scope="certifications:read", query="CertificateExportQuery", produces="text/csv",
       responses=(202, 302, 400, 403))
def export_certificates(call: Call) -> Any:
    body, url, started = exports.export(call.ctx, call.query.format, call.query.certificationId,
                                        call.query.async_)
    if started is not None:
        location = f"/v1/tenants/{call.params['tenantId']}/certificates/exports/{started['id']}"
        return Reply(started, 202, {"Location": location})
    if url is not None:
        return Reply({"url": url}, 302, {"Location": url})
    if call.query.format == "csv":
        return Reply(body, 200, {"Content-Type": "text/csv; charset=utf-8"}, text=True)
    return Reply(body, 200)


@route(bp, "GET", T + "/certificates/exports/{exportId}",
       summary="A background certificate export: status, rows and, when completed, a presigned URL",
       tag=CERT_TAG, scope="certifications:read")
def certificate_export_status(call: Call) -> Any:
    return export_job.status(call.ctx, call.params["exportId"])


@route(bp, "GET", T + "/certificates/{certificateId}", summary="Get a certificate", tag=CERT_TAG,
       scope="certifications:read")
def get_certificate(call: Call) -> Any:
    return certificates.get_certificate(call.ctx, call.params["certificateId"])


@route(bp, "POST", T + "/certificates/{certificateId}/revoke", summary="Revoke a certificate (admins)",
       tag=CERT_TAG, scope="certifications:write", body="RevokeCertificate", responses=(400, 403, 409))
def revoke_certificate(call: Call) -> Any:
    return certificates.revoke(call.ctx, call.params["certificateId"], call.body.reason)
