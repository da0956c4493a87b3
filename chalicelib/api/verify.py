"""Public certificate verification: JSON for machines, a small branded HTML page for people (the PDF's QR code)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.http.routing import Call, Reply, route
from chalicelib.lazy import lazy

bp = Blueprint(__name__)
verify = lazy("chalicelib.certification.verify")
TAG = "Certifications"
# A revocation reaches shared caches within a minute; no name or status is kept longer. Never indexed.
PUBLIC = (("Cache-Control", "public, max-age=60"), ("X-Robots-Tag", "noindex"), ("Referrer-Policy", "no-referrer"))
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")


@route(bp, "GET", "/v1/verify/{certificateId}",
       summary="Verify a certificate: valid, expired or revoked, with its public fields only", tag=TAG, public=True,
       headers=PUBLIC, responses=(404,))
def verify_certificate(call: Call) -> Any:
    result, _ = verify.lookup(call.params["certificateId"])
    return result


@route(bp, "GET", "/verify/{certificateId}", summary="The certificate verification page (HTML, the issuer's brand)",
       tag=TAG, public=True, produces="text/html", headers=PUBLIC, responses=(404,))
def verify_page(call: Call) -> Any:
    status, html = verify.page(call.params["certificateId"])
    return Reply(html, status, {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": CSP,
                                "X-Content-Type-Options": "nosniff"})
