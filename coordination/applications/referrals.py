"""Referral steps every node can take, as referrer or as receiver (the closed loop of docs/design.md §3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from coordination.applications.base import NodeApplication, derived_id, require_time
from coordination.applications.timers import Expiries, originators, timer_command_id
from coordination.domain.errors import DomainError
from coordination.domain.referral import Referral, ReferralDetails, ReferralKind, ReferralStatus
from coordination.domain.values import Actor, Consent, DeclinedBy, Role

REFERRAL = "referral"
_NOT_YET_ACCEPTED = (ReferralStatus.SENT, ReferralStatus.ACKNOWLEDGED)


class ReferralDesk(NodeApplication):
    """Sending, receiving and answering referrals; shared by every organisation role."""

    def send_referral(
        self,
        *,
        command_id: UUID,
        receiver: str,
        kind: ReferralKind,
        household_id: UUID,
        details: ReferralDetails,
        consent: Consent | None = None,
        legal_basis: str | None = None,
        at: datetime,
        by: Actor,
    ) -> UUID:
        referral_id = derived_id("referral", self.organisation, command_id)
        # One set of arguments: what the referral is sent with is what the receipt's fingerprint covers.
        arguments = dict(
            receiver=receiver,
            kind=kind,
            household_id=household_id,
            details=details,
            consent=consent,
            legal_basis=legal_basis,
            at=at,
            by=by,
        )

        def work() -> tuple[UUID, list[Aggregate]]:
            return referral_id, [Referral.send(id=referral_id, policy=self.policy, **arguments)]

        self._once("send_referral", command_id, arguments, work)
        return referral_id

    def receive_referral(
        self,
        *,
        command_id: UUID,
        referral_id: UUID,
        referrer: str,
        kind: ReferralKind,
        household_id: UUID,
        details: ReferralDetails,
        consent: Consent | None,
        legal_basis: str | None,
        acknowledge_by: datetime,
        complete_by: datetime,
        at: datetime,
        by: Actor,
    ) -> UUID:
        """Keep this node's copy of a referral another organisation sent to it, as it was recorded there.

        The due dates are the referrer's recorded ones, not recomputed from this node's policy, so both
        copies agree on what is overdue.
        """

        arguments = dict(
            referrer=referrer,
            kind=kind,
            household_id=household_id,
            details=details,
            consent=consent,
            legal_basis=legal_basis,
            acknowledge_by=acknowledge_by,
            complete_by=complete_by,
            at=at,
            by=by,
        )

        def work() -> tuple[UUID, list[Aggregate]]:
            return referral_id, [Referral(id=referral_id, receiver=self.organisation, **arguments)]

        self._once("receive_referral", command_id, {**arguments, "referral_id": referral_id}, work)
        return referral_id

    def _step(
        self,
        command: str,
        command_id: UUID,
        referral_id: UUID,
        at: datetime,
        by: Actor,
        decide: Callable[[Referral], object],
        **arguments: object,
    ) -> UUID:
        def work() -> tuple[UUID, list[Aggregate]]:
            referral = self._get(Referral, referral_id, REFERRAL)
            decide(referral)
            return referral_id, [referral, *self._consequences(referral, command, at, by)]

        arguments.update(referral_id=referral_id, at=at, by=by)
        self._once(command, command_id, arguments, work)
        return referral_id

    def _consequences(self, referral: Referral, command: str, at: datetime, by: Actor) -> list[Aggregate]:
        """Other aggregates of this node that a referral step changes too (in the same transaction)."""
        return []

    def acknowledge_referral(self, *, command_id: UUID, referral_id: UUID, at: datetime, by: Actor) -> UUID:
        return self._step(
            "acknowledge_referral", command_id, referral_id, at, by, lambda r: r.acknowledge(at=at, by=by)
        )

    def accept_referral(
        self, *, command_id: UUID, referral_id: UUID, assignee: str, at: datetime, by: Actor
    ) -> UUID:
        return self._step(
            "accept_referral",
            command_id,
            referral_id,
            at,
            by,
            lambda r: r.accept(assignee=assignee, at=at, by=by),
            assignee=assignee,
        )

    def start_referral(self, *, command_id: UUID, referral_id: UUID, at: datetime, by: Actor) -> UUID:
        return self._step("start_referral", command_id, referral_id, at, by, lambda r: r.start(at=at, by=by))

    def put_referral_on_hold(
        self, *, command_id: UUID, referral_id: UUID, reason: str, at: datetime, by: Actor
    ) -> UUID:
        return self._step(
            "put_referral_on_hold",
            command_id,
            referral_id,
            at,
            by,
            lambda r: r.put_on_hold(reason=reason, at=at, by=by),
            reason=reason,
        )

    def decline_referral(
        self,
        *,
        command_id: UUID,
        referral_id: UUID,
        declined_by: DeclinedBy,
        reason: str,
        at: datetime,
        by: Actor,
    ) -> UUID:
        return self._step(
            "decline_referral",
            command_id,
            referral_id,
            at,
            by,
            lambda r: r.decline(declined_by=declined_by, reason=reason, at=at, by=by),
            declined_by=declined_by,
            reason=reason,
        )

    def override_referral_decline(
        self, *, command_id: UUID, referral_id: UUID, reason: str, at: datetime, by: Actor
    ) -> UUID:
        return self._step(
            "override_referral_decline",
            command_id,
            referral_id,
            at,
            by,
            lambda r: r.override_decline(reason=reason, policy=self.policy, at=at, by=by),
            reason=reason,
        )

    def redirect_referral(
        self,
        *,
        command_id: UUID,
        referral_id: UUID,
        to: str,
        reason: str,
        consent: Consent | None = None,
        at: datetime,
        by: Actor,
    ) -> UUID:
        """Forward a referral to another organisation; one resting on consent needs a consent naming it."""
        return self._step(
            "redirect_referral",
            command_id,
            referral_id,
            at,
            by,
            lambda r: r.redirect(to=to, reason=reason, consent=consent, policy=self.policy, at=at, by=by),
            to=to,
            reason=reason,
            consent=consent,
        )

    def withdraw_referral(
        self, *, command_id: UUID, referral_id: UUID, reason: str, at: datetime, by: Actor
    ) -> UUID:
        return self._step(
            "withdraw_referral",
            command_id,
            referral_id,
            at,
            by,
            lambda r: r.withdraw(reason=reason, at=at, by=by),
            reason=reason,
        )

    def complete_referral(
        self, *, command_id: UUID, referral_id: UUID, outcome: str, at: datetime, by: Actor
    ) -> UUID:
        return self._step(
            "complete_referral",
            command_id,
            referral_id,
            at,
            by,
            lambda r: r.complete(outcome=outcome, at=at, by=by),
            outcome=outcome,
        )

    def mark_referral_entered_in_error(
        self, *, command_id: UUID, referral_id: UUID, reason: str, at: datetime, by: Actor
    ) -> UUID:
        return self._step(
            "mark_referral_entered_in_error",
            command_id,
            referral_id,
            at,
            by,
            lambda r: r.mark_entered_in_error(reason=reason, at=at, by=by),
            reason=reason,
        )

    def expire_referral(self, *, command_id: UUID, referral_id: UUID, at: datetime) -> UUID:
        timer = Actor(organisation=self.organisation, person="referral-expiry-timer", role=Role.SYSTEM)
        return self._step("expire_referral", command_id, referral_id, at, timer, lambda r: r.expire(at=at))

    # Timers

    def expire_due(self, *, now: datetime) -> Expiries:
        """Run this node's timers as of `now` (time is an input): expire the referrals it sent that were
        not accepted by their due date. Each expiry is published from this node's history as usual."""
        expired, skipped = self._expire_due_referrals(require_time(now))
        return Expiries(referrals=expired, skipped=skipped)

    def _expire_due_referrals(self, now: datetime) -> tuple[tuple[UUID, ...], tuple[UUID, ...]]:
        expired: list[UUID] = []
        skipped: list[UUID] = []
        for referral_id in originators(self, Referral.Sent):
            referral = self._get(Referral, referral_id, REFERRAL)
            # Only the referrer's timer speaks for an expiry; the receiver's copy learns it over the exchange.
            if referral.referrer != self.organisation or referral.status not in _NOT_YET_ACCEPTED:
                continue
            if now < referral.complete_by:
                continue
            try:
                self.expire_referral(
                    command_id=timer_command_id("expire_referral", referral_id),
                    referral_id=referral_id,
                    at=now,
                )
            except DomainError:
                skipped.append(referral_id)  # a step arrived meanwhile (a conflict): decided again next run
            else:
                expired.append(referral_id)
        return tuple(expired), tuple(skipped)
