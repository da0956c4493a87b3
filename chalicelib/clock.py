"""Time and ids: one place, so tests and jobs can pin "now"."""

from __future__ import annotations

import os
import secrets
import time
from datetime import UTC, datetime

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def utcnow() -> datetime:
    return datetime.now(UTC)


def utcnow_iso() -> str:
    return iso(utcnow())


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def new_id(prefix: str) -> str:
    """A time-ordered id (ULID layout, lower-case Crockford base32) with a type prefix: `tn-01h...`."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, rem = divmod(value, 32)
        chars.append(_CROCKFORD[rem])
    return f"{prefix}-{''.join(reversed(chars))}"


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def http_date(stamp: str) -> str:
    """An ISO-8601 UTC stamp (as stored) as an HTTP date (Last-Modified)."""
    from email.utils import format_datetime

    return format_datetime(datetime.fromisoformat(stamp.replace("Z", "+00:00")), usegmt=True)
