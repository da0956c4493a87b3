"""Calendar quarters (`2027Q1`, UTC): parsing, bounds, the quarter of a moment (scorecards, the CLI)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_QUARTER = re.compile(r"^([0-9]{4})Q([1-4])\Z")


def parse(quarter: str) -> tuple[int, int] | None:
    """(year, 1-4) of `2027Q1` (case-blind), else None."""
    found = _QUARTER.match(quarter.upper()) if quarter else None
    return (int(found.group(1)), int(found.group(2))) if found else None


def name(year: int, number: int) -> str:
    return f"{year:04d}Q{number}"


def start(quarter: str) -> datetime:
    """The quarter's first instant (UTC); ValueError for a malformed quarter."""
    parsed = parse(quarter)
    if parsed is None:
        raise ValueError(f"`{quarter}` is not a quarter (2027Q1)")
    year, number = parsed
    return datetime(year, 3 * number - 2, 1, tzinfo=UTC)


def following(quarter: str) -> str:
    year, number = parse(quarter) or (0, 0)
    return name(year + 1, 1) if number == 4 else name(year, number + 1)


def preceding(quarter: str) -> str:
    year, number = parse(quarter) or (0, 0)
    return name(year - 1, 4) if number == 1 else name(year, number - 1)


def end(quarter: str) -> datetime:
    """The next quarter's first instant: quarters are [start, end)."""
    return start(following(quarter))


def of(moment: datetime) -> str:
    """The quarter a moment falls in (UTC)."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return name(moment.year, (moment.month - 1) // 3 + 1)


def normal(quarter: str) -> str:
    """`2027q1` -> `2027Q1`."""
    return quarter.upper()
