"""The environment every bench part runs in: the unit tests' settings (operator client included)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests import env as test_env  # noqa: E402 - needs the repo root on the path

# the unit tests' settings (tests/env.py), with the bench's own table and bucket
OVERRIDES = {"ONRAMP_STAGE": "bench", "ONRAMP_TABLE": "onramp-bench", "ONRAMP_BUCKET": "onramp-content-bench"}
BASE = {**test_env.BASE, **OVERRIDES}


def apply() -> None:
    """Pin this process's environment before any Onramp or AWS module is imported."""
    test_env.pin(**OVERRIDES)
    os.environ.pop("PYTHONPATH", None)


def child(endpoint: str | None = None) -> dict[str, str]:
    """The environment of a measured subprocess (a fresh interpreter)."""
    env = {k: v for k, v in os.environ.items() if not test_env.dropped(k) and k != "PYTHONPATH"}
    env.update(BASE)
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    return env
