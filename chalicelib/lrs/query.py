"""GET /statements with filters: one index partition (or the shards of one) per query, by stored time.

The most selective filter picks the partition (registration, agent, activity, verb, else the feed); the
other filters are conditions on the index copies in that partition, never a scan of the tenant. `more`
is a signed cursor holding the query and the last position returned.

A statement that references another (StatementRef) also has copies under the facets of the statements its
chain reaches (`<stored>#<id>#<target>`, next to its own `<stored>#<id>`), so one partition can hold it
more than once: each is returned once, and positions are `<stored>#<id>`.
"""

from __future__ import annotations

import heapq
from dataclasses import asdict, dataclass
from typing import Any

from chalicelib.auth.principal import TenantContext
from chalicelib.clock import utcnow_iso
from chalicelib.errors import ValidationFailed
from chalicelib.lrs import formats, indexing, scopes, statements
from chalicelib.lrs.params import Filters
from chalicelib.store import pagination
from chalicelib.store.models import StatementRecord

MAX_LIMIT = 200
_LOW, _HIGH = "0", "~"  # below and above every `<stored>#<id>` sort key


@dataclass(frozen=True)
class Page:
    statements: list[dict[str, Any]]
    more: str
    consistent_through: str
    attachments: bool = False  # answer in the multipart format with the attachments' data


def _position(record: StatementRecord) -> str:
    """`<stored>#<id>` of any copy of a statement (its own, or one under a referenced statement's facets)."""
    return "#".join(record.SK.split("#", 2)[:2])


def _bounds(f: Filters, after: str | None) -> tuple[str, str]:
    low = f"{f.since}#~" if f.since else _LOW
    high = f"{f.until}#~" if f.until else _HIGH
    if after and f.ascending:
        low = max(low, after + "#~")  # past `after` and every `after#<target>`
    elif after:
        high = min(high, after[:-1] + chr(ord(after[-1]) - 1) + "~" * 8)
    return low, high


def _partition(tenant_id: str, f: Filters) -> tuple[str, indexing.Partition]:
    for dimension, value in (("registration", f.registration), ("agent", f.agent), ("activity", f.activity),
                             ("verb", f.verb)):
        if value:
            return dimension, indexing.of(tenant_id, dimension, value)
    return "feed", indexing.feed(tenant_id)


def _conditions(ctx: TenantContext, f: Filters, primary: str) -> Any:
    cond = StatementRecord.voided.does_not_exist()
    if f.agent and not (primary == "agent" and f.related_agents):
        cond &= (StatementRecord.related_agents if f.related_agents else StatementRecord.agents).contains(f.agent)
    if f.activity and not (primary == "activity" and f.related_activities):
        cond &= (StatementRecord.related_activities.contains(f.activity) if f.related_activities
                 else StatementRecord.activity == f.activity)
    if f.verb and primary != "verb":
        cond &= StatementRecord.verb == f.verb
    if f.registration and primary != "registration":
        cond &= StatementRecord.registration == f.registration
    if scopes.READ_ALL not in ctx.principal.scopes:  # statements/read/mine
        cond &= StatementRecord.authority == statements.authority_name(ctx.principal)
    return cond


def _fetch(pk: str, f: Filters, bounds: tuple[str, str], cond: Any, want: int) -> list[StatementRecord]:
    """The first `want` statements of one partition, each once (its copies sort next to each other)."""
    found: list[StatementRecord] = []
    for record in StatementRecord.query(pk, StatementRecord.SK.between(*bounds), filter_condition=cond,
                                        scan_index_forward=f.ascending, page_size=want):
        if found and found[-1].statement_id == record.statement_id:
            continue
        found.append(record)
        if len(found) == want:
            break
    return found


def run(ctx: TenantContext, f: Filters, after: str | None = None) -> Page:
    through = utcnow_iso()
    limit = min(f.limit or MAX_LIMIT, MAX_LIMIT)
    primary, partition = _partition(ctx.tenant_id, f)
    bounds, cond = _bounds(f, after), _conditions(ctx, f, primary)
    found = [r for pk in partition.pks for r in _fetch(pk, f, bounds, cond, limit + 1)]
    pick = heapq.nsmallest if f.ascending else heapq.nlargest
    ordered = pick(limit + 1, found, key=_position)
    page = ordered[:limit]
    more = ""
    if len(ordered) > limit:
        cursor = pagination.encode({"q": asdict(f), "after": _position(page[-1])}, _bound(ctx))
        more = f"/v1/tenants/{ctx.tenant_id}/xapi/statements?more={cursor}"
    docs = [formats.render(statements.document(r), f.format, f.accept_language) for r in page]
    return Page(docs, more, through, f.attachments)


def _bound(ctx: TenantContext) -> str:
    return f"xapi|{ctx.tenant_id}"  # each page re-applies the caller's own scopes (read/mine)


def resume(ctx: TenantContext, cursor: str) -> Page:
    state = pagination.decode(cursor, _bound(ctx)) or {}
    try:
        filters = Filters(**state["q"])
    except (KeyError, TypeError):
        raise ValidationFailed("The `more` cursor is not valid.") from None
    return run(ctx, filters, str(state["after"]))


