"""A SCIM User and a platform user, both ways (docs/scim.md, "Users: the mapping").

The SCIM representation the identity provider last wrote is kept whole on the user (`source_profile`, minus
what the platform owns: id, meta, groups, userName, externalId, password). The platform fields are derived
from it (userName -> username; emails[primary, else first] -> email; displayName, else name -> displayName;
active -> status; title -> salesRole; addresses[primary, else first].region -> region; the enterprise
department and manager.value -> department and managerId). Rendering starts from that profile and puts a
platform value in only where it differs from what the profile implies (a change made in the portal), so
what a client wrote reads back as written, and what it removed stays removed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from chalicelib.scim import protocol
from chalicelib.scim.protocol import ScimError

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PLATFORM_OWNED = ("schemas", "id", "meta", "groups", "userName", "externalId", "password")
MAX_PROFILE_CHARS = 32_768  # the stored SCIM profile (the user item stays far below DynamoDB's 400 KB)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _chosen(values: Any) -> dict[str, Any] | None:
    items = [v for v in values or [] if isinstance(v, dict)]
    return next((v for v in items if v.get("primary")), items[0] if items else None)


def display_name(profile: dict[str, Any], user_name: str) -> str:
    name = profile.get("name") or {}
    parts = " ".join(p for p in (name.get("givenName"), name.get("familyName")) if p)
    return str(profile.get("displayName") or name.get("formatted") or parts or user_name)


def email(profile: dict[str, Any], user_name: str) -> str | None:
    chosen = _chosen(profile.get("emails"))
    if chosen and chosen.get("value"):
        return str(chosen["value"])
    return user_name if _EMAIL.match(user_name) else None


def region(profile: dict[str, Any]) -> str | None:
    chosen = _chosen(profile.get("addresses"))
    return chosen.get("region") if chosen else None


def _enterprise(profile: dict[str, Any]) -> dict[str, Any]:
    return dict(profile.get(ENTERPRISE) or {})


def from_resource(resource: Any) -> dict[str, Any]:
    """A SCIM User (a validated model) as our fields, plus `active`, `externalId` and the profile to keep."""
    m = protocol.models()
    doc: dict[str, Any] = resource.model_dump(scim_ctx=m.Context.RESOURCE_QUERY_RESPONSE)
    profile = {k: v for k, v in doc.items() if k not in PLATFORM_OWNED}
    if len(json.dumps(profile)) > MAX_PROFILE_CHARS:
        raise ScimError(400, "invalidValue", f"The user is too large (at most {MAX_PROFILE_CHARS} characters).")
    user_name = str(resource.user_name or "")
    extension = _enterprise(profile)
    return {"username": user_name, "email": email(profile, user_name), "displayName": display_name(profile, user_name),
            "salesRole": profile.get("title"), "region": region(profile), "department": extension.get("department"),
            "managerId": (extension.get("manager") or {}).get("value"), "active": profile.get("active") is not False,
            "externalId": resource.external_id, "sourceProfile": profile}


def default_profile(doc: dict[str, Any]) -> dict[str, Any]:
    """The profile of a user SCIM never wrote (made in the portal, by an import)."""
    return {"displayName": doc["displayName"], "name": {"formatted": doc["displayName"]}}


def _overlay(profile: dict[str, Any], doc: dict[str, Any], base: str) -> dict[str, Any]:
    """The profile with the platform's values where they differ from what the profile implies."""
    p, user_name = dict(profile), doc.get("username") or doc.get("email") or doc["id"]

    def put(name: str, value: Any) -> None:
        if value is None:
            p.pop(name, None)
        else:
            p[name] = value

    if display_name(p, user_name) != doc["displayName"]:
        p["displayName"] = doc["displayName"]
    if (p.get("active") is not False) != (doc["status"] == "active"):
        p["active"] = doc["status"] == "active"
    if p.get("title") != doc.get("salesRole"):
        put("title", doc.get("salesRole"))
    if (email(p, user_name) or "").lower() != (doc.get("email") or "").lower():
        put("emails", [{"value": doc["email"], "primary": True, "type": "work"}] if doc.get("email") else None)
    if region(p) != doc.get("region"):
        put("addresses", [{"region": doc["region"], "primary": True, "type": "work"}] if doc.get("region") else None)
    extension, manager = _enterprise(p), doc.get("managerId")
    if extension.get("department") != doc.get("department"):
        extension["department"] = doc.get("department")
    if (extension.get("manager") or {}).get("value") != manager:
        extension["manager"] = {"value": manager, "$ref": f"{base}/Users/{manager}"} if manager else None
    extension = {k: v for k, v in extension.items() if v is not None}
    put(ENTERPRISE, extension or None)
    p["userName"] = user_name
    return p


def to_resource(doc: dict[str, Any], external_id: str | None, profile: dict[str, Any] | None, base: str) -> Any:
    """Our user JSON (users.service.to_json) and its stored SCIM profile as a SCIM User."""
    m = protocol.models()
    p = _overlay(profile if profile is not None else default_profile(doc), doc, base)
    p["schemas"] = [CORE] + ([ENTERPRISE] if ENTERPRISE in p else [])
    p.update(id=doc["id"], externalId=external_id)
    p["groups"] = [{"value": g, "$ref": f"{base}/Groups/{g}", "type": "direct"} for g in doc.get("groups", [])] or None
    p["meta"] = {"resourceType": "User", "created": doc["createdAt"], "lastModified": doc["updatedAt"],
                 "version": protocol.etag(doc["version"]), "location": f"{base}/Users/{doc['id']}"}
    return m.User.model_validate({k: v for k, v in p.items() if v is not None})
