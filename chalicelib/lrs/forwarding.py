"""Forwarding a tenant's statements to an external LRS: the tenant admin's settings (one item per tenant).

The password or token is needed again for every delivery, so it cannot be hashed: it is sealed
(`auth.sealing`: AES-GCM under a key derived from the platform secret, bound to the tenant: another
tenant's item cannot be made to decrypt it) and never returned (`hasSecret`). Deliveries are `lrs.outbound`.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pynamodb.models import Model

from chalicelib.auth import sealing
from chalicelib.auth.principal import TenantContext
from chalicelib.clock import utcnow_iso
from chalicelib.config import settings
from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.events.outbox import event_item
from chalicelib.store import keys
from chalicelib.store.models import Item, XapiForwarding
from chalicelib.store.tx import Tx, TxConflict

LOOPBACK = ("localhost", "127.0.0.1", "::1")
PURPOSE = "xapi-forwarding"
SecretUnreadable = sealing.SecretUnreadable  # the platform key changed: the admin sets the secret again


def to_json(item: XapiForwarding) -> dict[str, Any]:
    from chalicelib.store.models import plain

    return {"tenantId": item.tenant_id, "endpoint": item.endpoint, "auth": item.auth, "username": item.username,
            "hasSecret": bool(item.secret_box), "enabled": item.enabled, "updatedAt": item.updated_at,
            "updatedBy": item.updated_by, "lastDeliveredAt": item.last_delivered_at,
            "lastError": plain(item.last_error) if item.last_error else None}


def load(tenant_id: str) -> XapiForwarding | None:
    if not keys.is_safe(tenant_id):
        return None
    try:
        return XapiForwarding.get(keys.xapi_forwarding_pk(tenant_id), keys.XAPI_FORWARDING_SK)
    except Model.DoesNotExist:
        return None


def _admin(ctx: TenantContext) -> None:
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins manage xAPI forwarding.")


def get_forwarding(ctx: TenantContext) -> dict[str, Any]:
    _admin(ctx)
    item = load(ctx.tenant_id)
    if item is None:
        raise NotFound("This tenant does not forward its statements.")
    return to_json(item)


# -- the endpoint -----------------------------------------------------------------------------------
def _bad(field: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"Invalid {field}: {detail}.", errors=[field_error(field, detail)])


def _public_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return True  # a name: whatever it resolves to is the external LRS's business (and DNS's)


def endpoint(raw: str) -> str:
    """The external LRS's base URL, normalised to end in "/": https (http only to localhost on the local
    stack and in tests), no credentials, query or fragment, and deployed, no loopback or private address."""
    try:
        parts = urlsplit(raw)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        raise _bad("endpoint", "not a URL") from None
    if parts.scheme not in ("https", "http") or not host:
        raise _bad("endpoint", "must be an absolute https URL")
    if parts.username is not None or parts.password is not None:
        raise _bad("endpoint", "credentials go in username/password or token, not in the URL")
    if parts.query or parts.fragment:
        raise _bad("endpoint", "must not have a query or fragment")
    local_http = host in LOOPBACK and not settings().is_deployed
    if parts.scheme == "http" and not local_http:
        raise _bad("endpoint", "must be https (http only to localhost on the local stack)")
    if settings().is_deployed and not _public_host(host):
        raise _bad("endpoint", "must be a public host")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc.lower(), path, "", ""))


# -- the secret -------------------------------------------------------------------------------------
def seal(tenant_id: str, secret: str) -> str:
    return sealing.seal(PURPOSE, tenant_id, secret)


def unseal(tenant_id: str, box: str) -> str:
    return sealing.unseal(PURPOSE, tenant_id, box)


def _auth(ctx: TenantContext, body: Any, old: XapiForwarding | None) -> tuple[str, str | None, str]:
    """(auth, username, sealed secret): Basic from username + password, Bearer from token; a PUT that names
    no new secret keeps the stored one (same kind, and for Basic the same username)."""
    if body.token is not None:
        for name in ("username", "password"):
            if getattr(body, name) is not None:
                raise _bad(name, "give either username and password (Basic) or token (Bearer)")
        return "bearer", None, seal(ctx.tenant_id, body.token)
    if body.username is None:
        if body.password is not None:
            raise _bad("username", "required with password")
        if old is None:
            raise _bad("username", "username and password (Basic) or token (Bearer) are required")
        return old.auth, old.username, old.secret_box
    if ":" in body.username:
        raise _bad("username", "must not contain ':' (HTTP Basic)")
    if body.password is not None:
        return "basic", body.username, seal(ctx.tenant_id, body.password)
    if old is None or old.auth != "basic" or old.username != body.username:
        raise _bad("password", "required with a new username")
    return "basic", body.username, old.secret_box


def put_forwarding(ctx: TenantContext, body: Any) -> dict[str, Any]:
    _admin(ctx)
    url = endpoint(body.endpoint)
    old = load(ctx.tenant_id)
    auth, username, box = _auth(ctx, body, old)
    item = XapiForwarding(
        PK=keys.xapi_forwarding_pk(ctx.tenant_id), SK=keys.XAPI_FORWARDING_SK, tenant_id=ctx.tenant_id,
        endpoint=url, auth=auth, username=username, secret_box=box, enabled=body.enabled,
        updated_by=ctx.principal.subject, updated_at=utcnow_iso(),
        last_delivered_at=old.last_delivered_at if old else None, version=(old.version + 1) if old else 1)
    condition = (XapiForwarding.version == old.version) if old else Item.PK.does_not_exist()
    tx = Tx()
    tx.put(item, condition, "forwarding")
    tx.put(event_item(ctx.tenant_id, "XapiForwardingChanged", {"endpoint": url, "auth": auth, "enabled": body.enabled},
                      actor=ctx.principal.subject, correlation_id=ctx.correlation_id))
    try:
        tx.commit()
    except TxConflict:
        raise Conflict("The forwarding settings changed meanwhile; read them and try again.") from None
    return to_json(item)


def delete_forwarding(ctx: TenantContext) -> None:
    _admin(ctx)
    item = XapiForwarding(PK=keys.xapi_forwarding_pk(ctx.tenant_id), SK=keys.XAPI_FORWARDING_SK)
    tx = Tx()
    tx.delete(item, Item.PK.exists(), "forwarding")
    tx.put(event_item(ctx.tenant_id, "XapiForwardingRemoved", {}, actor=ctx.principal.subject,
                      correlation_id=ctx.correlation_id))
    try:
        tx.commit()
    except TxConflict:
        raise NotFound("This tenant does not forward its statements.") from None


def record_delivery(tenant_id: str, *, delivered_at: str | None = None, error: dict[str, Any] | None = None) -> None:
    """The last delivery's outcome on the settings item (one UpdateItem; nothing if they were removed). An
    error stays until the next one (with its time), so a rejection is still seen after later deliveries."""
    from pynamodb.exceptions import UpdateError

    actions: list[Any] = []
    if delivered_at is not None:
        actions.append(XapiForwarding.last_delivered_at.set(delivered_at))
    if error is not None:
        actions.append(XapiForwarding.last_error.set(error))
    item = XapiForwarding(PK=keys.xapi_forwarding_pk(tenant_id), SK=keys.XAPI_FORWARDING_SK)
    try:
        item.update(actions=actions, condition=Item.PK.exists(), add_version_condition=False)
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
