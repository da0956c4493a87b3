"""Health: one GetItem proves the table answers."""

from __future__ import annotations

from typing import Any

from chalicelib import aws
from chalicelib.config import settings
from chalicelib.store import keys


def check() -> dict[str, Any]:
    try:
        aws.dynamodb().get_item(TableName=settings().table_name,
                                Key={"PK": {"S": keys.health_pk()}, "SK": {"S": keys.HEALTH_SK}})
        table = "ok"
    except Exception:  # noqa: BLE001 - any failure of the dependency is "down", never a 500
        table = "unavailable"
    return {"status": "ok" if table == "ok" else "degraded", "checks": {"table": table},
            "stage": settings().stage}
