"""Working days in Denmark (weekends and Danish public holidays excluded, Europe/Copenhagen time).

Date arithmetic here saturates at the ends of the calendar instead of raising: a due date derived from
a stored date (a move on 9999-12-31, accepted before dates were checked) is "never" rather than an
OverflowError on every load of the aggregate. New dates are kept plausible by domain/plausibility.py.
"""

from __future__ import annotations

import calendar as _calendar
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
# The last moment a derived datetime saturates at: it still converts to UTC and back without overflow.
LATEST = datetime.combine(date.max, time.max, COPENHAGEN)
EARLIEST = datetime.combine(date.min, time.min, COPENHAGEN) + timedelta(days=1)


def add_days(day: date, days: int) -> date:
    """`day` moved by `days`, held at date.min or date.max rather than raising past the calendar's ends."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def later(moment: datetime, delta: timedelta) -> datetime:
    """`moment` moved by `delta`, held at LATEST or EARLIEST rather than raising past the calendar's ends."""
    try:
        return moment + delta
    except OverflowError:
        return LATEST if delta > timedelta(0) else EARLIEST


def copenhagen_day(moment: datetime) -> date:
    """The calendar day in Copenhagen that `moment` falls on (date.max / date.min at the calendar's ends)."""
    try:
        return moment.astimezone(COPENHAGEN).date()
    except (OverflowError, ValueError):
        return moment.date()


@lru_cache(maxsize=64)
def _danish_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("DK", years=year)


# Not public holidays, but Danish offices (municipalities, housing organisations) close on them:
# Grundlovsdag (5 June, closed from noon or all day), Christmas Eve and New Year's Eve. Whether they count as
# closed is policy (RehousingPolicy.half_holidays_closed), closed by default.
HALF_HOLIDAYS: frozenset[tuple[int, int]] = frozenset({(6, 5), (12, 24), (12, 31)})


def is_half_holiday(day: date) -> bool:
    """5 June, 24 December or 31 December."""
    return (day.month, day.day) in HALF_HOLIDAYS


def is_working_day(day: date, *, half_holidays_closed: bool = True) -> bool:
    """Monday to Friday, not a Danish public holiday (Store Bededag is gone from 2024) and, unless
    `half_holidays_closed` is False, not 5 June, 24 December or 31 December."""
    if half_holidays_closed and is_half_holiday(day):
        return False
    return day.weekday() < 5 and day not in _danish_holidays(day.year)


def add_working_days(start: datetime, days: int, *, half_holidays_closed: bool = True) -> datetime:
    """The same local time of day `days` working days after `start`, in Copenhagen time.

    Counting starts the day after `start`, so a referral sent on Friday 14:00
    with 3 working days is due on Wednesday 14:00, and one sent before Easter
    skips Maundy Thursday, Good Friday and Easter Monday; one sent on 23 December skips 24 December too
    unless `half_holidays_closed` is False.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware; the domain never guesses a time zone")
    if days < 0:
        raise ValueError("days must not be negative")
    try:
        local = start.astimezone(COPENHAGEN)
    except (OverflowError, ValueError):
        return LATEST
    day = local.date()
    remaining = days
    while remaining:
        if day == date.max:
            return LATEST
        day += timedelta(days=1)
        if is_working_day(day, half_holidays_closed=half_holidays_closed):
            remaining -= 1
    return datetime.combine(day, local.timetz().replace(tzinfo=None), COPENHAGEN)


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the last day of a shorter month (31 Jan + 1 = 28/29 Feb).

    Held at date.min or date.max past the calendar's ends.
    """
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    if year > date.max.year:
        return date.max
    if year < date.min.year:
        return date.min
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))
