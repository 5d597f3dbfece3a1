"""Dates in query parameters: bounded to the years this system's records can be in.

No record here is older than 2000 (the rehousing laws it serves are from 2018; its first records from
2026), and nothing is planned past 2099. Inside those years every figure a query computes (a month's label,
a day after the period, a deadline 14 days on) is a valid date with a four-digit year; outside them the
computations overflow or misprint (`to=9999-12-31`, `to=0383-12-30` answered 500). The bound is fixed rather
than relative to today so that the document can state it and a request means the same on every day.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Query

EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
# JSON Schema cannot bound a date; a pattern can keep it to the years 2000-2099 (format: date does the rest).
_YEARS = r"^20[0-9]{2}-"


def day(description: str, *, alias: str | None = None) -> Any:
    """A query parameter holding a date from EARLIEST to LATEST (400 naming it otherwise)."""
    return Query(
        alias=alias,
        ge=EARLIEST,
        le=LATEST,
        description=f"{description}; a date from {EARLIEST} to {LATEST}",
        json_schema_extra={"pattern": _YEARS},
    )
