"""Business-hours arithmetic: weekends, holidays, starts outside working time, DST changes, time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from chalicelib.partners.business_hours import (
    WEEKDAYS,
    Calendar,
    add_business_hours,
    business_hours_between,
    business_time_between,
)

DEFAULT = Calendar()  # Mon-Fri 09:00-17:00 UTC
BERLIN = Calendar(timezone="Europe/Berlin")
ALWAYS_BERLIN = Calendar(timezone="Europe/Berlin", working_days=frozenset(WEEKDAYS), start="00:00", end="24:00")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def local(zone: str, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(zone))  # type: ignore[misc]


# 2027-03-01 is a Monday; 2027-03-05 a Friday
@pytest.mark.parametrize(("start", "hours", "due"), [
    (utc(2027, 3, 1, 10, 0), 4, utc(2027, 3, 1, 14, 0)),  # inside one day
    (utc(2027, 3, 1, 13, 0), 4, utc(2027, 3, 1, 17, 0)),  # used up exactly at closing: that closing time
    (utc(2027, 3, 5, 15, 0), 4, utc(2027, 3, 8, 11, 0)),  # Friday afternoon -> Monday
    (utc(2027, 3, 1, 7, 30), 4, utc(2027, 3, 1, 13, 0)),  # before opening: from 09:00
    (utc(2027, 3, 1, 18, 0), 1, utc(2027, 3, 2, 10, 0)),  # after closing: next morning
    (utc(2027, 3, 6, 12, 0), 2, utc(2027, 3, 8, 11, 0)),  # Saturday: Monday morning
    (utc(2027, 3, 1, 9, 0), 48, utc(2027, 3, 8, 17, 0)),  # 48 business hours: six working days (Mon-Fri, Mon)
    (utc(2027, 3, 1, 10, 0), Decimal("0.5"), utc(2027, 3, 1, 10, 30)),
])
def test_add_business_hours_default_calendar(start: datetime, hours: int, due: datetime) -> None:
    assert add_business_hours(start, hours, DEFAULT) == due


def test_holidays_are_skipped() -> None:
    good_friday = Calendar(holidays=frozenset({date(2027, 3, 26)}))
    # Thursday 15:00 + 4: two hours Thursday, the Friday is a holiday, two hours Monday
    assert add_business_hours(utc(2027, 3, 25, 15, 0), 4, good_friday) == utc(2027, 3, 29, 11, 0)
    assert business_hours_between(utc(2027, 3, 25, 15, 0), utc(2027, 3, 29, 11, 0), good_friday) == Decimal("4.00")
    # a case opened on the holiday starts its clock on the next working day
    assert add_business_hours(utc(2027, 3, 26, 10, 0), 1, good_friday) == utc(2027, 3, 29, 10, 0)


def test_a_time_zone_moves_the_window() -> None:
    # Berlin in winter is UTC+1: 09:00-17:00 local is 08:00-16:00 UTC
    assert add_business_hours(utc(2027, 1, 4, 15, 0), 2, BERLIN) == utc(2027, 1, 5, 9, 0)
    tokyo = Calendar(timezone="Asia/Tokyo")  # UTC+9, no DST: a Monday 23:00 UTC is Tuesday 08:00 in Tokyo
    assert add_business_hours(utc(2027, 3, 1, 23, 0), 1, tokyo) == utc(2027, 3, 2, 1, 0)


def test_dst_spring_forward_keeps_the_local_window_and_counts_real_hours() -> None:
    # Europe/Berlin springs forward on Sunday 2027-03-28 (02:00 -> 03:00): Friday 16:00 CET + 2 business hours
    # ends Monday 10:00 CEST, i.e. 08:00 UTC (not 09:00)
    start = local("Europe/Berlin", 2027, 3, 26, 16, 0)
    assert add_business_hours(start, 2, BERLIN) == utc(2027, 3, 29, 8, 0)
    # the whole-day calendar: that Sunday has 23 hours, the week-end 47
    saturday, monday = local("Europe/Berlin", 2027, 3, 27), local("Europe/Berlin", 2027, 3, 29)
    assert business_hours_between(saturday, monday, ALWAYS_BERLIN) == Decimal("47.00")
    assert add_business_hours(saturday, 47, ALWAYS_BERLIN) == monday.astimezone(UTC)


def test_dst_fall_back_day_has_25_hours() -> None:
    always = Calendar(timezone="America/New_York", working_days=frozenset(WEEKDAYS), start="00:00", end="24:00")
    sunday, monday = local("America/New_York", 2027, 11, 7), local("America/New_York", 2027, 11, 8)
    assert business_time_between(sunday, monday, always) == timedelta(hours=25)
    # a 09:00-17:00 day right after the change still has 8 hours, now at UTC-5
    ny = Calendar(timezone="America/New_York")
    assert add_business_hours(local("America/New_York", 2027, 11, 5, 16, 0), 2, ny) == utc(2027, 11, 8, 15, 0)


@pytest.mark.parametrize(("a", "b", "hours"), [
    (utc(2027, 3, 5, 15, 0), utc(2027, 3, 8, 11, 0), "4.00"),  # over a weekend
    (utc(2027, 3, 1, 0, 0), utc(2027, 3, 8, 0, 0), "40.00"),  # a whole week
    (utc(2027, 3, 6, 0, 0), utc(2027, 3, 7, 23, 0), "0.00"),  # a weekend only
    (utc(2027, 3, 1, 12, 0), utc(2027, 3, 1, 12, 20), "0.33"),  # rounded to the hundredth
    (utc(2027, 3, 2, 12, 0), utc(2027, 3, 1, 12, 0), "0.00"),  # b before a
])
def test_business_hours_between(a: datetime, b: datetime, hours: str) -> None:
    assert business_hours_between(a, b, DEFAULT) == Decimal(hours)


@pytest.mark.parametrize("calendar", [DEFAULT, BERLIN, ALWAYS_BERLIN,
                                      Calendar(timezone="America/New_York", working_days=frozenset({"sat", "sun"}),
                                               start="10:00", end="14:30", holidays=frozenset({date(2027, 11, 7)}))])
def test_adding_then_measuring_gives_the_hours_back(calendar: Calendar) -> None:
    start = utc(2027, 3, 20, 13, 17)
    for step in range(40):
        moment = start + timedelta(days=step * 7, hours=step * 5)
        for hours in (1, 4, 16, 48, 120):
            due = add_business_hours(moment, hours, calendar)
            assert business_time_between(moment, due, calendar) == timedelta(hours=hours), (moment, hours)


def test_naive_times_are_utc_and_zero_hours_is_the_start() -> None:
    assert add_business_hours(datetime(2027, 3, 1, 10, 0), 1, DEFAULT) == utc(2027, 3, 1, 11, 0)
    assert add_business_hours(utc(2027, 3, 6, 10, 0), 0, DEFAULT) == utc(2027, 3, 6, 10, 0)


def test_a_calendar_without_working_time_is_an_error() -> None:
    with pytest.raises(ValueError, match="no working time"):
        add_business_hours(utc(2027, 3, 1), 1, Calendar(working_days=frozenset()))


def test_json_round_trip_and_defaults() -> None:
    calendar = Calendar(timezone="Europe/Berlin", working_days=frozenset({"fri", "mon"}), start="08:30", end="24:00",
                        holidays=frozenset({date(2027, 12, 25), date(2027, 1, 1)}))
    data = calendar.to_json()
    assert data == {"timezone": "Europe/Berlin", "workingDays": ["mon", "fri"],
                    "workingHours": {"start": "08:30", "end": "24:00"}, "holidays": ["2027-01-01", "2027-12-25"]}
    assert Calendar.from_json(data) == calendar
    assert Calendar.from_json(None) == Calendar() == Calendar.from_json({})
