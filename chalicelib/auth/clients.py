"""OAuth2 API clients: tenant clients (hashed secrets, scopes) and the operator's bootstrap client.

A tenant client's id carries its tenant (`<tenantId>_<random>`), so the token endpoint finds it with
one GetItem in the tenant's own partition.
"""

from __future__ import annotations

import hmac
import secrets
from functools import partial
from typing import Any

from pynamodb.models import Model

from chalicelib.auth.passwords import hash_secret, verify_secret
from chalicelib.auth.principal import Principal, TenantContext
from chalicelib.auth.scopes import ALL
from chalicelib.clock import new_secret, utcnow_iso
from chalicelib.config import settings
from chalicelib.errors import Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.events.outbox import event_item
from chalicelib.store import keys, pagination
from chalicelib.store.models import ApiClient, Item
from chalicelib.store.tx import Tx
from chalicelib.tenancy.cache import tenant_record


class InvalidClient(Exception):
    """Unknown client, wrong secret, revoked client or inactive tenant (RFC 6749 `invalid_client`)."""


class InvalidScope(Exception):
    """A requested scope the client does not hold (RFC 6749 `invalid_scope`)."""


def to_json(c: ApiClient) -> dict[str, Any]:
    return {"clientId": c.id, "tenantId": c.tenant_id, "name": c.name, "scopes": list(c.scopes),
            "status": c.status, "createdAt": c.created_at, "createdBy": c.created_by}


def create_client(ctx: TenantContext, body: Any) -> dict[str, Any]:
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins create API clients.")
    wanted = list(dict.fromkeys(body.scopes))
    beyond = sorted(set(wanted) - ctx.principal.scopes)
    if beyond:
        raise ValidationFailed(f"A client cannot get scopes its creator lacks: {', '.join(beyond)}.",
                               errors=[field_error("scopes", "beyond creator")])
    secret = new_secret()
    client_id = f"{ctx.tenant_id}_{secrets.token_hex(10)}"
    now = utcnow_iso()
    client = ApiClient(PK=keys.client_pk(ctx.tenant_id, client_id), SK=keys.CLIENT_SK,
                       GSI1PK=keys.clients_gsi1pk(ctx.tenant_id), GSI1SK=keys.clients_gsi1sk(now, client_id),
                       id=client_id, tenant_id=ctx.tenant_id, name=body.name, scopes=wanted,
                       secret_hash=hash_secret(secret), status="active", created_by=ctx.principal.subject,
                       created_at=now)
    tx = Tx()
    tx.put(client, Item.PK.does_not_exist(), "client")
    tx.put(event_item(ctx.tenant_id, "ApiClientCreated", {"clientId": client_id, "scopes": wanted},
                      actor=ctx.principal.subject, correlation_id=ctx.correlation_id))
    tx.commit()
    return {**to_json(client), "clientSecret": secret}


def list_clients(ctx: TenantContext, query: Any) -> dict[str, Any]:
    return pagination.page(partial(ApiClient.gsi1.query, keys.clients_gsi1pk(ctx.tenant_id)),
                           f"clients|{ctx.tenant_id}", query, to_json, ApiClient)


def revoke_client(ctx: TenantContext, client_id: str) -> None:
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins revoke API clients.")
    if not client_id.startswith(f"{ctx.tenant_id}_"):
        raise NotFound("No such client.")
    try:
        client = ApiClient.get(keys.client_pk(ctx.tenant_id, client_id), keys.CLIENT_SK)
    except (Model.DoesNotExist, ValueError):
        raise NotFound("No such client.") from None
    if client.status == "revoked":
        return
    tx = Tx()
    tx.update(client, [ApiClient.status.set("revoked")], ApiClient.PK.exists(), "client")
    tx.put(event_item(ctx.tenant_id, "ApiClientRevoked", {"clientId": client_id},
                      actor=ctx.principal.subject, correlation_id=ctx.correlation_id))
    tx.commit()


def _narrow(granted: frozenset[str], requested: str | None) -> frozenset[str]:
    if not requested:
        return granted
    wanted = frozenset(requested.split())
    if not wanted <= granted:
        raise InvalidScope(" ".join(sorted(wanted - granted)))
    return wanted


def authenticate(client_id: str, secret: str, requested_scope: str | None) -> Principal:
    cfg = settings()
    # bytes: compare_digest raises TypeError on non-ASCII str, and any client may send any text
    if cfg.operator_client_id and hmac.compare_digest(client_id.encode(), cfg.operator_client_id.encode()):
        if not hmac.compare_digest(secret.encode(), (cfg.operator_client_secret or "").encode()):
            raise InvalidClient()
        return Principal(subject=f"client:{client_id}", tenant_id=None, roles=frozenset({"operator"}),
                         scopes=_narrow(ALL, requested_scope), kind="operator")
    tenant_id, sep, _ = client_id.partition("_")
    record = tenant_record(tenant_id) if sep and keys.is_safe(client_id) else None
    if record is None or record.status != "active":
        raise InvalidClient()
    try:
        client = ApiClient.get(keys.client_pk(tenant_id, client_id), keys.CLIENT_SK)
    except Model.DoesNotExist:
        raise InvalidClient() from None
    if client.status != "active" or not verify_secret(secret, client.secret_hash):
        raise InvalidClient()
    roles = {"admin", "partner_admin"} if record.kind == "partner" and not record.sandbox_of else {"admin"}
    return Principal(subject=f"client:{client_id}", tenant_id=tenant_id, roles=frozenset(roles),
                     scopes=_narrow(frozenset(client.scopes), requested_scope), kind="client")
