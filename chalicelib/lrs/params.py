"""Query parameters of GET /statements (xAPI 1.0.3 Part Three §2.1.3), checked strictly: 400 on any error."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.clock import iso
from chalicelib.errors import ValidationFailed, field_error
from chalicelib.lrs import validate
from chalicelib.lrs.facets import agent_key

FILTERS = {"agent", "verb", "activity", "registration", "related_activities", "related_agents", "since",
           "until", "limit", "format", "attachments", "ascending"}
SINGLE = {"statementId", "voidedStatementId", "format", "attachments"}
FORMATS = ("exact", "ids", "canonical")


@dataclass(frozen=True)
class Filters:
    agent: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: str | None = None
    until: str | None = None
    limit: int = 0
    format: str = "exact"
    attachments: bool = False
    ascending: bool = False
    accept_language: str | None = None


def bad(name: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"Query parameter `{name}`: {detail}.", errors=[field_error(name, detail, name)])


def flag(params: dict[str, str], name: str) -> bool:
    value = params.get(name, "false")
    if value not in ("true", "false"):
        raise bad(name, "must be true or false")
    return value == "true"


def utc(value: str, name: str) -> str:
    validate.timestamp(value, name)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad(name, "is not a timestamp") from None
    return iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _agent(raw: str) -> str:
    try:
        value = json.loads(raw)
    except ValueError:
        raise bad("agent", "is not JSON") from None
    try:
        validate.actor(value, "agent")
    except validate.Invalid as exc:
        raise bad("agent", exc.detail) from None
    key = agent_key(value)
    if key is None:
        raise bad("agent", "must be an Agent or an identified Group")
    return key


def _limit(params: dict[str, str]) -> int:
    raw = params.get("limit", "0")
    if not (raw.isascii() and raw.isdigit()):
        raise bad("limit", "must be a non-negative integer")
    return int(raw)


def _checked(params: dict[str, str], name: str, check: Any) -> str | None:
    if name not in params:
        return None
    try:
        return str(check(params[name], name))
    except validate.Invalid as exc:
        raise bad(name, exc.detail) from None


def filters(params: dict[str, str], accept_language: str | None) -> Filters:
    unknown = sorted(set(params) - FILTERS)
    if unknown:
        raise bad(unknown[0], "is not a statement query parameter")
    fmt = params.get("format", "exact")
    if fmt not in FORMATS:
        raise bad("format", "must be exact, ids or canonical")
    registration = _checked(params, "registration", validate.uuid)
    return Filters(
        agent=_agent(params["agent"]) if "agent" in params else None,
        verb=_checked(params, "verb", validate.iri), activity=_checked(params, "activity", validate.iri),
        registration=registration.lower() if registration else None,
        related_activities=flag(params, "related_activities"), related_agents=flag(params, "related_agents"),
        since=utc(params["since"], "since") if "since" in params else None,
        until=utc(params["until"], "until") if "until" in params else None,
        limit=_limit(params), format=fmt, attachments=flag(params, "attachments"),
        ascending=flag(params, "ascending"), accept_language=accept_language)
