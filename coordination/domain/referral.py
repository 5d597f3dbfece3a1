"""The Referral aggregate: a closed-loop request from one organisation to another about a household."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from coordination.domain import referral_events
from coordination.domain.errors import (
    InvalidInput,
    NotPermitted,
    ReferralNotDue,
    ReferralNotOpen,
)
from coordination.domain.plausibility import check_consent
from coordination.domain.policy import RehousingPolicy
from coordination.domain.referral_rules import (
    check_dates,
    completion_due,
    lawful_basis,
    require_aware,
    require_daycare_details,
    require_party,
    require_step,
)
from coordination.domain.referral_values import (
    ChildFacts,
    ReferralDetails,
    ReferralKind,
    ReferralStatus,
    ReferralStep,
)
from coordination.domain.values import (
    Actor,
    Consent,
    DeclinedBy,
    Role,
    checked_reason,
)

__all__ = ["ChildFacts", "Referral", "ReferralDetails", "ReferralKind", "ReferralStatus", "ReferralStep"]

_OPEN = tuple(s for s in ReferralStatus if s.is_open)
_NOT_YET_ACCEPTED = (ReferralStatus.SENT, ReferralStatus.ACKNOWLEDGED)
_DECLINED = (ReferralStatus.DECLINED_BY_RECEIVER, ReferralStatus.DECLINED_BY_HOUSEHOLD)
_ALL_BUT_ENTERED_IN_ERROR = tuple(s for s in ReferralStatus if s is not ReferralStatus.ENTERED_IN_ERROR)
# A handoff is complete once acknowledged: the outcome it records then.
HANDOFF_OUTCOME = "The new holder acknowledged the handoff"


class Referral(Aggregate):
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
            raise InvalidInput("Unknown referral kind {kind!r}", kind=kind)
        kind = ReferralKind(kind)
        if not receiver.strip() or receiver.casefold() == by.organisation.casefold():
            raise InvalidInput(
                "A referral goes to another organisation; {organisation} cannot refer to {receiver!r}",
                organisation=by.organisation,
                receiver=receiver,
            )
        legal_basis = lawful_basis(consent, legal_basis, receiver)
        check_dates(details, consent, at)
        if kind is ReferralKind.DAYCARE_FAST_TRACK:
            require_daycare_details(details)
        return cls(
            id=id,
            referrer=by.organisation,
            receiver=receiver,
            kind=kind,
            household_id=household_id,
            details=details,
            consent=consent,
            legal_basis=legal_basis,
            acknowledge_by=policy.acknowledgement_due(at),
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
            raise ReferralNotOpen(
                "Referral {referral} is sent; acknowledge it first", referral=self._short_id
            )
        self._require_step("accepted", at, ReferralStatus.ACKNOWLEDGED)
        if not assignee.strip():
            raise InvalidInput("An accepted referral needs an assignee")
        self._accepted(assignee=assignee.strip(), at=at, by=by)

    def start(self, *, at: datetime, by: Actor) -> None:
        self._require_receiver(by, "start")
        self._require_step("started", at, ReferralStatus.ACCEPTED, ReferralStatus.ON_HOLD)
        self._started(at=at, by=by)

    def put_on_hold(self, *, reason: str, at: datetime, by: Actor) -> None:
        self._require_receiver(by, "put on hold")
        self._require_step("put on hold", at, ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS)
        self._put_on_hold(reason=checked_reason(reason), at=at, by=by)

    def decline(self, *, declined_by: DeclinedBy, reason: str, at: datetime, by: Actor) -> None:
        declined_by = DeclinedBy(declined_by)
        if declined_by is DeclinedBy.PROVIDER:
            self._require_receiver(by, "decline")
            self._require_step("declined by the receiver", at, *_NOT_YET_ACCEPTED)
        else:
            if by.organisation not in (self.referrer, self.receiver):
                raise NotPermitted(
                    "Only {referrer} or {receiver} may record that the household declined referral {referral}; "
                    "{organisation} may not",
                    referrer=self.referrer,
                    receiver=self.receiver,
                    referral=self._short_id,
                    organisation=by.organisation,
                )
            self._require_step("declined by the household", at, *_OPEN)
        self._declined(declined_by=declined_by, reason=checked_reason(reason), at=at, by=by)

    def override_decline(self, *, reason: str, policy: RehousingPolicy, at: datetime, by: Actor) -> None:
        if by.role is not Role.COORDINATOR:
            raise NotPermitted(
                "Only a coordinator may override a decline of referral {referral}", referral=self._short_id
            )
        self._require_step("sent again", at, *_DECLINED)
        self._decline_overridden(
            reason=checked_reason(reason), acknowledge_by=policy.acknowledgement_due(at), at=at, by=by
        )

    def redirect(
        self,
        *,
        to: str,
        reason: str,
        policy: RehousingPolicy,
        at: datetime,
        by: Actor,
        consent: Consent | None = None,
    ) -> None:
        """Send the referral on to another receiver.

        Consent names one recipient, so a referral resting on consent needs the
        household's consent for the new receiver too; one resting on a legal basis
        keeps it.
        """
        self._require_receiver(by, "redirect")
        self._require_step("redirected", at, *_NOT_YET_ACCEPTED)
        if not to.strip() or to.casefold() in (self.receiver.casefold(), self.referrer.casefold()):
            raise InvalidInput(
                "Referral {referral} can only be redirected to a third organisation, not {to!r}",
                referral=self._short_id,
                to=to,
            )
        if self.legal_basis is not None and consent is not None:
            raise InvalidInput(
                "Referral {referral} rests on a legal basis; no consent is taken", referral=self._short_id
            )
        if self.legal_basis is None:
            lawful_basis(consent, None, to)
        if consent is not None:
            check_consent(consent, at=at, field="consent")
        self._redirected(
            to=to,
            reason=checked_reason(reason),
            consent=consent,
            acknowledge_by=policy.acknowledgement_due(at),
            at=at,
            by=by,
        )

    def withdraw(self, *, reason: str, at: datetime, by: Actor) -> None:
        self._require_referrer(by, "withdraw")
        self._require_step("withdrawn", at, *_OPEN)
        self._withdrawn(reason=checked_reason(reason), at=at, by=by)

    def expire(self, *, at: datetime) -> None:
        self._require_step("expired", at, *_NOT_YET_ACCEPTED)
        if at < self.complete_by:
            raise ReferralNotDue(
                "Referral {referral} is not due until {complete_by}",
                referral=self._short_id,
                complete_by=self.complete_by,
            )
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
        require_party("receiver", self.receiver, by, step, self._short_id)

    def _require_referrer(self, by: Actor, step: str) -> None:
        require_party("referrer", self.referrer, by, step, self._short_id)

    def _require_step(self, step: str, at: datetime, *allowed: ReferralStatus) -> None:
        require_step(self.status, self.last_step_at, step, at, allowed, self._short_id)

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
    def _put_on_hold(self, reason: str, at: datetime, by: Actor) -> None:
        self._step(ReferralStatus.ON_HOLD, at, by.organisation)

    @event(Declined)
    def _declined(self, declined_by: DeclinedBy, reason: str, at: datetime, by: Actor) -> None:
        self.declined_by = DeclinedBy(declined_by)
        status = (
            ReferralStatus.DECLINED_BY_RECEIVER
            if self.declined_by is DeclinedBy.PROVIDER
            else ReferralStatus.DECLINED_BY_HOUSEHOLD
        )
        self._step(status, at, by.organisation)

    @event(DeclineOverridden)
    def _decline_overridden(self, reason: str, acknowledge_by: datetime, at: datetime, by: Actor) -> None:
        # Back to requested: the receiver starts again from acknowledging it.
        self._back_to_sent(acknowledge_by)
        self._step(ReferralStatus.SENT, at, by.organisation)

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
    def _withdrawn(self, reason: str, at: datetime, by: Actor) -> None:
        self._step(ReferralStatus.WITHDRAWN, at, by.organisation)

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

    def _back_to_sent(self, acknowledge_by: datetime) -> None:
        self.acknowledge_by = acknowledge_by
        self.assignee = None
        self.declined_by = None
        self.acknowledged_at = None
        self.accepted_at = None

    def _step(self, status: ReferralStatus, at: datetime, organisation: str | None) -> None:
        self.last_step_at = at
        self.history.append(ReferralStep(status=status, at=at, organisation=organisation))
