"""Course outcomes as xAPI statements in the tenant's own LRS (consumers of the attempt events).

The learner is an account agent on the platform; the course is an activity of the tenant; the content
version, attempt and enrollment travel as context extensions, so the LRS answers "what did this learner
complete, on which version". Statement ids are UUIDv5 of the attempt and verb: a redelivered event
stores the same statement again, which the LRS treats as a no-op.
"""

from __future__ import annotations

import uuid
from typing import Any

from chalicelib.config import settings
from chalicelib.content import runtime
from chalicelib.events.consumer import EventEnvelope, subscribe

VERBS = {
    "completed": "http://adlnet.gov/expapi/verbs/completed",
    "passed": "http://adlnet.gov/expapi/verbs/passed",
    "failed": "http://adlnet.gov/expapi/verbs/failed",
}
COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"
_NS = uuid.UUID("8a3c5f1e-4d2b-4c7a-9e61-0b7f3d2a1c55")  # Onramp's namespace for derived statement ids


def extension(name: str) -> str:
    return f"{settings().issuer}/xapi/extensions/{name}"


def statement(tenant_id: str, detail: dict[str, Any], verb: str) -> dict[str, Any]:
    issuer = settings().issuer
    result: dict[str, Any] = {"completion": True, "duration": runtime.format_duration(
        runtime.SCORM2004, float(detail.get("durationSeconds") or 0))}
    if detail.get("success") in ("passed", "failed"):
        result["success"] = detail["success"] == "passed"
    if detail.get("score") is not None:
        result["score"] = {"scaled": round(max(-1.0, min(1.0, float(detail["score"]) / 100)), 4)}
    return {
        "id": str(uuid.uuid5(_NS, f"{tenant_id}/{detail['attemptId']}/{verb}")),
        "actor": {"objectType": "Agent", "account": {"homePage": issuer, "name": detail["userId"]}},
        "verb": {"id": VERBS[verb], "display": {"en-US": verb}},
        "object": {"objectType": "Activity", "id": f"{issuer}/tenants/{tenant_id}/courses/{detail['courseId']}",
                   "definition": {"type": COURSE_TYPE,
                                  "name": {"en-US": detail.get("courseTitle") or detail["courseId"]}}},
        "result": result,
        "context": {"registration": str(uuid.uuid5(_NS, f"{tenant_id}/{detail['enrollmentId']}")),
                    "platform": "Onramp",
                    "extensions": {extension("content-version"): detail["version"],
                                   extension("attempt"): detail["attemptId"]}},
        "timestamp": detail["at"],
    }


@subscribe("CourseCompleted")
@subscribe("CourseFailed")
def record_outcome(event: EventEnvelope) -> None:
    from chalicelib.lrs import statements

    if not event.tenant_id:
        return
    verbs = ["completed"] + ([event.detail["success"]] if event.detail.get("success") in ("passed", "failed") else [])
    statements.store(statements.platform_context(event.tenant_id, "system:player"),
                     [statement(event.tenant_id, event.detail, v) for v in verbs])
