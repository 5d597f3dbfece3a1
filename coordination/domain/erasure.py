"""The erasure of a household as an operation: proposed and confirmed at its owner by two different people
of the data-protection role, and complete when every organisation told of it has erased it too.

`Erasure` is kept at the owner (id `erasure_id(household_id)`); `ErasureDone` at each organisation that
erased the household on the owner's notice, which confirms it back to the owner.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from coordination.domain.errors import HouseholdErased, NotPermitted
from coordination.domain.values import Actor, Role


class Erasure(Aggregate):
    """One household's erasure at its owner: proposed, then confirmed (the household is erased then), then
    complete once every organisation in `awaiting` has confirmed that it erased the household too."""

    class Proposed(Aggregate.Created):
        household_id: UUID
        owner: str
        legal_ground: str  # personal (free text): reads as "[erased]" once the household is erased
        at: datetime
        by: Actor

    class Confirmed(Aggregate.Event):
        """The second person confirmed: the household is erased in the same command. `awaiting`: the
        organisations told of the erasure, each to confirm it erased the household too."""

        awaiting: list[str]
        at: datetime
        by: Actor

    class MemberConfirmed(Aggregate.Event):
        organisation: str
        at: datetime

    @event(Proposed)
    def __init__(
        self, id: UUID, household_id: UUID, owner: str, legal_ground: str, at: datetime, by: Actor
    ) -> None:
        self.household_id = household_id
        self.owner = owner
        self.legal_ground = legal_ground
        self.proposed_at = at
        self.proposed_by = by
        self.confirmed_at: datetime | None = None
        self.confirmed_by: Actor | None = None
        self.awaiting: list[str] = []
        self.confirmed_by_members: dict[str, datetime] = {}

    @classmethod
    def propose(
        cls, *, id: UUID, household_id: UUID, owner: str, legal_ground: str, at: datetime, by: Actor
    ) -> Erasure:
        _data_protection(by, owner)
        return cls(id=id, household_id=household_id, owner=owner, legal_ground=legal_ground, at=at, by=by)

    def confirm(self, *, awaiting: list[str], at: datetime, by: Actor) -> None:
        _data_protection(by, self.owner)
        if self.confirmed_at is not None:
            raise HouseholdErased(
                "The erasure of household {household_id} was confirmed already",
                household_id=self.household_id,
            )
        if by.person == self.proposed_by.person:
            raise NotPermitted(
                "{person} proposed the erasure of household {household_id}; another person confirms it",
                person=by.person,
                household_id=self.household_id,
            )
        self._confirmed(awaiting=sorted(set(awaiting) - {self.owner}), at=at, by=by)

    def member_confirmed(self, organisation: str, at: datetime) -> None:
        """`organisation` erased the household on the owner's notice (a repeat changes nothing)."""
        if organisation not in self.awaiting:
            raise NotPermitted(
                "{organisation} was not told of the erasure of household {household_id}",
                organisation=organisation,
                household_id=self.household_id,
            )
        if organisation not in self.confirmed_by_members:
            self._member_confirmed(organisation=organisation, at=at)

    @property
    def not_confirmed(self) -> list[str]:
        return [org for org in self.awaiting if org not in self.confirmed_by_members]

    @property
    def state(self) -> str:
        if self.confirmed_at is None:
            return "proposed"
        return "erasing" if self.not_confirmed else "complete"

    @event(Confirmed)
    def _confirmed(self, awaiting: list[str], at: datetime, by: Actor) -> None:
        self.awaiting = list(awaiting)
        self.confirmed_at = at
        self.confirmed_by = by

    @event(MemberConfirmed)
    def _member_confirmed(self, organisation: str, at: datetime) -> None:
        self.confirmed_by_members[organisation] = at


class ErasureDone(Aggregate):
    """This organisation erased a household on its owner's notice (id: `erasure_id(household_id)`); the
    relay confirms it to the owner."""

    class Recorded(Aggregate.Created):
        household_id: UUID
        owner: str
        at: datetime

    @event(Recorded)
    def __init__(self, id: UUID, household_id: UUID, owner: str, at: datetime) -> None:
        self.household_id = household_id
        self.owner = owner
        self.at = at


def _data_protection(by: Actor, owner: str) -> None:
    if by.role is not Role.DATA_PROTECTION or by.organisation != owner:
        raise NotPermitted(
            "Only {owner}'s data-protection role erases the households {owner} owns", owner=owner
        )
