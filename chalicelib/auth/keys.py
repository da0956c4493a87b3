"""Platform secrets (JWT signing keys, cursor key) in Secrets Manager, cached per container.

The secret holds {"signingKeys": [newest first], "cursorKey": hex}. The newest key signs; every key
listed is published in the JWKS, so a rotation keeps the previous key verifiable until it is dropped.
"""

from __future__ import annotations

import json
import secrets as pysecrets
import time
from dataclasses import dataclass
from typing import Any

from chalicelib import aws
from chalicelib.clock import utcnow_iso
from chalicelib.config import settings

_CACHE_SECONDS = 300
_cache: dict[str, Any] = {}


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: str


def _generate_key() -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {"kid": pysecrets.token_hex(8), "privateKeyPem": pem, "createdAt": utcnow_iso()}


def _read() -> dict[str, Any] | None:
    sm = aws.secrets()
    try:
        doc: dict[str, Any] = json.loads(sm.get_secret_value(SecretId=settings().secret_name)["SecretString"])
        return doc
    except sm.exceptions.ResourceNotFoundException:
        return None


def _create() -> dict[str, Any]:
    sm = aws.secrets()
    doc = {"signingKeys": [_generate_key()], "cursorKey": pysecrets.token_hex(32)}
    try:
        sm.create_secret(Name=settings().secret_name, SecretString=json.dumps(doc))
    except sm.exceptions.ResourceExistsException:
        return _read() or doc  # another container won the race: use its keys
    return doc


def platform_secret() -> dict[str, Any]:
    now = time.monotonic()
    if _cache.get("until", 0) < now:
        _cache["doc"] = _read() or _create()
        _cache["until"] = now + _CACHE_SECONDS
    doc: dict[str, Any] = _cache["doc"]
    return doc


def signing_key() -> SigningKey:
    key = platform_secret()["signingKeys"][0]
    return SigningKey(kid=key["kid"], private_pem=key["privateKeyPem"])


def verification_keys() -> dict[str, Any]:
    """kid -> public key object, for every published key."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    doc = platform_secret()
    if "public" not in _cache or _cache.get("public_for") is not doc:
        _cache["public"] = {
            k["kid"]: load_pem_private_key(k["privateKeyPem"].encode(), None).public_key()
            for k in doc["signingKeys"]
        }
        _cache["public_for"] = doc
    keys: dict[str, Any] = _cache["public"]
    return keys


def jwks() -> dict[str, Any]:
    from jwt.algorithms import RSAAlgorithm

    out = []
    for kid, public in verification_keys().items():
        jwk = json.loads(RSAAlgorithm.to_jwk(public))
        out.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
    return {"keys": out}


def cursor_key() -> bytes:
    return bytes.fromhex(platform_secret()["cursorKey"])


def rotate(keep: int = 2) -> str:
    """Add a new signing key (it signs from now on) and keep the previous one published."""
    doc = _read() or _create()
    doc["signingKeys"] = [_generate_key(), *doc["signingKeys"]][:keep]
    aws.secrets().put_secret_value(SecretId=settings().secret_name, SecretString=json.dumps(doc))
    reset()
    return str(doc["signingKeys"][0]["kid"])


def reset() -> None:
    _cache.clear()
