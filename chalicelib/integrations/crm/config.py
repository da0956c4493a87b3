"""A tenant's inbound CRM settings (one item per CRM): who may call, and how records map to users.

Salesforce is authenticated by the org id in each outbound message; HubSpot by the v3 signature, made
with the app's client secret. The secret is needed again for every webhook, so it cannot be hashed: it is
sealed (auth.sealing, AES-GCM, bound to tenant and CRM) and never returned (`hasAppSecret`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.models import Model

from chalicelib.auth import sealing
from chalicelib.auth.principal import TenantContext
from chalicelib.clock import utcnow_iso
from chalicelib.errors import Conflict, Forbidden, NotFound
from chalicelib.events.outbox import event_item
from chalicelib.integrations.crm import mapping
from chalicelib.store import keys
from chalicelib.store.models import CrmConfig, Item, plain
from chalicelib.store.tx import Tx, TxConflict

SOURCES = ("salesforce", "hubspot")
PATHS = {"salesforce": "integrations/salesforce/outbound-messages", "hubspot": "integrations/hubspot/webhooks"}


@dataclass(frozen=True)
class Settings:
    """What the inbound routes need of a tenant's settings."""

    tenant_id: str
    source: str
    account: str | None
    field_mapping: dict[str, str]
    object_types: tuple[str, ...]
    deactivate_when: dict[str, Any] | None
    secret_box: str | None

    def app_secret(self) -> str | None:
        if not self.secret_box:
            return None
        return sealing.unseal("crm", f"{self.tenant_id}|{self.source}", self.secret_box)


def load(tenant_id: str, source: str) -> CrmConfig | None:
    if not keys.is_safe(tenant_id):
        return None
    try:
        return CrmConfig.get(keys.crm_config_pk(tenant_id, source), keys.CRM_CONFIG_SK)
    except Model.DoesNotExist:
        return None


def settings_of(item: CrmConfig) -> Settings:
    return Settings(item.tenant_id, item.source, item.account, dict(plain(item.field_mapping)),
                    tuple(item.object_types or ()), plain(item.deactivate_when) if item.deactivate_when else None,
                    item.secret_box)


def to_json(item: CrmConfig, endpoint: str) -> dict[str, Any]:
    doc: dict[str, Any] = {"fieldMapping": plain(item.field_mapping),
                           "deactivateWhen": plain(item.deactivate_when) if item.deactivate_when else None,
                           "endpointUrl": endpoint, "updatedAt": item.updated_at, "updatedBy": item.updated_by}
    if item.source == "salesforce":
        doc.update(organizationId=item.account, objectTypes=list(item.object_types or ()))
    else:
        doc.update(portalId=int(item.account) if item.account else None, hasAppSecret=bool(item.secret_box))
    return doc


def _admin(ctx: TenantContext) -> None:
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins configure integrations.")


def get_config(ctx: TenantContext, source: str, base_url: str) -> dict[str, Any]:
    _admin(ctx)
    item = load(ctx.tenant_id, source)
    if item is None:
        raise NotFound(f"This tenant has no {source} integration.")
    return to_json(item, endpoint_url(base_url, ctx.tenant_id, source))


def endpoint_url(base_url: str, tenant_id: str, source: str) -> str:
    """The URL to enter in the CRM (Salesforce: the outbound message's Endpoint URL; HubSpot: Target URL)."""
    return f"{base_url}/v1/tenants/{tenant_id}/{PATHS[source]}"


def put_config(ctx: TenantContext, source: str, body: Any, base_url: str) -> dict[str, Any]:
    """Replace the settings; omitted parts take the defaults, and an omitted appSecret keeps the stored one."""
    _admin(ctx)
    fields = body.model_fields_set
    old = load(ctx.tenant_id, source)
    field_map = mapping.check(body.fieldMapping if body.fieldMapping is not None else mapping.DEFAULTS[source])
    deactivate = (body.deactivateWhen.model_dump() if body.deactivateWhen else None) \
        if "deactivateWhen" in fields else mapping.DEFAULT_DEACTIVATE[source]
    context = f"{ctx.tenant_id}|{source}"
    if source == "salesforce":
        account, types, box = body.organizationId, list(body.objectTypes or ("User", "Contact")), None
    else:
        account = str(body.portalId) if body.portalId else None
        types = None
        box = sealing.seal("crm", context, body.appSecret) if body.appSecret else (old.secret_box if old else None)
    item = CrmConfig(PK=keys.crm_config_pk(ctx.tenant_id, source), SK=keys.CRM_CONFIG_SK, tenant_id=ctx.tenant_id,
                     source=source, account=account, field_mapping=field_map, object_types=types,
                     deactivate_when=deactivate, secret_box=box, updated_by=ctx.principal.subject,
                     updated_at=utcnow_iso(), version=(old.version + 1) if old else 1)
    tx = Tx()
    tx.put(item, (CrmConfig.version == old.version) if old else Item.PK.does_not_exist(), "config")
    tx.put(event_item(ctx.tenant_id, "CrmIntegrationChanged",
                      {"source": source, "account": account, "secretChanged": bool(body.appSecret)
                       if source == "hubspot" else False, "fieldMapping": field_map},
                      actor=ctx.principal.subject, correlation_id=ctx.correlation_id))
    try:
        tx.commit()
    except TxConflict:
        raise Conflict("The integration settings changed meanwhile; read them and try again.") from None
    return to_json(item, endpoint_url(base_url, ctx.tenant_id, source))
