"""HubSpot webhooks: verify the v3 signature, then apply each contact event once.

The signature is base64(HMAC-SHA256(app secret, method + URI + body + timestamp)), the URI as HubSpot
called it (with the query string; a few %-escapes decoded, as HubSpot's docs list). Behind API Gateway the
URI is rebuilt: ONRAMP_PUBLIC_URL (the domain HubSpot calls, e.g. CloudFront) + the path, or the Host
header + the stage-prefixed path API Gateway saw (docs/integrations.md says what to enter in HubSpot).
Events carry one property each, so a contact is kept in its CrmRecord until its email is known.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import quote

from chalicelib.auth.principal import system_context
from chalicelib.auth.sealing import SecretUnreadable
from chalicelib.errors import MalformedBody, Unauthenticated, ValidationFailed, field_error
from chalicelib.integrations.crm import config, sync
from chalicelib.integrations.crm.apply import Outcome

MAX_AGE_MS = 5 * 60 * 1000
MAX_EVENTS = 500  # HubSpot sends at most 100 per request
_DECODED = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'", "%28": "(",
            "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}
CONTACTS = "0-1"  # the objectTypeId of contacts in HubSpot's generic `object.*` events
_KINDS = {"creation": None, "propertyChange": None, "deletion": True, "privacyDeletion": True, "restore": False}


def hubspot_uri(uri: str) -> str:
    """The URI as HubSpot signs it: these escapes decoded (either case)."""
    for escaped, char in _DECODED.items():
        uri = uri.replace(escaped, char).replace(escaped.lower(), char)
    return uri


def signed_uris(*, public_url: str | None, host: str | None, proto: str | None, path: str, stage_path: str,
                query: list[tuple[str, str]]) -> list[str]:
    """The URIs HubSpot may have called to reach this request; each ends in this request's own path."""
    qs = "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query) if query else ""
    found = [f"{public_url}{path}{qs}"] if public_url else []
    for scheme in [proto] if proto else ["https", "http"]:
        found += [f"{scheme}://{host}{p}{qs}" for p in dict.fromkeys((stage_path, path)) if host]
    return [hubspot_uri(u) for u in dict.fromkeys(found)]


def verify(secret: str, method: str, uris: list[str], body: bytes, timestamp: str | None, signature: str | None,
           now_ms: int) -> None:
    if not signature or not timestamp or not timestamp.strip().isdigit():
        raise Unauthenticated("X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp are required.")
    if abs(now_ms - int(timestamp)) > MAX_AGE_MS:
        raise Unauthenticated("The request timestamp is more than 5 minutes away: refused as a replay.")
    offered = signature.strip().replace(" ", "+").encode()  # a proxy may have turned '+' into ' '
    for uri in uris:
        mac = hmac.new(secret.encode(), method.encode() + uri.encode() + body + timestamp.encode(), hashlib.sha256)
        if hmac.compare_digest(base64.b64encode(mac.digest()), offered):
            return
    raise Unauthenticated("The HubSpot signature does not match (app secret, or the webhook URL).")


def _settings(tenant_id: str) -> tuple[config.Settings, str]:
    from chalicelib.tenancy.cache import tenant_record

    tenant = tenant_record(tenant_id)
    item = config.load(tenant_id, "hubspot") if tenant is not None and tenant.status == "active" else None
    cfg = config.settings_of(item) if item is not None else None
    try:
        secret = cfg.app_secret() if cfg else None
    except SecretUnreadable:
        secret = None
    if cfg is None or not secret:
        raise Unauthenticated("This tenant takes no HubSpot webhooks (no app secret is configured).")
    return cfg, secret


def _error(index: int, event: Any, field: str, detail: str) -> dict[str, Any]:
    event_id = event.get("eventId") if isinstance(event, dict) else None
    return {"index": index, "eventId": event_id, "status": "error", "errors": [field_error(field, detail)]}


