"""The OfferRequest aggregate: an offer of another organisation's vacancy, as the requesting node tracks it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from coordination.domain.errors import InvalidInput, OfferNotLive, RuleViolated
from coordination.domain.values import Actor, DeclinedBy, Override, Value, checked_reason


class OfferRequestStatus(StrEnum):
    REQUESTED = "requested"
    RESERVED = "reserved"
    REFUSED = "refused"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


class OfferRequestStep(Value):
    """One state the request reached, and when (the time of the step as its event says)."""

    state: OfferRequestStatus
    at: datetime


class OfferRequest(Aggregate):
    """A housing organisation's request that another organisation reserve its vacancy for one household.

    The owner's node alone writes the vacancy, so an offer across organisations is a short
    conversation: requested → reserved (the household then holds the offer) or refused; a
    reserved offer is then accepted or declined. Only what the conversation needs is kept here:
    the household's own record of the offer lives on the Household, once the vacancy is reserved.
    """

    class Requested(Aggregate.Created):
        owner: str
        vacancy_id: UUID
        household_id: UUID
        expires_at: datetime
        overrides: list[Override]
        at: datetime
        by: Actor

    class Reserved(Aggregate.Event):
        at: datetime

    class Refused(Aggregate.Event):
        reason: str
        at: datetime

    class Expired(Aggregate.Event):
        """The owner's timer expired the reserved offer unanswered (no person acted)."""

        at: datetime

    class Answered(Aggregate.Event):
        accepted: bool
        declined_by: DeclinedBy | None
        reason: str
        at: datetime
        by: Actor

    @event(Requested)
    def __init__(
        self,
        id: UUID,
        owner: str,
        vacancy_id: UUID,
        household_id: UUID,
        expires_at: datetime,
        overrides: list[Override],
        at: datetime,
        by: Actor,
    ) -> None:
        self.owner = owner
        self.vacancy_id = vacancy_id
        self.household_id = household_id
        self.expires_at = expires_at
        self.overrides = list(overrides)
        self.requested_by = by
        self.status = OfferRequestStatus.REQUESTED
        self.reason: str | None = None
        self.declined_by: DeclinedBy | None = None
        self.history = [OfferRequestStep(state=self.status, at=at)]

    @classmethod
    def request(
        cls,
        *,
        id: UUID,
        owner: str,
        vacancy_id: UUID,
        household_id: UUID,
        expires_at: datetime,
        overrides: list[Override],
        at: datetime,
        by: Actor,
    ) -> OfferRequest:
        if owner == by.organisation:
            raise InvalidInput(
                "{owner} offers its own vacancies directly; a request goes to another owner", owner=owner
            )
        if expires_at <= at:
            raise RuleViolated("An offer must expire after it is made")
        return cls(
            id=id,
            owner=owner,
            vacancy_id=vacancy_id,
            household_id=household_id,
            expires_at=expires_at,
            overrides=overrides,
            at=at,
            by=by,
        )

    @property
    def offer_id(self) -> UUID:
        return self.id

    def record_reserved(self, *, at: datetime) -> None:
        self._require(OfferRequestStatus.REQUESTED, "reserved")
        self._reserved(at=at)

    def record_refused(self, *, reason: str, at: datetime) -> None:
        self._require(OfferRequestStatus.REQUESTED, "refused")
        self._refused(reason=checked_reason(reason), at=at)

    def answer(
        self, *, accepted: bool, declined_by: DeclinedBy | None, reason: str, at: datetime, by: Actor
    ) -> None:
        self._require(OfferRequestStatus.RESERVED, "answered")
        if not accepted and declined_by is None:
            raise InvalidInput("A declined offer says who declined it")
        self._answered(
            accepted=accepted,
            declined_by=None if accepted or declined_by is None else DeclinedBy(declined_by),
            reason=reason if accepted else checked_reason(reason),
            at=at,
            by=by,
        )

    def record_expired(self, *, at: datetime) -> None:
        """The owner expired the reservation: the household's offer lapses; the vacancy is open again."""
        self._require(OfferRequestStatus.RESERVED, "expired")
        if at < self.expires_at:
            raise RuleViolated(
                "Offer {id} does not expire before {expires_at}", id=self.id, expires_at=self.expires_at
            )
        self._expired(at=at)

    def _require(self, status: OfferRequestStatus, step: str) -> None:
        if self.status != status:
            raise OfferNotLive(
                "Offer {id} is {status}; it cannot be {step}", id=self.id, status=self.status, step=step
            )

    @property
    def requested_at(self) -> datetime:
        return self.history[0].at

    def _step(self, status: OfferRequestStatus, at: datetime) -> None:
        self.status = status
        self.history = [*self.history, OfferRequestStep(state=status, at=at)]

    @event(Reserved)
    def _reserved(self, at: datetime) -> None:
        self._step(OfferRequestStatus.RESERVED, at)

    @event(Refused)
    def _refused(self, reason: str, at: datetime) -> None:
        self._step(OfferRequestStatus.REFUSED, at)
        self.reason = reason

    @event(Expired)
    def _expired(self, at: datetime) -> None:
        self._step(OfferRequestStatus.EXPIRED, at)

    @event(Answered)
    def _answered(
        self, accepted: bool, declined_by: DeclinedBy | None, reason: str, at: datetime, by: Actor
    ) -> None:
        self._step(OfferRequestStatus.ACCEPTED if accepted else OfferRequestStatus.DECLINED, at)
        self.reason = reason or None
        self.declined_by = None if declined_by is None else DeclinedBy(declined_by)


class ReservationRefusal(Aggregate):
    """The owner's record that it could not reserve its vacancy for another organisation's request.

    Kept so the answer is published from the owner's own history like everything else it says.
    """

    class Recorded(Aggregate.Created):
        offer_id: UUID
        vacancy_id: UUID
        requester: str
        reason: str
        at: datetime
        by: Actor

    @event(Recorded)
    def __init__(
        self, id: UUID, offer_id: UUID, vacancy_id: UUID, requester: str, reason: str, at: datetime, by: Actor
    ) -> None:
        self.offer_id = offer_id
        self.vacancy_id = vacancy_id
        self.requester = requester
        self.reason = reason
