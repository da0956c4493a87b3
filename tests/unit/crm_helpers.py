"""Building CRM inbound requests as Salesforce and HubSpot send them: SOAP envelopes, signed webhook batches."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from xml.sax.saxutils import escape

ORG = "00D5g000004XyZaEAK"  # 18 characters; its 15-character form is ORG[:15]
OTHER_ORG = "00D5g000009QqQqEAK"
HOST = "hooks.example.test"
SECRET = "hubspot-app-secret-0001"
_seq = itertools.count(1)


def configure_salesforce(api: Any, tenant_id: str, token: str, **overrides: Any) -> Any:
    resp = api.call("PUT", f"/v1/tenants/{tenant_id}/integrations/salesforce", token,
                    {"organizationId": ORG, **overrides})
    assert resp.status_code == 200, resp.body
    return api.json(resp)


def configure_hubspot(api: Any, tenant_id: str, token: str, **overrides: Any) -> Any:
    resp = api.call("PUT", f"/v1/tenants/{tenant_id}/integrations/hubspot", token,
                    {"appSecret": SECRET, "portalId": 62515, **overrides})
    assert resp.status_code == 200, resp.body
    return api.json(resp)


def sf_user(record_id: str, email: str | None = None, *, active: bool = True, kind: str = "User",
            **fields: str | None) -> dict[str, Any]:
    flag = {"IsActive": "true" if active else "false"} if kind == "User" else {}
    doc: dict[str, Any] = {"Id": record_id, "FirstName": "Sally", "LastName": "Seller", "Title": "AE",
                           "Department": "Sales", **flag, **fields}
    if email is not None:
        doc["Email"] = email
    return {"type": kind, "fields": doc, "id": f"04l5g{next(_seq):013d}"}


def soap(notifications: list[dict[str, Any]], org: str = ORG) -> bytes:
    """An outbound message as Salesforce sends it (enterprise WSDL, sObject fields in the sf namespace)."""
    def field(name: str, value: str | None) -> str:
        if value is None:
            return f'<sf:{name} xsi:nil="true"/>'
        return f"<sf:{name}>{escape(value)}</sf:{name}>"

    body = "".join(
        f"<Notification><Id>{n['id']}</Id><sObject xsi:type=\"sf:{n['type']}\" "
        f"xmlns:sf=\"urn:sobject.enterprise.soap.sforce.com\">"
        + "".join(field(k, v) for k, v in n["fields"].items()) + "</sObject></Notification>"
        for n in notifications)
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            '<soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
            f"<OrganizationId>{org}</OrganizationId><ActionId>04k5g000000001AAA</ActionId>"
            '<SessionId xsi:nil="true"/><EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/59.0</EnterpriseUrl>'
            "<PartnerUrl>https://example.my.salesforce.com/services/Soap/u/59.0</PartnerUrl>"
            f"{body}</notifications></soapenv:Body></soapenv:Envelope>").encode()


def post_soap(api: Any, tenant_id: str, raw: bytes) -> Any:
    return api.client.http.post(f"/v1/tenants/{tenant_id}/integrations/salesforce/outbound-messages", body=raw,
                                headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'})


def hs_event(object_id: int, kind: str = "propertyChange", name: str | None = None, value: Any = None,
             *, at: int | None = None, portal: int = 62515, event_id: int | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"eventId": event_id or 100000 + next(_seq), "subscriptionId": 12, "portalId": portal,
                           "appId": 7, "occurredAt": at or int(time.time() * 1000) + next(_seq),
                           "subscriptionType": f"contact.{kind}", "attemptNumber": 0, "objectId": object_id,
                           "changeSource": "CRM_UI"}
    if kind == "propertyChange":
        doc.update(propertyName=name, propertyValue=value)
    return doc


def sign(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    mac = hmac.new(secret.encode(), method.encode() + uri.encode() + body + timestamp.encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def post_hubspot(api: Any, tenant_id: str, events: Any, *, secret: str = SECRET, path_tenant: str | None = None,
                 timestamp: int | None = None, raw: bytes | None = None, signature: str | None = None) -> Any:
    """A webhook batch signed as HubSpot signs it: the URI it called (https, this Host, the path)."""
    path = f"/v1/tenants/{path_tenant or tenant_id}/integrations/hubspot/webhooks"
    body = raw if raw is not None else json.dumps(events).encode()
    stamp = str(timestamp if timestamp is not None else int(time.time() * 1000))
    headers = {"Content-Type": "application/json", "Host": HOST, "X-Forwarded-Proto": "https",
               "X-HubSpot-Request-Timestamp": stamp,
               "X-HubSpot-Signature-v3": signature or sign(secret, "POST", f"https://{HOST}{path}", body, stamp)}
    return api.client.http.post(path, body=body, headers=headers)
