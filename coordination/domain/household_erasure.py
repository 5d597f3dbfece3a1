"""A household's erasure: proposed when its retention ends, then erased by its owner, the organisations
of its network told. A part of the Household aggregate (household.py), which records each as its event."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from coordination.domain.errors import HouseholdErased, NotPermitted
from coordination.domain.values import Actor, checked_reason


class HouseholdErasure:
    """The Household's erasure commands (check, then record)."""

    if TYPE_CHECKING:  # the Household's state and recorders (household.py)
        owner: str
        _erasure_proposed: Callable[..., None]
        _erased: Callable[..., None]

        @property
        def id(self) -> UUID: ...

    def propose_erasure(self, *, retention_ended_on: date, at: datetime) -> None:
        # getattr: a snapshot taken before erasure existed has neither attribute.
        if (
            getattr(self, "erased_at", None) is not None
            or getattr(self, "erasure_proposed_at", None) is not None
        ):
            raise HouseholdErased("Household {id} is already erased or proposed for erasure", id=self.id)
        self._erasure_proposed(retention_ended_on=retention_ended_on, at=at)

    def erase(self, *, legal_ground: str, at: datetime, by: Actor, notified: Sequence[str] = ()) -> None:
        """`notified`: the organisations of the household's network, to be told of the erasure."""
        erased_at = getattr(self, "erased_at", None)
        if erased_at is not None:
            raise HouseholdErased("Household {id} was erased at {erased_at}", id=self.id, erased_at=erased_at)
        if by.organisation != self.owner:
            raise NotPermitted(
                "Only {owner}, which owns household {id}, may erase it", owner=self.owner, id=self.id
            )
        others = sorted({organisation for organisation in notified if organisation != self.owner})
        self._erased(
            legal_ground=checked_reason(legal_ground, what="legal ground"), notified=others, at=at, by=by
        )
