"""Property test of the referral lifecycle: no sequence of steps by anyone breaks the loop or replay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from itertools import pairwise
from uuid import uuid4

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from coordination.domain.calendar import COPENHAGEN
from coordination.domain.errors import DomainError
from coordination.domain.policy import DEFAULT_POLICY
from coordination.domain.referral import (
    ChildFacts,
    Referral,
    ReferralDetails,
    ReferralKind,
    ReferralStatus,
)
from coordination.domain.values import Actor, Consent, DeclinedBy, Place, Role, YearMonth
from tests.support import new_memory_app

S = ReferralStatus
ACTORS = [
    Actor(organisation="CIVICA", person="gk-17", role=Role.REHOUSING_CONSULTANT),
    Actor(organisation="Brobyggerne Odense", person="bb-3", role=Role.BRIDGE_BUILDER),
    Actor(organisation="Ungdomsskolen", person="us-1", role=Role.DEPARTMENT_CASEWORKER),
    Actor(organisation="FAB", person="fab-2", role=Role.REHOUSING_CONSULTANT),
    Actor(organisation="Odense Kommune", person="ko-1", role=Role.COORDINATOR),
]
ORGANISATIONS = [actor.organisation for actor in ACTORS]
START = datetime(2026, 3, 30, 9, 0, tzinfo=COPENHAGEN)
OPEN = {s for s in S if s.is_open}
NOT_YET_ACCEPTED = {S.SENT, S.ACKNOWLEDGED}
DECLINED = {S.DECLINED_BY_RECEIVER, S.DECLINED_BY_HOUSEHOLD}
# Mostly the rightful side, so runs get deep into the loop; sometimes anyone at all.
actors = st.one_of(st.sampled_from(["referrer", "receiver", "receiver"]), st.sampled_from(ACTORS))
reasons = st.sampled_from(["the family asked for it"] * 3 + ["", "no"])  # the last two are too short


def consent_for(recipient: str) -> Consent:
    return Consent(recipient=recipient, purpose="bridge_building", given_on=date(2026, 3, 1))


class ReferralLifecycle(RuleBasedStateMachine):
    """Every rule tries a step with any actor; a small model of docs/design.md §8 says whether it must succeed."""

    def __init__(self) -> None:
        super().__init__()
        self.app = new_memory_app()
        self.now = START

    @initialize(kind=st.sampled_from(ReferralKind), on_consent=st.booleans())
    def send(self, kind: ReferralKind, on_consent: bool) -> None:
        receiver = "Brobyggerne Odense"
        details = ReferralDetails(
            children=[ChildFacts(member_id="C4", birth_month=YearMonth(year=2022, month=3))],
            needed_from=date(2026, 5, 1),
            place=Place(municipality="Odense", area="Odense C"),
            note="Help with the move" if kind is ReferralKind.OTHER else None,  # `other` says what it asks
        )
        self.referral = Referral.send(
            id=uuid4(),
            receiver=receiver,
            kind=kind,
            household_id=uuid4(),
            details=details,
            consent=consent_for(receiver) if on_consent else None,
            legal_basis=None if on_consent else "serviceloven § 11",
            policy=DEFAULT_POLICY,
            at=self.now,
            by=ACTORS[0],
        )

    def attempt(
        self, step: Callable[[], None], *, allowed: bool, leads_to: ReferralStatus, event: type
    ) -> None:
        referral = self.referral
        before, version, steps = referral.status, referral.version, len(referral.history)
        refused: DomainError | None = None
        try:
            step()
        except DomainError as error:
            refused = error
        if refused is not None:
            assert not allowed, f"refused from {before}: {refused}"
            assert (referral.status, referral.version, len(referral.history)) == (before, version, steps)
            return
        assert allowed, f"taken from {before} though the model refuses it"
        assert referral.status is leads_to
        assert type(referral.pending_events[-1]) is event
        if not before.is_open:
            # Closed stays closed: only a coordinator's override of a decline reopens, and anything
            # may turn out to have been entered in error.
            assert leads_to is S.ENTERED_IN_ERROR or (before in DECLINED and leads_to is S.SENT)

    def resolve(self, by: Actor | str) -> Actor:
        if isinstance(by, Actor):
            return by
        organisation = self.referral.referrer if by == "referrer" else self.referral.receiver
        return next(actor for actor in ACTORS if actor.organisation == organisation)

    def is_receiver(self, by: Actor) -> bool:
        return by.organisation == self.referral.receiver

    def is_referrer(self, by: Actor) -> bool:
        return by.organisation == self.referral.referrer

    @rule(hours=st.sampled_from([0, 1, 24, 24 * 7, 24 * 45]))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @rule(forward=st.lists(st.booleans(), min_size=1, max_size=4))
    def progress(self, forward: list[bool]) -> None:
        """The receiver takes the next steps forward; closing steps are many, so runs would end early."""
        receiver = self.resolve("receiver")
        for complete in forward:
            status = self.referral.status
            if status is S.SENT:
                self.acknowledge(receiver)
            elif status is S.ACKNOWLEDGED:
                self.accept(receiver, "bb-3")
            elif status is S.IN_PROGRESS and complete:
                self.complete(receiver, "child enrolled")
            elif status is S.IN_PROGRESS:
                self.put_on_hold(receiver, "waiting for the move")
            elif status in {S.ACCEPTED, S.ON_HOLD}:
                self.start(receiver)

    @rule(by=actors)
    def acknowledge(self, by: Actor | str) -> None:
        r = self.referral
        by = self.resolve(by)
        self.attempt(
            lambda: r.acknowledge(at=self.now, by=by),
            allowed=self.is_receiver(by) and r.status is S.SENT,
            # A handoff's acknowledgement completes it (the transfer of holding is done).
            leads_to=S.COMPLETED if r.kind is ReferralKind.HANDOFF else S.ACKNOWLEDGED,
            event=Referral.Acknowledged,
        )

    @rule(by=actors, assignee=st.sampled_from(["", "bb-3"]))
    def accept(self, by: Actor | str, assignee: str) -> None:
        r = self.referral
        by = self.resolve(by)
        self.attempt(
            lambda: r.accept(assignee=assignee, at=self.now, by=by),
            allowed=self.is_receiver(by) and r.status is S.ACKNOWLEDGED and assignee != "",
            leads_to=S.ACCEPTED,
            event=Referral.Accepted,
        )

    @rule(by=actors)
    def start(self, by: Actor | str) -> None:
        r = self.referral
        by = self.resolve(by)
        self.attempt(
            lambda: r.start(at=self.now, by=by),
            allowed=self.is_receiver(by) and r.status in {S.ACCEPTED, S.ON_HOLD},
            leads_to=S.IN_PROGRESS,
            event=Referral.Started,
        )

    @rule(by=actors, reason=reasons)
    def put_on_hold(self, by: Actor | str, reason: str) -> None:
        r = self.referral
        by = self.resolve(by)
        self.attempt(
            lambda: r.put_on_hold(reason=reason, at=self.now, by=by),
            allowed=self.is_receiver(by) and r.status in {S.ACCEPTED, S.IN_PROGRESS} and len(reason) >= 3,
            leads_to=S.ON_HOLD,
            event=Referral.PutOnHold,
        )

    @rule(by=actors, declined_by=st.sampled_from(DeclinedBy), reason=reasons)
    def decline(self, by: Actor | str, declined_by: DeclinedBy, reason: str) -> None:
        r = self.referral
        by = self.resolve(by)
        if declined_by is DeclinedBy.PROVIDER:
            allowed = self.is_receiver(by) and r.status in NOT_YET_ACCEPTED
            leads_to = S.DECLINED_BY_RECEIVER
        else:
            allowed = (self.is_receiver(by) or self.is_referrer(by)) and r.status in OPEN
            leads_to = S.DECLINED_BY_HOUSEHOLD
        self.attempt(
            lambda: r.decline(declined_by=declined_by, reason=reason, at=self.now, by=by),
            allowed=allowed and len(reason) >= 3,
            leads_to=leads_to,
            event=Referral.Declined,
        )

    @rule(by=actors, reason=reasons)
    def override_decline(self, by: Actor | str, reason: str) -> None:
        r = self.referral
        by = self.resolve(by)
        self.attempt(
            lambda: r.override_decline(reason=reason, policy=DEFAULT_POLICY, at=self.now, by=by),
            allowed=by.role is Role.COORDINATOR and r.status in DECLINED and len(reason) >= 3,
            leads_to=S.SENT,
            event=Referral.DeclineOverridden,
        )

    @rule(by=actors, to=st.sampled_from(ORGANISATIONS[2:] * 2 + ORGANISATIONS), with_consent=st.booleans())
    def redirect(self, by: Actor | str, to: str, with_consent: bool) -> None:
        r = self.referral
        by = self.resolve(by)
        lawful = with_consent if r.legal_basis is None else not with_consent
        self.attempt(
            lambda: r.redirect(
                to=to,
                reason="their field",
                policy=DEFAULT_POLICY,
                at=self.now,
                by=by,
                consent=consent_for(to) if with_consent else None,
            ),
            allowed=self.is_receiver(by)
            and r.status in NOT_YET_ACCEPTED
            and to not in (r.receiver, r.referrer)
            and lawful,
            leads_to=S.SENT,
            event=Referral.Redirected,
        )

    @rule(by=actors, reason=reasons)
    def withdraw(self, by: Actor | str, reason: str) -> None:
        r = self.referral
        by = self.resolve(by)
        self.attempt(
            lambda: r.withdraw(reason=reason, at=self.now, by=by),
            allowed=self.is_referrer(by) and r.status in OPEN and len(reason) >= 3,
            leads_to=S.WITHDRAWN,
            event=Referral.Withdrawn,
        )

    @rule()
    def expire(self) -> None:
        r = self.referral
        self.attempt(
            lambda: r.expire(at=self.now),
            allowed=r.status in NOT_YET_ACCEPTED and self.now >= r.complete_by,
            leads_to=S.EXPIRED,
            event=Referral.Expired,
        )

    @rule(by=actors, outcome=reasons)
    def complete(self, by: Actor | str, outcome: str) -> None:
        r = self.referral
        by = self.resolve(by)
        self.attempt(
            lambda: r.complete(outcome=outcome, at=self.now, by=by),
            allowed=self.is_receiver(by) and r.status in {S.ACCEPTED, S.IN_PROGRESS} and len(outcome) >= 3,
            leads_to=S.COMPLETED,
            event=Referral.Completed,
        )

    @rule(by=actors, reason=reasons)
    def mark_entered_in_error(self, by: Actor | str, reason: str) -> None:
        r = self.referral
        by = self.resolve(by)
        self.attempt(
            lambda: r.mark_entered_in_error(reason=reason, at=self.now, by=by),
            allowed=self.is_referrer(by) and r.status is not S.ENTERED_IN_ERROR and len(reason) >= 3,
            leads_to=S.ENTERED_IN_ERROR,
            event=Referral.EnteredInError,
        )

    @invariant()
    def history_is_in_time_order_and_ends_in_the_current_status(self) -> None:
        history = self.referral.history
        assert all(earlier.at <= later.at for earlier, later in pairwise(history))
        assert history[-1].status is self.referral.status
        assert history[-1].at == self.referral.last_step_at
        assert self.referral.referrer != self.referral.receiver

    @invariant()
    def a_reloaded_referral_equals_the_live_one(self) -> None:
        self.app.save(self.referral)
        again = self.app.repository.get(self.referral.id)
        assert vars(again) == vars(self.referral)


ReferralLifecycle.TestCase.settings = settings(max_examples=100, stateful_step_count=30, deadline=None)
test_no_sequence_of_steps_breaks_the_referral_loop = ReferralLifecycle.TestCase
