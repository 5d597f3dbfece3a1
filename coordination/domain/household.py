"""The Household aggregate: one household's rehousing, from registration until the bridge holds."""

from __future__ import annotations

import re
from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from coordination.domain import household_events
from coordination.domain.errors import InvalidInput, NotPermitted
from coordination.domain.household_after_move import AfterTheMove
from coordination.domain.household_circle import HouseholdCircle
from coordination.domain.household_erasure import HouseholdErasure
from coordination.domain.household_offers import OffersReceived
from coordination.domain.household_phases import BridgeBuildingPhases, HouseholdPhase
from coordination.domain.household_values import (
    ContactPerson,
    Enrolment,
    InstitutionKind,
    Member,
    MemberKind,
    Move,
    Need,
    OfferRecord,
    OfferStatus,
    Origin,
    PendingHandoff,
    Permanence,
    Preferences,
    RehousingKind,
    Scope,
)
from coordination.domain.offer_rules import check_offer
from coordination.domain.plausibility import TERMINATION_DATE, check_birth_month, check_consent
from coordination.domain.policy import DEFAULT_POLICY, RehousingPolicy
from coordination.domain.settlement import settlement_gaps
from coordination.domain.values import (
    Actor,
    Consent,
    DeclinedBy,
    Dwelling,
    Holder,
    Override,
    Place,
    Role,
)
from coordination.domain.waterbed import AreaWarning

__all__ = [
    "ContactPerson",
    "Enrolment",
    "Household",
    "HouseholdPhase",
    "InstitutionKind",
    "Member",
    "MemberKind",
    "Move",
    "Need",
    "OfferRecord",
    "OfferStatus",
    "Origin",
    "PendingHandoff",
    "Permanence",
    "Preferences",
    "RehousingKind",
    "Scope",
]

# The application passes a digest; ten digits (with or without the dash) would be the CPR number itself.
_LOOKS_LIKE_CPR = re.compile(r"^\s*\d{6}-?\d{4}\s*$")


