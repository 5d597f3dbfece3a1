"""The bridge-building phases of a household before its offer: first contact, areas explored, tasks
found outside rehousing, bridge building started (the 2023 report, Aarhus). A part of the Household
aggregate (household.py), which records each as its event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from coordination.domain.errors import HouseholdAlreadyMoved, InvalidInput, RuleViolated
from coordination.domain.values import Actor


class HouseholdPhase(StrEnum):
    """The bridge-builder phases of the 2023 report (Aarhus), in order; a household is in the furthest."""

    REGISTERED = "registered"
    FIRST_CONTACT = "first_contact"
    EXPLORING_AREAS = "exploring_areas"
    TASKS_FOUND = "tasks_found"
    BRIDGE_BUILDING = "bridge_building"
    HOUSING_OFFER = "housing_offer"
    MOVED = "moved"
    FOLLOW_UP_VISITED = "follow_up_visited"
    SETTLED = "settled"


class BridgeBuildingPhases:
    """The Household's commands of the phases before an offer: check, then record."""

    if TYPE_CHECKING:  # the Household's state and recorders (household.py)
        case_reference: str
        first_contact_at: datetime | None
        bridge_building_started_at: datetime | None
        _first_contact_made: Callable[..., None]
        _areas_explored: Callable[..., None]
        _tasks_found: Callable[..., None]
        _bridge_building_started: Callable[..., None]

        @property
        def moved_permanently(self) -> bool: ...

    def record_first_contact(self, *, at: datetime, by: Actor) -> None:
        if self.first_contact_at is not None:
            raise RuleViolated(
                "First contact with household {case_reference} was already recorded",
                case_reference=self.case_reference,
            )
        self._first_contact_made(at=at, by=by)

    def record_inspiration_tour(self, *, areas: list[str], at: datetime, by: Actor) -> None:
        if self.moved_permanently:
            raise HouseholdAlreadyMoved(
                "Household {case_reference} has moved permanently; tours come before",
                case_reference=self.case_reference,
            )
        self._areas_explored(areas=_non_empty_texts(areas, what="area explored"), at=at, by=by)

    def record_tasks_found(self, *, tasks: list[str], at: datetime, by: Actor) -> None:
        self._tasks_found(tasks=_non_empty_texts(tasks, what="task"), at=at, by=by)

    def start_bridge_building(self, *, at: datetime, by: Actor) -> None:
        if self.bridge_building_started_at is not None:
            raise RuleViolated(
                "Bridge building for household {case_reference} has already started",
                case_reference=self.case_reference,
            )
        self._bridge_building_started(at=at, by=by)


def _non_empty_texts(texts: list[str], *, what: str) -> list[str]:
    cleaned = [text.strip() for text in texts if text.strip()]
    if not cleaned:
        raise InvalidInput("At least one {what} is required", what=what)
    return cleaned
