"""Where a statement's index copies live: one per filterable value, each sorted by stored time.

The feed, verbs and activities (a popular course or tool can take a large share of a tenant's stream) are
sharded by the statement id over keys.STATEMENT_SHARDS partitions; agents and registrations are one
partition per value (many values, each one person's stream). See docs/lrs.md.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from chalicelib.lrs.facets import Facets, value_hash
from chalicelib.store import keys

SHARDED = ("verb", "activity")


def shard_of(statement_id: str) -> int:
    return zlib.crc32(statement_id.encode()) % keys.STATEMENT_SHARDS


@dataclass(frozen=True)
class Partition:
    """One filter's partitions: a single one, or every shard of a sharded dimension."""

    pks: tuple[str, ...]


def feed(tenant_id: str) -> Partition:
    return Partition(tuple(keys.statement_feed_pk(tenant_id, n) for n in range(keys.STATEMENT_SHARDS)))


def of(tenant_id: str, dimension: str, value: str) -> Partition:
    hashed = value_hash(value)
    if dimension in SHARDED:
        return Partition(tuple(keys.statement_index_pk(tenant_id, dimension, hashed, n)
                               for n in range(keys.STATEMENT_SHARDS)))
    return Partition((keys.statement_index_pk(tenant_id, dimension, hashed),))


@dataclass(frozen=True)
class Copy:
    """Where one index copy goes: the feed (`dimension == "feed"`) or a dimension's value partition."""

    dimension: str
    value_hash: str = ""
    shard: int | None = None


def copies(statement_id: str, found: Facets, feed: bool = True) -> list[Copy]:
    """Every index copy of one statement (`feed` False: the filter partitions only, for the copies a
    statement gets under the facets of a statement it references)."""
    shard = shard_of(statement_id)
    out = [Copy("feed", shard=shard)] if feed else []
    out.append(Copy("verb", value_hash(found.verb), shard))
    out += [Copy("agent", value_hash(a)) for a in sorted(found.related_agents)]
    out += [Copy("activity", value_hash(a), shard) for a in sorted(found.related_activities)]
    if found.registration:
        out.append(Copy("registration", value_hash(found.registration)))
    return out
