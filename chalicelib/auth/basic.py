"""HTTP Basic credentials (RFC 7617), parsed once for the OAuth token endpoint and the LRS."""

from __future__ import annotations

import base64


def parse_basic(value: str | None) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic …` header; None when absent or malformed."""
    scheme, _, encoded = (value or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        # ValueError covers binascii.Error and UnicodeDecodeError, and non-ASCII input to b64decode
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except ValueError:
        return None
    return (user, password) if sep else None
