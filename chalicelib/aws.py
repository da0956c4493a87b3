"""AWS clients, made lazily in one place from configuration (AWS, moto or LocalStack by endpoint)."""

from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.config import settings


@cache
def client(service: str) -> Any:
    cfg = settings()
    return _session().client(service, region_name=cfg.region, endpoint_url=cfg.aws_endpoint)


_boto3_sessions: dict[int, Any] = {}


def _session() -> Any:
    """A boto3 session over pynamodb's botocore session: botocore's data files are loaded once per
    container, not twice (about 50 ms of a cold start). boto3 registers its handlers on the botocore
    session it wraps, so there is exactly one boto3 session per botocore session."""
    import boto3

    from chalicelib.store.models import Item

    core = Item._get_connection().connection.session
    found = _boto3_sessions.get(id(core))
    if found is None or found._session is not core:
        found = _boto3_sessions[id(core)] = boto3.session.Session(botocore_session=core)
    return found


def dynamodb() -> Any:
    return client("dynamodb")


def s3() -> Any:
    return client("s3")


def secrets() -> Any:
    return client("secretsmanager")


def reset() -> None:
    """Drop cached clients (tests switch endpoints and moto sessions)."""
    client.cache_clear()
