"""The Activities resource's canonical Activity objects (xAPI Communication 2.5).

Each stored statement's activity definitions (its object, its context activities, and those of a
sub-statement) are merged into one item per activity: language maps (`name`, `description`) and
`extensions` merge key by key, every other field takes the latest value. `GET activities` returns the
merged object (1 GetItem).

The merge runs after the statements' transactions, for statements stored by this request (a replayed
batch merges nothing): one BatchGetItem of the activities' items, then one transaction of PutItems, each
conditional on the revision read (a concurrent merge is a conflict: read again and merge again).
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.errors import Conflict
from chalicelib.lrs.facets import value_hash
from chalicelib.store import keys
from chalicelib.store.models import Item, XapiActivity
from chalicelib.store.tx import Tx, TxConflict

_MERGED_MAPS = ("name", "description", "extensions")
_MAX_OPS = 100


def _activities(doc: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    obj = doc.get("object")
    if isinstance(obj, dict):
        if obj.get("objectType", "Activity") == "Activity":
            found.append(obj)
        elif obj.get("objectType") == "SubStatement":
            found.extend(_activities(obj))
    context = doc.get("context")
    if isinstance(context, dict) and isinstance(context.get("contextActivities"), dict):
        for value in context["contextActivities"].values():
            found.extend(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, dict))
    return found


def merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    out = dict(old)
    for name, value in new.items():
        if name in _MERGED_MAPS and isinstance(value, dict) and isinstance(out.get(name), dict):
            out[name] = {**out[name], **value}
        else:
            out[name] = value
    return out


def definitions(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Activity id -> the definitions of these statements merged in order (activities with one)."""
    merged: dict[str, dict[str, Any]] = {}
    for doc in docs:
        for activity in _activities(doc):
            definition = activity.get("definition")
            if isinstance(definition, dict) and definition and isinstance(activity.get("id"), str):
                merged[activity["id"]] = merge(merged.get(activity["id"], {}), definition)
    return merged


def _key(tenant_id: str, activity_id: str) -> tuple[str, str]:
    return keys.xapi_activity_pk(tenant_id, value_hash(activity_id)), keys.XAPI_ACTIVITY_SK


def record(tenant_id: str, docs: list[dict[str, Any]]) -> None:
    """Merge the definitions of newly stored statements into their activities' canonical objects."""
    found = definitions(docs)
    ids = sorted(found)
    for start in range(0, len(ids), _MAX_OPS):
        _merge_some(tenant_id, {i: found[i] for i in ids[start:start + _MAX_OPS]})


def _merge_some(tenant_id: str, found: dict[str, dict[str, Any]]) -> None:
    for _attempt in range(5):
        current = {r.activity_id: r for r in XapiActivity.batch_get([_key(tenant_id, i) for i in found])}
        tx, writes = Tx(), 0
        for activity_id, definition in found.items():
            old = current.get(activity_id)
            before = json.loads(old.definition) if old else {}
            after = merge(before, definition)
            if old is not None and after == before:
                continue
            item = XapiActivity(PK=keys.xapi_activity_pk(tenant_id, value_hash(activity_id)),
                                SK=keys.XAPI_ACTIVITY_SK, activity_id=activity_id, definition=json.dumps(after),
                                revision=(old.revision + 1) if old else 1)
            condition = (XapiActivity.revision == old.revision) if old else Item.PK.does_not_exist()
            tx.put(item, condition, activity_id)
            writes += 1
        if not writes:
            return
        try:
            tx.commit()
            return
        except TxConflict:
            continue  # merged by another request meanwhile: read again
    raise Conflict("The activity definitions kept conflicting with concurrent writes; retry the request.")


def canonical(tenant_id: str, activity_id: str) -> dict[str, Any]:
    """The Activity object: the id, and the merged definition when a statement gave one."""
    out: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    pk, sk = _key(tenant_id, activity_id)
    try:
        found = XapiActivity.get(pk, sk)
    except XapiActivity.DoesNotExist:
        return out
    out["definition"] = json.loads(found.definition)
    return out
