"""Business-hours arithmetic over a partner's calendar (pure functions; docs/partners.md "SLAs").

A calendar is an IANA time zone, the working weekdays, one working window per day (local wall-clock start and
end, end may be 24:00) and holiday dates. Each working day's window is turned into UTC instants through
zoneinfo, and all arithmetic happens on UTC instants: so a DST change counts the hours really elapsed, and
subtracting two aware datetimes of one zone (which Python does on wall-clock time) never happens.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 3 * 366  # a calendar that yields no working time for three years is a broken calendar
HOUR = timedelta(hours=1)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Calendar:
    timezone: str = "UTC"
    working_days: frozenset[str] = frozenset(WEEKDAYS[:5])
    start: str = "09:00"  # local wall clock, HH:MM
    end: str = "17:00"  # HH:MM, or 24:00 for midnight at the end of the day
    holidays: frozenset[date] = frozenset()

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Calendar:
        """The stored JSON form (`timezone`, `workingDays`, `workingHours` {start, end}, `holidays`)."""
        if not data:
            return cls()
        hours = data.get("workingHours") or {}
        return cls(timezone=str(data.get("timezone") or "UTC"),
                   working_days=frozenset(str(d) for d in data.get("workingDays") or WEEKDAYS[:5]),
                   start=str(hours.get("start", "09:00")), end=str(hours.get("end", "17:00")),
                   holidays=frozenset(date.fromisoformat(str(d)) for d in data.get("holidays") or []))

    def to_json(self) -> dict[str, Any]:
        return {"timezone": self.timezone, "workingDays": [d for d in WEEKDAYS if d in self.working_days],
                "workingHours": {"start": self.start, "end": self.end},
                "holidays": sorted(d.isoformat() for d in self.holidays)}


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _local(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time (`minutes` after midnight; 1440 is the next midnight)."""
    moment = datetime.combine(day, time(0), tzinfo=zone) if minutes == 0 else (
        datetime.combine(day + timedelta(days=minutes // 1440), time(minutes % 1440 // 60, minutes % 60), tzinfo=zone))
    return moment.astimezone(UTC)


def windows(calendar: Calendar, first: date) -> Iterator[tuple[datetime, datetime]]:
    """The working windows (UTC start, UTC end) of the local days from `first` on, at most MAX_DAYS days."""
    zone = ZoneInfo(calendar.timezone)
    start, end = _minutes(calendar.start), _minutes(calendar.end)
    for n in range(MAX_DAYS):
        day = first + timedelta(days=n)
        if WEEKDAYS[day.weekday()] in calendar.working_days and day not in calendar.holidays:
            opens, closes = _local(day, start, zone), _local(day, end, zone)
            if closes > opens:
                yield opens, closes


def _utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _first_day(moment: datetime, calendar: Calendar) -> date:
    return moment.astimezone(ZoneInfo(calendar.timezone)).date() - timedelta(days=1)


def add_business_hours(start: datetime, hours: float | int | Decimal, calendar: Calendar) -> datetime:
    """The UTC instant `hours` business hours after `start` (which may fall outside working time: the clock
    starts at the next opening). Exactly used up at a closing time, the answer is that closing time."""
    cursor, left = _utc(start), timedelta(seconds=float(Decimal(str(hours)) * 3600))
    if left <= timedelta(0):
        return cursor
    for opens, closes in windows(calendar, _first_day(cursor, calendar)):
        if closes <= cursor:
            continue
        begin = max(opens, cursor)
        if left <= closes - begin:
            return begin + left
        left -= closes - begin
    raise ValueError("the calendar has no working time left within three years")


def business_time_between(a: datetime, b: datetime, calendar: Calendar) -> timedelta:
    """The working time between two instants (zero when b is not after a)."""
    a, b = _utc(a), _utc(b)
    total = timedelta(0)
    if b <= a:
        return total
    for opens, closes in windows(calendar, _first_day(a, calendar)):
        if opens >= b:
            break
        overlap = min(closes, b) - max(opens, a)
        if overlap > timedelta(0):
            total += overlap
    return total


def business_hours_between(a: datetime, b: datetime, calendar: Calendar) -> Decimal:
    """The business hours between two instants, to the hundredth (half up)."""
    seconds = Decimal(int(business_time_between(a, b, calendar).total_seconds()))
    return (seconds / 3600).quantize(CENT, rounding=ROUND_HALF_UP)
