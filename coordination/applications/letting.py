"""A housing organisation's lettings: its vacancies, the offers it makes of them (the household and the vacancy
change together), their answers and expiry, and the waterbed guard's warnings on an offer. A part of the
housing organisation's node (housing.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from coordination.applications.answers import VacancyView
from coordination.applications.area_guard import AreaIndicatorsSource, InflowProvider
from coordination.applications.base import NodeApplication, derived_id, require_time
from coordination.applications.commands import Decision, command
from coordination.applications.timers import Expiries, originators, timer_command_id
from coordination.applications.vacancy_mirror import undisclosed_household
from coordination.domain.calendar import add_months, copenhagen_day
from coordination.domain.errors import DomainError, HouseholdErased
from coordination.domain.household import Household
from coordination.domain.vacancy import Vacancy
from coordination.domain.values import Actor, DeclinedBy, Dwelling, Override, Place
from coordination.domain.waterbed import (
    AreaWarning,
    WaterbedPolicy,
    assess,
    monitoring_status,
)

VACANCY = "vacancy"
# An offer of another organisation's vacancy expires by its owner's timer, not this node's.
EXPIRED_BY_THE_OWNER = "the owner's expire_due (its expiry reaches this node on the pool)"


class LettingDesk(NodeApplication):
    """The housing organisation's vacancies and the offers it makes of them."""

    _area_indicators: AreaIndicatorsSource
    _inflow: InflowProvider
    waterbed_policy: WaterbedPolicy

    def vacancy(self, vacancy_id: UUID) -> VacancyView:
        """Once the household it was let to is erased, the vacancy keeps the dwelling but not who got it."""
        view = VacancyView.of(self._get(Vacancy, vacancy_id, VACANCY))
        if (
            view.let_to is not None
            and self.household_keys is not None
            and self.household_keys.is_erased(view.let_to)
        ):
            return view.model_copy(update={"let_to": None})
        return view

    def area_status(self, place: Place) -> str:
        """The area's monitoring status: listed, near threshold, transformation area, ok or unmonitored."""
        return str(monitoring_status(self._area_indicators.indicators(place), self.waterbed_policy))

    def area_warnings(self, place: Place, *, at: datetime) -> list[AreaWarning]:
        """The waterbed warnings an offer into `place` made at `at` carries; each needs an override."""
        window = self.waterbed_policy.inflow_window_months
        since = add_months(copenhagen_day(require_time(at)), -window)
        indicators = self._area_indicators.indicators(place)
        return assess(indicators, self._inflow(place, since), self.waterbed_policy)

    @command()
    def publish_vacancy(
        self, *, command_id: UUID, dwelling: Dwelling, at: datetime, by: Actor
    ) -> Decision[UUID]:
        vacancy_id = derived_id("vacancy", self.organisation, command_id)
        return vacancy_id, [Vacancy.publish(id=vacancy_id, dwelling=dwelling, at=at, by=by)]

    @command(aggregate_id="vacancy_id")
    def withdraw_vacancy(
        self, *, command_id: UUID, vacancy_id: UUID, reason: str, at: datetime, by: Actor
    ) -> Decision[UUID]:
        vacancy = self._get(Vacancy, vacancy_id, VACANCY)
        vacancy.withdraw(reason=reason, at=at, by=by)
        return vacancy_id, [vacancy]

    # Offers: the household and the vacancy change in one transaction, or neither does.

    @command()
    def make_offer(
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
        offer_id = derived_id("offer", self.organisation, command_id)
        household, vacancy = self._household(household_id), self._get(Vacancy, vacancy_id, VACANCY)
        self._require_own(vacancy, "request_offer, which asks its owner to reserve it")
        expiry = expires_at or at + timedelta(days=self.policy.offer_validity_days)
        self._offer(household, vacancy, offer_id, expiry, list(overrides), at, by)
        return offer_id, [household, vacancy]

    def _offer(
        self,
        household: Household,
        vacancy: Vacancy,
        offer_id: UUID,
        expiry: datetime,
        overrides: list[Override],
        at: datetime,
        by: Actor,
    ) -> None:
        # The guard is assessed now and its warnings recorded with the offer, so a replay never depends on
        # a later indicators file or a later inflow.
        self._receive(household, vacancy, offer_id, expiry, overrides, at, by)
        vacancy.reserve_for_offer(
            offer_id=offer_id, household_id=household.id, expires_at=expiry, at=at, by=by
        )

    # The answers fingerprint a decline's fields with their absent values (as the commands always have).

    @command(also={"declined_by": None, "reason": ""})
    def accept_offer(
        self, *, command_id: UUID, household_id: UUID, offer_id: UUID, at: datetime, by: Actor
    ) -> Decision[UUID]:
        household, vacancy = self._offered(household_id, offer_id, instead="accept_requested_offer")
        household.accept_offer(offer_id=offer_id, at=at, by=by)
        vacancy.accept_offer(offer_id=offer_id, at=at, by=by)
        return offer_id, [household, vacancy]

    @command(added=("reason_code",))
    def decline_offer(
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
        household, vacancy = self._offered(household_id, offer_id, instead="decline_requested_offer")
        answer = {
            "declined_by": declined_by,
            "reason": reason,
            "reason_code": reason_code,
            "at": at,
            "by": by,
        }
        household.decline_offer(offer_id=offer_id, **answer)
        vacancy.decline_offer(offer_id=offer_id, **answer)
        return offer_id, [household, vacancy]

    @command(also=lambda app, call: {"by": app._timer(), "declined_by": None, "reason": ""})
    def expire_offer(
        self, *, command_id: UUID, household_id: UUID, offer_id: UUID, at: datetime
    ) -> Decision[UUID]:
        household, vacancy = self._offered(household_id, offer_id, instead=EXPIRED_BY_THE_OWNER)
        household.expire_offer(offer_id=offer_id, at=at)
        vacancy.expire_offer(offer_id=offer_id, at=at)
        return offer_id, [household, vacancy]

    def _offered(self, household_id: UUID, offer_id: UUID, *, instead: str) -> tuple[Household, Vacancy]:
        """The household holding the offer and the vacancy offered, which must be this node's own (an offer
        of another organisation's vacancy is answered through its request to the owner: `instead`)."""
        household = self._household(household_id)
        vacancy = self._get(Vacancy, household.vacancy_of_offer(offer_id), VACANCY)
        self._require_own(vacancy, instead)
        return household, vacancy

    # Timers

    def expire_due(self, *, now: datetime) -> Expiries:
        """Run this node's timers as of `now`: the referrals it sent (see ReferralDesk), and every offer on
        its own vacancies past its expiry, whether made here or requested by another organisation.

        An offer of another organisation's vacancy is left alone: its owner's timer expires it.
        """
        referrals = super().expire_due(now=now)
        own: list[UUID] = []
        requested: list[UUID] = []
        skipped: list[UUID] = []
        for vacancy_id in originators(self, Vacancy.OfferReserved):
            vacancy = self._get(Vacancy, vacancy_id, VACANCY)
            offer_id, expires_at = vacancy.live_offer_id, vacancy.offer_expires_at
            if offer_id is None or expires_at is None:
                continue
            if vacancy.owner != self.organisation or now < expires_at:
                continue
            try:
                requested_elsewhere = self._expire_live_offer(vacancy, offer_id, now)
            except DomainError:
                skipped.append(offer_id)  # answered or changed meanwhile: decided again next run
            else:
                (requested if requested_elsewhere else own).append(offer_id)
        return replace(
            referrals,
            offers=tuple(own),
            requested_offers=tuple(requested),
            skipped=referrals.skipped + tuple(skipped),
        )

    def _expire_live_offer(self, vacancy: Vacancy, offer_id: UUID, now: datetime) -> bool:
        """Expire the live offer on our own vacancy; whether another organisation had requested it."""
        if vacancy.live_household_id == undisclosed_household(offer_id):
            self.expire_requested_offer(
                command_id=timer_command_id("expire_requested_offer", offer_id),
                vacancy_id=vacancy.id,
                offer_id=offer_id,
                at=now,
            )
            return True
        if vacancy.live_household_id is None:  # offered to a household erased since: left to its owner
            raise HouseholdErased(f"The household offer {offer_id} was made to is erased")
        self.expire_offer(
            command_id=timer_command_id("expire_offer", offer_id),
            household_id=vacancy.live_household_id,
            offer_id=offer_id,
            at=now,
        )
        return False
