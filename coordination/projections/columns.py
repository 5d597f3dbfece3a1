"""How projections write times, dates and amounts into portable columns, and read them back."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal


def instant(at: datetime) -> str:
    """A moment as fixed-width UTC ISO text, so that text order is time order on every database."""
    # isoformat with microseconds is the same text as strftime("%Y-%m-%dT%H:%M:%S.%f+00:00") in UTC, at a
    # fraction of the cost (rebuilds format two moments per event).
    # astimezone() alone costs four times the formatting: skipped for a moment already in UTC (as stored).
    if at.tzinfo is UTC:
        return at.isoformat(timespec="microseconds")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def from_instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def day(on: date) -> str:
    return on.isoformat()


def from_day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def ore(dkk: Decimal) -> int:
    """Kroner as whole øre: exact, and comparable in SQL (a maximum rent) without floating point."""
    return int((dkk * 100).to_integral_value())


def from_ore(amount: int) -> Decimal:
    return (Decimal(amount) / 100).quantize(Decimal("0.01"))


def key(text: str) -> str:
    """A name as a lookup key: municipalities and areas are matched without regard to case."""
    return text.casefold()
