"""SCIM bearer tokens: a tenant admin issues them (the token is shown once, stored hashed); an identity provider
sends `Authorization: Bearer scim-<id>.<secret>` to that tenant's /scim/v2 endpoint, nowhere else.

The token names its id and the path names the tenant, so checking it is one GetItem in the tenant's partition
(cached per container for the tenant cache period, like LRS credentials).
"""

from __future__ import annotations

import secrets
from functools import partial
from typing import Any

from pynamodb.models import Model

from chalicelib.auth import issued
from chalicelib.auth.passwords import hash_secret, verify_secret
from chalicelib.auth.principal import Principal, TenantContext
from chalicelib.clock import new_secret, utcnow_iso
from chalicelib.errors import Forbidden, NotFound, Unauthenticated
from chalicelib.store import keys, pagination
from chalicelib.store.models import ScimToken
from chalicelib.tenancy.cache import ttl_get

PREFIX = "scim-"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="onramp-scim"'}
SCOPES = frozenset({"users:read", "users:write"})
_cache: dict[tuple[str, str], tuple[float, ScimToken | None]] = {}


def to_json(t: ScimToken) -> dict[str, Any]:
    return {"id": t.id, "tenantId": t.tenant_id, "name": t.name, "status": t.status, "createdAt": t.created_at,
            "createdBy": t.created_by}


def create_token(ctx: TenantContext, body: Any) -> dict[str, Any]:
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins create SCIM tokens.")
    token_id, secret, now = f"{PREFIX}{secrets.token_hex(10)}", new_secret(), utcnow_iso()
    token = ScimToken(PK=keys.scim_token_pk(ctx.tenant_id, token_id), SK=keys.SCIM_TOKEN_SK,
                      GSI1PK=keys.scim_tokens_gsi1pk(ctx.tenant_id), GSI1SK=keys.scim_tokens_gsi1sk(now, token_id),
                      id=token_id, tenant_id=ctx.tenant_id, name=body.name, secret_hash=hash_secret(secret),
                      status="active", created_by=ctx.principal.subject, created_at=now)
    issued.issue(ctx, token, "ScimTokenCreated", {"tokenId": token_id}, "token")
    return {**to_json(token), "token": f"{token_id}.{secret}"}


def list_tokens(ctx: TenantContext, query: Any) -> dict[str, Any]:
    return pagination.page(partial(ScimToken.gsi1.query, keys.scim_tokens_gsi1pk(ctx.tenant_id)),
                           f"scim-tokens|{ctx.tenant_id}", query, to_json, ScimToken)


def _load(tenant_id: str, token_id: str) -> ScimToken | None:
    if not (keys.is_safe(token_id) and keys.is_safe(tenant_id)):
        return None
    try:
        return ScimToken.get(keys.scim_token_pk(tenant_id, token_id), keys.SCIM_TOKEN_SK)
    except Model.DoesNotExist:
        return None


def revoke_token(ctx: TenantContext, token_id: str) -> None:
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins revoke SCIM tokens.")
    token = _load(ctx.tenant_id, token_id)
    if token is None:
        raise NotFound("No such SCIM token.")
    _cache.pop((ctx.tenant_id, token_id), None)
    issued.revoke(ctx, token, "ScimTokenRevoked", {"tokenId": token_id}, "token")


def authenticate(tenant_id: str, value: str) -> Principal:
    """The principal of a SCIM token of `tenant_id` (any other tenant's token is unknown here)."""
    token_id, _, secret = value.partition(".")
    token = ttl_get(_cache, (tenant_id, token_id), lambda: _load(tenant_id, token_id), 4096)
    if token is None or token.status != "active" or not verify_secret(secret, token.secret_hash):
        raise Unauthenticated("Unknown or revoked SCIM token.", headers=CHALLENGE)
    return Principal(subject=f"scim:{token_id}", tenant_id=tenant_id, roles=frozenset({"admin"}), scopes=SCOPES,
                     token_id=token_id, kind="scim")


def principal_from_header(value: str | None, tenant_id: str) -> Principal:
    """`Bearer scim-…` (a SCIM token of the path's tenant) or the platform's own bearer token (an admin's)."""
    from chalicelib.auth import tokens

    scheme, _, credential = (value or "").strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise Unauthenticated("Use a bearer token: a SCIM token of this tenant.", headers=CHALLENGE)
    if credential.startswith(PREFIX):
        return authenticate(tenant_id, credential)
    return tokens.from_authorization_header(value)


def reset() -> None:
    _cache.clear()
