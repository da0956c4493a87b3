"""Runs a registered job for an "as of" time (from the event's detail, else the event's time)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib import observability as obs
from chalicelib.jobs import JOBS


def as_of_from(event: Any) -> datetime:
    detail = getattr(event, "detail", None) or {}
    stamp = detail.get("asOf") or getattr(event, "time", None)
    if not stamp:
        return datetime.now(UTC)
    moment = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run_scheduled(name: str, event: Any) -> dict[str, Any]:
    obs.start_request(getattr(event, "event_id", None), job=name)
    as_of = as_of_from(event)
    result = JOBS[name].run(as_of)
    obs.logger().info("job finished", extra={"job": name, "as_of": as_of.isoformat(), "result": result})
    obs.count(f"Job.{name}")
    obs.flush()
    return result
