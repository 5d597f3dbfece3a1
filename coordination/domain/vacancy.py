"""The Vacancy aggregate: a replacement dwelling in the shared pool and its single live offer."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from coordination.domain.errors import (
    NotPermitted,
    OfferNotLive,
    RuleViolated,
    VacancyAlreadyOffered,
    VacancyNotAvailable,
)
from coordination.domain.plausibility import AVAILABLE_FROM
from coordination.domain.reasons import UNSPECIFIED, CodedReason, ReasonFor, coded_reason
from coordination.domain.values import Actor, DeclinedBy, Dwelling, checked_reason


class VacancyStatus(StrEnum):
    OPEN = "open"
    RESERVED = "reserved"
    LET = "let"
    WITHDRAWN = "withdrawn"


class Vacancy(Aggregate):
    """A replacement dwelling (erstatningsbolig) a housing organisation publishes to the shared pool.

    Published → reserved for one household's offer (with an expiry) → let, or
    back in the pool when the offer is declined or expires, or withdrawn. At
    most one live offer at a time, ever: a second offer is refused while one is
    live, and concurrent offers collide on the aggregate's version in the store.
    """

    class Published(Aggregate.Created):
        owner: str
        dwelling: Dwelling
        at: datetime
        by: Actor

    class OfferReserved(Aggregate.Event):
        offer_id: UUID
        household_id: UUID
        expires_at: datetime
        at: datetime
        by: Actor

    class OfferAccepted(Aggregate.Event):
        offer_id: UUID
        at: datetime
        by: Actor

    class OfferDeclined(Aggregate.Event):
        """v2 added `reason_code` (domain/reasons.py), counted in the municipal picture."""

        class_version = 2

        offer_id: UUID
        declined_by: DeclinedBy
        reason_code: str
        reason: str
        at: datetime
        by: Actor

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["reason_code"] = UNSPECIFIED

    class OfferExpired(Aggregate.Event):
        offer_id: UUID
        at: datetime

    class Withdrawn(Aggregate.Event):
        reason: str
        at: datetime
        by: Actor

    @event(Published)
    def __init__(self, id: UUID, owner: str, dwelling: Dwelling, at: datetime, by: Actor) -> None:
        self.owner = owner
        self.dwelling = dwelling
        self.published_at = at
        self.status = VacancyStatus.OPEN
        self.live_offer_id: UUID | None = None
        self.live_household_id: UUID | None = None
        self.offer_expires_at: datetime | None = None
        self.let_to: UUID | None = None
        self.offers_made = 0

    @classmethod
    def publish(cls, *, id: UUID, dwelling: Dwelling, at: datetime, by: Actor) -> Vacancy:
        AVAILABLE_FROM.check(
            dwelling.available_from, at=at, field="dwelling.available_from", what="The date available from"
        )
        return cls(id=id, owner=by.organisation, dwelling=dwelling, at=at, by=by)

    # Commands: check, then record.

    def reserve_for_offer(
        self, *, offer_id: UUID, household_id: UUID, expires_at: datetime, at: datetime, by: Actor
    ) -> None:
        if self.status == VacancyStatus.RESERVED:
            raise VacancyAlreadyOffered(
                f"Vacancy {self.id} already has a live offer ({self.live_offer_id}); "
                "it must be accepted, declined or expire first"
            )
        if self.status != VacancyStatus.OPEN:
            raise VacancyNotAvailable(f"Vacancy {self.id} is {self.status} and cannot be offered")
        if expires_at <= at:
            raise RuleViolated("An offer must expire after it is made")
        self._offer_reserved(
            offer_id=offer_id, household_id=household_id, expires_at=expires_at, at=at, by=by
        )

    def accept_offer(self, *, offer_id: UUID, at: datetime, by: Actor) -> None:
        self._require_live(offer_id)
        if self.offer_expires_at is not None and at >= self.offer_expires_at:
            raise OfferNotLive(f"Offer {offer_id} expired at {self.offer_expires_at.isoformat()}")
        self._offer_accepted(offer_id=offer_id, at=at, by=by)

    def decline_offer(
        self,
        *,
        offer_id: UUID,
        declined_by: DeclinedBy,
        reason: str = "",
        reason_code: str | None = None,
        at: datetime,
        by: Actor,
    ) -> None:
        self._require_live(offer_id)
        declined_by = DeclinedBy(declined_by)
        by_household = declined_by is DeclinedBy.HOUSEHOLD
        if reason_code == UNSPECIFIED:
            # The owner of a vacancy another organisation offered: the reason stays with that organisation.
            coded = CodedReason(code=UNSPECIFIED, text=checked_reason(reason))
        else:
            coded = coded_reason(
                ReasonFor.HOUSEHOLD_DECLINE if by_household else ReasonFor.PROVIDER_DECLINE,
                reason_code,
                reason,
            )
        self._offer_declined(
            offer_id=offer_id,
            declined_by=declined_by,
            reason_code=coded.code,
            reason=coded.text,
            at=at,
            by=by,
        )

    def expire_offer(self, *, offer_id: UUID, at: datetime) -> None:
        self._require_live(offer_id)
        assert self.offer_expires_at is not None
        if at < self.offer_expires_at:
            raise RuleViolated(f"Offer {offer_id} does not expire before {self.offer_expires_at.isoformat()}")
        self._offer_expired(offer_id=offer_id, at=at)

    def withdraw(self, *, reason: str, at: datetime, by: Actor) -> None:
        if by.organisation != self.owner:
            raise NotPermitted(f"Only {self.owner} may withdraw vacancy {self.id}")
        if self.status == VacancyStatus.RESERVED:
            raise VacancyAlreadyOffered(f"Vacancy {self.id} has a live offer; answer it before withdrawing")
        if self.status != VacancyStatus.OPEN:
            raise VacancyNotAvailable(f"Vacancy {self.id} is {self.status} and cannot be withdrawn")
        self._withdrawn(reason=checked_reason(reason), at=at, by=by)

    def _require_live(self, offer_id: UUID) -> None:
        if self.status != VacancyStatus.RESERVED or self.live_offer_id != offer_id:
            raise OfferNotLive(f"Offer {offer_id} is not the live offer on vacancy {self.id}")

    # Recorders: state changes only; they re-run on every replay.

    @event(OfferReserved)
    def _offer_reserved(
        self, offer_id: UUID, household_id: UUID, expires_at: datetime, at: datetime, by: Actor
    ) -> None:
        self.status = VacancyStatus.RESERVED
        self.live_offer_id = offer_id
        self.live_household_id = household_id
        self.offer_expires_at = expires_at
        self.offers_made += 1

    @event(OfferAccepted)
    def _offer_accepted(self, offer_id: UUID, at: datetime, by: Actor) -> None:
        self.status = VacancyStatus.LET
        self.let_to = self.live_household_id
        self._clear_offer()

    @event(OfferDeclined)
    def _offer_declined(
        self, offer_id: UUID, declined_by: DeclinedBy, reason_code: str, reason: str, at: datetime, by: Actor
    ) -> None:
        self.status = VacancyStatus.OPEN
        self._clear_offer()

    @event(OfferExpired)
    def _offer_expired(self, offer_id: UUID, at: datetime) -> None:
        self.status = VacancyStatus.OPEN
        self._clear_offer()

    @event(Withdrawn)
    def _withdrawn(self, reason: str, at: datetime, by: Actor) -> None:
        self.status = VacancyStatus.WITHDRAWN

    def _clear_offer(self) -> None:
        self.live_offer_id = None
        self.live_household_id = None
        self.offer_expires_at = None
