"""A housing organisation's households: registering one, the facts recorded about it until the bridge holds, and
the consents its referrals rest on. A part of the housing organisation's node (housing.py)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from datetime import date, datetime
from uuid import UUID

from coordination.applications.answers import HouseholdView
from coordination.applications.base import NodeApplication, derived_id
from coordination.applications.commands import Decision, command
from coordination.domain.household import (
    Enrolment,
    Household,
    Member,
    Need,
    OfferRecord,
    Origin,
    Preferences,
    RehousingKind,
)
from coordination.domain.referral import Referral
from coordination.domain.values import Actor, Consent, Place
from coordination.personal_data import cpr_digest
from coordination.projections.vacancy_pool import HouseholdFacts

HOUSEHOLD = "household"
CONSENT_WITHDRAWN = "consent withdrawn"


class HouseholdDesk(NodeApplication):
    """The housing organisation's commands and queries about its households."""

    _cpr_secret: bytes
    # From the node's other parts: the offers asked of other organisations (offer_exchange.py) and what the
    # household's network still has open (network.py).
    offers_not_held: Callable[[Household], list[OfferRecord]]
    network_gaps: Callable[[Household], list[str]]

    def household(self, household_id: UUID, *, today: date) -> HouseholdView:
        household = self._get(Household, household_id, HOUSEHOLD)
        return HouseholdView.of(household, self.policy, today, requested=self.offers_not_held(household))

    def household_facts(self, household_id: UUID) -> HouseholdFacts:
        """What a search for suitable vacancies needs to know about the household (numbers, no names)."""
        return HouseholdFacts.of(self._get(Household, household_id, HOUSEHOLD))

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

    def case_reference_key(self) -> bytes:
        """The key the caseload's digests of case references are made under: derived from the node's CPR
        secret, so it is as secret and as lasting, and a digest of one says nothing of the other."""
        return hmac.new(self._cpr_secret, b"caseload case reference", hashlib.sha256).digest()

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
