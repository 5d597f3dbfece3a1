"""The housing organisation's node: its households, its vacancies, offers and the handoff at the move."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from coordination.applications.answers import HouseholdView, VacancyView
from coordination.applications.area_guard import (
    AreaIndicatorsSource,
    InflowProvider,
    MovesIndex,
    NoAreaIndicators,
)
from coordination.applications.base import derived_id, require_time
from coordination.applications.commands import Decision, command
from coordination.applications.erasure import ErasureDesk
from coordination.applications.municipal_picture import MunicipalPictureDesk
from coordination.applications.network_copies import NetworkCopies
from coordination.applications.network_reports import NetworkReports
from coordination.applications.offer_exchange import OfferExchange
from coordination.applications.referrals import ReferralDesk
from coordination.applications.reported_facts import ReportedFactsDesk
from coordination.applications.timers import Expiries, originators, timer_command_id
from coordination.applications.vacancy_mirror import undisclosed_household
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
# An offer of another organisation's vacancy expires by its owner's timer, not this node's.
EXPIRED_BY_THE_OWNER = "the owner's expire_due (its expiry reaches this node on the pool)"


class HousingOrganisationApp(
    ReferralDesk,
    OfferExchange,
    ErasureDesk,
    ReportedFactsDesk,
    NetworkReports,
    NetworkCopies,
    MunicipalPictureDesk,
):
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
        household = self._get(Household, household_id, HOUSEHOLD)
        return HouseholdView.of(household, self.policy, today, requested=self.offers_not_held(household))

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

    @command(also=lambda app, call: {"cpr": app._cpr_digest(call["cpr"])})
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
    ) -> Decision[UUID]:
        # The digest, not the CPR number, is stored, and goes into the command's fingerprint.
        household = Household.register(
            id=derived_id("household", self.organisation, command_id),
            case_reference=case_reference,
            cpr_digest=self._cpr_digest(cpr),
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

    def _cpr_digest(self, cpr: str | None) -> str | None:
        return None if cpr is None else cpr_digest(cpr, self._cpr_secret)

    @command(aggregate_id="household_id")
    def record_first_contact(
        self, *, command_id: UUID, household_id: UUID, at: datetime, by: Actor
    ) -> Decision[UUID]:
        household = self._household(household_id)
        household.record_first_contact(at=at, by=by)
        return household_id, [household]

    @command(aggregate_id="household_id")
    def record_inspiration_tour(
        self, *, command_id: UUID, household_id: UUID, areas: Sequence[str], at: datetime, by: Actor
    ) -> Decision[UUID]:
        household = self._household(household_id)
        household.record_inspiration_tour(areas=list(areas), at=at, by=by)
        return household_id, [household]

    @command(aggregate_id="household_id")
    def record_tasks_found(
        self, *, command_id: UUID, household_id: UUID, tasks: Sequence[str], at: datetime, by: Actor
    ) -> Decision[UUID]:
        household = self._household(household_id)
        household.record_tasks_found(tasks=list(tasks), at=at, by=by)
        return household_id, [household]

    @command(aggregate_id="household_id")
    def start_bridge_building(
        self, *, command_id: UUID, household_id: UUID, at: datetime, by: Actor
    ) -> Decision[UUID]:
        household = self._household(household_id)
        household.start_bridge_building(at=at, by=by)
        return household_id, [household]

    @command(aggregate_id="household_id")
    def give_consent(
        self, *, command_id: UUID, household_id: UUID, consent: Consent, at: datetime, by: Actor
    ) -> Decision[UUID]:
        household = self._household(household_id)
        household.give_consent(consent=consent, at=at, by=by)
        return household_id, [household]

    @command(aggregate_id="household_id")
    def withdraw_consent(
        self, *, command_id: UUID, household_id: UUID, recipient: str, purpose: str, at: datetime, by: Actor
    ) -> Decision[UUID]:
        """Withdraw a consent; sharing under it stops (GDPR art. 7(3)).

        The open referrals this node sent under that consent are withdrawn in the same transaction with
        the reason "consent withdrawn", so the receiver closes its copy and nothing more about the
        household goes to it under that consent. Referrals resting on a legal basis go on.
        """
        household = self._household(household_id)
        household.withdraw_consent(recipient=recipient, purpose=purpose, at=at, by=by)
        resting = self._withdraw_resting_on_consent(household_id, recipient, purpose, at, by)
        return household_id, [household, *resting]

    def _withdraw_resting_on_consent(
        self, household_id: UUID, recipient: str, purpose: str, at: datetime, by: Actor
    ) -> list[Referral]:
        resting = self._resting_on_consent(household_id, recipient.lower(), purpose.lower())
        for referral in resting:
            # A receiver's step may carry a later time than ours; the withdrawal never reorders history.
            referral.withdraw(reason=CONSENT_WITHDRAWN, at=max(at, referral.last_step_at), by=by)
        return resting

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

    @command(aggregate_id="household_id")
    def record_enrolment(
        self, *, command_id: UUID, household_id: UUID, enrolment: Enrolment, at: datetime, by: Actor
    ) -> Decision[UUID]:
        household = self._household(household_id)
        household.record_enrolment(enrolment=enrolment, at=at, by=by)
        return household_id, [household]

    @command(aggregate_id="household_id")
    def record_contact_person(
        self, *, command_id: UUID, household_id: UUID, link_id: UUID, place: Place, at: datetime, by: Actor
    ) -> Decision[UUID]:
        household = self._household(household_id)
        household.record_contact_person(link_id=link_id, place=place, at=at, by=by)
        return household_id, [household]

    @command(aggregate_id="household_id")
    def end_contact_person(
        self, *, command_id: UUID, household_id: UUID, link_id: UUID, at: datetime, by: Actor
    ) -> Decision[UUID]:
        household = self._household(household_id)
        household.end_contact_person(link_id=link_id, at=at, by=by)
        return household_id, [household]

    @command(aggregate_id="household_id")
    def record_practical_matters_in_order(
        self, *, command_id: UUID, household_id: UUID, note: str, at: datetime, by: Actor
    ) -> Decision[UUID]:
        household = self._household(household_id)
        household.record_practical_matters_in_order(note=note, at=at, by=by)
        return household_id, [household]

    @command(aggregate_id="household_id")
    def record_no_longer_asks_for_help(
        self, *, command_id: UUID, household_id: UUID, at: datetime, by: Actor
    ) -> Decision[UUID]:
        household = self._household(household_id)
        household.record_no_longer_asks_for_help(at=at, by=by)
        return household_id, [household]

    @command(aggregate_id="household_id")
    def record_follow_up_visit(
        self, *, command_id: UUID, household_id: UUID, visited_on: date, at: datetime, by: Actor
    ) -> Decision[UUID]:
        household = self._household(household_id)
        household.record_follow_up_visit(visited_on=visited_on, at=at, by=by)
        return household_id, [household]

    @command(aggregate_id="household_id")
    def settle_household(
        self, *, command_id: UUID, household_id: UUID, at: datetime, by: Actor
    ) -> Decision[UUID]:
        household = self._household(household_id)
        household.settle(at=at, by=by, network_gaps=self.network_gaps(household))
        return household_id, [household]

    # Referrals about this node's households: the details are cut to what the receiver needs.

    @command()
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
    ) -> Decision[UUID]:
        household = self._household(household_id)
        details = referral_details(household, kind, child_id=child_id, needed_from=needed_from, note=note)
        referral_id = derived_id("referral", self.organisation, command_id)
        return referral_id, [self._referral_about(household, referral_id, receiver, kind, at, by, details)]

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

    def _acknowledged(self, referral: Referral, at: datetime, by: Actor) -> list[Aggregate]:
        # The bridge builder's acknowledgement of the handoff is the moment it holds the household.
        if referral.kind == ReferralKind.HANDOFF:
            household = self._household(referral.household_id)
            household.acknowledge_handoff(referral_id=referral.id, at=at, by=by)
            return [household]
        return []

    # Vacancies

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

    @command()
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
    ) -> Decision[UUID]:
        household, vacancy = self._offered(household_id, offer_id, instead="decline_requested_offer")
        household.decline_offer(offer_id=offer_id, declined_by=declined_by, reason=reason, at=at, by=by)
        vacancy.decline_offer(offer_id=offer_id, declined_by=declined_by, reason=reason, at=at, by=by)
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
        assert vacancy.live_household_id is not None
        self.expire_offer(
            command_id=timer_command_id("expire_offer", offer_id),
            household_id=vacancy.live_household_id,
            offer_id=offer_id,
            at=now,
        )
        return False

    # The move, and the handoff to the bridge builder that the move starts.

    @command()
    def record_move(
        self,
        *,
        command_id: UUID,
        household_id: UUID,
        move: Move,
        hand_off_to: str | None = None,
        at: datetime,
        by: Actor,
    ) -> Decision[UUID | None]:
        """Record the move; with `hand_off_to`, hand the household to that bridge builder.

        Returns the handoff referral's id (pending until the bridge builder acknowledges it).
        """
        household = self._household(household_id)
        household.record_move(move=move, at=at, by=by)
        if hand_off_to is None:
            return None, [household]
        return self._hand_off(
            household, derived_id("handoff", self.organisation, command_id), hand_off_to, at, by
        )

    def _hand_off(
        self, household: Household, handoff_id: UUID, to: str, at: datetime, by: Actor
    ) -> Decision[UUID | None]:
        referral = self._referral_about(household, handoff_id, to, ReferralKind.HANDOFF, at, by)
        holder = Holder(organisation=to, role=Role.BRIDGE_BUILDER)
        household.issue_handoff(referral_id=handoff_id, to=holder, at=at, by=by)
        return handoff_id, [household, referral]
