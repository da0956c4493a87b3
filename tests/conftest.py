"""Shared fixtures: the environment is pinned before any Onramp or AWS module is imported."""

from __future__ import annotations

import os

os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "ONRAMP_STAGE": "test", "ONRAMP_TABLE": "onramp-test", "ONRAMP_BUCKET": "onramp-content-test",
    "ONRAMP_OPERATOR_CLIENT_ID": "operator-test", "ONRAMP_OPERATOR_CLIENT_SECRET": "operator-secret-for-tests",
    "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_NAMESPACE": "Onramp",
})
for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
    os.environ.pop(var, None)
