"""Statements, sub-statements, results, contexts and attachments (xAPI 1.0.3 Part Two §2.4)."""

from __future__ import annotations

from typing import Any

from chalicelib.lrs.validate import (
    VOIDED,
    Invalid,
    activity,
    actor,
    agent,
    boolean,
    duration,
    extensions,
    group,
    iri,
    language,
    language_map,
    number,
    obj,
    statement_ref,
    string,
    timestamp,
    uuid,
    verb,
)

_STATEMENT = {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority",
              "version", "attachments"}
_SUB = {"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments"}
_CONTEXT = {"registration", "instructor", "team", "contextActivities", "revision", "platform", "language",
            "statement", "extensions"}
_CONTEXT_ACTIVITIES = {"parent", "grouping", "category", "other"}


def score(value: Any, where: str) -> None:
    doc = obj(value, where, {"scaled", "raw", "min", "max"})
    numbers = {k: number(v, f"{where}.{k}") for k, v in doc.items()}
    if "scaled" in numbers and not -1 <= numbers["scaled"] <= 1:
        raise Invalid(f"{where}.scaled", "must be between -1 and 1")
    low, high, raw = numbers.get("min"), numbers.get("max"), numbers.get("raw")
    if low is not None and high is not None and low >= high:
        raise Invalid(where, "min must be less than max")
    if raw is not None and ((low is not None and raw < low) or (high is not None and raw > high)):
        raise Invalid(f"{where}.raw", "must be between min and max")


def result(value: Any, where: str) -> None:
    doc = obj(value, where, {"score", "success", "completion", "response", "duration", "extensions"})
    if "score" in doc:
        score(doc["score"], f"{where}.score")
    for name in ("success", "completion"):
        if name in doc:
            boolean(doc[name], f"{where}.{name}")
    if "response" in doc:
        string(doc["response"], f"{where}.response")
    if "duration" in doc:
        duration(doc["duration"], f"{where}.duration")
    if "extensions" in doc:
        extensions(doc["extensions"], f"{where}.extensions")


def context_activities(value: Any, where: str) -> None:
    doc = obj(value, where, _CONTEXT_ACTIVITIES)
    for name, items in doc.items():
        for n, item in enumerate(items if isinstance(items, list) else [items]):
            activity(item, f"{where}.{name}[{n}]")


def context(value: Any, where: str, object_is_activity: bool) -> None:
    doc = obj(value, where, _CONTEXT)
    checks = {"registration": uuid, "instructor": actor, "team": group, "contextActivities": context_activities,
              "revision": string, "platform": string, "language": language, "statement": statement_ref,
              "extensions": extensions}
    for name, item in doc.items():
        checks[name](item, f"{where}.{name}")
    if not object_is_activity and ({"revision", "platform"} & doc.keys()):
        raise Invalid(where, "revision and platform are only for statements about an Activity")


def attachments(value: Any, where: str) -> None:
    if not isinstance(value, list):
        raise Invalid(where, "must be a list")
    for n, item in enumerate(value):
        at = f"{where}[{n}]"
        doc = obj(item, at, {"usageType", "display", "description", "contentType", "length", "sha2",
                              "fileUrl"}, ("usageType", "display", "contentType", "length", "sha2"))
        iri(doc["usageType"], f"{at}.usageType")
        language_map(doc["display"], f"{at}.display")
        if "description" in doc:
            language_map(doc["description"], f"{at}.description")
        string(doc["contentType"], f"{at}.contentType")
        if isinstance(doc["length"], bool) or not isinstance(doc["length"], int) or doc["length"] < 0:
            raise Invalid(f"{at}.length", "must be a non-negative integer")
        string(doc["sha2"], f"{at}.sha2")
        if "fileUrl" in doc:
            iri(doc["fileUrl"], f"{at}.fileUrl")


def statement_object(value: Any, where: str, sub: bool = False) -> None:
    kind = value.get("objectType", "Activity") if isinstance(value, dict) else None
    if kind == "Activity":
        activity(value, where)
    elif kind == "Agent":
        agent(value, where, object_type_required=True)
    elif kind == "Group":
        group(value, where)
    elif kind == "StatementRef":
        statement_ref(value, where)
    elif kind == "SubStatement" and not sub:
        substatement(value, where)
    else:
        raise Invalid(f"{where}.objectType", "is not an object type allowed here")


def _body(doc: dict[str, Any], where: str, sub: bool) -> None:
    actor(doc["actor"], f"{where}actor")
    verb(doc["verb"], f"{where}verb")
    statement_object(doc["object"], f"{where}object", sub)
    if "result" in doc:
        result(doc["result"], f"{where}result")
    if "context" in doc:
        kind = doc["object"].get("objectType", "Activity")
        context(doc["context"], f"{where}context", kind == "Activity")
    if "timestamp" in doc:
        timestamp(doc["timestamp"], f"{where}timestamp")
    if "attachments" in doc:
        attachments(doc["attachments"], f"{where}attachments")


def substatement(value: Any, where: str) -> None:
    doc = obj(value, where, _SUB, ("objectType", "actor", "verb", "object"))
    _body(doc, f"{where}.", sub=True)


def _authority(value: Any, where: str) -> None:
    """An Agent, or the anonymous Group of exactly two Agents of a 3-legged OAuth authority (Data 2.4.9)."""
    actor(value, where)
    if value.get("objectType") == "Group":
        if any(ifi in value for ifi in ("mbox", "mbox_sha1sum", "openid", "account")):
            raise Invalid(where, "a Group authority must be anonymous")
        members = value.get("member")
        if not isinstance(members, list) or len(members) != 2 \
                or any(m.get("objectType", "Agent") != "Agent" for m in members):
            raise Invalid(f"{where}.member", "a Group authority has exactly two Agents")


def statement(value: Any, where: str = "") -> None:
    """Raise `Invalid` unless `value` is a valid xAPI 1.0.3 statement."""
    doc = obj(value, where or "statement", _STATEMENT, ("actor", "verb", "object"))
    prefix = f"{where}." if where else ""
    if "id" in doc:
        uuid(doc["id"], f"{prefix}id")
    _body(doc, prefix, sub=False)
    for name in ("stored",):
        if name in doc:
            timestamp(doc[name], f"{prefix}{name}")
    if "authority" in doc:
        _authority(doc["authority"], f"{prefix}authority")
    if "version" in doc and not str(string(doc["version"], f"{prefix}version")).startswith("1.0"):
        raise Invalid(f"{prefix}version", "must be 1.0.x")
    if doc["verb"]["id"] == VOIDED and doc["object"].get("objectType") != "StatementRef":
        raise Invalid(f"{prefix}object", "a voiding statement's object must be a StatementRef")
