"""Structured logs (Powertools Logger) with tenant and correlation ids, and EMF business metrics."""

from __future__ import annotations

import contextvars
import uuid
from functools import lru_cache
from typing import Any

SERVICE = "onramp"
NAMESPACE = "Onramp"
_correlation: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")


@lru_cache(maxsize=1)
def logger() -> Any:
    from aws_lambda_powertools import Logger

    return Logger(service=SERVICE)


@lru_cache(maxsize=1)
def metrics() -> Any:
    from aws_lambda_powertools import Metrics

    return Metrics(namespace=NAMESPACE, service=SERVICE)


def start_request(correlation_id: str | None, **keys: Any) -> str:
    """Begin a request: a fresh set of log keys (containers are reused) and its correlation id."""
    cid = correlation_id or uuid.uuid4().hex
    _correlation.set(cid)
    log = logger()
    log.clear_state()
    log.append_keys(correlation_id=cid, **keys)
    return cid


def correlation_id() -> str:
    return _correlation.get() or start_request(None)


def bind(**keys: Any) -> None:
    logger().append_keys(**{k: v for k, v in keys.items() if v is not None})


def count(name: str, value: int = 1) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)


def flush() -> None:
    if metrics.cache_info().currsize and metrics().metric_set:
        metrics().flush_metrics()
