"""Opaque, tamper-evident cursors: the last evaluated key, HMAC-signed and bound to one listing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

from chalicelib.auth.keys import cursor_key
from chalicelib.errors import InvalidCursor, field_error

MAX_LIMIT = 100
DEFAULT_LIMIT = 25


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(payload: str, bound_to: str) -> str:
    mac = hmac.new(cursor_key(), f"{bound_to}\n{payload}".encode(), hashlib.sha256).digest()
    return _b64(mac[:16])


def encode(last_key: dict[str, Any] | None, bound_to: str) -> str | None:
    if not last_key:
        return None
    payload = _b64(json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_sign(payload, bound_to)}"


def decode(cursor: str | None, bound_to: str) -> dict[str, Any] | None:
    if not cursor:
        return None
    payload, _, signature = cursor.partition(".")
    if not payload or not hmac.compare_digest(signature, _sign(payload, bound_to)):
        raise InvalidCursor("The cursor is not one this listing issued.",
                            errors=[field_error("cursor", "unknown or altered cursor", "cursor")])
    key: dict[str, Any] = json.loads(_unb64(payload))
    return key


def page(query: Callable[..., Any], bound_to: str, params: Any, render: Callable[[Any], dict[str, Any]],
         model: type) -> dict[str, Any]:
    """One page of a listing: one Query from the cursor, the items of `model` rendered, the next cursor.

    `query` is a bound pynamodb query (e.g. `partial(User.gsi1.query, pk)`); `params` has `limit`, `cursor`.
    """
    results = query(limit=params.limit, last_evaluated_key=decode(params.cursor, bound_to))
    items = [render(item) for item in results if isinstance(item, model)]
    return {"items": items, "nextCursor": encode(results.last_evaluated_key, bound_to)}
