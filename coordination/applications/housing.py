"""The housing organisation's node: its households, its vacancies, offers and the handoff at the move."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from coordination.applications.area_guard import (
    AreaIndicatorsSource,
    InflowProvider,
    MovesIndex,
    NoAreaIndicators,
)
from coordination.applications.base import derived_id, require_time
from coordination.applications.erasure import ErasureDesk
from coordination.applications.offer_exchange import OfferExchange
from coordination.applications.referrals import ReferralDesk
from coordination.applications.timers import Expiries, originators, timer_command_id
from coordination.applications.vacancy_mirror import undisclosed_household
from coordination.applications.views import HouseholdView, VacancyView
from coordination.domain.calendar import add_months, copenhagen_day
from coordination.domain.errors import ConsentMissing, DomainError
from coordination.domain.household import (
    Enrolment,
    Household,
    Member,
    Move,
    Need,
    Origin,
    Preferences,
    RehousingKind,
)
from coordination.domain.referral import Referral, ReferralDetails, ReferralKind
from coordination.domain.sharing import PURPOSE, referral_details
from coordination.domain.vacancy import Vacancy
from coordination.domain.values import Actor, Consent, DeclinedBy, Dwelling, Holder, Override, Place, Role
from coordination.domain.waterbed import (
    DEFAULT_WATERBED_POLICY,
    AreaWarning,
    WaterbedPolicy,
    assess,
    monitoring_status,
)
from coordination.personal_data import cpr_digest
from coordination.projections.vacancy_pool import HouseholdFacts

HOUSEHOLD = "household"
CONSENT_WITHDRAWN = "consent withdrawn"
VACANCY = "vacancy"
# An offer of another organisation's vacancy is answered through its request to the owner.
INSTEAD_ON_A_MIRROR = {
    "accept_offer": "accept_requested_offer",
    "decline_offer": "decline_requested_offer",
    "expire_offer": "the owner's expire_due (its expiry reaches this node on the pool)",
}


class HousingOrganisationApp(ReferralDesk, OfferExchange, ErasureDesk):
    """A housing organisation (boligorganisation) such as CIVICA or FAB: leases, households, dwellings."""

    snapshotting_intervals: ClassVar[dict[type[Aggregate], int]] = {Household: 50, Vacancy: 50, Referral: 50}

    def __init__(
        self,
        *,
        cpr_secret: bytes,
        area_indicators: AreaIndicatorsSource | None = None,
        inflow: InflowProvider | None = None,
        waterbed_policy: WaterbedPolicy = DEFAULT_WATERBED_POLICY,
        **kwargs: object,
    ) -> None:
        """`area_indicators` and `inflow` feed the waterbed guard; without them every area is unmonitored
        and the inflow is counted from this node's own log of moves (read once, then as it grows)."""
        self._cpr_secret = cpr_secret
        self._area_indicators = NoAreaIndicators() if area_indicators is None else area_indicators
        moves = MovesIndex(self)
        self._inflow: InflowProvider = inflow or (lambda place, since: moves.moved_in_since(place, since))
        self.waterbed_policy = waterbed_policy
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def use_inflow_provider(self, inflow: InflowProvider) -> None:
        """Counts the guard's inflow with `inflow` (the receiving-areas projection, when the node runs it)."""
        self._inflow = inflow

    # Queries

    def household(self, household_id: UUID, *, today: date) -> HouseholdView:
        return HouseholdView.of(self._get(Household, household_id, HOUSEHOLD), self.policy, today)

    def vacancy(self, vacancy_id: UUID) -> VacancyView:
        return VacancyView.of(self._get(Vacancy, vacancy_id, VACANCY))

    def household_facts(self, household_id: UUID) -> HouseholdFacts:
        """What a search for suitable vacancies needs to know about the household (numbers, no names)."""
        return HouseholdFacts.of(self._get(Household, household_id, HOUSEHOLD))

    def area_status(self, place: Place) -> str:
        """The area's monitoring status: listed, near threshold, transformation area, ok or unmonitored."""
        return str(monitoring_status(self._area_indicators.indicators(place), self.waterbed_policy))

    def area_warnings(self, place: Place, *, at: datetime) -> list[AreaWarning]:
        """The waterbed warnings an offer into `place` made at `at` carries; each needs an override."""
        window = self.waterbed_policy.inflow_window_months
        since = add_months(copenhagen_day(require_time(at)), -window)
        indicators = self._area_indicators.indicators(place)
        return assess(indicators, self._inflow(place, since), self.waterbed_policy)

    # Households

    def register_household(
        self,
        *,
        command_id: UUID,
        case_reference: str,
        origin: Origin,
        members: Sequence[Member],
        needs: Sequence[Need],
        rehousing: RehousingKind,
        termination_date: date,
        preferences: Preferences,
        consents: Sequence[Consent] = (),
        language: str | None = None,
        cpr: str | None = None,
        at: datetime,
        by: Actor,
    ) -> UUID:
        digest = None if cpr is None else cpr_digest(cpr, self._cpr_secret)
        household_id = derived_id("household", self.organisation, command_id)

        def work() -> tuple[UUID, list[Aggregate]]:
            household = Household.register(
                id=household_id,
                case_reference=case_reference,
                cpr_digest=digest,
                origin=origin,
                members=list(members),
                needs=list(needs),
                language=language,
                rehousing=rehousing,
                termination_date=termination_date,
                preferences=preferences,
                consents=list(consents),
                at=at,
                by=by,
            )
            return household.id, [household]

        # The digest, not the CPR number, goes into the command's fingerprint.
        arguments = dict(
            case_reference=case_reference,
            cpr=digest,
            origin=origin,
            members=list(members),
            needs=list(needs),
            rehousing=rehousing,
            termination_date=termination_date,
            preferences=preferences,
            consents=list(consents),
            language=language,
            at=at,
            by=by,
        )
        self._once("register_household", command_id, arguments, work)
        return household_id

    def _on_household(
        self,
        command: str,
        command_id: UUID,
        household_id: UUID,
        at: datetime,
        by: Actor,
        decide: object,
        **arguments: object,
    ) -> UUID:
        return self._change(
            Household,
            HOUSEHOLD,
            command=command,
            command_id=command_id,
            aggregate_id=household_id,
            at=at,
            by=by,
            decide=decide,
            **arguments,  # type: ignore[arg-type]
        )

    def record_first_contact(self, *, command_id: UUID, household_id: UUID, at: datetime, by: Actor) -> UUID:
        return self._on_household(
            "record_first_contact",
            command_id,
            household_id,
            at,
            by,
            lambda h: h.record_first_contact(at=at, by=by),
        )

    def record_inspiration_tour(
        self, *, command_id: UUID, household_id: UUID, areas: Sequence[str], at: datetime, by: Actor
    ) -> UUID:
        return self._on_household(
            "record_inspiration_tour",
            command_id,
            household_id,
            at,
            by,
            lambda h: h.record_inspiration_tour(areas=list(areas), at=at, by=by),
            areas=list(areas),
        )

    def record_tasks_found(
        self, *, command_id: UUID, household_id: UUID, tasks: Sequence[str], at: datetime, by: Actor
    ) -> UUID:
        return self._on_household(
            "record_tasks_found",
            command_id,
            household_id,
            at,
            by,
            lambda h: h.record_tasks_found(tasks=list(tasks), at=at, by=by),
            tasks=list(tasks),
        )

    def start_bridge_building(self, *, command_id: UUID, household_id: UUID, at: datetime, by: Actor) -> UUID:
        return self._on_household(
            "start_bridge_building",
            command_id,
            household_id,
            at,
            by,
            lambda h: h.start_bridge_building(at=at, by=by),
        )

    def give_consent(
        self, *, command_id: UUID, household_id: UUID, consent: Consent, at: datetime, by: Actor
    ) -> UUID:
        return self._on_household(
            "give_consent",
            command_id,
            household_id,
            at,
            by,
            lambda h: h.give_consent(consent=consent, at=at, by=by),
            consent=consent,
        )

    def withdraw_consent(
        self, *, command_id: UUID, household_id: UUID, recipient: str, purpose: str, at: datetime, by: Actor
    ) -> UUID:
        """Withdraw a consent; sharing under it stops (GDPR art. 7(3)).

        The open referrals this node sent under that consent are withdrawn in the same transaction with
        the reason "consent withdrawn", so the receiver closes its copy and nothing more about the
        household goes to it under that consent. Referrals resting on a legal basis go on.
        """

        def work() -> tuple[UUID, list[Aggregate]]:
            household = self._get(Household, household_id, HOUSEHOLD)
            household.withdraw_consent(recipient=recipient, purpose=purpose, at=at, by=by)
            resting = self._resting_on_consent(household_id, recipient.lower(), purpose.lower())
            for referral in resting:
                # A receiver's step may carry a later time than ours; the withdrawal never reorders history.
                referral.withdraw(reason=CONSENT_WITHDRAWN, at=max(at, referral.last_step_at), by=by)
            return household_id, [household, *resting]

        arguments = dict(recipient=recipient, purpose=purpose, aggregate_id=household_id, at=at, by=by)
        self._once("withdraw_consent", command_id, arguments, work)
        return household_id

    def _resting_on_consent(self, household_id: UUID, recipient: str, purpose: str) -> list[Referral]:
        ids = {e.aggregate_id for e in self.history(household_id) if e.aggregate == "Referral"}
        referrals = [self._get(Referral, referral_id, "referral") for referral_id in sorted(ids)]
        return [
            r
            for r in referrals
            if r.referrer == self.organisation
            and r.status.is_open
            and r.legal_basis is None
            and r.consent is not None
            and (r.consent.recipient, r.consent.purpose) == (recipient, purpose)
        ]

    def record_enrolment(
        self, *, command_id: UUID, household_id: UUID, enrolment: Enrolment, at: datetime, by: Actor
    ) -> UUID:
        return self._on_household(
            "record_enrolment",
            command_id,
            household_id,
            at,
            by,
            lambda h: h.record_enrolment(enrolment=enrolment, at=at, by=by),
            enrolment=enrolment,
        )

    def record_contact_person(
        self, *, command_id: UUID, household_id: UUID, link_id: UUID, place: Place, at: datetime, by: Actor
    ) -> UUID:
        return self._on_household(
            "record_contact_person",
            command_id,
            household_id,
            at,
            by,
            lambda h: h.record_contact_person(link_id=link_id, place=place, at=at, by=by),
            link_id=link_id,
            place=place,
        )

    def end_contact_person(
        self, *, command_id: UUID, household_id: UUID, link_id: UUID, at: datetime, by: Actor
    ) -> UUID:
        return self._on_household(
            "end_contact_person",
            command_id,
            household_id,
            at,
            by,
            lambda h: h.end_contact_person(link_id=link_id, at=at, by=by),
            link_id=link_id,
        )

    def record_practical_matters_in_order(
        self, *, command_id: UUID, household_id: UUID, note: str, at: datetime, by: Actor
    ) -> UUID:
        return self._on_household(
            "record_practical_matters_in_order",
            command_id,
            household_id,
            at,
            by,
            lambda h: h.record_practical_matters_in_order(note=note, at=at, by=by),
            note=note,
        )

    def record_no_longer_asks_for_help(
        self, *, command_id: UUID, household_id: UUID, at: datetime, by: Actor
    ) -> UUID:
        return self._on_household(
            "record_no_longer_asks_for_help",
            command_id,
            household_id,
            at,
            by,
            lambda h: h.record_no_longer_asks_for_help(at=at, by=by),
        )

    def record_follow_up_visit(
        self, *, command_id: UUID, household_id: UUID, visited_on: date, at: datetime, by: Actor
    ) -> UUID:
        return self._on_household(
            "record_follow_up_visit",
            command_id,
            household_id,
            at,
            by,
            lambda h: h.record_follow_up_visit(visited_on=visited_on, at=at, by=by),
            visited_on=visited_on,
        )

    def settle_household(self, *, command_id: UUID, household_id: UUID, at: datetime, by: Actor) -> UUID:
        return self._on_household(
            "settle_household", command_id, household_id, at, by, lambda h: h.settle(at=at, by=by)
        )

    # Referrals about this node's households: the details are cut to what the receiver needs.

    def refer_household(
        self,
        *,
        command_id: UUID,
        household_id: UUID,
        receiver: str,
        kind: ReferralKind,
        child_id: str | None = None,
        needed_from: date | None = None,
        note: str | None = None,
        at: datetime,
        by: Actor,
    ) -> UUID:
        referral_id = derived_id("referral", self.organisation, command_id)

        def work() -> tuple[UUID, list[Aggregate]]:
            household = self._get(Household, household_id, HOUSEHOLD)
            details = referral_details(household, kind, child_id=child_id, needed_from=needed_from, note=note)
            return referral_id, [
                self._referral_about(household, referral_id, receiver, kind, at, by, details)
            ]

        arguments = dict(
            household_id=household_id,
            receiver=receiver,
            kind=kind,
            child_id=child_id,
            needed_from=needed_from,
            note=note,
            at=at,
            by=by,
        )
        self._once("refer_household", command_id, arguments, work)
        return referral_id

    def _referral_about(
        self,
        household: Household,
        referral_id: UUID,
        receiver: str,
        kind: ReferralKind,
        at: datetime,
        by: Actor,
        details: ReferralDetails | None = None,
    ) -> Referral:
        """A referral sent under the household's recorded consent for that recipient and purpose."""
        consent = household.consent_for(receiver, PURPOSE[kind])
        if consent is None:
            raise ConsentMissing(
                f"Household {household.case_reference} has no consent to share data with {receiver} "
                f"for {PURPOSE[kind].replace('_', ' ')}"
            )
        return Referral.send(
            id=referral_id,
            receiver=receiver,
            kind=kind,
            household_id=household.id,
            details=details or referral_details(household, kind),
            consent=consent,
            legal_basis=None,
            policy=self.policy,
            at=at,
            by=by,
        )

    def _consequences(self, referral: Referral, command: str, at: datetime, by: Actor) -> list[Aggregate]:
        # The bridge builder's acknowledgement of the handoff is the moment it holds the household.
        if referral.kind == ReferralKind.HANDOFF and command == "acknowledge_referral":
            household = self._get(Household, referral.household_id, HOUSEHOLD)
            household.acknowledge_handoff(referral_id=referral.id, at=at, by=by)
            return [household]
        return []

    # Vacancies

    def publish_vacancy(self, *, command_id: UUID, dwelling: Dwelling, at: datetime, by: Actor) -> UUID:
        vacancy_id = derived_id("vacancy", self.organisation, command_id)

        def work() -> tuple[UUID, list[Aggregate]]:
            return vacancy_id, [Vacancy.publish(id=vacancy_id, dwelling=dwelling, at=at, by=by)]

        self._once("publish_vacancy", command_id, dict(dwelling=dwelling, at=at, by=by), work)
        return vacancy_id

    def withdraw_vacancy(
        self, *, command_id: UUID, vacancy_id: UUID, reason: str, at: datetime, by: Actor
    ) -> UUID:
        return self._change(
            Vacancy,
            VACANCY,
            command="withdraw_vacancy",
            command_id=command_id,
            aggregate_id=vacancy_id,
            at=at,
            by=by,
            decide=lambda v: v.withdraw(reason=reason, at=at, by=by),
            reason=reason,
        )

    # Offers: the household and the vacancy change in one transaction, or neither does.

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
    ) -> UUID:
        offer_id = derived_id("offer", self.organisation, command_id)
        expiry = expires_at or at + timedelta(days=self.policy.offer_validity_days)

        def work() -> tuple[UUID, list[Aggregate]]:
            household = self._get(Household, household_id, HOUSEHOLD)
            vacancy = self._get(Vacancy, vacancy_id, VACANCY)
            self._require_own(vacancy, "request_offer, which asks its owner to reserve it")
            # The guard is assessed now and its warnings recorded with the offer, so a replay never
            # depends on a later indicators file or a later inflow.
            household.receive_offer(
                offer_id=offer_id,
                vacancy_id=vacancy_id,
                dwelling=vacancy.dwelling,
                expires_at=expiry,
                overrides=list(overrides),
                policy=self.policy,
                at=at,
                by=by,
                warnings=self.area_warnings(vacancy.dwelling.place, at=at),
            )
            vacancy.reserve_for_offer(
                offer_id=offer_id, household_id=household_id, expires_at=expiry, at=at, by=by
            )
            return offer_id, [household, vacancy]

        arguments = dict(
            household_id=household_id,
            vacancy_id=vacancy_id,
            expires_at=expires_at,
            overrides=list(overrides),
            at=at,
            by=by,
        )
        self._once("make_offer", command_id, arguments, work)
        return offer_id

    def accept_offer(
        self, *, command_id: UUID, household_id: UUID, offer_id: UUID, at: datetime, by: Actor
    ) -> UUID:
        return self._answer_offer("accept_offer", command_id, household_id, offer_id, at, by, None, "")

    def decline_offer(
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
        return self._answer_offer(
            "decline_offer", command_id, household_id, offer_id, at, by, declined_by, reason
        )

    def expire_offer(self, *, command_id: UUID, household_id: UUID, offer_id: UUID, at: datetime) -> UUID:
        timer = Actor(organisation=self.organisation, person="offer-expiry-timer", role=Role.SYSTEM)
        return self._answer_offer("expire_offer", command_id, household_id, offer_id, at, timer, None, "")

    def _answer_offer(
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
            household = self._get(Household, household_id, HOUSEHOLD)
            vacancy_id = household.vacancy_of_offer(offer_id)
            vacancy = self._get(Vacancy, vacancy_id, VACANCY)
            self._require_own(vacancy, INSTEAD_ON_A_MIRROR[command])
            if command == "accept_offer":
                household.accept_offer(offer_id=offer_id, at=at, by=by)
                vacancy.accept_offer(offer_id=offer_id, at=at, by=by)
            elif command == "decline_offer":
                assert declined_by is not None
                household.decline_offer(
                    offer_id=offer_id, declined_by=declined_by, reason=reason, at=at, by=by
                )
                vacancy.decline_offer(offer_id=offer_id, declined_by=declined_by, reason=reason, at=at, by=by)
            else:
                household.expire_offer(offer_id=offer_id, at=at)
                vacancy.expire_offer(offer_id=offer_id, at=at)
            return offer_id, [household, vacancy]

        arguments = dict(
            household_id=household_id, offer_id=offer_id, declined_by=declined_by, reason=reason, at=at, by=by
        )
        self._once(command, command_id, arguments, work)
        return offer_id

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
        assert vacancy.live_household_id is not None
        self.expire_offer(
            command_id=timer_command_id("expire_offer", offer_id),
            household_id=vacancy.live_household_id,
            offer_id=offer_id,
            at=now,
        )
        return False

    # The move, and the handoff to the bridge builder that the move starts.

    def record_move(
        self,
        *,
        command_id: UUID,
        household_id: UUID,
        move: Move,
        hand_off_to: str | None = None,
        at: datetime,
        by: Actor,
    ) -> UUID | None:
        """Record the move; with `hand_off_to`, hand the household to that bridge builder.

        Returns the handoff referral's id (pending until the bridge builder acknowledges it).
        """
        handoff_id = derived_id("handoff", self.organisation, command_id) if hand_off_to else None

        def work() -> tuple[UUID | None, list[Aggregate]]:
            household = self._get(Household, household_id, HOUSEHOLD)
            household.record_move(move=move, at=at, by=by)
            if hand_off_to is None or handoff_id is None:
                return None, [household]
            referral = self._referral_about(household, handoff_id, hand_off_to, ReferralKind.HANDOFF, at, by)
            household.issue_handoff(
                referral_id=handoff_id,
                to=Holder(organisation=hand_off_to, role=Role.BRIDGE_BUILDER),
                at=at,
                by=by,
            )
            return handoff_id, [household, referral]

        arguments = dict(household_id=household_id, move=move, hand_off_to=hand_off_to, at=at, by=by)
        return self._once("record_move", command_id, arguments, work)
