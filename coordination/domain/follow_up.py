"""The FollowedHousehold aggregate: facts an organisation learns about a household another one owns."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from coordination.domain.errors import InvalidInput
from coordination.domain.household_values import Enrolment
from coordination.domain.plausibility import STARTS_ON, VISITED_ON
from coordination.domain.values import Actor, Place, Value, checked_reason


class FactKind(StrEnum):
    CHILD_ENROLLED = "child_enrolled"
    CONTACT_PERSON_LINKED = "contact_person_linked"
    CONTACT_PERSON_UNLINKED = "contact_person_unlinked"
    PRACTICAL_MATTERS_IN_ORDER = "practical_matters_in_order"
    NO_LONGER_ASKS_FOR_HELP = "no_longer_asks_for_help"
    FOLLOW_UP_VISIT_DONE = "follow_up_visit_done"
    SETTLED = "settled"


_NEEDS: dict[FactKind, tuple[str, ...]] = {
    FactKind.CHILD_ENROLLED: ("enrolment",),
    FactKind.CONTACT_PERSON_LINKED: ("link_id", "place"),
    FactKind.CONTACT_PERSON_UNLINKED: ("link_id",),
    FactKind.PRACTICAL_MATTERS_IN_ORDER: ("note",),
    FactKind.NO_LONGER_ASKS_FOR_HELP: (),
    FactKind.FOLLOW_UP_VISIT_DONE: ("visited_on",),
    FactKind.SETTLED: (),
}


class HouseholdFact(Value):
    """One fact about a household, of one kind, with exactly the fields that kind needs."""

    kind: FactKind
    enrolment: Enrolment | None = None
    link_id: UUID | None = None
    place: Place | None = None
    note: str | None = None
    visited_on: date | None = None

    def arguments(self) -> dict[str, object]:
        """The fact's own fields, as the owner's command for this kind takes them."""
        return {name: getattr(self, name) for name in _NEEDS[FactKind(self.kind)]}


class FollowedHousehold(Aggregate):
    """A household owned by another organisation that this one follows (bridge builder, department).

    What this organisation learns that counts for the household's settlement (an enrolment, a new
    contact person, practical matters in order, ...) is recorded here first and then reported to the
    owner, whose node records it on the household. One per household and following organisation.
    """

    class Followed(Aggregate.Created):
        household_id: UUID
        owner: str
        at: datetime
        by: Actor

    class FactReported(Aggregate.Event):
        fact: HouseholdFact
        at: datetime
        by: Actor

    @event(Followed)
    def __init__(self, id: UUID, household_id: UUID, owner: str, at: datetime, by: Actor) -> None:
        self.household_id = household_id
        self.owner = owner
        self.facts: list[HouseholdFact] = []

    @classmethod
    def follow(
        cls, *, id: UUID, household_id: UUID, owner: str, at: datetime, by: Actor
    ) -> FollowedHousehold:
        if owner == by.organisation:
            raise InvalidInput(f"{owner} owns household {household_id}; it records facts on it directly")
        return cls(id=id, household_id=household_id, owner=owner, at=at, by=by)

    def report(self, *, fact: HouseholdFact, at: datetime, by: Actor) -> None:
        missing = [name for name in _NEEDS[FactKind(fact.kind)] if getattr(fact, name) is None]
        if missing:
            raise InvalidInput(
                f"A {FactKind(fact.kind).value.replace('_', ' ')} fact needs {', '.join(missing)}"
            )
        # The owner records the fact with the same checks when the report arrives; checked here too, so
        # an implausible date is refused to the caseworker who typed it rather than parked at the owner.
        if fact.visited_on is not None:
            VISITED_ON.check(fact.visited_on, at=at, field="fact.visited_on", what="The follow-up visit")
        if fact.enrolment is not None:
            STARTS_ON.check(
                fact.enrolment.starts_on, at=at, field="fact.enrolment.starts_on", what="The start date"
            )
        if fact.note is not None:
            fact = fact.model_copy(update={"note": checked_reason(fact.note, what="note")})
        self._fact_reported(fact=fact, at=at, by=by)

    @event(FactReported)
    def _fact_reported(self, fact: HouseholdFact, at: datetime, by: Actor) -> None:
        self.facts.append(fact)
