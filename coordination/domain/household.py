"""The Household aggregate: one household's rehousing, from registration until the bridge holds."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from coordination.domain.calendar import add_months
from coordination.domain.errors import (
    ConsentMissing,
    ContactPersonNotLinked,
    HandoffNotPending,
    HouseholdAlreadyMoved,
    HouseholdErased,
    HouseholdHasLiveOffer,
    HouseholdNotMoved,
    ImplausibleValue,
    InvalidInput,
    NotPermitted,
    NotSettled,
    OfferNotLive,
    RuleViolated,
)
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
from coordination.domain.plausibility import (
    MOVED_ON,
    STARTS_ON,
    TERMINATION_DATE,
    VISITED_ON,
    check_birth_month,
    check_consent,
)
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
    checked_reason,
)
from coordination.domain.waterbed import AreaWarning, covering_overrides

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


class HouseholdPhase(StrEnum):
    """The bridge-builder phases of the 2023 report (Aarhus), in order; a household is in the furthest."""

    REGISTERED = "registered"
    FIRST_CONTACT = "first_contact"
    EXPLORING_AREAS = "exploring_areas"
    TASKS_FOUND = "tasks_found"
    BRIDGE_BUILDING = "bridge_building"
    HOUSING_OFFER = "housing_offer"
    MOVED = "moved"
    FOLLOW_UP_VISITED = "follow_up_visited"
    SETTLED = "settled"


class Household(Aggregate):
    """A household (husstand) that must move out of a transformation area, as its landlord sees it.

    Registered by a rehousing consultant; its phases are the facts recorded about it
    (first contact, inspiration tours, offers, the move, the follow-up visit). It is held
    by one organisation at a time: the consultant's until the move, then, once the
    handoff is acknowledged, the bridge builder's until the bridge holds (settled).
    """

    # A class default, not set in __init__ alone: a snapshot taken before requests were recorded here has
    # no such attribute, and its household asked for none.
    offer_requests: tuple[UUID, ...] = ()

    class Registered(Aggregate.Created):
        owner: str
        holder: Holder
        case_reference: str
        cpr_digest: str | None
        origin: Origin
        members: list[Member]
        needs: list[Need]
        language: str | None
        rehousing: RehousingKind
        termination_date: date
        preferences: Preferences
        consents: list[Consent]
        right_to_permanent: bool
        at: datetime
        by: Actor

    class FirstContactMade(Aggregate.Event):
        at: datetime
        by: Actor

    class AreasExplored(Aggregate.Event):
        areas: list[str]
        at: datetime
        by: Actor

    class TasksFoundOutsideRehousing(Aggregate.Event):
        tasks: list[str]
        at: datetime
        by: Actor

    class BridgeBuildingStarted(Aggregate.Event):
        at: datetime
        by: Actor

    class OfferReceived(Aggregate.Event):
        """v2 added `warnings`: the re-concentration warnings the offer carried (and `overrides` covered)."""

        class_version = 2

        offer_id: UUID
        vacancy_id: UUID
        dwelling: Dwelling
        expires_at: datetime
        overrides: list[Override]
        warnings: list[AreaWarning]
        at: datetime
        by: Actor

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Offers made before the waterbed guard existed were never assessed, so they carried no warning.
            state["warnings"] = []

    class OfferRequested(Aggregate.Event):
        """An offer of another organisation's vacancy was asked of its owner; the household holds the offer
        only once the owner reserves the vacancy (the OfferRequest with this id says how it stands)."""

        offer_id: UUID
        vacancy_id: UUID
        at: datetime
        by: Actor

    class OfferAccepted(Aggregate.Event):
        offer_id: UUID
        at: datetime
        by: Actor

    class OfferDeclined(Aggregate.Event):
        offer_id: UUID
        declined_by: DeclinedBy
        reason: str
        at: datetime
        by: Actor

    class OfferExpired(Aggregate.Event):
        offer_id: UUID
        at: datetime

    class Moved(Aggregate.Event):
        move: Move
        at: datetime
        by: Actor

    class FollowUpVisitDone(Aggregate.Event):
        visited_on: date
        at: datetime
        by: Actor

    class Settled(Aggregate.Event):
        at: datetime
        by: Actor

    class ConsentGiven(Aggregate.Event):
        consent: Consent
        at: datetime
        by: Actor

    class ConsentWithdrawn(Aggregate.Event):
        recipient: str
        purpose: str
        at: datetime
        by: Actor

    class HandoffIssued(Aggregate.Event):
        referral_id: UUID
        to: Holder
        at: datetime
        by: Actor

    class HandoffAcknowledged(Aggregate.Event):
        referral_id: UUID
        at: datetime
        by: Actor

    class ChildEnrolled(Aggregate.Event):
        enrolment: Enrolment
        at: datetime
        by: Actor

    class ContactPersonLinked(Aggregate.Event):
        link_id: UUID
        place: Place
        at: datetime
        by: Actor

    class ContactPersonUnlinked(Aggregate.Event):
        link_id: UUID
        at: datetime
        by: Actor

    class PracticalMattersInOrder(Aggregate.Event):
        note: str
        at: datetime
        by: Actor

    class NoLongerAsksForHelp(Aggregate.Event):
        at: datetime
        by: Actor

    class ErasureProposed(Aggregate.Event):
        """The retention period ended; a caseworker is to confirm the erasure (a timer event)."""

        retention_ended_on: date
        at: datetime

    class Erased(Aggregate.Event):
        """The household's personal data was erased (GDPR art. 17): its key is deleted after this.

        v2 added `notified`: the organisations in the household's network when it was erased, each told
        of the erasure (the network itself is erased with the household, so it can no longer name them)."""

        class_version = 2

        legal_ground: str
        notified: list[str]
        at: datetime
        by: Actor

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Erased before networks were kept: the referrals about the household named whom to tell.
            state["notified"] = []

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
    def live_offer(self) -> OfferRecord | None:
        return next((offer for offer in self.offers if offer.status == OfferStatus.LIVE), None)

    @property
    def offers_decided_by_household(self) -> int:
        return sum(1 for offer in self.offers if offer.decided_by_household)

    @property
    def move(self) -> Move | None:
        """The latest move: a temporary move may be followed by the permanent one."""
        return self.moves[-1] if self.moves else None

    @property
    def moved_permanently(self) -> bool:
        return any(move.permanent for move in self.moves)

    @property
    def follow_up_visited(self) -> bool:
        move = self.move
        return move is not None and any(day >= move.moved_on for day in self.follow_up_visits)

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

    def has_right_to_permanent(self, today: date, policy: RehousingPolicy) -> bool:
        """§ 86 stk. 3: temporary rehousing lasting over the limit (12 months) gives a right to permanent."""
        limit = policy.temporary_months_before_right_to_permanent
        if self.right_to_permanent or (self.rehousing.expected_months or 0) > limit:
            return True
        first_temporary = next((move for move in self.moves if not move.permanent), None)
        if first_temporary is None:
            return False
        ended = next(
            (m.moved_on for m in self.moves if m.permanent and m.moved_on >= first_temporary.moved_on), today
        )
        return ended > add_months(first_temporary.moved_on, limit)

    def has_consent(self, recipient: str, purpose: str) -> bool:
        return self.consent_for(recipient, purpose) is not None

    def consent_for(self, recipient: str, purpose: str) -> Consent | None:
        """The recorded consent to send along with a referral, so the recipient need not collect it again."""
        wanted = (recipient.lower(), purpose.lower())
        return next((c for c in self.consents if (c.recipient, c.purpose) == wanted), None)

    def vacancy_of_offer(self, offer_id: UUID) -> UUID:
        """The vacancy an offer was made on: the application answers both sides of an offer together."""
        offer = next((o for o in self.offers if o.offer_id == offer_id), None)
        if offer is None:
            raise OfferNotLive(f"Household {self.case_reference} has received no offer {offer_id}")
        return offer.vacancy_id

    def follow_up_due(self, policy: RehousingPolicy) -> date | None:
        """The day the visit in the new area is due (14 days after the move in Aarhus and Esbjerg)."""
        return None if self.move is None else policy.follow_up_due(self.move.moved_on)

    def member(self, member_id: str) -> Member | None:
        return next((m for m in self.members if m.member_id == member_id), None)

    def settlement_gaps(self) -> list[str]:
        """The criteria of the 2023 report the household does not meet yet; empty when the bridge holds."""
        return settlement_gaps(self)

    # Commands: check, then record.

    def record_first_contact(self, *, at: datetime, by: Actor) -> None:
        if self.first_contact_at is not None:
            raise RuleViolated(f"First contact with household {self.case_reference} was already recorded")
        self._first_contact_made(at=at, by=by)

    def record_inspiration_tour(self, *, areas: list[str], at: datetime, by: Actor) -> None:
        if self.moved_permanently:
            raise HouseholdAlreadyMoved(
                f"Household {self.case_reference} has moved permanently; tours come before"
            )
        self._areas_explored(areas=_non_empty_texts(areas, what="area explored"), at=at, by=by)

    def record_tasks_found(self, *, tasks: list[str], at: datetime, by: Actor) -> None:
        self._tasks_found(tasks=_non_empty_texts(tasks, what="task"), at=at, by=by)

    def start_bridge_building(self, *, at: datetime, by: Actor) -> None:
        if self.bridge_building_started_at is not None:
            raise RuleViolated(f"Bridge building for household {self.case_reference} has already started")
        self._bridge_building_started(at=at, by=by)

    def receive_offer(
        self,
        *,
        offer_id: UUID,
        vacancy_id: UUID,
        dwelling: Dwelling,
        expires_at: datetime,
        overrides: list[Override],
        policy: RehousingPolicy,
        at: datetime,
        by: Actor,
        warnings: Sequence[AreaWarning] = (),
    ) -> None:
        """`warnings` are the receiving area's waterbed warnings, assessed by the caller from data it holds;
        each must be covered by an override with the same rule, and both are recorded with the offer."""
        if any(offer.offer_id == offer_id for offer in self.offers):
            raise RuleViolated(f"Offer {offer_id} was already received by household {self.case_reference}")
        if expires_at <= at:
            raise RuleViolated("An offer must expire after it is made")
        longest = timedelta(days=policy.longest_offer_validity_days)
        if expires_at - at > longest:
            raise ImplausibleValue(
                "expires_at",
                f"An offer may be open for at most {longest.days} days; expires_at {expires_at.isoformat()} "
                "is later",
            )
        used = check_offer(self, dwelling, policy, overrides)
        used += covering_overrides(warnings, overrides)
        self._offer_received(
            offer_id=offer_id,
            vacancy_id=vacancy_id,
            dwelling=dwelling,
            expires_at=expires_at,
            overrides=used,
            warnings=list(warnings),
            at=at,
            by=by,
        )

    def request_offer(self, *, offer_id: UUID, vacancy_id: UUID, at: datetime, by: Actor) -> None:
        """Record that the owner of `vacancy_id` was asked to reserve it for an offer to this household."""
        if offer_id in self.offer_requests or any(offer.offer_id == offer_id for offer in self.offers):
            raise RuleViolated(f"Offer {offer_id} was already requested for household {self.case_reference}")
        self._offer_requested(offer_id=offer_id, vacancy_id=vacancy_id, at=at, by=by)

    def accept_offer(self, *, offer_id: UUID, at: datetime, by: Actor) -> None:
        offer = self._require_live(offer_id)
        if at >= offer.expires_at:
            raise OfferNotLive(
                f"Offer {offer_id} expired at {offer.expires_at.isoformat()}; it cannot be accepted"
            )
        self._offer_accepted(offer_id=offer_id, at=at, by=by)

    def decline_offer(
        self, *, offer_id: UUID, declined_by: DeclinedBy, reason: str, at: datetime, by: Actor
    ) -> None:
        self._require_live(offer_id)
        self._offer_declined(
            offer_id=offer_id,
            declined_by=DeclinedBy(declined_by),
            reason=checked_reason(reason),
            at=at,
            by=by,
        )

    def expire_offer(self, *, offer_id: UUID, at: datetime) -> None:
        offer = self._require_live(offer_id)
        if at < offer.expires_at:
            raise RuleViolated(f"Offer {offer_id} does not expire before {offer.expires_at.isoformat()}")
        self._offer_expired(offer_id=offer_id, at=at)

    def record_move(self, *, move: Move, at: datetime, by: Actor) -> None:
        MOVED_ON.check(move.moved_on, at=at, field="move.moved_on", what="The moving day")
        live = self.live_offer
        if live is not None:
            raise HouseholdHasLiveOffer(f"Offer {live.offer_id} is live; answer it before recording the move")
        if self.moved_permanently:
            raise HouseholdAlreadyMoved(f"Household {self.case_reference} has already moved permanently")
        if self.move is not None and move.moved_on < self.move.moved_on:
            raise RuleViolated(
                f"A move on {move.moved_on} cannot come before the move on {self.move.moved_on}"
            )
        self._moved(move=move, at=at, by=by)

    def record_follow_up_visit(self, *, visited_on: date, at: datetime, by: Actor) -> None:
        if self.move is None:
            raise HouseholdNotMoved(
                f"Household {self.case_reference} has not moved; a follow-up visit comes after"
            )
        if visited_on < self.move.moved_on:
            raise HouseholdNotMoved(
                f"A follow-up visit on {visited_on} is before the move on {self.move.moved_on}"
            )
        VISITED_ON.check(visited_on, at=at, field="visited_on", what="The follow-up visit")
        self._follow_up_visit_done(visited_on=visited_on, at=at, by=by)

    def settle(self, *, at: datetime, by: Actor, network_gaps: Sequence[str] = ()) -> None:
        """`network_gaps`: what the household's network still has open (its items, network.py); the
        household is not settled while anyone working with it has an item open."""
        if self.settled_at is not None:
            raise RuleViolated(f"Household {self.case_reference} is already settled")
        gaps = [*self.settlement_gaps(), *network_gaps]
        if gaps:
            raise NotSettled(f"Household {self.case_reference} is not settled: " + "; ".join(gaps))
        self._settled(at=at, by=by)

    def give_consent(self, *, consent: Consent, at: datetime, by: Actor) -> None:
        check_consent(consent, at=at, field="consent")
        self._consent_given(consent=consent, at=at, by=by)

    def withdraw_consent(self, *, recipient: str, purpose: str, at: datetime, by: Actor) -> None:
        if not self.has_consent(recipient, purpose):
            raise ConsentMissing(
                f"Household {self.case_reference} has no consent for {recipient} to {purpose}"
            )
        self._consent_withdrawn(recipient=recipient.lower(), purpose=purpose.lower(), at=at, by=by)

    def issue_handoff(self, *, referral_id: UUID, to: Holder, at: datetime, by: Actor) -> None:
        if self.move is None:
            raise HouseholdNotMoved(f"Household {self.case_reference} is handed off at the move, not before")
        if by.organisation != self.holder.organisation:
            raise NotPermitted(f"Only {self.holder.organisation}, which holds the household, may hand it off")
        if self.pending_handoff is not None:
            pending = self.pending_handoff.to.organisation
            raise RuleViolated(f"A handoff to {pending} is pending; it must be acknowledged first")
        if to == self.holder:
            raise InvalidInput(f"{to.organisation} already holds household {self.case_reference}")
        self._handoff_issued(referral_id=referral_id, to=to, at=at, by=by)

    def acknowledge_handoff(self, *, referral_id: UUID, at: datetime, by: Actor) -> None:
        pending = self.pending_handoff
        if pending is None or pending.referral_id != referral_id:
            raise HandoffNotPending(f"No handoff under referral {referral_id} is waiting for acknowledgement")
        if by.organisation != pending.to.organisation:
            raise NotPermitted(f"Only {pending.to.organisation} may acknowledge this handoff")
        self._handoff_acknowledged(referral_id=referral_id, at=at, by=by)

    def record_enrolment(self, *, enrolment: Enrolment, at: datetime, by: Actor) -> None:
        member = self.member(enrolment.member_id)
        if member is None or member.kind != MemberKind.CHILD:
            raise InvalidInput(f"{enrolment.member_id} is not a child of household {self.case_reference}")
        STARTS_ON.check(enrolment.starts_on, at=at, field="enrolment.starts_on", what="The start date")
        self._child_enrolled(enrolment=enrolment, at=at, by=by)

    def record_contact_person(self, *, link_id: UUID, place: Place, at: datetime, by: Actor) -> None:
        if any(person.link_id == link_id for person in self.contact_persons):
            raise RuleViolated(f"Contact person link {link_id} is already active")
        self._contact_person_linked(link_id=link_id, place=place, at=at, by=by)

    def end_contact_person(self, *, link_id: UUID, at: datetime, by: Actor) -> None:
        if not any(person.link_id == link_id for person in self.contact_persons):
            raise ContactPersonNotLinked(
                f"Household {self.case_reference} has no active contact person {link_id}"
            )
        self._contact_person_unlinked(link_id=link_id, at=at, by=by)

    def record_practical_matters_in_order(self, *, note: str, at: datetime, by: Actor) -> None:
        self._practical_matters_in_order(note=checked_reason(note, what="note"), at=at, by=by)

    def record_no_longer_asks_for_help(self, *, at: datetime, by: Actor) -> None:
        self._no_longer_asks_for_help(at=at, by=by)

    def propose_erasure(self, *, retention_ended_on: date, at: datetime) -> None:
        # getattr: a snapshot taken before erasure existed has neither attribute.
        if (
            getattr(self, "erased_at", None) is not None
            or getattr(self, "erasure_proposed_at", None) is not None
        ):
            raise HouseholdErased(f"Household {self.id} is already erased or proposed for erasure")
        self._erasure_proposed(retention_ended_on=retention_ended_on, at=at)

    def erase(self, *, legal_ground: str, at: datetime, by: Actor, notified: Sequence[str] = ()) -> None:
        """`notified`: the organisations of the household's network, to be told of the erasure."""
        erased_at = getattr(self, "erased_at", None)
        if erased_at is not None:
            raise HouseholdErased(f"Household {self.id} was erased at {erased_at.isoformat()}")
        if by.organisation != self.owner:
            raise NotPermitted(f"Only {self.owner}, which owns household {self.id}, may erase it")
        others = sorted({organisation for organisation in notified if organisation != self.owner})
        self._erased(
            legal_ground=checked_reason(legal_ground, what="legal ground"), notified=others, at=at, by=by
        )

    def _require_live(self, offer_id: UUID) -> OfferRecord:
        live = self.live_offer
        if live is None or live.offer_id != offer_id:
            raise OfferNotLive(f"Offer {offer_id} is not the live offer of household {self.case_reference}")
        return live

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
        self, offer_id: UUID, declined_by: DeclinedBy, reason: str, at: datetime, by: Actor
    ) -> None:
        by_household = DeclinedBy(declined_by) == DeclinedBy.HOUSEHOLD
        status = OfferStatus.DECLINED_BY_HOUSEHOLD if by_household else OfferStatus.DECLINED_BY_PROVIDER
        self._answer(offer_id, status, reason)

    @event(OfferExpired)
    def _offer_expired(self, offer_id: UUID, at: datetime) -> None:
        self._answer(offer_id, OfferStatus.EXPIRED)

    def _answer(self, offer_id: UUID, status: OfferStatus, reason: str | None = None) -> None:
        self.offers = [
            offer.model_copy(update={"status": status, "reason": reason})
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


def _non_empty_texts(texts: list[str], *, what: str) -> list[str]:
    cleaned = [text.strip() for text in texts if text.strip()]
    if not cleaned:
        raise InvalidInput(f"At least one {what} is required")
    return cleaned
