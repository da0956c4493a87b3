"""A certificate's PDF: a 302 to a short-lived presigned URL of the stored file (or the URL as JSON)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.learning import base_url
from chalicelib.http.routing import Call, Reply, route
from chalicelib.lazy import lazy

bp = Blueprint(__name__)
downloads = lazy("chalicelib.certification.downloads")
TAG = "Certifications"
NO_STORE = {"Cache-Control": "no-store"}  # the URL expires in minutes


@route(bp, "GET", "/v1/tenants/{tenantId}/certificates/{certificateId}/pdf",
       summary="The certificate as a branded PDF (learner, manager, admins): 302 to a presigned URL; "
               "`?redirect=false` answers {url, expiresIn}", tag=TAG, scope="certifications:read",
       query="CertificatePdfQuery", responses=(302, 400, 403, 404))
def certificate_pdf(call: Call) -> Any:
    url = downloads.pdf_url(call.ctx, call.params["certificateId"], base_url(call.request))
    if not call.query.redirect:
        return Reply({"url": url, "expiresIn": downloads.URL_SECONDS}, 200, NO_STORE)
    return Reply("", 302, {"Location": url, **NO_STORE})
