"""The timeline's answer: one recorded fact about a household, as the applications hand it to the edge."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class HistoryEntry(BaseModel):
    """One recorded fact about a household, with who recorded it and when (no personal data)."""

    model_config = ConfigDict(frozen=True)

    position: int
    aggregate: str
    aggregate_id: UUID
    version: int
    event: str
    at: datetime | None
    recorded_at: datetime
    organisation: str | None
    person: str | None
    role: str | None
    reason_code: str | None = None  # a decline's, withdrawal's, hold's or override's (domain/reasons.py)
