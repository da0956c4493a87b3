"""RS256 access tokens: issue and verify (PyJWT, imported only when a token is handled)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from chalicelib.auth import keys
from chalicelib.auth.principal import Principal
from chalicelib.config import settings
from chalicelib.errors import Unauthenticated

_CHALLENGE = 'Bearer realm="onramp"'


def issue(principal: Principal, ttl: int | None = None) -> dict[str, Any]:
    import jwt

    cfg = settings()
    now = int(time.time())
    expires_in = ttl or cfg.token_ttl_seconds
    claims: dict[str, Any] = {
        "iss": cfg.issuer,
        "aud": cfg.audience,
        "sub": principal.subject,
        "roles": sorted(principal.roles),
        "scope": " ".join(sorted(principal.scopes)),
        "iat": now,
        "exp": now + expires_in,
        "jti": uuid.uuid4().hex,
        "kind": principal.kind,
    }
    if principal.tenant_id is not None:
        claims["tenant"] = principal.tenant_id
    key = keys.signing_key()
    token = jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})
    return {"access_token": token, "token_type": "Bearer", "expires_in": expires_in,
            "scope": claims["scope"]}


def _challenge(error: str, description: str) -> dict[str, str]:
    return {"WWW-Authenticate": f'{_CHALLENGE}, error="{error}", error_description="{description}"'}


def verify(token: str) -> Principal:
    import jwt

    cfg = settings()
    try:
        header = jwt.get_unverified_header(token)
        public = keys.verification_keys().get(str(header.get("kid")))
        if public is None or header.get("alg") != "RS256":
            raise jwt.InvalidTokenError("unknown signing key")
        claims = jwt.decode(
            token, public, algorithms=["RS256"], audience=cfg.audience, issuer=cfg.issuer,
            options={"require": ["exp", "iat", "sub", "jti", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("The access token has expired.",
                              headers=_challenge("invalid_token", "token expired")) from None
    except jwt.InvalidTokenError:
        raise Unauthenticated("The access token is not valid.",
                              headers=_challenge("invalid_token", "token invalid")) from None
    return Principal(
        subject=str(claims["sub"]),
        tenant_id=claims.get("tenant"),
        roles=frozenset(claims.get("roles") or []),
        scopes=frozenset(str(claims.get("scope", "")).split()),
        token_id=str(claims["jti"]),
        kind=str(claims.get("kind", "user")),
    )


def from_authorization_header(value: str | None) -> Principal:
    if not value:
        raise Unauthenticated("An access token is required.", headers={"WWW-Authenticate": _CHALLENGE})
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Use an `Authorization: Bearer <token>` header.",
                              headers=_challenge("invalid_request", "bearer token expected"))
    return verify(token.strip())