class Household(
    BridgeBuildingPhases, OffersReceived, AfterTheMove, HouseholdCircle, HouseholdErasure, Aggregate
):
    """A household (husstand) that must move out of a transformation area, as its landlord sees it.

    Registered by a rehousing consultant; its phases are the facts recorded about it
    (first contact, inspiration tours, offers, the move, the follow-up visit). It is held
    by one organisation at a time: the consultant's until the move, then, once the
    handoff is acknowledged, the bridge builder's until the bridge holds (settled).

    Its state and the recorders that change it are here; its commands and derived state are in a room
    per part of its life: the phases before an offer (household_phases.py), its offers
    (household_offers.py), from the move to the settlement (household_after_move.py), the consents,
    enrolments and contact persons around it (household_circle.py), its erasure (household_erasure.py).
    """

    # A class default, not set in __init__ alone: a snapshot taken before requests were recorded here has
    # no such attribute, and its household asked for none.
    offer_requests: tuple[UUID, ...] = ()

    # Its events (their fields in household_events.py), each defined again here by the library as
    # `Household.<name>`, the name stored events carry.
    Registered = household_events.Registered
    FirstContactMade = household_events.FirstContactMade
    AreasExplored = household_events.AreasExplored
    TasksFoundOutsideRehousing = household_events.TasksFoundOutsideRehousing
    BridgeBuildingStarted = household_events.BridgeBuildingStarted
    OfferReceived = household_events.OfferReceived
    OfferRequested = household_events.OfferRequested
    OfferAccepted = household_events.OfferAccepted
    OfferDeclined = household_events.OfferDeclined
    OfferExpired = household_events.OfferExpired
    Moved = household_events.Moved
    FollowUpVisitDone = household_events.FollowUpVisitDone
    Settled = household_events.Settled
    ConsentGiven = household_events.ConsentGiven
    ConsentWithdrawn = household_events.ConsentWithdrawn
    HandoffIssued = household_events.HandoffIssued
    HandoffAcknowledged = household_events.HandoffAcknowledged
    ChildEnrolled = household_events.ChildEnrolled
    ContactPersonLinked = household_events.ContactPersonLinked
    ContactPersonUnlinked = household_events.ContactPersonUnlinked
    PracticalMattersInOrder = household_events.PracticalMattersInOrder
    NoLongerAsksForHelp = household_events.NoLongerAsksForHelp
    ErasureProposed = household_events.ErasureProposed
    Erased = household_events.Erased

    @event(Registered)
    def __init__(
        self,
        id: UUID,
        owner: str,
        holder: Holder,
        case_reference: str,
        cpr_digest: str | None,
        origin: Origin,
        members: list[Member],
        needs: list[Need],
        language: str | None,
        rehousing: RehousingKind,
        termination_date: date,
        preferences: Preferences,
        consents: list[Consent],
        right_to_permanent: bool,
        at: datetime,
        by: Actor,
    ) -> None:
        self.owner = owner
        self.holder = holder
        self.case_reference = case_reference
        self.cpr_digest = cpr_digest
        self.origin = origin
        self.members = list(members)
        self.needs = [Need(need) for need in needs]  # stored enums come back as plain str
        self.language = language
        self.rehousing = rehousing
        self.termination_date = termination_date
        self.preferences = preferences
        self.consents = list(consents)
        self.right_to_permanent = right_to_permanent
        self.registered_at = at
        self.first_contact_at: datetime | None = None
        self.areas_explored: list[str] = []
        self.tasks_found: list[str] = []
        self.bridge_building_started_at: datetime | None = None
        self.offers: list[OfferRecord] = []
        self.moves: list[Move] = []
        self.rent_rise = False
        self.follow_up_visits: list[date] = []
        self.pending_handoff: PendingHandoff | None = None
        self.enrolments: list[Enrolment] = []
        self.contact_persons: list[ContactPerson] = []
        self.practical_matters_note: str | None = None
        self.no_longer_asks_for_help_at: datetime | None = None
        self.settled_at: datetime | None = None
        self.erasure_proposed_at: datetime | None = None
        self.erased_at: datetime | None = None

    @classmethod
    def register(
        cls,
        *,
        id: UUID,
        case_reference: str,
        cpr_digest: str | None,
        origin: Origin,
        members: list[Member],
        needs: list[Need],
        language: str | None,
        rehousing: RehousingKind,
        termination_date: date,
        preferences: Preferences,
        consents: list[Consent],
        at: datetime,
        by: Actor,
        policy: RehousingPolicy = DEFAULT_POLICY,
    ) -> Household:
        if by.role != Role.REHOUSING_CONSULTANT:
            raise NotPermitted(f"Only a rehousing consultant may register a household, not a {by.role}")
        if not case_reference.strip():
            raise InvalidInput("A household needs a case reference")
        if cpr_digest is not None and _LOOKS_LIKE_CPR.match(cpr_digest):
            raise InvalidInput("cpr_digest looks like a CPR number; pass the application's digest of it")
        if not any(member.kind == MemberKind.ADULT for member in members):
            raise InvalidInput("A household needs at least one adult member")
        ids = [member.member_id for member in members]
        if len(set(ids)) != len(ids):
            raise InvalidInput(f"Member ids must be unique within the household, got {ids}")
        TERMINATION_DATE.check(termination_date, at=at, field="termination_date", what="The termination date")
        for index, member in enumerate(members):
            if member.birth_month is not None:
                check_birth_month(member.birth_month, at=at, field=f"members[{index}].birth_month")
        for index, consent in enumerate(consents):
            check_consent(consent, at=at, field=f"consents[{index}]")
        # § 86 stk. 3: decided now and recorded, so a replay never depends on a later policy.
        limit = policy.temporary_months_before_right_to_permanent
        long_stay = not rehousing.permanent and (rehousing.expected_months or 0) > limit
        return cls(
            id=id,
            owner=by.organisation,
            holder=Holder(organisation=by.organisation, role=Role.REHOUSING_CONSULTANT),
            case_reference=case_reference.strip(),
            cpr_digest=cpr_digest,
            origin=origin,
            members=members,
            needs=needs,
            language=language,
            rehousing=rehousing,
            termination_date=termination_date,
            preferences=preferences,
            consents=consents,
            right_to_permanent=long_stay,
            at=at,
            by=by,
        )

    # Derived state.

    @property
    def phase(self) -> HouseholdPhase:
        reached = [
            (self.settled_at is not None, HouseholdPhase.SETTLED),
            (self.follow_up_visited, HouseholdPhase.FOLLOW_UP_VISITED),
            (bool(self.moves), HouseholdPhase.MOVED),
            (bool(self.offers), HouseholdPhase.HOUSING_OFFER),
            (self.bridge_building_started_at is not None, HouseholdPhase.BRIDGE_BUILDING),
            (bool(self.tasks_found), HouseholdPhase.TASKS_FOUND),
            (bool(self.areas_explored), HouseholdPhase.EXPLORING_AREAS),
            (self.first_contact_at is not None, HouseholdPhase.FIRST_CONTACT),
        ]
        return next((phase for done, phase in reached if done), HouseholdPhase.REGISTERED)

    # Commands: check, then record.

    def settlement_gaps(self) -> list[str]:
        """The criteria of the 2023 report the household does not meet yet; empty when the bridge holds."""
        return settlement_gaps(self)

    def _offer_rules_used(
        self, dwelling: Dwelling, policy: RehousingPolicy, overrides: list[Override]
    ) -> list[Override]:
        """The overrides an offer of `dwelling` needs by the offer rules (offer_rules.py), in rule order;
        raises on the first broken rule that is not overruled."""
        return check_offer(self, dwelling, policy, overrides)

    # Recorders: state changes only; they re-run on every replay.

    @event(FirstContactMade)
    def _first_contact_made(self, at: datetime, by: Actor) -> None:
        self.first_contact_at = at

    @event(AreasExplored)
    def _areas_explored(self, areas: list[str], at: datetime, by: Actor) -> None:
        self.areas_explored.extend(areas)

    @event(TasksFoundOutsideRehousing)
    def _tasks_found(self, tasks: list[str], at: datetime, by: Actor) -> None:
        self.tasks_found.extend(tasks)

    @event(BridgeBuildingStarted)
    def _bridge_building_started(self, at: datetime, by: Actor) -> None:
        self.bridge_building_started_at = at

    @event(OfferReceived)
    def _offer_received(
        self,
        offer_id: UUID,
        vacancy_id: UUID,
        dwelling: Dwelling,
        expires_at: datetime,
        overrides: list[Override],
        warnings: list[AreaWarning],
        at: datetime,
        by: Actor,
    ) -> None:
        self.offers.append(
            OfferRecord(
                offer_id=offer_id,
                vacancy_id=vacancy_id,
                dwelling=dwelling,
                expires_at=expires_at,
                overrides=list(overrides),
                warnings=list(warnings),
            )
        )

    @event(OfferRequested)
    def _offer_requested(self, offer_id: UUID, vacancy_id: UUID, at: datetime, by: Actor) -> None:
        self.offer_requests = (*self.offer_requests, offer_id)

    @event(OfferAccepted)
    def _offer_accepted(self, offer_id: UUID, at: datetime, by: Actor) -> None:
        self._answer(offer_id, OfferStatus.ACCEPTED)

    @event(OfferDeclined)
    def _offer_declined(
        self, offer_id: UUID, declined_by: DeclinedBy, reason_code: str, reason: str, at: datetime, by: Actor
    ) -> None:
        by_household = DeclinedBy(declined_by) == DeclinedBy.HOUSEHOLD
        status = OfferStatus.DECLINED_BY_HOUSEHOLD if by_household else OfferStatus.DECLINED_BY_PROVIDER
        self._answer(offer_id, status, reason or None, reason_code)

    @event(OfferExpired)
    def _offer_expired(self, offer_id: UUID, at: datetime) -> None:
        self._answer(offer_id, OfferStatus.EXPIRED)

    def _answer(
        self, offer_id: UUID, status: OfferStatus, reason: str | None = None, reason_code: str | None = None
    ) -> None:
        self.offers = [
            offer.model_copy(update={"status": status, "reason": reason, "reason_code": reason_code})
            if offer.offer_id == offer_id
            else offer
            for offer in self.offers
        ]

    @event(Moved)
    def _moved(self, move: Move, at: datetime, by: Actor) -> None:
        self.moves.append(move)
        self.rent_rise = move.rent_rise

    @event(FollowUpVisitDone)
    def _follow_up_visit_done(self, visited_on: date, at: datetime, by: Actor) -> None:
        self.follow_up_visits.append(visited_on)

    @event(Settled)
    def _settled(self, at: datetime, by: Actor) -> None:
        self.settled_at = at

    @event(ConsentGiven)
    def _consent_given(self, consent: Consent, at: datetime, by: Actor) -> None:
        self.consents.append(consent)

    @event(ConsentWithdrawn)
    def _consent_withdrawn(self, recipient: str, purpose: str, at: datetime, by: Actor) -> None:
        self.consents = [c for c in self.consents if (c.recipient, c.purpose) != (recipient, purpose)]

    @event(HandoffIssued)
    def _handoff_issued(self, referral_id: UUID, to: Holder, at: datetime, by: Actor) -> None:
        self.pending_handoff = PendingHandoff(referral_id=referral_id, to=to, issued_at=at)

    @event(HandoffAcknowledged)
    def _handoff_acknowledged(self, referral_id: UUID, at: datetime, by: Actor) -> None:
        if self.pending_handoff is not None:
            self.holder = self.pending_handoff.to
        self.pending_handoff = None

    @event(ChildEnrolled)
    def _child_enrolled(self, enrolment: Enrolment, at: datetime, by: Actor) -> None:
        self.enrolments.append(enrolment)

    @event(ContactPersonLinked)
    def _contact_person_linked(self, link_id: UUID, place: Place, at: datetime, by: Actor) -> None:
        self.contact_persons.append(ContactPerson(link_id=link_id, place=place))

    @event(ContactPersonUnlinked)
    def _contact_person_unlinked(self, link_id: UUID, at: datetime, by: Actor) -> None:
        self.contact_persons = [p for p in self.contact_persons if p.link_id != link_id]

    @event(PracticalMattersInOrder)
    def _practical_matters_in_order(self, note: str, at: datetime, by: Actor) -> None:
        self.practical_matters_note = note

    @event(NoLongerAsksForHelp)
    def _no_longer_asks_for_help(self, at: datetime, by: Actor) -> None:
        self.no_longer_asks_for_help_at = at

    @event(ErasureProposed)
    def _erasure_proposed(self, retention_ended_on: date, at: datetime) -> None:
        self.erasure_proposed_at = at

    @event(Erased)
    def _erased(self, legal_ground: str, notified: list[str], at: datetime, by: Actor) -> None:
        self.erased_at = at
