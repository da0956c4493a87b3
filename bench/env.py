"""The environment every bench part runs in: the unit tests' settings (operator client included)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BASE = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
    "ONRAMP_STAGE": "bench", "ONRAMP_TABLE": "onramp-bench", "ONRAMP_BUCKET": "onramp-content-bench",
    "ONRAMP_OPERATOR_CLIENT_ID": "operator-test", "ONRAMP_OPERATOR_CLIENT_SECRET": "operator-secret-for-tests",
    "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_NAMESPACE": "Onramp",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}
_DROP = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE", "PYTHONPATH")


def apply() -> None:
    """Pin this process's environment before any Onramp or AWS module is imported."""
    os.environ.update(BASE)
    for var in _DROP:
        os.environ.pop(var, None)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def child(endpoint: str | None = None) -> dict[str, str]:
    """The environment of a measured subprocess (a fresh interpreter)."""
    env = {k: v for k, v in os.environ.items() if k not in _DROP}
    env.update(BASE)
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    return env
