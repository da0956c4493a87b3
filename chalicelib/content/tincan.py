"""xAPI ("TinCan") packages: the activity launches with the TinCan launch parameters and reports to the
tenant's LRS itself.

The launch URL carries `endpoint`, `auth` (an HTTP Basic credential of the tenant's LRS issued for this
launch session: short-lived, statements/write and state, the same session bookkeeping as a cmi5 fetch),
`actor`, `registration` and `activity_id` (Rustici's "Launch" conventions that tincan.xml packages
follow). Statements the activity stores with that credential about its activity fold into the attempt:
`completed` / `passed` / `failed` verbs, or result.completion / result.success.
"""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any

from chalicelib import observability
from chalicelib.content import cmi5
from chalicelib.store.models import Attempt, plain

COMPLETED, PASSED, FAILED = cmi5.COMPLETED, cmi5.PASSED, cmi5.FAILED


def activity_id(sco: dict[str, Any]) -> str:
    return str(sco.get("activityId") or sco["id"])


def launch_url(tenant_id: str, attempt: Attempt, index: int, base_url: str, content_url: str) -> str:
    """The activity's URL with the launch parameters, its session's LRS credential issued."""
    sco = dict(plain(attempt.scos[index]))
    reg, learner, activity = cmi5.registration(tenant_id, attempt.id), cmi5.actor(attempt.user_id), activity_id(sco)
    auth = cmi5.issue_credential(tenant_id, {"t": tenant_id, "a": attempt.id, "u": attempt.user_id, "i": index,
                                             "s": str(uuid.uuid4()), "r": reg, "ac": activity,
                                             "j": secrets.token_hex(10)})
    observability.count("XapiActivityLaunched")
    return cmi5.with_params(cmi5.au_url(sco, base_url, content_url), {
        "endpoint": cmi5.endpoint(base_url, tenant_id), "auth": f"Basic {auth}",
        "actor": json.dumps(learner, separators=(",", ":")), "registration": reg, "activity_id": activity})


def outcome(statement: dict[str, Any], activity: str, registration: str | None) -> tuple[
        str | None, str | None, float | None]:
    """(completion, success, scaled score) a statement about the launched activity reports."""
    if not isinstance(statement, dict) or (statement.get("object") or {}).get("id") != activity:
        return None, None, None
    context = statement.get("context") or {}
    if registration and context.get("registration") not in (None, registration):
        return None, None, None
    verb = (statement.get("verb") or {}).get("id")
    result = statement.get("result") or {}
    completed = verb in (COMPLETED, PASSED, FAILED) or result.get("completion") is True
    success = "passed" if verb == PASSED or result.get("success") is True else (
        "failed" if verb == FAILED or result.get("success") is False else None)
    return ("completed" if completed else None), success, cmi5.scaled_score(result.get("score"))
