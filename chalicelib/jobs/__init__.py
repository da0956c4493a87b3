"""Scheduled jobs: registered here with their schedule; app.py wires each to an EventBridge rule,
and `onramp jobs run NAME --as-of T` runs one by hand (locally through chalice.test.Client)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Job:
    name: str
    schedule: str  # an EventBridge expression: rate(...) or cron(...)
    run: Callable[[datetime], dict[str, Any]]
    description: str


JOBS: dict[str, Job] = {}


JobFn = Callable[[datetime], dict[str, Any]]


def job(name: str, schedule: str, description: str) -> Callable[[JobFn], JobFn]:
    def register(fn: Callable[[datetime], dict[str, Any]]) -> Callable[[datetime], dict[str, Any]]:
        JOBS[name] = Job(name, schedule, fn, description)
        return fn

    return register


def function_name(name: str) -> str:
    """The Lambda handler name of a job (Chalice names functions after Python identifiers)."""
    return "job_" + name.replace("-", "_")
