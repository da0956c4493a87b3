"""In-process parts under moto's mock_aws: DynamoDB calls per route, and the spread of event partitions."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

Say = Callable[[str], None]


def ops(calls: dict[str, int]) -> str:
    """DynamoDB calls as the tables print them: `1 GetItem, 2 Query` (sorted by operation)."""
    return ", ".join(f"{v} {k}" for k, v in sorted(calls.items())) or "-"


def flat_ratio(say: Say, result: dict[str, Any], rows: list[dict[str, Any]], job: str, items: str) -> None:
    """A job's requests at the largest table over the smallest (goal 1.0: cost follows what is due), said and
    kept as result["ratio"]; `items` is the rows' key of the table size, and the noun said."""
    if len(rows) < 2:
        return
    ratio = rows[-1]["requests"] / rows[0]["requests"]
    result["ratio"] = round(ratio, 3)
    say(f"{job} requests, {rows[-1][items]:,} vs {rows[0][items]:,} {items}: ratio {ratio:.2f} (goal 1.0)")


@contextlib.contextmanager
def stack() -> Iterator[Any]:
    """moto + the table, bucket and platform secret + a chalice.test.Client, as the unit tests have them."""
    from chalice.test import Client
    from moto import mock_aws

    from chalicelib import aws as clients
    from chalicelib import emulator
    from chalicelib.auth import keys
    from chalicelib.config import settings
    from chalicelib.store import table
    from chalicelib.tenancy import cache
    from tests.unit.factories import Api

    emulator.install()  # DynamoDB transactions as `onramp dev` runs them: no table copy per transaction
    with mock_aws():
        clients.reset()
        keys.reset()
        cache.reset()
        table.ensure_table()
        table.ensure_bucket()
        secret = {"signingKeys": [keys._generate_key()], "cursorKey": "ab" * 32}
        clients.secrets().create_secret(Name=settings().secret_name, SecretString=json.dumps(secret))
        from app import app

        with Client(app) as client:
            yield Api(client)
        clients.reset()
        keys.reset()
        cache.reset()


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """The app prints EMF metrics and request logs to stdout (as Lambda wants): keep them out of the table."""
    logging.disable(logging.INFO)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logging.disable(logging.NOTSET)


def route_costs(say: Say) -> dict[str, Any]:
    from tests.unit import callcount

    with stack() as api:
        with quiet():
            costs = callcount.route_costs(api)
            cold = callcount.cold_get_tenant(api)
        scans = callcount.dynamodb_ledger()["Scan"]
    routes = {route: {"status": c.status, "dynamodb": dict(sorted(c.dynamodb.items())),
                      "calls": sum(c.dynamodb.values()), "note": c.note}
              for route, c in costs.items()}
    say(f"    measured {len(routes)} routes; cold GET tenant: {dict(cold)}")
    return {"warm": routes, "cold": {"GET /v1/tenants/{tenantId}": dict(cold)}, "scans": scans}


def event_spread(users: int, say: Say) -> dict[str, Any]:
    from chalicelib.store import keys
    from chalicelib.store.models import Event

    with stack() as api:
        with quiet():
            tenant = api.make_tenant(name="Spread", slug="spread")
            for n in range(users):
                api.make_user(tenant["id"], email=f"spread{n}@example.com", displayName=f"Spread {n}")
                if (n + 1) % 50 == 0:
                    say(f"    {n + 1}/{users} users created")
        counts = Counter({shard: sum(1 for _ in Event.query(keys.event_pk(tenant["id"], shard)))
                          for shard in range(keys.EVENT_SHARDS)})
    total = sum(counts.values())
    busiest = max(counts.values())
    return {
        "users": users, "events": total, "shards": keys.EVENT_SHARDS,
        "partitions_used": sum(1 for c in counts.values() if c),
        "busiest_partition_events": busiest, "busiest_share": round(busiest / total, 4),
        "quietest_partition_events": min(counts.values()),
        "ideal_share": round(1 / keys.EVENT_SHARDS, 4),
        "per_partition": [counts[s] for s in range(keys.EVENT_SHARDS)],
    }
