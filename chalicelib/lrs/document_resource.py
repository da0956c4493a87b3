"""The document resources over HTTP: State, Activity Profile, Agent Profile; and Activities / Agents."""

from __future__ import annotations

import json
import re
from typing import Any

from chalicelib.auth.principal import TenantContext
from chalicelib.clock import http_date
from chalicelib.errors import OnrampError, ValidationFailed
from chalicelib.http.routing import Reply
from chalicelib.lrs import activities, documents, params, validate
from chalicelib.lrs.documents import Conditions, Scope
from chalicelib.lrs.facets import agent_key
from chalicelib.lrs.resource import _query

# resource -> (kind, document id parameter, the parameters that name the scope)
RESOURCES = {"state": ("state", "stateId", ("activityId", "agent", "registration")),
             "activity-profile": ("activity-profile", "profileId", ("activityId",)),
             "agent-profile": ("agent-profile", "profileId", ("agent",))}


def _agent(raw: str | None) -> tuple[str, dict[str, Any]]:
    if raw is None:
        raise params.bad("agent", "is required")
    try:
        value = json.loads(raw)
        validate.actor(value, "agent")
    except (ValueError, validate.Invalid):
        raise params.bad("agent", "must be an Agent (JSON)") from None
    key = agent_key(value)
    if key is None:
        raise params.bad("agent", "must be identified")
    return key, value


def _activity(q: dict[str, str]) -> str:
    if "activityId" not in q:
        raise params.bad("activityId", "is required")
    try:
        return validate.iri(q["activityId"], "activityId")
    except validate.Invalid:
        raise params.bad("activityId", "must be an IRI") from None


def _scope(ctx: TenantContext, resource: str, q: dict[str, str]) -> Scope:
    kind, _, names = RESOURCES[resource]
    if resource == "agent-profile":
        return Scope(ctx.tenant_id, kind, _agent(q.get("agent"))[0])
    activity = _activity(q)
    if resource == "activity-profile":
        return Scope(ctx.tenant_id, kind, activity)
    registration = q.get("registration")
    if registration is not None and not validate.UUID.match(registration):
        raise params.bad("registration", "must be a UUID")
    return Scope(ctx.tenant_id, kind, f"{activity}|{_agent(q.get('agent'))[0]}",
                 registration.lower() if registration else None)


def _parse(ctx: TenantContext, resource: str, request: Any, allowed: set[str]) -> tuple[Scope, dict[str, str]]:
    q = _query(request)
    _, id_name, names = RESOURCES[resource]
    unknown = sorted(set(q) - set(names) - {id_name} - allowed)
    if unknown:
        raise params.bad(unknown[0], "is not a parameter of this resource")
    return _scope(ctx, resource, q), q


def _conditions(request: Any, resource: str) -> Conditions:
    headers = request.headers
    return Conditions(headers.get("if-match"), headers.get("if-none-match"), required=resource != "state")


class NotAcceptable(OnrampError):
    status = 406
    code = "not-acceptable"
    title = "No acceptable representation"


TEXT = "text/plain; charset=utf-8"
OCTETS = "application/octet-stream"


def _matches(header: str | None, types: list[str]) -> bool:
    """Whether a Content-Type, or an Accept header's *first* media type (the only one API Gateway looks
    at), is one of the binary types. Stricter than Chalice's own check, which accepts any listed type."""
    if header is None:
        return False
    wanted = {t.lower() for t in types}
    first = re.split("[,;]", header.lower(), maxsplit=1)[0].strip()
    return first == "*/*" or "*/*" in wanted or first in wanted


def representation(content: bytes, stored_type: str, accept: str | None, binary_types: list[str],
                   head: bool = False) -> tuple[Any, str]:
    """The body and Content-Type a document GET answers with, byte-exact through API Gateway too.

    API Gateway (REST, Lambda proxy) passes a text body through unchanged, and decodes a base64 body to
    bytes only when the request's first Accept type is one of the API's binary media types; Chalice
    enforces the same rule (a binary Content-Type without a matching Accept is its 400) and base64-encodes
    every body whose Content-Type is a binary type. So: UTF-8 content goes out as text, under its own type
    unless that is a binary type (then as text/plain); other bytes go out binary when the Accept allows,
    else 406, never a mangled body.
    """
    binary_type = _matches(stored_type, binary_types)
    accepts_binary = _matches(accept, binary_types)
    try:
        text: str | None = content.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None and not accepts_binary:
        raise NotAcceptable(
            "This document is not UTF-8 text; send an Accept header naming a binary type "
            f"(e.g. {OCTETS} or */*) to receive its bytes.")
    if accepts_binary and (text is None or binary_type):
        kind = stored_type if binary_type else OCTETS
        # A HEAD answer has no body; the HTTP middleware empties it as a str, which Chalice cannot base64
        return ("", TEXT) if head else (content, kind)
    if binary_type:
        return ("" if head else text), TEXT
    return ("" if head else text), stored_type



def put(ctx: TenantContext, resource: str, request: Any, merge: bool) -> Reply:
    scope, q = _parse(ctx, resource, request, set())
    id_name = RESOURCES[resource][1]
    if id_name not in q:
        raise params.bad(id_name, "is required")
    content_type = (request.headers.get("content-type") or "application/octet-stream").split(";")[0].strip()
    cond = _conditions(request, resource) if not merge else Conditions(
        request.headers.get("if-match"), request.headers.get("if-none-match"))
    etag = documents.write(scope, q[id_name], request.raw_body or b"", content_type, cond, merge)
    return Reply("", 204, {"ETag": etag})


def get(ctx: TenantContext, resource: str, request: Any, binary_types: list[str]) -> Reply:
    scope, q = _parse(ctx, resource, request, {"since"})
    id_name = RESOURCES[resource][1]
    if id_name in q:
        if "since" in q:
            raise params.bad("since", "cannot be combined with " + id_name)
        doc = documents.read(scope, q[id_name])
        body, content_type = representation(doc.content, doc.content_type, request.headers.get("accept"),
                                            binary_types, head=request.method == "HEAD")
        return Reply(body, 200, {"Content-Type": content_type, "ETag": doc.etag,
                                 "Last-Modified": http_date(doc.updated)})
    since = params.utc(q["since"], "since") if "since" in q else None
    return Reply(documents.ids(scope, since), 200)


def delete(ctx: TenantContext, resource: str, request: Any) -> Reply:
    scope, q = _parse(ctx, resource, request, set())
    id_name = RESOURCES[resource][1]
    if id_name in q:
        documents.delete(scope, q[id_name], Conditions(request.headers.get("if-match"),
                                                       request.headers.get("if-none-match")))
    elif resource == "state":
        documents.delete_all(scope)
    else:
        raise params.bad(id_name, "is required")
    return Reply("", 204)


def activity(ctx: TenantContext, request: Any) -> Reply:
    q = _query(request)
    if set(q) != {"activityId"}:
        raise ValidationFailed("GET activities takes exactly activityId.")
    return Reply(activities.canonical(ctx.tenant_id, _activity(q)), 200)


def person(ctx: TenantContext, request: Any) -> Reply:
    """The Person object of an agent: what this LRS knows of it is the identifiers it was given."""
    q = _query(request)
    if set(q) != {"agent"}:
        raise ValidationFailed("GET agents takes exactly agent.")
    _, agent = _agent(q["agent"])
    out: dict[str, Any] = {"objectType": "Person"}
    for name in ("name", "mbox", "mbox_sha1sum", "openid", "account"):
        if name in agent:
            out[name] = [agent[name]]
    return Reply(out, 200)
