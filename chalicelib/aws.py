"""AWS clients, made lazily in one place from configuration (AWS, moto or LocalStack by endpoint)."""

from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.config import settings


@cache
def client(service: str) -> Any:
    import boto3  # lazily: boto3 is most of a cold start

    cfg = settings()
    return boto3.session.Session().client(service, region_name=cfg.region, endpoint_url=cfg.aws_endpoint)


def dynamodb() -> Any:
    return client("dynamodb")


def s3() -> Any:
    return client("s3")


def secrets() -> Any:
    return client("secretsmanager")


def reset() -> None:
    """Drop cached clients (tests switch endpoints and moto sessions)."""
    client.cache_clear()
