"""Salesforce Outbound Messages (SOAP 1.1): check the org, apply each Notification once, acknowledge.

Salesforce resends a message it has no `<Ack>true</Ack>` for (for 24 hours), so the ack means "every
notification is applied or can never be": a record that cannot become a user (no email, an invalid
value) is acknowledged and logged; a failure of ours is a 500 and Salesforce retries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib import observability
from chalicelib.auth.principal import system_context
from chalicelib.clock import utcnow_iso
from chalicelib.errors import Unauthenticated, ValidationFailed, field_error
from chalicelib.integrations.crm import config, sync
from chalicelib.integrations.crm.apply import Outcome

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ACK = ('<?xml version="1.0" encoding="UTF-8"?>'
       f'<soapenv:Envelope xmlns:soapenv="{SOAP}"><soapenv:Body>'
       f'<notificationsResponse xmlns="{OUTBOUND}"><Ack>true</Ack></notificationsResponse>'
       '</soapenv:Body></soapenv:Envelope>')
STAMPS = ("LastModifiedDate", "SystemModstamp")
MAX_NOTIFICATIONS = 100  # Salesforce sends at most 100 per message


@dataclass
class Notification:
    id: str
    object_type: str
    fields: dict[str, str | None] = field(default_factory=dict)


@dataclass
class Message:
    organization_id: str
    notifications: list[Notification]


def _malformed(detail: str, where: str = "body") -> ValidationFailed:
    return ValidationFailed(f"Not a Salesforce outbound message: {detail}.", errors=[field_error(where, detail, "#")])


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(parent: Any, name: str, where: str) -> str:
    node = parent.find(f"{{{OUTBOUND}}}{name}")
    value = (node.text or "").strip() if node is not None else ""
    if not value:
        raise _malformed(f"{name} is missing", where)
    return value


def _notification(node: Any, n: int) -> Notification:
    where = f"Notification[{n}]"
    sobject = node.find(f"{{{OUTBOUND}}}sObject")
    if sobject is None:
        raise _malformed("sObject is missing", where)
    values: dict[str, str | None] = {}
    for child in sobject:
        nil = child.get(f"{{{XSI}}}nil") == "true"
        values[_local(child.tag)] = None if nil else (child.text or "").strip()
    if not values.get("Id"):
        raise _malformed("the sObject has no Id", where)
    object_type = _local(sobject.get(f"{{{XSI}}}type", "").rsplit(":", 1)[-1])
    return Notification(_text(node, "Id", where), object_type, values)


def parse(raw: bytes) -> Message:
    """The envelope, read with defusedxml (no DTDs, no entities); anything else is a 400 naming the part."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(raw, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise _malformed(f"the XML cannot be read ({exc.__class__.__name__}: {exc})") from None
    body = root.find(f"{{{SOAP}}}Body") if root.tag == f"{{{SOAP}}}Envelope" else None
    notifications = body.find(f"{{{OUTBOUND}}}notifications") if body is not None else None
    if notifications is None:
        raise _malformed(f"no soapenv:Body/notifications element in the {OUTBOUND} namespace")
    nodes = notifications.findall(f"{{{OUTBOUND}}}Notification")
    if not nodes or len(nodes) > MAX_NOTIFICATIONS:
        raise _malformed(f"a message holds 1 to {MAX_NOTIFICATIONS} Notification elements, not {len(nodes)}")
    org = _text(notifications, "OrganizationId", "OrganizationId")
    return Message(org, [_notification(node, n) for n, node in enumerate(nodes)])


def _settings(tenant_id: str) -> config.Settings:
    from chalicelib.tenancy.cache import tenant_record

    tenant = tenant_record(tenant_id)
    item = config.load(tenant_id, "salesforce") if tenant is not None and tenant.status == "active" else None
    if item is None or not item.account:
        raise Unauthenticated("This tenant takes no Salesforce outbound messages.")
    return config.settings_of(item)


def _change(note: Notification, index: int) -> sync.Change:
    stamps = [v for name in STAMPS if (v := note.fields.get(name))]
    return sync.Change(event_id=note.id, record_id=str(note.fields["Id"]), stamp=max(stamps or [utcnow_iso()]),
                       values=dict(note.fields), index=index)


def receive(tenant_id: str, raw: bytes, correlation_id: str = "") -> tuple[str, list[Outcome]]:
    """The ack, and what became of each notification. 401 before anything is written if the message is
    not from the tenant's org (compared on the 15-character form of the id)."""
    cfg = _settings(tenant_id)
    message = parse(raw)
    if not cfg.account or message.organization_id[:15] != cfg.account[:15]:
        raise Unauthenticated("The message comes from another Salesforce organization than this tenant's.")
    accepted = [n for n in message.notifications if n.object_type in cfg.object_types]
    ctx = system_context(tenant_id, "system:salesforce", correlation_id)
    outcomes = sync.process(ctx, cfg, [_change(n, i) for i, n in enumerate(accepted)])
    outcomes += [Outcome(n.id, "ignored", detail=f"{n.object_type or 'an untyped'} sObject is not synced")
                 for n in message.notifications if n not in accepted]
    for outcome in outcomes:
        if outcome.status == "error":
            observability.logger().warning("salesforce notification rejected", extra=outcome.to_json())
    return ACK, outcomes
