"""What a statement can be found by: IFI keys of its agents, its activities, verb and registration."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


def agent_key(value: dict[str, Any]) -> str | None:
    """The canonical identifier of an Agent or identified Group (None for anonymous groups)."""
    if "mbox" in value:
        return f"mbox|{str(value['mbox']).lower()}"
    if "mbox_sha1sum" in value:
        return f"sha1|{str(value['mbox_sha1sum']).lower()}"
    if "openid" in value:
        return f"openid|{value['openid']}"
    account = value.get("account")
    if isinstance(account, dict):
        return f"account|{account.get('homePage')}|{account.get('name')}"
    return None


def value_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def digest(doc: Any) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass
class Facets:
    verb: str
    agents: set[str] = field(default_factory=set)  # actor, object (agent filter)
    related_agents: set[str] = field(default_factory=set)  # ...and instructor, team, sub-statement agents
    activity: str | None = None
    related_activities: set[str] = field(default_factory=set)
    registration: str | None = None


def _actor_keys(value: Any) -> set[str]:
    if not isinstance(value, dict):
        return set()
    found = {k for k in [agent_key(value)] if k}
    for member in value.get("member") or []:
        found |= {k for k in [agent_key(member)] if k}
    return found


def _object_agents(obj: dict[str, Any]) -> set[str]:
    return _actor_keys(obj) if obj.get("objectType") in ("Agent", "Group") else set()


def _context_parts(context: dict[str, Any]) -> tuple[set[str], set[str]]:
    agents = _actor_keys(context.get("instructor")) | _actor_keys(context.get("team"))
    activities: set[str] = set()
    for items in (context.get("contextActivities") or {}).values():
        for item in items if isinstance(items, list) else [items]:
            activities.add(str(item["id"]))
    return agents, activities


def facets(doc: dict[str, Any]) -> Facets:
    obj = doc["object"]
    found = Facets(verb=str(doc["verb"]["id"]))
    found.agents = _actor_keys(doc["actor"]) | _object_agents(obj)
    ctx_agents, ctx_activities = _context_parts(doc.get("context") or {})
    found.related_agents = found.agents | ctx_agents
    if obj.get("objectType", "Activity") == "Activity":
        found.activity = str(obj["id"])
    found.related_activities = ({found.activity} if found.activity else set()) | ctx_activities
    if obj.get("objectType") == "SubStatement":
        sub = facets({**obj, "context": obj.get("context") or {}})
        found.related_agents |= sub.related_agents
        found.related_activities |= sub.related_activities
    registration = (doc.get("context") or {}).get("registration")
    found.registration = str(registration).lower() if registration else None
    return found


def to_json(found: Facets) -> dict[str, Any]:
    """Facets as JSON (a statement item keeps those of the statements its StatementRef chain reaches)."""
    return {"verb": found.verb, "agents": sorted(found.agents), "related_agents": sorted(found.related_agents),
            "activity": found.activity, "related_activities": sorted(found.related_activities),
            "registration": found.registration}


def from_json(doc: dict[str, Any]) -> Facets:
    return Facets(verb=str(doc["verb"]), agents=set(doc["agents"]), related_agents=set(doc["related_agents"]),
                  activity=doc["activity"], related_activities=set(doc["related_activities"]),
                  registration=doc["registration"])
