"""The alternate request syntax (xAPI 1.0.3 Communication 1.3), read once at the xAPI edge.

`POST <resource>?method=PUT` with an `application/x-www-form-urlencoded` body whose fields carry the
headers (Authorization, X-Experience-API-Version, Content-Type, Content-Length, If-Match, If-None-Match),
the `content` (a UTF-8 string) and every other parameter. `rewrite` turns such a request into the request
it stands for; the route layer (`RouteSpec.rewrite`) then serves it with the route of that method, so
authentication, scopes and handlers are the ones of the normal syntax.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from chalice.app import CaseInsensitiveMapping, MultiDict

from chalicelib.errors import ValidationFailed, field_error

METHODS = ("GET", "PUT", "POST", "DELETE")
FORM = "application/x-www-form-urlencoded"
HEADER_FIELDS = frozenset({"authorization", "x-experience-api-version", "content-type", "content-length",
                           "if-match", "if-none-match"})


def _bad(field: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"Alternate request syntax: {field} {detail}.",
                            errors=[field_error(field, detail, field)])


class AlternateRequest:
    """The request a form stands for; anything not overridden (context, the original event) is the POST's."""

    def __init__(self, original: Any, method: str, headers: dict[str, str], query: dict[str, list[str]],
                 body: bytes) -> None:
        self._original = original
        self.method = method
        self.headers = CaseInsensitiveMapping(headers)
        self.query_params = MultiDict(query) if query else None
        self.raw_body = body

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


def rewrite(request: Any) -> tuple[str, AlternateRequest] | None:
    """None for a request in the normal syntax; else (intended method, request); 400 when malformed."""
    query = request.query_params or {}
    if "method" not in query:
        return None
    method = _method(request, query)
    kind = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if kind != FORM:
        raise _bad("Content-Type", f"must be {FORM}")
    headers = {k: v for k, v in request.headers.items() if k.lower() not in ("content-type", "content-length")}
    params: dict[str, list[str]] = {}
    content = ""
    for name, values in _form(request.raw_body or b"").items():
        key = name.lower()
        if name != "content" and key not in HEADER_FIELDS:
            params[name] = values  # every other form parameter is a query parameter
        elif len(values) != 1:
            raise _bad(name, "is repeated")
        elif name == "content":
            content = values[0]
        else:
            headers[key] = values[0]  # a header given as a form parameter wins over the HTTP header
    return method, AlternateRequest(request, method, headers, params, content.encode("utf-8"))


def _method(request: Any, query: Any) -> str:
    if request.method != "POST":
        raise _bad("method", f"is only allowed on a POST, not on a {request.method}")
    methods = query.getlist("method") if hasattr(query, "getlist") else [query["method"]]
    if len(methods) != 1 or methods[0] not in METHODS:
        raise _bad("method", f"must be one of {', '.join(METHODS)}, given once")
    others = sorted(set(query) - {"method"})
    if others:
        raise _bad(others[0], "must be a form parameter, not a query parameter, next to method")
    return str(methods[0])


def _form(raw: bytes) -> dict[str, list[str]]:
    try:
        pairs = "&".join(p for p in raw.decode("utf-8").split("&") if p)  # a trailing "&" is fine
        return parse_qs(pairs, keep_blank_values=True, strict_parsing=True, encoding="utf-8", errors="strict")
    except ValueError:  # UnicodeDecodeError included: the content is a UTF-8 string
        raise _bad("body", "must be URL-encoded UTF-8 form parameters") from None
