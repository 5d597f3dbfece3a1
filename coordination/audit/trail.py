"""A household's audit trail: who did what and when, with a short summary that names no person served.

The entries come from the node's history (the timeline read model when attached, else a log scan); each
summary is built from an allow-list of non-personal attributes (kinds, organisations, purposes, ids,
areas), never from free text such as reasons, notes or outcomes, which may hold personal data.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TextIO
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from coordination.domain.follow_up import HouseholdFact
from coordination.domain.household_values import Move
from coordination.domain.support_link import SupportOffer
from coordination.domain.values import Consent, Dwelling, Holder, Place
from coordination.projections.history import HistoryEntry

# The attributes of stored events a summary may show, in this order: none of them is personal data.
SUMMARY_FIELDS = (
    "kind",
    "owner",
    "offer",
    "referrer",
    "receiver",
    "to",
    "recipient",
    "purpose",
    "consent",
    "declined_by",
    "fact",
    "offer_id",
    "vacancy_id",
    "referral_id",
    "link_id",
    "move",
    "dwelling",
    "place",
    "areas",
    "accepted",
)


class TimelineRow(BaseModel):
    """One line of an audit timeline, as exported (JSON Lines, CSV) or printed."""

    model_config = ConfigDict(frozen=True)

    position: int
    at: datetime | None
    recorded_at: datetime
    organisation: str | None
    person: str | None
    role: str | None
    aggregate: str
    aggregate_id: UUID
    version: int
    event: str
    summary: str


def summary(domain_event: Any) -> str:
    """A few words about an event from its non-personal attributes ("kind=daycare_fast_track ...")."""
    parts = []
    for name in SUMMARY_FIELDS:
        value = getattr(domain_event, name, None)
        shown = _shown(value)
        if shown:
            parts.append(f"{name}={shown}")
    return " ".join(parts)


def _shown(value: Any) -> str:
    if value is None or value == [] or value == "":
        return ""
    if isinstance(value, bool | UUID | int | str):
        return str(value)
    if isinstance(value, list):
        return ",".join(filter(None, (_shown(item) for item in value)))
    if isinstance(value, Consent):
        return f"{value.recipient}/{value.purpose}"
    if isinstance(value, Holder):
        return value.organisation
    if isinstance(value, Place):
        return value.area
    if isinstance(value, SupportOffer):
        return f"{value.kind}@{value.provider}"
    if isinstance(value, HouseholdFact):
        return str(value.kind)
    if isinstance(value, Move | Dwelling):  # the area only, never the address
        return value.place.area
    return ""


def timeline(
    app: Any, household_id: UUID, history: Callable[[UUID], list[HistoryEntry]] | None = None
) -> list[TimelineRow]:
    """The household's timeline at this node: `app.history()` (or `history`, when given: the timeline read
    model or the log, as the caller chose) with each event's summary added."""
    rows = []
    for entry in (history or app.history)(household_id):
        [domain_event] = app.repository.event_store.get(
            entry.aggregate_id, gt=entry.version - 1, lte=entry.version
        )
        rows.append(_row(entry, summary(domain_event)))
    return rows


def _row(entry: HistoryEntry, text: str) -> TimelineRow:
    return TimelineRow(**entry.model_dump(), summary=text)


COLUMNS = tuple(TimelineRow.model_fields)


def write(rows: Sequence[TimelineRow], form: str, out: TextIO) -> None:
    """Write the rows as `jsonl`, `csv` or a plain `table` for a terminal."""
    if form == "jsonl":
        for row in rows:
            out.write(row.model_dump_json() + "\n")
    elif form == "csv":
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(json.loads(row.model_dump_json()) for row in rows)
    elif form == "table":
        out.write(_table(rows))
    else:
        raise ValueError(f"unknown format {form!r} (jsonl, csv or table)")


def _table(rows: Iterable[TimelineRow]) -> str:
    buffer = io.StringIO()
    buffer.write(f"{'position':>8}  {'at':<25}  {'recorded':<19}  {'who':<44}  {'what':<36}  summary\n")
    for row in rows:
        who = f"{row.organisation}/{row.role}/{row.person}" if row.organisation else "timer"
        at = row.at.isoformat(timespec="minutes") if row.at else "-"
        recorded = row.recorded_at.isoformat(timespec="seconds")[:19]
        what = f"{row.aggregate}.{row.event} v{row.version}"
        buffer.write(f"{row.position:>8}  {at:<25}  {recorded:<19}  {who:<44}  {what:<36}  {row.summary}\n")
    return buffer.getvalue()
