"""Secrets the platform must use again (a CRM app secret), sealed at rest with AES-GCM.

The key is derived from the platform secret per purpose, and the tenant (plus any context) is the
associated data: a box copied into another tenant's item does not open. A box the current key cannot
open (the platform secret was replaced) raises `SecretUnreadable`: the admin sets the secret again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

_VERSION = "v1."


class SecretUnreadable(Exception):
    """The sealed secret does not open with the platform's current key."""


def _key(purpose: str) -> bytes:
    from chalicelib.auth.keys import cursor_key

    return hmac.new(cursor_key(), f"onramp-sealed:{purpose}".encode(), hashlib.sha256).digest()


def seal(purpose: str, context: str, secret: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    sealed = AESGCM(_key(purpose)).encrypt(nonce, secret.encode(), context.encode())
    return _VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(purpose: str, context: str, box: str) -> str:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        raw = base64.urlsafe_b64decode(box.removeprefix(_VERSION))
        return AESGCM(_key(purpose)).decrypt(raw[:12], raw[12:], context.encode()).decode()
    except (InvalidTag, ValueError) as exc:
        raise SecretUnreadable(f"The sealed {purpose} secret cannot be read: set it again.") from exc
