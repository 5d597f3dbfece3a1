"""What the housing node consults before an offer: a receiving area's indicators and its recent inflow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Protocol
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.utils import get_topic

from coordination.domain.household import Household
from coordination.domain.values import Place
from coordination.domain.waterbed import AreaIndicators

# (receiving area, first day of the window) -> rehoused households moved in since that day
InflowProvider = Callable[[Place, date], int]


class AreaIndicatorsSource(Protocol):
    """Where the list indicators of receiving areas come from (adapters/area_indicators.py reads a file)."""

    def indicators(self, place: Place) -> AreaIndicators | None: ...


class NoAreaIndicators:
    """No indicators file configured: every area is unmonitored, and only its inflow can warn."""

    def indicators(self, place: Place) -> AreaIndicators | None:
        return None


_MOVED = get_topic(Household.Moved)


def moved_in_since(app: Application[UUID], place: Place, since: date, page_size: int = 500) -> int:
    """Distinct households this node recorded as moved into `place` with a move date on or after `since`.

    Reads the node's whole log of moves on every call; the receiving-areas projection answers the same
    question from an index and replaces this where a view store is available.
    """
    wanted = (place.municipality.casefold(), place.area.casefold())
    households: set[UUID] = set()
    position = 0
    while page := app.recorder.select_notifications(
        start=position, limit=page_size, topics=[_MOVED], inclusive_of_start=False
    ):
        for notification in page:
            position = notification.id
            moved = app.mapper.to_domain_event(notification)
            assert isinstance(moved, Household.Moved)
            there = (moved.move.place.municipality.casefold(), moved.move.place.area.casefold())
            if there == wanted and moved.move.moved_on >= since:
                households.add(moved.originator_id)
    return len(households)
