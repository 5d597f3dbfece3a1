"""Referral steps every node can take, as referrer or as receiver (the closed loop of docs/design.md §3)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from coordination.applications.base import NodeApplication, derived_id, require_time
from coordination.applications.commands import Decision, command
from coordination.applications.timers import Expiries, originators, timer_command_id
from coordination.domain.errors import DomainError, InvalidInput, NotPermitted
from coordination.domain.referral import Referral, ReferralDetails, ReferralKind, ReferralStatus
from coordination.domain.referral_contact import (
    ReferralContact,
    carries_under,
    share_contact,
    withdraw_contact,
)
from coordination.domain.referral_daycare import InstitutionIntake
from coordination.domain.values import Actor, Consent, DeclinedBy, Override, Role

REFERRAL = "referral"
_NOT_YET_ACCEPTED = (ReferralStatus.SENT, ReferralStatus.ACKNOWLEDGED)


class ReferralDesk(NodeApplication):
    """Sending, receiving and answering referrals; shared by every organisation role."""

    @command()
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
    ) -> Decision[UUID]:
        referral = Referral.send(
            id=derived_id("referral", self.organisation, command_id),
            receiver=receiver,
            kind=kind,
            household_id=household_id,
            details=details,
            consent=consent,
            legal_basis=legal_basis,
            policy=self.policy,
            at=at,
            by=by,
        )
        return referral.id, [referral]

    @command()
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
    ) -> Decision[UUID]:
        """Keep this node's copy of a referral another organisation sent to it, as it was recorded there.

        The due dates are the referrer's recorded ones, not recomputed from this node's policy, so both
        copies agree on what is overdue.
        """
        referral = Referral(
            id=referral_id,
            receiver=self.organisation,
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
        return referral_id, [referral]

    @command()
    def receive_referral_contact(
        self, *, command_id: UUID, referral_id: UUID, contact: ReferralContact, at: datetime, by: Actor
    ) -> Decision[UUID]:
        """Keep the family's contact the referrer shared with this node (opened from its sealed part)."""
        referral = self._referral(referral_id)
        if referral.receiver != self.organisation:
            raise NotPermitted(
                "Referral {referral_id} is not addressed to {organisation}",
                referral_id=referral_id,
                organisation=self.organisation,
            )
        share_contact(referral, contact, at=at, by=by)
        return referral_id, [referral]

    @command()
    def withdraw_referral_contact(
        self, *, command_id: UUID, referral_id: UUID, purpose: str, at: datetime, by: Actor
    ) -> Decision[UUID]:
        """Drop what the referrer shared under a consent the household withdrew (nothing left: no change)."""
        referral = self._referral(referral_id)
        if referral.receiver != self.organisation:
            raise NotPermitted(
                "Referral {referral_id} is not addressed to {organisation}",
                referral_id=referral_id,
                organisation=self.organisation,
            )
        if carries_under(referral, purpose):
            withdraw_contact(referral, purpose, at=at, by=by)
        return referral_id, [referral]

    def _referral(self, referral_id: UUID) -> Referral:
        return self._get(Referral, referral_id, REFERRAL)

    @command()
    def acknowledge_referral(
        self, *, command_id: UUID, referral_id: UUID, at: datetime, by: Actor
    ) -> Decision[UUID]:
        referral = self._referral(referral_id)
        referral.acknowledge(at=at, by=by)
        return referral_id, [referral, *self._acknowledged(referral, at, by)]

    def _acknowledged(self, referral: Referral, at: datetime, by: Actor) -> list[Aggregate]:
        """Other aggregates of this node that an acknowledgement changes too (in the same transaction)."""
        return []

    @command()
    def accept_referral(
        self, *, command_id: UUID, referral_id: UUID, assignee: str, at: datetime, by: Actor
    ) -> Decision[UUID]:
        referral = self._referral(referral_id)
        referral.accept(assignee=assignee, at=at, by=by)
        return referral_id, [referral]

    @command()
    def start_referral(
        self, *, command_id: UUID, referral_id: UUID, at: datetime, by: Actor
    ) -> Decision[UUID]:
        referral = self._referral(referral_id)
        referral.start(at=at, by=by)
        return referral_id, [referral]

    @command(added=("reason_code",))
    def put_referral_on_hold(
        self,
        *,
        command_id: UUID,
        referral_id: UUID,
        reason: str = "",
        reason_code: str | None = None,
        at: datetime,
        by: Actor,
    ) -> Decision[UUID]:
        referral = self._referral(referral_id)
        referral.put_on_hold(reason=reason, reason_code=reason_code, at=at, by=by)
        return referral_id, [referral]

    @command(added=("reason_code",))
    def decline_referral(
        self,
        *,
        command_id: UUID,
        referral_id: UUID,
        declined_by: DeclinedBy,
        reason: str = "",
        reason_code: str | None = None,
        at: datetime,
        by: Actor,
    ) -> Decision[UUID]:
        referral = self._referral(referral_id)
        referral.decline(declined_by=declined_by, reason=reason, reason_code=reason_code, at=at, by=by)
        return referral_id, [referral]

    @command(added=("reason_code",))
    def override_referral_decline(
        self,
        *,
        command_id: UUID,
        referral_id: UUID,
        reason: str = "",
        reason_code: str | None = None,
        at: datetime,
        by: Actor,
    ) -> Decision[UUID]:
        referral = self._referral(referral_id)
        referral.override_decline(reason=reason, reason_code=reason_code, policy=self.policy, at=at, by=by)
        return referral_id, [referral]

    @command()
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
    ) -> Decision[UUID]:
        """Forward a referral to another organisation; one resting on consent needs a consent naming it."""
        referral = self._referral(referral_id)
        referral.redirect(to=to, reason=reason, consent=consent, policy=self.policy, at=at, by=by)
        return referral_id, [referral]

    @command(added=("reason_code",))
    def withdraw_referral(
        self,
        *,
        command_id: UUID,
        referral_id: UUID,
        reason: str = "",
        reason_code: str | None = None,
        at: datetime,
        by: Actor,
    ) -> Decision[UUID]:
        referral = self._referral(referral_id)
        referral.withdraw(reason=reason, reason_code=reason_code, at=at, by=by)
        return referral_id, [referral]

    @command()
    def complete_referral(
        self, *, command_id: UUID, referral_id: UUID, outcome: str, at: datetime, by: Actor
    ) -> Decision[UUID]:
        referral = self._referral(referral_id)
        referral.complete(outcome=outcome, at=at, by=by)
        return referral_id, [referral]

    @command()
    def mark_referral_entered_in_error(
        self, *, command_id: UUID, referral_id: UUID, reason: str, at: datetime, by: Actor
    ) -> Decision[UUID]:
        referral = self._referral(referral_id)
        referral.mark_entered_in_error(reason=reason, at=at, by=by)
        return referral_id, [referral]

    # A daycare referral's place (domain/referral_daycare.py).

    @command(also={"intake": None})
    def offer_daycare_place(
        self,
        *,
        command_id: UUID,
        referral_id: UUID,
        institution: str,
        starts_on: date,
        priority_reason: str = "rehousing",
        counts_under_26a: bool = False,
        intake: InstitutionIntake | None,
        overrides: list[Override] = [],  # noqa: B006 - never mutated
        at: datetime,
        by: Actor,
    ) -> Decision[UUID]:
        """`intake`: the institution's intake in the start date's year (DaycareQueue.intake); None only for
        the department's step applied to the referrer's copy, assessed where it was taken."""
        if intake is None and by.organisation == self.organisation:
            raise InvalidInput("A place offered here is assessed against the institution's intake")
        referral = self._referral(referral_id)
        referral.offer_place(
            institution=institution,
            starts_on=starts_on,
            priority_reason=priority_reason,
            counts_under_26a=counts_under_26a,
            intake=intake,
            overrides=overrides,
            policy=self.policy,
            at=at,
            by=by,
        )
        return referral_id, [referral]

    @command()
    def accept_daycare_place(
        self, *, command_id: UUID, referral_id: UUID, at: datetime, by: Actor
    ) -> Decision[UUID]:
        referral = self._referral(referral_id)
        referral.accept_place(at=at, by=by)
        return referral_id, [referral]

    @command()
    def decline_daycare_place(
        self,
        *,
        command_id: UUID,
        referral_id: UUID,
        reason: str = "",
        reason_code: str | None = None,
        at: datetime,
        by: Actor,
    ) -> Decision[UUID]:
        referral = self._referral(referral_id)
        referral.decline_place(reason=reason, reason_code=reason_code, at=at, by=by)
        return referral_id, [referral]

    # The timer is no person: the receipt's fingerprint names its actor.
    @command(also=lambda app, call: {"by": app._referral_timer()})
    def expire_referral(self, *, command_id: UUID, referral_id: UUID, at: datetime) -> Decision[UUID]:
        referral = self._referral(referral_id)
        referral.expire(at=at)
        return referral_id, [referral]

    def _referral_timer(self) -> Actor:
        return Actor(organisation=self.organisation, person="referral-expiry-timer", role=Role.SYSTEM)

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
