"""Keeping a household's record true: its members, needs, preferences and contact details amended, a
temporary rehousing made permanent (and the right to it, almenlejeloven § 86 stk. 3), a settled household
reopened, a follow-up visit the household declined. A part of the Household aggregate (household.py).

Each fact is an event of this module whose `apply` changes the state; household.py names each in the
Household class's body, so it is stored as `Household.<name>` like the others. Amendments are the owner's:
only its rehousing consultants and coordinators change what the household was registered with.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from coordination.domain.calendar import add_months
from coordination.domain.errors import (
    HouseholdErased,
    HouseholdNotMoved,
    InvalidInput,
    NotPermitted,
    RuleViolated,
)
from coordination.domain.household_values import (
    ContactDetails,
    Member,
    MemberKind,
    Move,
    Need,
    Permanence,
    Preferences,
    RehousingKind,
)
from coordination.domain.plausibility import VISITED_ON, check_birth_month
from coordination.domain.policy import RehousingPolicy
from coordination.domain.values import Actor, Role, Value, checked_reason

_AMENDERS = frozenset({Role.REHOUSING_CONSULTANT, Role.COORDINATOR})


class Reopening(Value):
    """A settled household reopened: when, and why (families still call after the bridge holds)."""

    at: datetime
    reason: str


# The events. Their `apply` only changes state: it re-runs on every replay.


class MembersAmended(Aggregate.Event):
    members: list[Member]
    reason: str
    at: datetime
    by: Actor

    def apply(self, aggregate: Any) -> None:
        aggregate.members = list(self.members)


class NeedsAmended(Aggregate.Event):
    needs: list[Need]
    at: datetime
    by: Actor

    def apply(self, aggregate: Any) -> None:
        aggregate.needs = [Need(need) for need in self.needs]  # stored enums come back as plain str


class PreferencesAmended(Aggregate.Event):
    preferences: Preferences
    at: datetime
    by: Actor

    def apply(self, aggregate: Any) -> None:
        aggregate.preferences = self.preferences


class ContactDetailsRecorded(Aggregate.Event):
    """How to reach the family; reads as None once the household is erased (personal_fields.py)."""

    contact: ContactDetails | None
    at: datetime
    by: Actor

    def apply(self, aggregate: Any) -> None:
        aggregate.contact_details = self.contact
        if self.contact is not None and self.contact.language is not None:
            aggregate.language = self.contact.language


class RehousingMadePermanent(Aggregate.Event):
    at: datetime
    by: Actor

    def apply(self, aggregate: Any) -> None:
        aggregate.rehousing = RehousingKind(scope=aggregate.rehousing.scope, permanence=Permanence.PERMANENT)
        aggregate.made_permanent_at = self.at


class Reopened(Aggregate.Event):
    reason: str
    at: datetime
    by: Actor

    def apply(self, aggregate: Any) -> None:
        aggregate.settled_at = None
        aggregate.reopenings = (*aggregate.reopenings, Reopening(at=self.at, reason=self.reason))


class FollowUpVisitDeclined(Aggregate.Event):
    declined_on: date
    at: datetime
    by: Actor

    def apply(self, aggregate: Any) -> None:
        aggregate.follow_up_declined_on = (*aggregate.follow_up_declined_on, self.declined_on)


class KeptTrue:
    """The Household's amendments, conversion, reopening and declined visits (check, then record)."""

    # Class defaults, not set in __init__: a household registered (or snapshotted) before these facts
    # existed has none of them.
    contact_details: ContactDetails | None = None
    made_permanent_at: datetime | None = None
    reopenings: tuple[Reopening, ...] = ()
    follow_up_declined_on: tuple[date, ...] = ()

    if TYPE_CHECKING:  # the Household's state and events (household.py)
        owner: str
        case_reference: str
        members: list[Member]
        rehousing: RehousingKind
        right_to_permanent: bool
        registered_at: datetime
        moves: list[Move]
        settled_at: datetime | None
        MembersAmended: type[MembersAmended]
        NeedsAmended: type[NeedsAmended]
        PreferencesAmended: type[PreferencesAmended]
        ContactDetailsRecorded: type[ContactDetailsRecorded]
        RehousingMadePermanent: type[RehousingMadePermanent]
        Reopened: type[Reopened]
        FollowUpVisitDeclined: type[FollowUpVisitDeclined]

        @property
        def move(self) -> Move | None: ...

        @property
        def moved_permanently(self) -> bool: ...

        def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None: ...

    # Derived state.

    @property
    def follow_up_declined(self) -> bool:
        """The household declined the follow-up visit after its latest move: no visit is then due."""
        move = self.move
        return move is not None and any(day >= move.moved_on for day in self.follow_up_declined_on)

    def right_to_permanent_since(self, today: date, policy: RehousingPolicy) -> date | None:
        """§ 86 stk. 3: the day a temporary rehousing gave the household the right to a permanent one (it
        was expected to last, or has lasted, beyond the policy's limit, 12 months); None if it has not."""
        limit = policy.temporary_months_before_right_to_permanent
        if self.right_to_permanent:  # expected beyond the limit when registered: the right from the start
            return self.registered_at.date()
        first_temporary = next((move for move in self.moves if not move.permanent), None)
        if first_temporary is None:
            return None
        since = add_months(first_temporary.moved_on, limit) + timedelta(days=1)
        ended = next(
            (m.moved_on for m in self.moves if m.permanent and m.moved_on >= first_temporary.moved_on), today
        )
        return since if ended >= since else None

    def owes_permanent_offer(self, today: date, policy: RehousingPolicy) -> bool:
        """The household has the right to a permanent offer and has not moved permanently yet: its offers
        are now to be permanent ones, and its caseworkers' worklists show it."""
        return not self.moved_permanently and self.right_to_permanent_since(today, policy) is not None

    # Commands.

    def amend_members(self, *, members: list[Member], reason: str, at: datetime, by: Actor) -> None:
        self._require_amender(by)
        if not any(member.kind == MemberKind.ADULT for member in members):
            raise InvalidInput("A household needs at least one adult member")
        ids = [member.member_id for member in members]
        if len(set(ids)) != len(ids):
            raise InvalidInput("Member ids must be unique within the household, got {ids}", ids=ids)
        for index, member in enumerate(members):
            if member.birth_month is not None:
                check_birth_month(member.birth_month, at=at, field=f"members[{index}].birth_month")
        reason = checked_reason(reason)
        self.trigger_event(self.MembersAmended, members=list(members), reason=reason, at=at, by=by)

    def amend_needs(self, *, needs: list[Need], at: datetime, by: Actor) -> None:
        self._require_amender(by)
        self.trigger_event(self.NeedsAmended, needs=list(dict.fromkeys(needs)), at=at, by=by)

    def amend_preferences(self, *, preferences: Preferences, at: datetime, by: Actor) -> None:
        self._require_amender(by)
        self.trigger_event(self.PreferencesAmended, preferences=preferences, at=at, by=by)

    def record_contact_details(self, *, contact: ContactDetails, at: datetime, by: Actor) -> None:
        self._require_amender(by)
        children = {m.member_id for m in self.members if m.kind == MemberKind.CHILD}
        for child in contact.children_cpr:
            if child.member_id not in children:
                raise InvalidInput(
                    "{member_id} is not a child of household {case_reference}",
                    member_id=child.member_id,
                    case_reference=self.case_reference,
                )
        self.trigger_event(self.ContactDetailsRecorded, contact=contact, at=at, by=by)

    def make_rehousing_permanent(self, *, at: datetime, by: Actor) -> None:
        """Convert a temporary rehousing to a permanent one (the household's next move is permanent)."""
        self._require_amender(by)
        if self.rehousing.permanent:
            raise RuleViolated(
                "Household {case_reference} is already rehoused permanently",
                case_reference=self.case_reference,
            )
        self.trigger_event(self.RehousingMadePermanent, at=at, by=by)

    def reopen(self, *, reason: str, at: datetime, by: Actor) -> None:
        self._require_amender(by)
        if self.settled_at is None:
            raise RuleViolated(
                "Household {case_reference} is not settled; only a settled one reopens",
                case_reference=self.case_reference,
            )
        self.trigger_event(self.Reopened, reason=checked_reason(reason), at=at, by=by)

    def record_follow_up_visit_declined(self, *, declined_on: date, at: datetime, by: Actor) -> None:
        move = self.move
        if move is None or declined_on < move.moved_on:
            raise HouseholdNotMoved(
                "Household {case_reference} has not moved by {declined_on}",
                case_reference=self.case_reference,
                declined_on=declined_on,
            )
        VISITED_ON.check(declined_on, at=at, field="declined_on", what="The declined follow-up visit")
        self.trigger_event(self.FollowUpVisitDeclined, declined_on=declined_on, at=at, by=by)

    def _require_amender(self, by: Actor) -> None:
        """Authorisation by relationship: the owner's own consultants and coordinators, nobody else."""
        if getattr(self, "erased_at", None) is not None:
            raise HouseholdErased("Household {case_reference} is erased", case_reference=self.case_reference)
        if by.organisation != self.owner or by.role not in _AMENDERS:
            raise NotPermitted(
                "Only a rehousing consultant or coordinator of {owner}, which owns household "
                "{case_reference}, may change its record",
                owner=self.owner,
                case_reference=self.case_reference,
            )
