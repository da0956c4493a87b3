"""The offline AWS environment the tests and the bench pin before any Onramp or AWS module is imported."""

from __future__ import annotations

import os

BASE = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "ONRAMP_STAGE": "test", "ONRAMP_TABLE": "onramp-test", "ONRAMP_BUCKET": "onramp-content-test",
    "ONRAMP_OPERATOR_CLIENT_ID": "operator-test", "ONRAMP_OPERATOR_CLIENT_SECRET": "operator-secret-for-tests",
    "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_NAMESPACE": "Onramp",
}


def dropped(name: str) -> bool:
    """A developer's own AWS settings that would route around moto (any AWS_ENDPOINT_URL*, a profile)."""
    return name.startswith("AWS_ENDPOINT_URL") or name == "AWS_PROFILE"


def pin(**overrides: str) -> dict[str, str]:
    """Pin this process's environment; returns the values pinned."""
    values = {**BASE, **overrides}
    for name in [n for n in os.environ if dropped(n)]:
        del os.environ[name]
    os.environ.update(values)
    return values
