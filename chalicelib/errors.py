"""Typed domain errors; chalicelib.http.problems turns them into RFC 9457 responses in one place."""

from __future__ import annotations

from typing import Any


class OnrampError(Exception):
    status = 400
    code = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


class ValidationFailed(OnrampError):
    status = 400
    code = "validation-error"
    title = "Request is invalid"


class MalformedBody(OnrampError):
    status = 400
    code = "malformed-body"
    title = "Request body is not valid JSON"


class InvalidCursor(OnrampError):
    status = 400
    code = "invalid-cursor"
    title = "Pagination cursor is invalid"


class Unauthenticated(OnrampError):
    status = 401
    code = "unauthenticated"
    title = "Authentication required"


class Forbidden(OnrampError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class NotFound(OnrampError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(OnrampError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PreconditionFailed(OnrampError):
    status = 412
    code = "precondition-failed"
    title = "Precondition failed"


class PayloadTooLarge(OnrampError):
    status = 413
    code = "payload-too-large"
    title = "Request body too large"


class IdempotencyKeyReused(OnrampError):
    status = 422
    code = "idempotency-key-reused"
    title = "Idempotency key reused with a different request"


class TooManyRequests(OnrampError):
    status = 429
    code = "too-many-requests"
    title = "Too many requests"


def field_error(field: str, detail: str, pointer: str | None = None) -> dict[str, Any]:
    """One entry of a problem's `errors`: the field, an RFC 6901 pointer into the body, what is wrong."""
    return {"field": field, "pointer": pointer if pointer is not None else f"#/{field}", "detail": detail}
