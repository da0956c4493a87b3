"""Statement validation (xAPI 1.0.3 Part Two, §2): any violation is an `Invalid` naming where it is."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from chalicelib.errors import ValidationFailed, field_error

UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")
_LANG = re.compile(r"^(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})(?:-[A-Za-z]{4})?"
                   r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
                   r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*(?:-[xX](?:-[A-Za-z0-9]{1,8})+)?$"
                   r"|^[xX](?:-[A-Za-z0-9]{1,8})+$|^i-[a-z]+$")
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
# ISO 8601: weeks stand alone (`P4W`), never next to other components (`P4W1D` is not a duration)
_DURATION = re.compile(r"^P(?:\d+(?:\.\d+)?W|(?=\d|T\d)(?:\d+(?:\.\d+)?Y)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?D)?"
                       r"(?:T(?=\d)(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?)$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_MAILTO = re.compile(r"^mailto:[^@\s]+@[^@\s]+$")
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
INTERACTIONS = {"true-false": (), "choice": ("choices",), "fill-in": (), "long-fill-in": (),
                "matching": ("source", "target"), "performance": ("steps",), "sequencing": ("choices",),
                "likert": ("scale",), "numeric": (), "other": ()}
_COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")


class Invalid(ValidationFailed):
    def __init__(self, where: str, detail: str) -> None:
        super().__init__(f"Invalid statement at {where or 'the top'}: {detail}.",
                         errors=[field_error(where or "statement", detail,
                                             "#/" + where.replace(".", "/") if where else "#")])


def obj(value: Any, where: str, allowed: set[str], required: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Invalid(where, "must be an object")
    extra = set(value) - allowed
    if extra:
        raise Invalid(where, f"unknown properties {sorted(extra)}")
    for name in required:
        if name not in value:
            raise Invalid(where, f"`{name}` is required")
    for name, item in value.items():
        if item is None:
            raise Invalid(f"{where}.{name}", "must not be null")
    return value


def string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise Invalid(where, "must be a string")
    return value


def _match(pattern: re.Pattern[str], what: str) -> Callable[[Any, str], str]:
    def check(value: Any, where: str) -> str:
        if not pattern.match(string(value, where)):
            raise Invalid(where, f"must be {what}")
        return str(value)

    return check


iri = _match(_IRI, "an absolute IRI")
uuid = _match(UUID, "a UUID")
duration = _match(_DURATION, "an ISO 8601 duration")
language = _match(_LANG, "an RFC 5646 language tag")


def timestamp(value: Any, where: str) -> str:
    text = string(value, where)
    match = _STAMP.match(text)
    if not match or match.group(1) in ("-00:00", "-0000", "-00"):
        raise Invalid(where, "must be an ISO 8601 timestamp (and not offset -00:00)")
    return text


def boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise Invalid(where, "must be true or false")
    return value


def number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(where, "must be a number")
    return float(value)


def language_map(value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise Invalid(where, "must be a language map")
    for tag, text in value.items():
        language(tag, f"{where}[{tag}]")
        string(text, f"{where}.{tag}")


def extensions(value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise Invalid(where, "must be an object")
    for key in value:
        iri(key, f"{where}[{key}]")


# --- actors --------------------------------------------------------------------------------------------

def _ifis(value: dict[str, Any], where: str) -> int:
    found = [name for name in _IFIS if name in value]
    if len(found) > 1:
        raise Invalid(where, f"has more than one identifier {found}")
    if "mbox" in value and not _MAILTO.match(string(value["mbox"], f"{where}.mbox")):
        raise Invalid(f"{where}.mbox", "must be a mailto: IRI")
    if "mbox_sha1sum" in value and not _SHA1.match(string(value["mbox_sha1sum"], f"{where}.mbox_sha1sum")):
        raise Invalid(f"{where}.mbox_sha1sum", "must be a hex SHA-1")
    if "openid" in value:
        iri(value["openid"], f"{where}.openid")
    if "account" in value:
        account = obj(value["account"], f"{where}.account", {"homePage", "name"}, ("homePage", "name"))
        iri(account["homePage"], f"{where}.account.homePage")
        string(account["name"], f"{where}.account.name")
    return len(found)


_AGENT_KEYS = {"objectType", "name", *_IFIS}


def agent(value: Any, where: str, object_type_required: bool = False) -> None:
    doc = obj(value, where, _AGENT_KEYS)
    if doc.get("objectType", "Agent" if not object_type_required else None) != "Agent":
        raise Invalid(f"{where}.objectType", "must be Agent")
    if "name" in doc:
        string(doc["name"], f"{where}.name")
    if _ifis(doc, where) != 1:
        raise Invalid(where, "an Agent needs exactly one of mbox, mbox_sha1sum, openid, account")


def group(value: Any, where: str) -> None:
    doc = obj(value, where, _AGENT_KEYS | {"member"}, ("objectType",))
    if doc["objectType"] != "Group":
        raise Invalid(f"{where}.objectType", "must be Group")
    if "name" in doc:
        string(doc["name"], f"{where}.name")
    identified = _ifis(doc, where)
    if "member" in doc or not identified:
        members = doc.get("member")
        if not isinstance(members, list) or (not identified and not members):
            raise Invalid(f"{where}.member", "an anonymous Group needs a list of members")
        for n, member in enumerate(members):
            agent(member, f"{where}.member[{n}]")


def actor(value: Any, where: str) -> None:
    if isinstance(value, dict) and value.get("objectType") == "Group":
        group(value, where)
    else:
        agent(value, where)


# --- verbs and activities ------------------------------------------------------------------------------

def verb(value: Any, where: str) -> None:
    doc = obj(value, where, {"id", "display"}, ("id",))
    iri(doc["id"], f"{where}.id")
    if "display" in doc:
        language_map(doc["display"], f"{where}.display")


def _components(value: Any, where: str) -> None:
    if not isinstance(value, list):
        raise Invalid(where, "must be a list of interaction components")
    seen: set[str] = set()
    for n, comp in enumerate(value):
        doc = obj(comp, f"{where}[{n}]", {"id", "description"}, ("id",))
        if string(doc["id"], f"{where}[{n}].id") in seen:
            raise Invalid(f"{where}[{n}].id", "repeats another component's id")
        seen.add(doc["id"])
        if "description" in doc:
            language_map(doc["description"], f"{where}[{n}].description")


def _interaction(doc: dict[str, Any], where: str) -> None:
    kind = doc.get("interactionType")
    if kind is not None and (not isinstance(kind, str) or kind not in INTERACTIONS):
        raise Invalid(f"{where}.interactionType", "is not an xAPI interaction type")
    for name in _COMPONENT_LISTS:
        if name in doc:
            if kind is None or name not in INTERACTIONS[str(kind)]:
                raise Invalid(f"{where}.{name}", f"is not allowed for interactionType {kind}")
            _components(doc[name], f"{where}.{name}")
    if "correctResponsesPattern" in doc:
        pattern = doc["correctResponsesPattern"]
        if kind is None or not isinstance(pattern, list):
            raise Invalid(f"{where}.correctResponsesPattern", "needs an interactionType and a list")
        for n, text in enumerate(pattern):
            string(text, f"{where}.correctResponsesPattern[{n}]")


_DEFINITION = {"name", "description", "type", "moreInfo", "extensions", "interactionType",
               "correctResponsesPattern", *_COMPONENT_LISTS}


def definition(value: Any, where: str) -> None:
    doc = obj(value, where, _DEFINITION)
    for name in ("name", "description"):
        if name in doc:
            language_map(doc[name], f"{where}.{name}")
    for name in ("type", "moreInfo"):
        if name in doc:
            iri(doc[name], f"{where}.{name}")
    if "extensions" in doc:
        extensions(doc["extensions"], f"{where}.extensions")
    _interaction(doc, where)


def activity(value: Any, where: str) -> None:
    doc = obj(value, where, {"objectType", "id", "definition"}, ("id",))
    if doc.get("objectType", "Activity") != "Activity":
        raise Invalid(f"{where}.objectType", "must be Activity")
    iri(doc["id"], f"{where}.id")
    if "definition" in doc:
        definition(doc["definition"], f"{where}.definition")


def statement_ref(value: Any, where: str) -> None:
    doc = obj(value, where, {"objectType", "id"}, ("objectType", "id"))
    if doc["objectType"] != "StatementRef":
        raise Invalid(f"{where}.objectType", "must be StatementRef")
    uuid(doc["id"], f"{where}.id")
