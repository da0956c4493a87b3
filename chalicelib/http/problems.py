"""RFC 9457 problem details: typed errors and Chalice's own error responses become one shape."""

from __future__ import annotations

import json
from typing import Any

from chalice import Response

from chalicelib.errors import OnrampError

PROBLEM_TYPE = "application/problem+json"
_TITLES = {400: "Bad request", 401: "Authentication required", 403: "Not allowed", 404: "Not found",
           405: "Method not allowed", 409: "Conflict", 413: "Request body too large",
           414: "URI too long", 415: "Unsupported media type", 422: "Unprocessable request",
           429: "Too many requests", 431: "Request header fields too large", 500: "Internal server error",
           502: "Bad gateway", 503: "Service unavailable", 505: "HTTP version not supported"}
_CODES = {400: "bad-request", 401: "unauthenticated", 403: "forbidden", 404: "not-found",
          405: "method-not-allowed", 409: "conflict", 413: "payload-too-large",
          414: "uri-too-long", 415: "unsupported-media-type", 422: "unprocessable", 429: "too-many-requests",
          431: "header-fields-too-large", 500: "internal-error", 502: "bad-gateway", 503: "unavailable",
          505: "http-version-not-supported"}


def type_uri(code: str) -> str:
    return f"/problems/{code}"


def body(status: int, code: str, title: str, detail: str, instance: str | None = None,
         errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": type_uri(code), "title": title, "status": status, "detail": detail}
    if instance:
        doc["instance"] = instance
    if errors:
        doc["errors"] = errors
    return doc


def for_status(status: int, detail: str, instance: str | None = None) -> dict[str, Any]:
    """A problem for a bare HTTP status (Chalice's own errors, the local server's)."""
    return body(status, _CODES.get(status, "error"), _TITLES.get(status, "Error"), detail, instance)


def from_error(err: OnrampError, instance: str | None = None) -> Response:
    doc = body(err.status, err.code, err.title, err.detail, instance, err.errors)
    return Response(body=doc, status_code=err.status,
                    headers={"Content-Type": PROBLEM_TYPE, **err.headers})


def normalise(response: Response, instance: str | None) -> Response:
    """Turn Chalice's own `{"Code", "Message"}` error bodies (400/405/415/500…) into problem+json."""
    if response.status_code < 400:
        return response
    headers = dict(response.headers or {})
    if str(headers.get("Content-Type", "")).startswith(PROBLEM_TYPE):
        return response
    raw = response.body
    if isinstance(raw, (str, bytes)):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = {"Message": raw if isinstance(raw, str) else ""}
    if isinstance(raw, dict) and not ({"Code", "Message", "message"} & raw.keys()):
        return response  # a body of our own on purpose (e.g. RFC 6749 OAuth errors)
    message = str(raw.get("Message") or raw.get("message") or "") if isinstance(raw, dict) else ""
    status = response.status_code
    if status >= 500:
        message = "An internal error occurred; it has been logged with this request's correlation id."
    headers["Content-Type"] = PROBLEM_TYPE
    doc = for_status(status, message, instance)
    return Response(body=doc, status_code=status, headers=headers)
