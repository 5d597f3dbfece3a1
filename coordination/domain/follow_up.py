"""The FollowedHousehold aggregate: facts an organisation learns about a household another one owns."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from coordination.domain.errors import InvalidInput, NotFound, NotPermitted
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


_FACT_IDS = UUID("8f0c2a52-5d0e-4f7e-9f3b-6a1d2c4e7b90")


def reported_fact_id(followed_id: UUID, version: int) -> UUID:
    """The id of the fact a FollowedHousehold recorded at `version`: worked out the same way by the
    aggregate, by the message that reports it and for facts stored before facts had ids."""
    return uuid5(_FACT_IDS, f"{followed_id}/{version}")


class FactState(StrEnum):
    REPORTED = "reported"  # sent to the owner, no answer yet
    APPLIED = "applied"
    REFUSED = "refused"


class ReportedFact(Value):
    """One fact this organisation reported, and what the owner made of it."""

    fact_id: UUID
    kind: FactKind
    reported_at: datetime
    state: FactState = FactState.REPORTED
    reason: str | None = None  # why the owner refused it
    answered_at: datetime | None = None

    @property
    def shown(self) -> str:
        """`reported`, `applied` or `refused: <reason>`, as the reporter's API shows it."""
        return f"refused: {self.reason}" if self.state is FactState.REFUSED else self.state.value


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

    class FactApplied(Aggregate.Event):
        fact_id: UUID
        at: datetime

    class FactRefused(Aggregate.Event):
        fact_id: UUID
        reason: str
        at: datetime

    @event(Followed)
    def __init__(self, id: UUID, household_id: UUID, owner: str, at: datetime, by: Actor) -> None:
        self.household_id = household_id
        self.owner = owner
        self.facts: list[HouseholdFact] = []
        self.reported: dict[UUID, ReportedFact] = {}

    @classmethod
    def follow(
        cls, *, id: UUID, household_id: UUID, owner: str, at: datetime, by: Actor
    ) -> FollowedHousehold:
        if owner == by.organisation:
            raise InvalidInput(
                "{owner} owns household {household_id}; it records facts on it directly",
                owner=owner,
                household_id=household_id,
            )
        return cls(id=id, household_id=household_id, owner=owner, at=at, by=by)

    def report(self, *, fact: HouseholdFact, at: datetime, by: Actor) -> None:
        missing = [name for name in _NEEDS[FactKind(fact.kind)] if getattr(fact, name) is None]
        if missing:
            raise InvalidInput(
                "A {kind} fact needs {missing}",
                kind=FactKind(fact.kind).value.replace("_", " "),
                missing=", ".join(missing),
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

    @property
    def last_fact_id(self) -> UUID:
        """The id of the fact reported last (what the report returns)."""
        return next(reversed(self.reported))

    def record_outcome(self, *, fact_id: UUID, reason: str | None, at: datetime, owner: str) -> None:
        """The owner applied the fact (`reason` None) or refused it for `reason`; only the owner answers,
        and its first answer stands (a redelivered answer records nothing)."""
        if owner != self.owner:
            raise NotPermitted(
                "{answering} answered for a fact reported to {owner}", answering=owner, owner=self.owner
            )
        reported = self.reported.get(fact_id)
        if reported is None:
            raise NotFound(
                "No fact {fact_id} was reported about household {household_id}",
                fact_id=fact_id,
                household_id=self.household_id,
            )
        if reported.state is not FactState.REPORTED:
            return
        if reason is None:
            self._fact_applied(fact_id=fact_id, at=at)
        else:
            self._fact_refused(fact_id=fact_id, reason=reason, at=at)

    @event(FactReported)
    def _fact_reported(self, fact: HouseholdFact, at: datetime, by: Actor) -> None:
        self.facts.append(fact)
        # The event is applied before the version moves on: this fact's version is the next one.
        reported_id = reported_fact_id(self.id, self.version + 1)
        self.reported[reported_id] = ReportedFact(fact_id=reported_id, kind=fact.kind, reported_at=at)

    @event(FactApplied)
    def _fact_applied(self, fact_id: UUID, at: datetime) -> None:
        self.reported[fact_id] = self.reported[fact_id].model_copy(
            update={"state": FactState.APPLIED, "answered_at": at}
        )

    @event(FactRefused)
    def _fact_refused(self, fact_id: UUID, reason: str, at: datetime) -> None:
        self.reported[fact_id] = self.reported[fact_id].model_copy(
            update={"state": FactState.REFUSED, "reason": reason, "answered_at": at}
        )
