"""The SupportLink aggregate: a household linked to a support offer or a person in its new area."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from coordination.domain.errors import SupportLinkEnded, SupportLinkNotProposed
from coordination.domain.values import Actor, NonEmpty, Place, Value, checked_reason


class SupportKind(StrEnum):
    """The support offers the 2023 report names (docs/design.md §6)."""

    MENTOR = "mentor"
    YOUTH_CLUB = "youth_club"
    HOMEWORK_CAFE = "homework_cafe"
    LEISURE_GUIDE = "leisure_guide"
    LEISURE_JOB = "leisure_job"
    DEBT_COUNSELLING = "debt_counselling"
    ASSOCIATION_SUPPORT = "association_support"
    CONTACT_PERSON = "contact_person"  # a neighbour or other local contact
    OTHER = "other"


class SupportOffer(Value):
    """What is offered, by whom and where (a KVINFO mentor, a Red Cross homework café in Odense C, ...)."""

    provider: NonEmpty
    service: NonEmpty
    kind: SupportKind
    place: Place


class SupportLinkStatus(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    ENDED = "ended"


class SupportLink(Aggregate):
    """A household's link to a support offer or person (støttetilbud): proposed → active → ended.

    A proposal the household turns down is ended without ever being active. An
    active contact person in the household's receiving area satisfies the "at
    least one new contact" settlement criterion of the 2023 report.
    """

    class Proposed(Aggregate.Created):
        """v2 added `contact_person`; a v1 proposal predates contact persons counting for settlement.
        v3 added `household_owner`: the housing organisation the link's steps are reported to."""

        class_version = 3

        owner: str
        household_id: UUID
        offer: SupportOffer
        contact_person: bool
        household_owner: str | None
        at: datetime
        by: Actor

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Nothing in a v1 proposal said the person was a contact person, so it counts as not one.
            state["contact_person"] = False

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            # An earlier proposal named no owner: its provider finds it in its copy of the network, if any.
            state["household_owner"] = None

    class Activated(Aggregate.Event):
        at: datetime
        by: Actor

    class Ended(Aggregate.Event):
        reason: str
        at: datetime
        by: Actor

    @event(Proposed)
    def __init__(
        self,
        id: UUID,
        owner: str,
        household_id: UUID,
        offer: SupportOffer,
        contact_person: bool,
        household_owner: str | None,
        at: datetime,
        by: Actor,
    ) -> None:
        self.owner = owner
        self.household_id = household_id
        self.offer = offer
        self.contact_person = contact_person
        self.household_owner = household_owner
        self.status = SupportLinkStatus.PROPOSED
        self.proposed_at = at
        self.activated_at: datetime | None = None
        self.ended_at: datetime | None = None
        self.end_reason: str | None = None

    @classmethod
    def propose(
        cls,
        *,
        id: UUID,
        household_id: UUID,
        offer: SupportOffer,
        contact_person: bool,
        household_owner: str | None = None,
        at: datetime,
        by: Actor,
    ) -> SupportLink:
        return cls(
            id=id,
            owner=by.organisation,
            household_id=household_id,
            offer=offer,
            contact_person=contact_person,
            household_owner=household_owner,
            at=at,
            by=by,
        )

    @property
    def is_active(self) -> bool:
        return self.status == SupportLinkStatus.ACTIVE

    def is_contact_person_in(self, place: Place) -> bool:
        return self.is_active and self.contact_person and self.offer.place == place

    # Commands: check, then record.

    def activate(self, *, at: datetime, by: Actor) -> None:
        self._refuse_if_ended("activated")
        if self.status != SupportLinkStatus.PROPOSED:
            raise SupportLinkNotProposed(
                "Support link {id} is already {status}", id=self.id, status=self.status
            )
        self._activated(at=at, by=by)

    def end(self, *, reason: str, at: datetime, by: Actor) -> None:
        self._refuse_if_ended("ended again")
        self._ended(reason=checked_reason(reason), at=at, by=by)

    def _refuse_if_ended(self, step: str) -> None:
        if self.status == SupportLinkStatus.ENDED:
            raise SupportLinkEnded(
                "Support link {id} ended ({end_reason}); it cannot be {step}",
                id=self.id,
                end_reason=self.end_reason,
                step=step,
            )

    # Recorders: state changes only; they re-run on every replay.

    @event(Activated)
    def _activated(self, at: datetime, by: Actor) -> None:
        self.status = SupportLinkStatus.ACTIVE
        self.activated_at = at

    @event(Ended)
    def _ended(self, reason: str, at: datetime, by: Actor) -> None:
        self.status = SupportLinkStatus.ENDED
        self.ended_at = at
        self.end_reason = reason