def _ident(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    text = str(value).strip()
    return text if 0 < len(text) <= 100 else None


def _invalid(event: dict[str, Any], index: int, cfg: config.Settings) -> dict[str, Any] | None:
    """The per-event error of an event without its ids, time or with another portal's id (None if none)."""
    for name in ("eventId", "objectId"):
        if _ident(event.get(name)) is None:
            return _error(index, event, name, "required: a number or a string of 1-100 characters")
    at = event.get("occurredAt")
    if isinstance(at, bool) or not isinstance(at, int) or at < 0:
        return _error(index, event, "occurredAt", "required: epoch milliseconds")
    if cfg.account and str(event.get("portalId")) != cfg.account:
        return _error(index, event, "portalId", "not the HubSpot account this tenant is configured for")
    return None


def _property(event: dict[str, Any], index: int) -> dict[str, Any]:
    """{name: value} of a propertyChange, or its per-event error (under the key "error")."""
    prop, value = event.get("propertyName"), event.get("propertyValue")
    if not isinstance(prop, str) or not prop:
        return {"error": _error(index, event, "propertyName", "required for a propertyChange")}
    if value is not None and not isinstance(value, str | int | float | bool):
        return {"error": _error(index, event, "propertyValue", "must be text, a number or null")}
    return {prop: None if value is None else str(value)}


def _change(event: Any, index: int, cfg: config.Settings) -> sync.Change | dict[str, Any]:
    """One event as a change, or its per-event result (an error, or a type not synced)."""
    if not isinstance(event, dict):
        return _error(index, event, "event", "must be a JSON object")
    invalid = _invalid(event, index, cfg)
    if invalid is not None:
        return invalid
    kind_of = str(event.get("subscriptionType") or "")
    obj, _, kind = kind_of.partition(".")
    if obj == "object" and str(event.get("objectTypeId")) == CONTACTS:
        obj = "contact"
    if obj != "contact" or kind not in _KINDS:
        return {"index": index, "eventId": event["eventId"], "status": "ignored",
                "detail": f"{kind_of or 'no subscriptionType'}: only contact events are synced"}
    values = _property(event, index) if kind == "propertyChange" else {}
    if "error" in values:
        return dict(values["error"])
    return sync.Change(event_id=str(_ident(event["eventId"])), record_id=str(_ident(event["objectId"])),
                       stamp=f"{event['occurredAt']:015d}", values=values, deleted=_KINDS[kind], index=index)


def parse(raw: bytes) -> list[Any]:
    try:
        events = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedBody(f"The body is not valid JSON: {exc}.") from None
    if not isinstance(events, list) or len(events) > MAX_EVENTS:
        raise ValidationFailed(f"The body must be a JSON array of at most {MAX_EVENTS} events.",
                               errors=[field_error("body", "not an array of events", "#")])
    return events


def receive(tenant_id: str, raw: bytes, *, method: str, uris: list[str], timestamp: str | None,
            signature: str | None, correlation_id: str = "", now_ms: int | None = None) -> dict[str, Any]:
    """Per-event results; 401 (nothing written) without a configured secret or a good, fresh signature."""
    cfg, secret = _settings(tenant_id)
    verify(secret, method, uris, raw, timestamp, signature, now_ms if now_ms is not None else int(time.time() * 1000))
    results: dict[int, dict[str, Any]] = {}
    changes: list[sync.Change] = []
    for index, event in enumerate(parse(raw)):
        made = _change(event, index, cfg)
        if isinstance(made, sync.Change):
            changes.append(made)
        else:
            results[index] = made
    ctx = system_context(tenant_id, "system:hubspot", correlation_id)
    outcomes: list[Outcome] = sync.process(ctx, cfg, changes) if changes else []
    for change, outcome in zip(changes, outcomes, strict=True):
        results[change.index] = {"index": change.index, **outcome.to_json()}
    return {"results": [results[i] for i in sorted(results)]}
