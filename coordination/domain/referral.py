"""The Referral aggregate: a closed-loop request from one organisation to another about a household."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from coordination.domain import referral_events
from coordination.domain.errors import (
    InvalidInput,
    NotPermitted,
    ReferralNotDue,
    ReferralNotOpen,
)
from coordination.domain.policy import RehousingPolicy
from coordination.domain.referral_daycare import DaycarePlaces
from coordination.domain.referral_rules import (
    check_dates,
    completion_due,
    lawful_basis,
    require_aware,
    require_daycare_details,
    require_description,
)
from coordination.domain.referral_steps import ReasonedSteps
from coordination.domain.referral_values import (
    ChildFacts,
    DaycarePlace,
    PlaceAnswer,
    ReferralDetails,
    ReferralKind,
    ReferralStatus,
    ReferralStep,
)
from coordination.domain.values import Actor, Consent, DeclinedBy, Override, checked_reason

__all__ = ["ChildFacts", "Referral", "ReferralDetails", "ReferralKind", "ReferralStatus", "ReferralStep"]

_OPEN = tuple(s for s in ReferralStatus if s.is_open)
_NOT_YET_ACCEPTED = (ReferralStatus.SENT, ReferralStatus.ACKNOWLEDGED)
_DECLINED = (ReferralStatus.DECLINED_BY_RECEIVER, ReferralStatus.DECLINED_BY_HOUSEHOLD)
_ALL_BUT_ENTERED_IN_ERROR = tuple(s for s in ReferralStatus if s is not ReferralStatus.ENTERED_IN_ERROR)
# A handoff is complete once acknowledged: the outcome it records then.
HANDOFF_OUTCOME = "The new holder acknowledged the handoff"


class Referral(ReasonedSteps, DaycarePlaces, Aggregate):
    """A referral (henvisning) from one organisation to another about a household.

    Sent under the household's consent or a legal basis → acknowledged → accepted
    with an assignee → in progress / on hold → completed with an outcome (a handoff
    is completed by its acknowledgement: it transfers holding, nothing more); or
    declined (by the receiver or the household), redirected, withdrawn, expired
    by the timer, or entered in error. Due dates are fixed when it is sent and
    recorded, so a replay never depends on today's policy. The same class is kept
    at the referrer's and the receiver's node, each applying the other's steps
    through the same commands: nothing here depends on more than its arguments
    and the recorded state.
    """

    # Its events (their fields in referral_events.py), each defined again here by the library as
    # `Referral.<name>`, the name stored events carry.
    Sent = referral_events.Sent
    Acknowledged = referral_events.Acknowledged
    Accepted = referral_events.Accepted
    Started = referral_events.Started
    PutOnHold = referral_events.PutOnHold
    Declined = referral_events.Declined
    DeclineOverridden = referral_events.DeclineOverridden
    Redirected = referral_events.Redirected
    Withdrawn = referral_events.Withdrawn
    Expired = referral_events.Expired
    Completed = referral_events.Completed
    EnteredInError = referral_events.EnteredInError
    PlaceOffered = referral_events.PlaceOffered
    PlaceAccepted = referral_events.PlaceAccepted
    PlaceDeclined = referral_events.PlaceDeclined

    # A class default, so a referral loaded from a snapshot taken before places existed has none.
    daycare_place: DaycarePlace | None = None

    @event(Sent)
    def __init__(
        self,
        id: UUID,
        referrer: str,
        receiver: str,
        kind: ReferralKind,
        household_id: UUID,
        details: ReferralDetails,
        consent: Consent | None,
        legal_basis: str | None,
        acknowledge_by: datetime,
        complete_by: datetime,
        at: datetime,
        by: Actor,
    ) -> None:
        self.referrer = referrer
        self.receiver = receiver
        self.kind = ReferralKind(kind)  # stored as a plain str
        self.household_id = household_id
        self.details = details
        self.consent = consent
        self.legal_basis = legal_basis
        self.acknowledge_by = acknowledge_by
        self.complete_by = complete_by
        self.assignee: str | None = None
        self.declined_by: DeclinedBy | None = None
        self.outcome: str | None = None
        self.sent_at = at
        self.acknowledged_at: datetime | None = None
        self.accepted_at: datetime | None = None
        self.completed_at: datetime | None = None
        self.last_step_at = at
        self.history: list[ReferralStep] = [
            ReferralStep(status=ReferralStatus.SENT, at=at, organisation=by.organisation)
        ]

    @classmethod
    def send(
        cls,
        *,
        id: UUID,
        receiver: str,
        kind: ReferralKind,
        household_id: UUID,
        details: ReferralDetails,
        consent: Consent | None,
        legal_basis: str | None,
        policy: RehousingPolicy,
        at: datetime,
        by: Actor,
    ) -> Referral:
        require_aware(at)
        if kind not in set(ReferralKind):
            raise InvalidInput(f"Unknown referral kind {kind!r}")
        kind = ReferralKind(kind)
        if not receiver.strip() or receiver.casefold() == by.organisation.casefold():
            raise InvalidInput(
                f"A referral goes to another organisation; {by.organisation} cannot refer to {receiver!r}"
            )
        legal_basis = lawful_basis(consent, legal_basis, receiver)
        check_dates(details, consent, at)
        if kind is ReferralKind.DAYCARE_FAST_TRACK:
            require_daycare_details(details)
        require_description(kind, details)
        return cls(
            id=id,
            referrer=by.organisation,
            receiver=receiver,
            kind=kind,
            household_id=household_id,
            details=details,
            consent=consent,
            legal_basis=legal_basis,
            acknowledge_by=policy.acknowledgement_due(at, urgent=details.urgent),
            complete_by=completion_due(kind, details, policy, at),
            at=at,
            by=by,
        )

    @property
    def status(self) -> ReferralStatus:
        # Derived from the history rather than kept beside it: a bare enum attribute would come back
        # from a snapshot as a plain str, while the history's steps come back as ReferralSteps.
        return self.history[-1].status

    # Commands: check who, then the state and the time, then record.

    def acknowledge(self, *, at: datetime, by: Actor) -> None:
        self._require_receiver(by, "acknowledge")
        self._require_step("acknowledged", at, ReferralStatus.SENT)
        self._acknowledged(at=at, by=by)

    def accept(self, *, assignee: str, at: datetime, by: Actor) -> None:
        self._require_receiver(by, "accept")
        if self.status is ReferralStatus.SENT:
            raise ReferralNotOpen(f"Referral {self._short_id} is sent; acknowledge it first")
        self._require_step("accepted", at, ReferralStatus.ACKNOWLEDGED)
        if not assignee.strip():
            raise InvalidInput("An accepted referral needs an assignee")
        self._accepted(assignee=assignee.strip(), at=at, by=by)

    def start(self, *, at: datetime, by: Actor) -> None:
        self._require_receiver(by, "start")
        self._require_step("started", at, ReferralStatus.ACCEPTED, ReferralStatus.ON_HOLD)
        self._started(at=at, by=by)

    def expire(self, *, at: datetime) -> None:
        self._require_step("expired", at, *_NOT_YET_ACCEPTED)
        if at < self.complete_by:
            raise ReferralNotDue(f"Referral {self._short_id} is not due until {self.complete_by.isoformat()}")
        self._expired(reason=f"not accepted by {self.complete_by.isoformat()}", at=at)

    def complete(self, *, outcome: str, at: datetime, by: Actor) -> None:
        self._require_receiver(by, "complete")
        self._require_step("completed", at, ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS)
        self._completed(outcome=checked_reason(outcome, what="outcome"), at=at, by=by)

    def mark_entered_in_error(self, *, reason: str, at: datetime, by: Actor) -> None:
        self._require_referrer(by, "mark as entered in error")
        self._require_step("marked as entered in error", at, *_ALL_BUT_ENTERED_IN_ERROR)
        self._entered_in_error(reason=checked_reason(reason), at=at, by=by)

    # Questions asked with an explicit `now`, so the answer is the same on every node and in every replay.

    def acknowledgement_overdue(self, now: datetime) -> bool:
        return self.status is ReferralStatus.SENT and now > self.acknowledge_by

    def overdue(self, now: datetime) -> bool:
        return self.status.is_open and now > self.complete_by

    def stalled(self, now: datetime, policy: RehousingPolicy) -> bool:
        return self.status.is_open and now - self.last_step_at > timedelta(days=policy.stalled_after_days)

    def age(self, now: datetime) -> timedelta:
        return now - self.sent_at

    @property
    def _short_id(self) -> str:
        return f"{str(self.id)[:8]}…"

    def _require_receiver(self, by: Actor, step: str) -> None:
        if by.organisation != self.receiver:
            raise NotPermitted(
                f"Only the receiver {self.receiver} may {step} referral {self._short_id}, "
                f"not {by.organisation}"
            )

    def _require_referrer(self, by: Actor, step: str) -> None:
        if by.organisation != self.referrer:
            raise NotPermitted(
                f"Only the referrer {self.referrer} may {step} referral {self._short_id}, "
                f"not {by.organisation}"
            )

    def _require_step(self, step: str, at: datetime, *allowed: ReferralStatus) -> None:
        if self.status not in allowed:
            raise ReferralNotOpen(f"Referral {self._short_id} is {self.status.words}; it cannot be {step}")
        require_aware(at)
        # History is read as a sequence (latency, audits): a step dated before the last one would reorder it.
        if at < self.last_step_at:
            raise InvalidInput(
                f"A step at {at.isoformat()} is dated before the referral's last step "
                f"at {self.last_step_at.isoformat()}"
            )

    # Recorders: state changes only; they re-run on every replay.

    @event(Acknowledged)
    def _acknowledged(self, at: datetime, by: Actor) -> None:
        self.acknowledged_at = at
        self._step(ReferralStatus.ACKNOWLEDGED, at, by.organisation)
        if self.kind == ReferralKind.HANDOFF:  # == : a snapshot's kind comes back as a plain str
            # A handoff's purpose is the transfer of holding, done when the new holder acknowledges it; its
            # work goes on as the household's follow-up visit and settlement. A rule of the state, so the
            # stored histories of acknowledged handoffs close on replay too.
            self.outcome = HANDOFF_OUTCOME
            self.completed_at = at
            self._step(ReferralStatus.COMPLETED, at, by.organisation)

    @event(Accepted)
    def _accepted(self, assignee: str, at: datetime, by: Actor) -> None:
        self.assignee = assignee
        self.accepted_at = at
        self._step(ReferralStatus.ACCEPTED, at, by.organisation)

    @event(Started)
    def _started(self, at: datetime, by: Actor) -> None:
        self._step(ReferralStatus.IN_PROGRESS, at, by.organisation)

    @event(PutOnHold)
    def _put_on_hold(self, reason_code: str, reason: str, at: datetime, by: Actor) -> None:
        self._step(ReferralStatus.ON_HOLD, at, by.organisation, reason_code, reason)

    @event(Declined)
    def _declined(
        self, reason_code: str, declined_by: DeclinedBy, reason: str, at: datetime, by: Actor
    ) -> None:
        self.declined_by = DeclinedBy(declined_by)
        status = (
            ReferralStatus.DECLINED_BY_RECEIVER
            if self.declined_by is DeclinedBy.PROVIDER
            else ReferralStatus.DECLINED_BY_HOUSEHOLD
        )
        self._step(status, at, by.organisation, reason_code, reason)

    @event(DeclineOverridden)
    def _decline_overridden(
        self, reason_code: str, reason: str, acknowledge_by: datetime, at: datetime, by: Actor
    ) -> None:
        # Back to requested: the receiver starts again from acknowledging it.
        self._back_to_sent(acknowledge_by)
        self._step(ReferralStatus.SENT, at, by.organisation, reason_code, reason)

    @event(Redirected)
    def _redirected(
        self, to: str, reason: str, consent: Consent | None, acknowledge_by: datetime, at: datetime, by: Actor
    ) -> None:
        self.receiver = to
        if consent is not None:
            self.consent = consent
        self._back_to_sent(acknowledge_by)
        self._step(ReferralStatus.SENT, at, by.organisation)

    @event(Withdrawn)
    def _withdrawn(self, reason_code: str, reason: str, at: datetime, by: Actor) -> None:
        self._step(ReferralStatus.WITHDRAWN, at, by.organisation, reason_code, reason)

    @event(Expired)
    def _expired(self, reason: str, at: datetime) -> None:
        self._step(ReferralStatus.EXPIRED, at, None)

    @event(Completed)
    def _completed(self, outcome: str, at: datetime, by: Actor) -> None:
        self.outcome = outcome
        self.completed_at = at
        self._step(ReferralStatus.COMPLETED, at, by.organisation)

    @event(EnteredInError)
    def _entered_in_error(self, reason: str, at: datetime, by: Actor) -> None:
        self._step(ReferralStatus.ENTERED_IN_ERROR, at, by.organisation)

    @event(PlaceOffered)
    def _place_offered(
        self,
        institution: str,
        starts_on: date,
        priority_reason: str,
        counts_under_26a: bool,
        overrides: list[Override],
        at: datetime,
        by: Actor,
    ) -> None:
        self.daycare_place = DaycarePlace(
            institution=institution,
            starts_on=starts_on,
            priority_reason=priority_reason,
            counts_under_26a=counts_under_26a,
            offered_at=at,
        )
        self.last_step_at = at

    @event(PlaceAccepted)
    def _place_accepted(self, at: datetime, by: Actor) -> None:
        self._place_answered(PlaceAnswer.ACCEPTED, at)

    @event(PlaceDeclined)
    def _place_declined(self, reason_code: str, reason: str, at: datetime, by: Actor) -> None:
        self._place_answered(PlaceAnswer.DECLINED, at, reason_code)

    def _place_answered(self, answer: PlaceAnswer, at: datetime, reason_code: str | None = None) -> None:
        if self.daycare_place is not None:
            update = {"answer": answer, "answered_at": at, "reason_code": reason_code}
            self.daycare_place = self.daycare_place.model_copy(update=update)
        self.last_step_at = at

    def _back_to_sent(self, acknowledge_by: datetime) -> None:
        self.acknowledge_by = acknowledge_by
        self.assignee = None
        self.declined_by = None
        self.acknowledged_at = None
        self.accepted_at = None

    def _step(
        self,
        status: ReferralStatus,
        at: datetime,
        organisation: str | None,
        reason_code: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.last_step_at = at
        self.history.append(
            ReferralStep(
                status=status,
                at=at,
                organisation=organisation,
                reason_code=reason_code,
                reason=reason or None,
            )
        )
