"""Working days in Denmark (weekends and Danish public holidays excluded, Europe/Copenhagen time)."""

from __future__ import annotations

import calendar as _calendar
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


@lru_cache(maxsize=64)
def _danish_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("DK", years=year)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a Danish public holiday (Store Bededag is gone from 2024)."""
    return day.weekday() < 5 and day not in _danish_holidays(day.year)


def add_working_days(start: datetime, days: int) -> datetime:
    """The same local time of day `days` working days after `start`, in Copenhagen time.

    Counting starts the day after `start`, so a referral sent on Friday 14:00
    with 3 working days is due on Wednesday 14:00, and one sent before Easter
    skips Maundy Thursday, Good Friday and Easter Monday.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware; the domain never guesses a time zone")
    if days < 0:
        raise ValueError("days must not be negative")
    local = start.astimezone(COPENHAGEN)
    day = local.date()
    remaining = days
    while remaining:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return datetime.combine(day, local.timetz().replace(tzinfo=None), COPENHAGEN)


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the last day of a shorter month (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))
