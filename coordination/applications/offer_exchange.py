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

from coordination.applications.answers import OfferRequestView
from coordination.applications.base import derived_id
from coordination.applications.commands import Decision, command
from coordination.applications.vacancy_mirror import VacancyMirror
from coordination.domain.errors import DomainError, InvalidInput, NotPermitted, VacancyOfAnotherOrganisation
from coordination.domain.household import Household
from coordination.domain.household_values import OfferRecord, OfferStatus
from coordination.domain.offer_request import OfferRequest, OfferRequestStatus, ReservationRefusal
from coordination.domain.reasons import UNSPECIFIED, label
from coordination.domain.vacancy import Vacancy
from coordination.domain.values import Actor, DeclinedBy, Override, Role

OFFER_REQUEST = "offer request"


class OfferExchange(VacancyMirror):
    """Both sides of an offer across organisations (mixed into the housing organisation's application)."""

    # Requester's side

    @command()
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
    ) -> Decision[UUID]:
        """Ask the owner of a mirrored vacancy to reserve it for an offer to `household_id`; the offer's id,
        which is also the request's.

        The offer rules are checked now (so a caseworker hears at once) and again when the reservation
        comes back, against the household as it is then. The household records the request, so its offers
        list the request while the owner decides, and after a refusal.
        """
        offer_id = derived_id("offer", self.organisation, command_id)
        expiry = expires_at or at + timedelta(days=self.policy.offer_validity_days)
        vacancy, trial = self._vacancy_elsewhere(vacancy_id), self._household(household_id)
        request = self._request(trial, vacancy, offer_id, expiry, list(overrides), at, by)
        household = self._household(household_id)  # the trial's copy holds an offer it must not save
        household.request_offer(offer_id=offer_id, vacancy_id=vacancy_id, at=at, by=by)
        return offer_id, [household, request]

    def _vacancy_elsewhere(self, vacancy_id: UUID) -> Vacancy:
        vacancy = self._get(Vacancy, vacancy_id, "vacancy")
        if vacancy.owner == self.organisation:
            raise InvalidInput(f"Vacancy {vacancy_id} is {self.organisation}'s own; make the offer directly")
        return vacancy

    def _request(
        self,
        household: Household,
        vacancy: Vacancy,
        offer_id: UUID,
        expiry: datetime,
        overrides: list[Override],
        at: datetime,
        by: Actor,
    ) -> OfferRequest:
        """The request to the vacancy's owner, after a trial run on copies that are never saved: the
        household's rules, the vacancy's availability."""
        self._receive(household, vacancy, offer_id, expiry, overrides, at, by)
        vacancy.reserve_for_offer(
            offer_id=offer_id, household_id=household.id, expires_at=expiry, at=at, by=by
        )
        return OfferRequest.request(
            id=offer_id,
            owner=vacancy.owner,
            vacancy_id=vacancy.id,
            household_id=household.id,
            expires_at=expiry,
            overrides=overrides,
            at=at,
            by=by,
        )

    def _household(self, household_id: UUID) -> Household:
        return self._get(Household, household_id, "household")

    def offer_request(self, offer_id: UUID) -> OfferRequestView:
        """A request of ours as it stands (its id is the offer's)."""
        return OfferRequestView.of(self._request_of(offer_id))

    def offers_not_held(self, household: Household) -> list[OfferRecord]:
        """The household's requests whose offer it does not hold: waiting for the owner, refused by it, or
        declined by us at the reservation; each as an offer with the request's state and reason."""
        held = {offer.offer_id for offer in household.offers}
        return [
            self._as_offer(self._request_of(offer_id))
            for offer_id in household.offer_requests
            if offer_id not in held
        ]

    def _as_offer(self, request: OfferRequest) -> OfferRecord:
        declined = (
            OfferStatus.DECLINED_BY_HOUSEHOLD
            if request.declined_by == DeclinedBy.HOUSEHOLD
            else OfferStatus.DECLINED_BY_PROVIDER
        )
        status = {
            OfferRequestStatus.REQUESTED: OfferStatus.REQUESTED,
            OfferRequestStatus.RESERVED: OfferStatus.LIVE,
            OfferRequestStatus.REFUSED: OfferStatus.REFUSED,
            OfferRequestStatus.ACCEPTED: OfferStatus.ACCEPTED,
            OfferRequestStatus.DECLINED: declined,
            OfferRequestStatus.EXPIRED: OfferStatus.EXPIRED,
        }[request.status]
        return OfferRecord(
            offer_id=request.id,
            vacancy_id=request.vacancy_id,
            dwelling=self._get(Vacancy, request.vacancy_id, "vacancy").dwelling,
            expires_at=request.expires_at,
            status=status,
            overrides=request.overrides,
            reason=request.reason,
        )

    def _request_of(self, offer_id: UUID) -> OfferRequest:
        return self._get(OfferRequest, offer_id, OFFER_REQUEST)

    @command()
    def record_reservation(
        self,
        *,
        command_id: UUID,
        offer_id: UUID,
        vacancy_id: UUID,
        expires_at: datetime,
        at: datetime,
        by: Actor,
    ) -> Decision[UUID]:
        """The owner reserved the vacancy for our request: the household now holds the offer.

        If the household can no longer take it (another offer was accepted meanwhile, the rules now
        fail), the offer is declined by us as provider at once, so the vacancy goes back to the pool.
        """
        request, vacancy = self._request_of(offer_id), self._get(Vacancy, vacancy_id, "vacancy")
        self._reserve_undisclosed(vacancy, offer_id, expires_at, at, by)
        request.record_reserved(at=at)
        return offer_id, [vacancy, request, *self._offer_reserved(request, vacancy, at)]

    def _offer_reserved(self, request: OfferRequest, vacancy: Vacancy, at: datetime) -> list[Aggregate]:
        """Our household receives the reserved offer; or, if it can no longer take it, we decline it."""
        household = self._get(Household, request.household_id, "household")
        try:
            self._receive(
                household,
                vacancy,
                request.id,
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
            return []
        return [household]

    @command(aggregate_id="offer_id", also=lambda app, call: {"by": app._system()})
    def record_reservation_refused(
        self, *, command_id: UUID, offer_id: UUID, reason: str, at: datetime
    ) -> Decision[UUID]:
        request = self._get(OfferRequest, offer_id, OFFER_REQUEST)
        request.record_refused(reason=reason, at=at)
        return offer_id, [request]

    # The answers fingerprint a decline's fields with their absent values (as the commands always have).

    @command(also={"declined_by": None, "reason": ""})
    def accept_requested_offer(
        self, *, command_id: UUID, household_id: UUID, offer_id: UUID, at: datetime, by: Actor
    ) -> Decision[UUID]:
        request, household = self._request_of(offer_id), self._household(household_id)
        household.accept_offer(offer_id=offer_id, at=at, by=by)
        request.answer(accepted=True, declined_by=None, reason="", at=at, by=by)
        return offer_id, [household, request]

    @command(added=("reason_code",))
    def decline_requested_offer(
        self,
        *,
        command_id: UUID,
        household_id: UUID,
        offer_id: UUID,
        declined_by: DeclinedBy,
        reason: str = "",
        reason_code: str | None = None,
        at: datetime,
        by: Actor,
    ) -> Decision[UUID]:
        request, household = self._request_of(offer_id), self._household(household_id)
        household.decline_offer(
            offer_id=offer_id, declined_by=declined_by, reason=reason, reason_code=reason_code, at=at, by=by
        )
        # The request keeps words: the caseworker's, or the code's label when only a code was given.
        code = next(o.reason_code for o in household.offers if o.offer_id == offer_id)
        words = reason.strip() or label(code or "")
        request.answer(accepted=False, declined_by=declined_by, reason=words, at=at, by=by)
        return offer_id, [household, request]

    def mirror_vacancy_offer_expired(
        self, *, command_id: UUID, vacancy_id: UUID, offer_id: UUID, at: datetime
    ) -> UUID:
        """The owner expired an offer on its vacancy; when the offer is one of our requests, our household's
        offer and the request lapse with the mirror, in one transaction."""
        if self._exists(offer_id):
            return self._requested_offer_expired(
                command_id=command_id, vacancy_id=vacancy_id, offer_id=offer_id, at=at
            )
        return super().mirror_vacancy_offer_expired(
            command_id=command_id, vacancy_id=vacancy_id, offer_id=offer_id, at=at
        )

    @command("record_offer_expired")
    def _requested_offer_expired(
        self, *, command_id: UUID, vacancy_id: UUID, offer_id: UUID, at: datetime
    ) -> Decision[UUID]:
        request, vacancy = self._request_of(offer_id), self._get(Vacancy, vacancy_id, "vacancy")
        vacancy.expire_offer(offer_id=offer_id, at=at)
        if request.status is not OfferRequestStatus.RESERVED:
            # Answered here before the owner's timer ran: the owner decided; the mirror follows it alone.
            return offer_id, [vacancy]
        return offer_id, [vacancy, *self._request_lapsed(request, at)]

    def _request_lapsed(self, request: OfferRequest, at: datetime) -> list[Aggregate]:
        request.record_expired(at=at)
        household = self._get(Household, request.household_id, "household")
        household.expire_offer(offer_id=request.id, at=at)
        return [request, household]

    # Owner's side: requests from other organisations, applied with the requester's actor.

    @command(aggregate_id="vacancy_id", also=lambda app, call: {"by": app._timer()})
    def expire_requested_offer(
        self, *, command_id: UUID, vacancy_id: UUID, offer_id: UUID, at: datetime
    ) -> Decision[UUID]:
        """Our timer: an offer another organisation requested on our vacancy went unanswered past its expiry.

        The expiry is published on the pool; the requester learns it there and lapses its household's offer.
        """
        vacancy = self._get(Vacancy, vacancy_id, "vacancy")
        self._require_own(vacancy)
        vacancy.expire_offer(offer_id=offer_id, at=at)
        return vacancy_id, [vacancy]

    @command()
    def reserve_for_request(
        self,
        *,
        command_id: UUID,
        offer_id: UUID,
        vacancy_id: UUID,
        expires_at: datetime,
        at: datetime,
        by: Actor,
    ) -> Decision[UUID]:
        """Reserve our vacancy for another organisation's offer, or record why not (the first request wins)."""
        vacancy = self._own_vacancy(vacancy_id)
        try:
            self._reserve_undisclosed(vacancy, offer_id, expires_at, at, by)
        except DomainError as error:
            return offer_id, [self._refusal(offer_id, vacancy_id, str(error), at, by)]
        return offer_id, [vacancy]

    def _refusal(
        self, offer_id: UUID, vacancy_id: UUID, reason: str, at: datetime, by: Actor
    ) -> ReservationRefusal:
        return ReservationRefusal(
            id=derived_id("refusal", offer_id),
            offer_id=offer_id,
            vacancy_id=vacancy_id,
            requester=by.organisation,
            reason=reason,
            at=at,
            by=self._system(),
        )

    @command(aggregate_id="vacancy_id")
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
    ) -> Decision[UUID]:
        vacancy = self._answered_here(vacancy_id)
        if accepted:
            vacancy.accept_offer(offer_id=offer_id, at=at, by=by)
        else:
            self._declined_for_request(vacancy, offer_id, declined_by, at, by)
        return vacancy_id, [vacancy]

    def _answered_here(self, vacancy_id: UUID) -> Vacancy:
        vacancy = self._get(Vacancy, vacancy_id, "vacancy")
        if vacancy.owner != self.organisation:
            raise NotPermitted(
                f"Vacancy {vacancy_id} is {vacancy.owner}'s; {self.organisation} only mirrors it"
            )
        return vacancy

    @staticmethod
    def _declined_for_request(
        vacancy: Vacancy, offer_id: UUID, declined_by: DeclinedBy | None, at: datetime, by: Actor
    ) -> None:
        """The requester's household (or the requester) declined: the reason stays with the requester."""
        reason = f"declined; the reason is kept by {by.organisation}"
        declined_by = declined_by or DeclinedBy.PROVIDER
        vacancy.decline_offer(
            offer_id=offer_id, declined_by=declined_by, reason=reason, reason_code=UNSPECIFIED, at=at, by=by
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
