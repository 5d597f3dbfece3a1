"""A household from its move until the bridge holds: the moves (temporary, then permanent), the right to
permanent rehousing, the follow-up visit, the handoff to the bridge builder and the settlement (its
criteria in settlement.py). A part of the Household aggregate (household.py), which records each as its
event."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from coordination.domain.calendar import add_months
from coordination.domain.errors import (
    HandoffNotPending,
    HouseholdAlreadyMoved,
    HouseholdHasLiveOffer,
    HouseholdNotMoved,
    InvalidInput,
    NotPermitted,
    NotSettled,
    RuleViolated,
)
from coordination.domain.household_values import Move, OfferRecord, PendingHandoff, RehousingKind
from coordination.domain.plausibility import MOVED_ON, VISITED_ON
from coordination.domain.policy import RehousingPolicy
from coordination.domain.values import Actor, Holder, checked_reason


class AfterTheMove:
    """The Household's moves, handoff and settlement: derived state and commands (check, then record)."""

    if TYPE_CHECKING:  # the Household's state and recorders (household.py)
        case_reference: str
        holder: Holder
        rehousing: RehousingKind
        right_to_permanent: bool
        moves: list[Move]
        follow_up_visits: list[date]
        pending_handoff: PendingHandoff | None
        settled_at: datetime | None
        _moved: Callable[..., None]
        _follow_up_visit_done: Callable[..., None]
        _settled: Callable[..., None]
        _handoff_issued: Callable[..., None]
        _handoff_acknowledged: Callable[..., None]
        _practical_matters_in_order: Callable[..., None]
        _no_longer_asks_for_help: Callable[..., None]

        @property
        def live_offer(self) -> OfferRecord | None: ...

        @property
        def follow_up_declined(self) -> bool: ...

        def settlement_gaps(self) -> list[str]: ...

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

    def follow_up_due(self, policy: RehousingPolicy) -> date | None:
        """The day the visit in the new area is due (14 days after the move in Aarhus and Esbjerg); none once
        the household declined it (household_record.py)."""
        if self.move is None or self.follow_up_declined:
            return None
        return policy.follow_up_due(self.move.moved_on)

    def record_move(self, *, move: Move, at: datetime, by: Actor) -> None:
        MOVED_ON.check(move.moved_on, at=at, field="move.moved_on", what="The moving day")
        live = self.live_offer
        if live is not None:
            raise HouseholdHasLiveOffer(
                "Offer {offer_id} is live; answer it before recording the move", offer_id=live.offer_id
            )
        if self.moved_permanently:
            raise HouseholdAlreadyMoved(
                "Household {case_reference} has already moved permanently", case_reference=self.case_reference
            )
        if self.move is not None and move.moved_on < self.move.moved_on:
            raise RuleViolated(
                "A move on {moved_on} cannot come before the move on {earlier}",
                moved_on=move.moved_on,
                earlier=self.move.moved_on,
            )
        self._moved(move=move, at=at, by=by)

    def record_follow_up_visit(self, *, visited_on: date, at: datetime, by: Actor) -> None:
        if self.move is None:
            raise HouseholdNotMoved(
                "Household {case_reference} has not moved; a follow-up visit comes after",
                case_reference=self.case_reference,
            )
        if visited_on < self.move.moved_on:
            raise HouseholdNotMoved(
                "A follow-up visit on {visited_on} is before the move on {moved_on}",
                visited_on=visited_on,
                moved_on=self.move.moved_on,
            )
        VISITED_ON.check(visited_on, at=at, field="visited_on", what="The follow-up visit")
        self._follow_up_visit_done(visited_on=visited_on, at=at, by=by)

    def settle(self, *, at: datetime, by: Actor, network_gaps: Sequence[str] = ()) -> None:
        """`network_gaps`: what the household's network still has open (its items, network.py); the
        household is not settled while anyone working with it has an item open."""
        if self.settled_at is not None:
            raise RuleViolated(
                "Household {case_reference} is already settled", case_reference=self.case_reference
            )
        gaps = [*self.settlement_gaps(), *network_gaps]
        if gaps:
            raise NotSettled(
                "Household {case_reference} is not settled: {gaps}",
                case_reference=self.case_reference,
                gaps=gaps,
            )
        self._settled(at=at, by=by)

    def issue_handoff(self, *, referral_id: UUID, to: Holder, at: datetime, by: Actor) -> None:
        if self.move is None:
            raise HouseholdNotMoved(
                "Household {case_reference} is handed off at the move, not before",
                case_reference=self.case_reference,
            )
        if by.organisation != self.holder.organisation:
            raise NotPermitted(
                "Only {organisation}, which holds the household, may hand it off",
                organisation=self.holder.organisation,
            )
        if self.pending_handoff is not None:
            pending = self.pending_handoff.to.organisation
            raise RuleViolated(
                "A handoff to {pending} is pending; it must be acknowledged first", pending=pending
            )
        if to == self.holder:
            raise InvalidInput(
                "{organisation} already holds household {case_reference}",
                organisation=to.organisation,
                case_reference=self.case_reference,
            )
        self._handoff_issued(referral_id=referral_id, to=to, at=at, by=by)

    def acknowledge_handoff(self, *, referral_id: UUID, at: datetime, by: Actor) -> None:
        pending = self.pending_handoff
        if pending is None or pending.referral_id != referral_id:
            raise HandoffNotPending(
                "No handoff under referral {referral_id} is waiting for acknowledgement",
                referral_id=referral_id,
            )
        if by.organisation != pending.to.organisation:
            raise NotPermitted(
                "Only {organisation} may acknowledge this handoff", organisation=pending.to.organisation
            )
        self._handoff_acknowledged(referral_id=referral_id, at=at, by=by)

    def record_practical_matters_in_order(self, *, note: str, at: datetime, by: Actor) -> None:
        self._practical_matters_in_order(note=checked_reason(note, what="note"), at=at, by=by)

    def record_no_longer_asks_for_help(self, *, at: datetime, by: Actor) -> None:
        self._no_longer_asks_for_help(at=at, by=by)
