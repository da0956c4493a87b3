"""Short-lived signed tokens that travel in URLs: the player page, its runtime commits, its content.

A browser's player cannot send an Authorization header with a `sendBeacon` commit or from a content
frame's relative requests, so each URL carries a token bound to tenant, learner and attempt (and for
commits the SCO and session; for content the version's S3 prefix). HMAC-SHA256 with a key derived from
the platform secret; verifying one costs no read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from chalicelib.auth.keys import cursor_key
from chalicelib.errors import NotFound, Unauthenticated

LAUNCH_SECONDS = 4 * 3600  # a learning session; a relaunch mints new tokens


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(kind: str, payload: str) -> str:
    key = hmac.new(cursor_key(), b"onramp-launch-token", hashlib.sha256).digest()
    return _b64(hmac.new(key, f"{kind}\n{payload}".encode(), hashlib.sha256).digest()[:20])


def sign(kind: str, claims: dict[str, Any], ttl: int = LAUNCH_SECONDS, now: float | None = None) -> str:
    body = {**claims, "x": int((now or time.time()) + ttl)}
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_mac(kind, payload)}"


def verify(kind: str, token: str | None, now: float | None = None, **bound: str) -> dict[str, Any]:
    """The token's claims, if it is a valid `kind` token bound to `bound` (e.g. t=tenant, a=attempt)."""
    if not token or token.count(".") != 1:
        raise Unauthenticated("This link needs its launch token; start the course again.")
    payload, signature = token.split(".")
    if not hmac.compare_digest(signature, _mac(kind, payload)):
        raise Unauthenticated("The launch token is not valid; start the course again.")
    try:
        claims: dict[str, Any] = json.loads(_unb64(payload))
    except ValueError:
        raise Unauthenticated("The launch token is not valid; start the course again.") from None
    if int(claims.get("x", 0)) < (now or time.time()):
        raise Unauthenticated("The launch token has expired; start the course again.")
    if any(claims.get(name) != value for name, value in bound.items()):
        raise NotFound("No such attempt.")
    return claims


def tenant_active(tenant_id: str) -> bool:
    """URL tokens stop with their tenant: checked through the tenant cache (no read when warm)."""
    from chalicelib.tenancy.cache import tenant_record

    record = tenant_record(tenant_id)
    return record is not None and record.status == "active"
