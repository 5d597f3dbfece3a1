"""Offers of one organisation's vacancy to another organisation's household, as requests to the owner.

The owner's node is the only writer of its vacancy. The requester records an OfferRequest (published to
the owner), the owner reserves the vacancy or refuses, and the requester records the offer on its
household when the reservation comes back; the household's answer goes to the owner the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate

from coordination.applications.base import derived_id
from coordination.applications.vacancy_mirror import VacancyMirror, undisclosed_household
from coordination.domain.errors import DomainError, InvalidInput, NotPermitted, VacancyOfAnotherOrganisation
from coordination.domain.household import Household
from coordination.domain.offer_request import OfferRequest, OfferRequestStatus, ReservationRefusal
from coordination.domain.vacancy import Vacancy
from coordination.domain.values import Actor, DeclinedBy, Override, Role

OFFER_REQUEST = "offer request"


class OfferExchange(VacancyMirror):
    """Both sides of an offer across organisations (mixed into the housing organisation's application)."""

    # Requester's side

    def request_offer(
        self,
        *,
        command_id: UUID,
        household_id: UUID,
        vacancy_id: UUID,
        expires_at: datetime | None = None,
        overrides: Sequence[Override] = (),
        at: datetime,
        by: Actor,
    ) -> UUID:
        """Ask the owner of a mirrored vacancy to reserve it for an offer to `household_id`; the offer's id.

        The offer rules are checked now (so a caseworker hears at once) and again when the reservation
        comes back, against the household as it is then.
        """
        offer_id = derived_id("offer", self.organisation, command_id)
        expiry = expires_at or at + timedelta(days=self.policy.offer_validity_days)

        def work() -> tuple[UUID, list[Aggregate]]:
            vacancy = self._get(Vacancy, vacancy_id, "vacancy")
            if vacancy.owner == self.organisation:
                raise InvalidInput(
                    f"Vacancy {vacancy_id} is {self.organisation}'s own; make the offer directly"
                )
            household = self._get(Household, household_id, "household")
            # A trial run on a copy that is never saved: the household's rules, the vacancy's availability.
            self._receive(household, vacancy, offer_id, expiry, list(overrides), at, by)
            vacancy.reserve_for_offer(
                offer_id=offer_id, household_id=household_id, expires_at=expiry, at=at, by=by
            )
            request = OfferRequest.request(
                id=offer_id,
                owner=vacancy.owner,
                vacancy_id=vacancy_id,
                household_id=household_id,
                expires_at=expiry,
                overrides=list(overrides),
                at=at,
                by=by,
            )
            return offer_id, [request]

        arguments = dict(
            household_id=household_id,
            vacancy_id=vacancy_id,
            expires_at=expires_at,
            overrides=list(overrides),
            at=at,
            by=by,
        )
        self._once("request_offer", command_id, arguments, work)
        return offer_id

    def record_reservation(
        self,
        *,
        command_id: UUID,
        offer_id: UUID,
        vacancy_id: UUID,
        expires_at: datetime,
        at: datetime,
        by: Actor,
    ) -> UUID:
        """The owner reserved the vacancy for our request: the household now holds the offer.

        If the household can no longer take it (another offer was accepted meanwhile, the rules now
        fail), the offer is declined by us as provider at once, so the vacancy goes back to the pool.
        """

        def work() -> tuple[UUID, list[Aggregate]]:
            request = self._get(OfferRequest, offer_id, OFFER_REQUEST)
            vacancy = self._get(Vacancy, vacancy_id, "vacancy")
            vacancy.reserve_for_offer(
                offer_id=offer_id,
                household_id=undisclosed_household(offer_id),
                expires_at=expires_at,
                at=at,
                by=by,
            )
            request.record_reserved(at=at)
            household = self._get(Household, request.household_id, "household")
            try:
                self._receive(
                    household,
                    vacancy,
                    offer_id,
                    request.expires_at,
                    request.overrides,
                    at,
                    request.requested_by,
                )
            except DomainError as error:
                request.answer(
                    accepted=False,
                    declined_by=DeclinedBy.PROVIDER,
                    at=at,
                    by=self._system(),
                    reason=f"The household could no longer take the offer: {error}",
                )
                return offer_id, [vacancy, request]
            return offer_id, [vacancy, request, household]

        arguments = dict(offer_id=offer_id, vacancy_id=vacancy_id, expires_at=expires_at, at=at, by=by)
        self._once("record_reservation", command_id, arguments, work)
        return offer_id

    def record_reservation_refused(
        self, *, command_id: UUID, offer_id: UUID, reason: str, at: datetime
    ) -> UUID:
        return self._change(
            OfferRequest,
            OFFER_REQUEST,
            command="record_reservation_refused",
            command_id=command_id,
            aggregate_id=offer_id,
            at=at,
            by=self._system(),
            decide=lambda r: r.record_refused(reason=reason, at=at),
            reason=reason,
        )

    def accept_requested_offer(
        self, *, command_id: UUID, household_id: UUID, offer_id: UUID, at: datetime, by: Actor
    ) -> UUID:
        return self._answer_request(
            "accept_requested_offer", command_id, household_id, offer_id, at, by, None, ""
        )

    def decline_requested_offer(
        self,
        *,
        command_id: UUID,
        household_id: UUID,
        offer_id: UUID,
        declined_by: DeclinedBy,
        reason: str,
        at: datetime,
        by: Actor,
    ) -> UUID:
        return self._answer_request(
            "decline_requested_offer", command_id, household_id, offer_id, at, by, declined_by, reason
        )

    def _answer_request(
        self,
        command: str,
        command_id: UUID,
        household_id: UUID,
        offer_id: UUID,
        at: datetime,
        by: Actor,
        declined_by: DeclinedBy | None,
        reason: str,
    ) -> UUID:
        def work() -> tuple[UUID, list[Aggregate]]:
            request = self._get(OfferRequest, offer_id, OFFER_REQUEST)
            household = self._get(Household, household_id, "household")
            if declined_by is None:
                household.accept_offer(offer_id=offer_id, at=at, by=by)
            else:
                household.decline_offer(
                    offer_id=offer_id, declined_by=declined_by, reason=reason, at=at, by=by
                )
            request.answer(accepted=declined_by is None, declined_by=declined_by, reason=reason, at=at, by=by)
            return offer_id, [household, request]

        arguments = dict(
            household_id=household_id, offer_id=offer_id, declined_by=declined_by, reason=reason, at=at, by=by
        )
        self._once(command, command_id, arguments, work)
        return offer_id

    def mirror_vacancy_offer_expired(
        self, *, command_id: UUID, vacancy_id: UUID, offer_id: UUID, at: datetime
    ) -> UUID:
        """The owner expired an offer on its vacancy; when the offer is one of our requests, our household's
        offer and the request lapse with the mirror, in one transaction."""
        if not self._exists(offer_id):
            return super().mirror_vacancy_offer_expired(
                command_id=command_id, vacancy_id=vacancy_id, offer_id=offer_id, at=at
            )

        def work() -> tuple[UUID, list[Aggregate]]:
            request = self._get(OfferRequest, offer_id, OFFER_REQUEST)
            vacancy = self._get(Vacancy, vacancy_id, "vacancy")
            vacancy.expire_offer(offer_id=offer_id, at=at)
            if request.status is not OfferRequestStatus.RESERVED:
                # Answered here before the owner's timer ran: the owner decided; the mirror follows it alone.
                return offer_id, [vacancy]
            request.record_expired(at=at)
            household = self._get(Household, request.household_id, "household")
            household.expire_offer(offer_id=offer_id, at=at)
            return offer_id, [vacancy, request, household]

        arguments = {"vacancy_id": vacancy_id, "offer_id": offer_id, "at": at}
        self._once("record_offer_expired", command_id, arguments, work)
        return offer_id

    # Owner's side: requests from other organisations, applied with the requester's actor.

    def expire_requested_offer(
        self, *, command_id: UUID, vacancy_id: UUID, offer_id: UUID, at: datetime
    ) -> UUID:
        """Our timer: an offer another organisation requested on our vacancy went unanswered past its expiry.

        The expiry is published on the pool; the requester learns it there and lapses its household's offer.
        """

        def decide(vacancy: Vacancy) -> None:
            self._require_own(vacancy)
            vacancy.expire_offer(offer_id=offer_id, at=at)

        return self._change(
            Vacancy,
            "vacancy",
            command="expire_requested_offer",
            command_id=command_id,
            aggregate_id=vacancy_id,
            at=at,
            by=self._timer(),
            decide=decide,
            offer_id=offer_id,
        )

    def reserve_for_request(
        self,
        *,
        command_id: UUID,
        offer_id: UUID,
        vacancy_id: UUID,
        expires_at: datetime,
        at: datetime,
        by: Actor,
    ) -> UUID:
        """Reserve our vacancy for another organisation's offer, or record why not (the first request wins)."""

        def work() -> tuple[UUID, list[Aggregate]]:
            vacancy = self._own_vacancy(vacancy_id)
            try:
                vacancy.reserve_for_offer(
                    offer_id=offer_id,
                    household_id=undisclosed_household(offer_id),
                    expires_at=expires_at,
                    at=at,
                    by=by,
                )
            except DomainError as error:
                refusal = ReservationRefusal(
                    id=derived_id("refusal", offer_id),
                    offer_id=offer_id,
                    vacancy_id=vacancy_id,
                    requester=by.organisation,
                    reason=str(error),
                    at=at,
                    by=self._system(),
                )
                return offer_id, [refusal]
            return offer_id, [vacancy]

        arguments = dict(offer_id=offer_id, vacancy_id=vacancy_id, expires_at=expires_at, at=at, by=by)
        self._once("reserve_for_request", command_id, arguments, work)
        return offer_id

    def answer_for_request(
        self,
        *,
        command_id: UUID,
        offer_id: UUID,
        vacancy_id: UUID,
        accepted: bool,
        declined_by: DeclinedBy | None,
        at: datetime,
        by: Actor,
    ) -> UUID:
        def decide(vacancy: Vacancy) -> None:
            if vacancy.owner != self.organisation:
                raise NotPermitted(
                    f"Vacancy {vacancy_id} is {vacancy.owner}'s; {self.organisation} only mirrors it"
                )
            if accepted:
                vacancy.accept_offer(offer_id=offer_id, at=at, by=by)
            else:
                vacancy.decline_offer(
                    offer_id=offer_id,
                    declined_by=declined_by or DeclinedBy.PROVIDER,
                    reason=f"declined; the reason is kept by {by.organisation}",
                    at=at,
                    by=by,
                )

        return self._change(
            Vacancy,
            "vacancy",
            command="answer_for_request",
            command_id=command_id,
            aggregate_id=vacancy_id,
            at=at,
            by=by,
            decide=decide,
            offer_id=offer_id,
            accepted=accepted,
            declined_by=declined_by,
        )

    # Shared

    def _receive(
        self,
        household: Household,
        vacancy: Vacancy,
        offer_id: UUID,
        expires_at: datetime,
        overrides: list[Override],
        at: datetime,
        by: Actor,
    ) -> None:
        household.receive_offer(
            offer_id=offer_id,
            vacancy_id=vacancy.id,
            dwelling=vacancy.dwelling,
            expires_at=expires_at,
            overrides=overrides,
            policy=self.policy,
            at=at,
            by=by,
            warnings=self.area_warnings(vacancy.dwelling.place, at=at),  # type: ignore[attr-defined]
        )

    def _own_vacancy(self, vacancy_id: UUID) -> Vacancy:
        vacancy = self._get(Vacancy, vacancy_id, "vacancy")
        if vacancy.owner != self.organisation:
            raise NotPermitted(f"Vacancy {vacancy_id} is {vacancy.owner}'s; ask its owner to reserve it")
        return vacancy

    def _require_own(self, vacancy: Vacancy, instead: str = "") -> None:
        """Refuse a step only the owner's node takes on a vacancy this node mirrors; `instead` names ours."""
        if vacancy.owner != self.organisation:
            hint = f"; use {instead}" if instead else ""
            raise VacancyOfAnotherOrganisation(
                f"Vacancy {vacancy.id} is {vacancy.owner}'s and only mirrored by {self.organisation}{hint}"
            )

    def _timer(self) -> Actor:
        return Actor(organisation=self.organisation, person="offer-expiry-timer", role=Role.SYSTEM)

    def _system(self) -> Actor:
        return Actor(organisation=self.organisation, person="offer-exchange", role=Role.SYSTEM)
