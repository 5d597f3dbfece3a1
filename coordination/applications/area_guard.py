"""What the housing node consults before an offer: a receiving area's indicators and its recent inflow."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Protocol
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.utils import get_topic

from coordination.domain.household import Household
from coordination.domain.municipal_picture import SharedPlacement, last_day
from coordination.domain.values import Place
from coordination.domain.waterbed import AreaIndicators
from coordination.projections.log_reads import ReadLog, log_reader

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
_SHARED = get_topic(SharedPlacement.Recorded)


def moved_in_since(app: Application[UUID], place: Place, since: date, page_size: int = 500) -> int:
    """Distinct households this node recorded as moved into `place` with a move date on or after `since`,
    and the placements other organisations shared (counted from their month's last day).

    Reads the node's whole log of moves on every call; `MovesIndex` answers the same from what it read
    before plus the moves recorded since, and the receiving-areas projection from a view store.
    """
    return MovesIndex(app, page_size).moved_in_since(place, since)


class MovesIndex:
    """The moves this node recorded, by receiving area: each household's latest move date into it; and
    each placement another organisation shared, under its own id (no household), dated by the last day of
    its month (so a placement in the window's first month counts: the guard errs towards warning).

    Each question first reads the moves recorded after where the last one stopped (one query, usually
    empty), so an answer counts every move committed before it was asked, as a scan of the whole log
    would. Where it stops is the last move read or, when further, the last id the application saw
    committed before the read (`committed_through`: ids commit in order, one writer at a time, so every
    id up to it was visible to the read): the next read starts past the events that were not moves
    instead of scanning them again. Holds ids, areas and dates only; an erasure keeps a move's area and
    date.
    """

    def __init__(self, app: Application[UUID], page_size: int = 500) -> None:
        self._app = app
        self._read: ReadLog | None = None  # on PostgreSQL statements rendered once; made at first use
        self._page_size = page_size
        self._position = 0
        self._latest: dict[tuple[str, str], dict[UUID, date]] = {}
        self._lock = threading.Lock()

    def moved_in_since(self, place: Place, since: date) -> int:
        with self._lock:
            self._catch_up()
            households = self._latest.get(_area(place), {})
            return sum(1 for moved_on in households.values() if moved_on >= since)

    def _catch_up(self) -> None:
        app = self._app
        committed = getattr(app, "committed_through", 0)  # read before the query: see the class's text
        read = self._read = self._read or log_reader(app.recorder)
        while True:
            page = read(self._position, self._page_size, None, [_MOVED, _SHARED])
            for notification in page:
                self._position = notification.id
                moved = app.mapper.to_domain_event(notification)
                if isinstance(moved, SharedPlacement.Recorded):
                    place, moved_on = moved.place, last_day(moved.month)
                else:
                    assert isinstance(moved, Household.Moved)
                    place, moved_on = moved.move.place, moved.move.moved_on
                households = self._latest.setdefault(_area(place), {})
                latest = households.get(moved.originator_id)
                if latest is None or moved_on > latest:
                    households[moved.originator_id] = moved_on
            if len(page) < self._page_size:
                self._position = max(self._position, committed)
                return


def _area(place: Place) -> tuple[str, str]:
    return place.municipality.casefold(), place.area.casefold()
