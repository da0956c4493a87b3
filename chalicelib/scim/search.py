"""SCIM list queries without a Scan: a filter term that a key serves picks the candidates (one or two GetItem,
or one prefix Query); anything else pages through the tenant's list (GSI1 Query). The whole filter is then
evaluated on each candidate by scim2-models, so a key lookup only ever narrows, never decides."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

# (attribute, operator) -> candidates for the compared value; None when the term needs a listing
Lookups = dict[tuple[str, str], Callable[[str], Iterable[Any]]]


def _attribute(node: Any, core_urn: str) -> str | None:
    path = node.attr_path
    if path.sub_attr or (path.uri and path.uri.lower() != core_urn.lower()):
        return None
    return str(path.attr).lower()


def candidates(node: Any, lookups: Lookups, core_urn: str) -> Iterable[Any] | None:
    """The items a key lookup yields for the filter (a term of an `and` will do), or None: list them all."""
    from scim2_models.path import Comparison, LogicalExpr, LogicalOperator

    if isinstance(node, Comparison) and isinstance(node.value, str):
        attribute = _attribute(node, core_urn)
        lookup = lookups.get((attribute or "", str(node.op.value)))
        return lookup(node.value) if lookup else None
    if isinstance(node, LogicalExpr) and node.op == LogicalOperator.and_:
        for term in node.terms:
            found = candidates(term, lookups, core_urn)
            if found is not None:
                return found
    return None


def window(resources: Iterator[Any], matches: Callable[[Any], bool], start: int, count: int) -> tuple[list[Any], int]:
    """The page [start, start + count) of the matching resources (1-based) and how many match in all."""
    page: list[Any] = []
    total = 0
    for resource in resources:
        if not matches(resource):
            continue
        total += 1
        if start <= total < start + count:
            page.append(resource)
    return page, total
