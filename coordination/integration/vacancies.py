"""Integration events of the shared vacancy pool (`rehousing.vacancies.<municipality>`) and the requests
to a vacancy's owner (`rehousing.vacancy-requests.<owner>`).

The owner's node is the only writer of a vacancy; every other node keeps a mirror from these events.
No household id leaves the requesting node: the pool learns which organisation holds an offer, not for whom.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from coordination.domain.values import Actor, DeclinedBy, Dwelling
from coordination.integration.events import IntegrationEvent
from coordination.integration.topics import VACANCIES, VACANCY_REQUESTS


class VacancyPublished(IntegrationEvent):
    """A replacement dwelling entered the pool (the dwelling's facts only: nobody lives there yet)."""

    event_type: ClassVar[str] = "dk.rehousing.vacancy.published.v1"
    topic: ClassVar[str] = VACANCIES

    vacancy_id: UUID
    owner: str
    dwelling: Dwelling
    at: datetime
    by: Actor


class VacancyReserved(IntegrationEvent):
    """An offer holds the vacancy until `expires_at`: unavailable to everyone else."""

    event_type: ClassVar[str] = "dk.rehousing.vacancy.reserved.v1"
    topic: ClassVar[str] = VACANCIES

    vacancy_id: UUID
    offer_id: UUID
    reserved_for: str  # the organisation whose household holds the offer
    expires_at: datetime
    at: datetime
    by: Actor


class VacancyLet(IntegrationEvent):
    """The offer was accepted: the vacancy is let and leaves the pool."""

    event_type: ClassVar[str] = "dk.rehousing.vacancy.let.v1"
    topic: ClassVar[str] = VACANCIES

    vacancy_id: UUID
    offer_id: UUID
    at: datetime
    by: Actor


class VacancyOfferDeclined(IntegrationEvent):
    """The offer was declined: the vacancy is back in the pool (the household's reason stays at home)."""

    event_type: ClassVar[str] = "dk.rehousing.vacancy.offer_declined.v1"
    topic: ClassVar[str] = VACANCIES

    vacancy_id: UUID
    offer_id: UUID
    declined_by: DeclinedBy
    at: datetime
    by: Actor


class VacancyOfferExpired(IntegrationEvent):
    """The offer expired unanswered: the vacancy is back in the pool."""

    event_type: ClassVar[str] = "dk.rehousing.vacancy.offer_expired.v1"
    topic: ClassVar[str] = VACANCIES

    vacancy_id: UUID
    offer_id: UUID
    at: datetime


class VacancyWithdrawn(IntegrationEvent):
    """The owner took the vacancy out of the pool."""

    event_type: ClassVar[str] = "dk.rehousing.vacancy.withdrawn.v1"
    topic: ClassVar[str] = VACANCIES

    vacancy_id: UUID
    reason: str
    at: datetime
    by: Actor


class OfferRequested(IntegrationEvent):
    """Another organisation asks the owner to reserve its vacancy for an offer to one of its households.

    The owner reserves it if it is open (the first request wins) and says so on the pool; otherwise it
    answers with ReservationRefused on the requester's requests topic.
    """

    event_type: ClassVar[str] = "dk.rehousing.vacancy.offer_requested.v1"
    topic: ClassVar[str] = VACANCY_REQUESTS

    offer_id: UUID
    vacancy_id: UUID
    expires_at: datetime
    at: datetime
    by: Actor


class OfferAnswered(IntegrationEvent):
    """The household accepted or declined the offer (or its organisation withdrew it): let, or back in the pool."""

    event_type: ClassVar[str] = "dk.rehousing.vacancy.offer_answered.v1"
    topic: ClassVar[str] = VACANCY_REQUESTS

    offer_id: UUID
    vacancy_id: UUID
    accepted: bool
    declined_by: DeclinedBy | None
    at: datetime
    by: Actor


class ReservationRefused(IntegrationEvent):
    """The owner could not reserve the vacancy for the request (already offered, let or withdrawn)."""

    event_type: ClassVar[str] = "dk.rehousing.vacancy.reservation_refused.v1"
    topic: ClassVar[str] = VACANCY_REQUESTS

    offer_id: UUID
    vacancy_id: UUID
    reason: str
    at: datetime
    by: Actor
