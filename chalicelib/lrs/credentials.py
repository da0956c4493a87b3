"""LRS credentials: key/secret pairs for HTTP Basic on a tenant's xAPI endpoint (secrets stored hashed).

A request names its tenant in the path, so the credential is one GetItem in that tenant's partition; a
verified credential is cached per container for the tenant cache period (a revocation here is seen at
once, in other containers within that period).
"""

from __future__ import annotations

import secrets
import time
from functools import partial
from typing import Any

from pynamodb.models import Model

from chalicelib.auth.basic import parse_basic
from chalicelib.auth.passwords import hash_secret, verify_secret
from chalicelib.auth.principal import Principal, TenantContext
from chalicelib.clock import new_secret, utcnow_iso
from chalicelib.errors import Forbidden, NotFound, Unauthenticated
from chalicelib.events.outbox import event_item
from chalicelib.lrs.scopes import platform_scopes
from chalicelib.store import keys, pagination
from chalicelib.store.models import Item, LrsCredential
from chalicelib.store.tx import Tx
from chalicelib.tenancy.cache import ttl_get

CHALLENGE = {"WWW-Authenticate": 'Basic realm="onramp-lrs"'}
_cache: dict[tuple[str, str], tuple[float, LrsCredential | None]] = {}


def to_json(c: LrsCredential) -> dict[str, Any]:
    return {"key": c.key, "tenantId": c.tenant_id, "name": c.name, "scopes": list(c.scopes),
            "status": c.status, "createdAt": c.created_at, "createdBy": c.created_by}


def create_credential(ctx: TenantContext, body: Any) -> dict[str, Any]:
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins create LRS credentials.")
    scopes = list(dict.fromkeys(body.scopes))
    secret, key, now = new_secret(), f"lk-{secrets.token_hex(10)}", utcnow_iso()
    cred = LrsCredential(PK=keys.lrs_credential_pk(ctx.tenant_id, key), SK=keys.LRS_KEY_SK,
                         GSI1PK=keys.lrs_credentials_gsi1pk(ctx.tenant_id),
                         GSI1SK=keys.lrs_credentials_gsi1sk(now, key), key=key, tenant_id=ctx.tenant_id,
                         name=body.name, scopes=scopes, secret_hash=hash_secret(secret), status="active",
                         created_by=ctx.principal.subject, created_at=now)
    tx = Tx()
    tx.put(cred, Item.PK.does_not_exist(), "credential")
    tx.put(event_item(ctx.tenant_id, "LrsCredentialCreated", {"key": key, "scopes": scopes},
                      actor=ctx.principal.subject, correlation_id=ctx.correlation_id))
    tx.commit()
    return {**to_json(cred), "secret": secret}


def list_credentials(ctx: TenantContext, query: Any) -> dict[str, Any]:
    return pagination.page(partial(LrsCredential.gsi1.query, keys.lrs_credentials_gsi1pk(ctx.tenant_id)),
                           f"lrs-credentials|{ctx.tenant_id}", query, to_json, LrsCredential)


def _load(tenant_id: str, key: str) -> LrsCredential | None:
    if not (keys.is_safe(key) and keys.is_safe(tenant_id)):
        return None
    try:
        return LrsCredential.get(keys.lrs_credential_pk(tenant_id, key), keys.LRS_KEY_SK)
    except Model.DoesNotExist:
        return None


def revoke_credential(ctx: TenantContext, key: str) -> None:
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins revoke LRS credentials.")
    cred = _load(ctx.tenant_id, key)
    if cred is None:
        raise NotFound("No such LRS credential.")
    _cache.pop((ctx.tenant_id, key), None)
    if cred.status == "revoked":
        return
    tx = Tx()
    tx.update(cred, [LrsCredential.status.set("revoked")], LrsCredential.PK.exists(), "credential")
    tx.put(event_item(ctx.tenant_id, "LrsCredentialRevoked", {"key": key}, actor=ctx.principal.subject,
                      correlation_id=ctx.correlation_id))
    tx.commit()


def _cached(tenant_id: str, key: str) -> LrsCredential | None:
    return ttl_get(_cache, (tenant_id, key), lambda: _load(tenant_id, key), 4096)


def _basic_pair(value: str) -> tuple[str, str]:
    pair = parse_basic(value)
    if pair is None or not pair[0]:
        raise Unauthenticated("Malformed Basic credentials.", headers=CHALLENGE)
    return pair


def authenticate(tenant_id: str, key: str, secret: str) -> Principal:
    cred = _cached(tenant_id, key)
    expired = cred is not None and cred.ttl is not None and cred.ttl <= time.time()  # DynamoDB deletes late
    if cred is None or cred.status != "active" or expired or not verify_secret(secret, cred.secret_hash):
        raise Unauthenticated("Unknown, revoked or wrong LRS credentials.", headers=CHALLENGE)
    return Principal(subject=f"lrs:{key}", tenant_id=tenant_id, roles=frozenset({"lrs"}),
                     scopes=platform_scopes(list(cred.scopes)), kind="lrs")


def principal_from_header(value: str | None, tenant_id: str) -> Principal:
    """HTTP Basic with an LRS credential of the path's tenant, or the platform's bearer token."""
    from chalicelib.auth import tokens

    scheme = (value or "").partition(" ")[0]
    if scheme.lower() == "basic":
        return authenticate(tenant_id, *_basic_pair(value or ""))
    if scheme.lower() == "bearer":
        return tokens.from_authorization_header(value)
    raise Unauthenticated("Use HTTP Basic with LRS credentials or a bearer token.", headers=CHALLENGE)


def reset() -> None:
    _cache.clear()
