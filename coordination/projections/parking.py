"""Parked events: what a projection could not apply, recorded with its reason (never its content) to retry."""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import Any

from eventsourcing.persistence import MapperDeserialisationError
from pydantic import ValidationError

from coordination.projections.view_store import PARKED_TABLE, ViewStore, ViewTransaction, now


@dataclass(frozen=True)
class ParkedEvent:
    """An event a projection could not apply: where it is and why, never what it says."""

    projection: str
    position: int
    topic: str
    originator_id: str
    originator_version: int
    error_type: str
    error_message: str
    parked_at: str
    attempts: int


def describe(exc: BaseException) -> str:
    """The exception's message without event data: pydantic errors are listed without their input values."""
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)
        )
    if isinstance(exc, MapperDeserialisationError) and exc.__cause__ is not None:
        # The library's message embeds the cause's text, which may quote the stored state.
        return f"stored event could not be decoded: {type(exc.__cause__).__name__}: {describe(exc.__cause__)}"
    return str(exc)[:1000]


def parked_event(projection: str, notification: Any, exc: Exception) -> ParkedEvent:
    """The record of a first failure to apply this notification."""
    return ParkedEvent(
        projection=projection,
        position=notification.id,
        topic=notification.topic,
        originator_id=str(notification.originator_id),
        originator_version=notification.originator_version,
        error_type=type(exc).__name__,
        error_message=describe(exc),
        parked_at=now(),
        attempts=1,
    )


def park(tx: ViewTransaction, parked: list[ParkedEvent]) -> None:
    """Records these events as parked, in the transaction that moves tracking past them."""
    for event in parked:
        tx.execute(
            f"INSERT INTO {PARKED_TABLE} (projection, position, topic, originator_id, "
            "originator_version, error_type, error_message, parked_at, attempts) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            astuple(event),
        )


def parked_events(view_store: ViewStore, projection: str) -> list[ParkedEvent]:
    """A projection instance's parked events, in log order."""
    rows = view_store.query(
        f"SELECT * FROM {PARKED_TABLE} WHERE projection = ? ORDER BY position", (projection,)
    )
    return [ParkedEvent(**row) for row in rows]
