"""Unit tests of the Referral aggregate: each step and refusal, who may act, due dates, FHIR statuses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import holidays
import pytest
from pydantic import ValidationError

from coordination.domain.calendar import COPENHAGEN
from coordination.domain.errors import (
    ConsentMissing,
    InvalidInput,
    NotPermitted,
    ReferralNotDue,
    ReferralNotOpen,
)
from coordination.domain.policy import DEFAULT_POLICY, RehousingPolicy
from coordination.domain.referral import (
    ChildFacts,
    Referral,
    ReferralDetails,
    ReferralKind,
    ReferralStatus,
    ReferralStep,
)
from coordination.domain.values import Actor, Consent, DeclinedBy, Place, Role, YearMonth
from tests.support import new_memory_app

S = ReferralStatus
REFERRER = Actor(organisation="CIVICA", person="gk-17", role=Role.REHOUSING_CONSULTANT)
RECEIVER = Actor(organisation="Brobyggerne Odense", person="bb-3", role=Role.BRIDGE_BUILDER)
YOUTH_SCHOOL = Actor(organisation="Ungdomsskolen", person="us-1", role=Role.DEPARTMENT_CASEWORKER)
OUTSIDER = Actor(organisation="FAB", person="fab-2", role=Role.REHOUSING_CONSULTANT)
COORDINATOR = Actor(organisation="Odense Kommune", person="ko-1", role=Role.COORDINATOR)
DAYCARE = Actor(organisation="Odense BUF Pladsanvisning", person="pa-4", role=Role.DAYCARE_ALLOCATOR)
SENT_AT = datetime(2026, 6, 1, 9, 0, tzinfo=COPENHAGEN)  # a Monday, no holidays near
CENTRUM = Place(municipality="Odense", area="Odense C")


def consent_for(recipient: str) -> Consent:
    return Consent(recipient=recipient, purpose="bridge_building", given_on=date(2026, 3, 20))


def send(
    *,
    kind: ReferralKind = ReferralKind.BRIDGE_BUILDING,
    receiver: str = RECEIVER.organisation,
    details: ReferralDetails | None = None,
    consent: Consent | None = None,
    legal_basis: str | None = None,
    policy: RehousingPolicy = DEFAULT_POLICY,
    at: datetime = SENT_AT,
    by: Actor = REFERRER,
) -> Referral:
    if consent is None and legal_basis is None:
        consent = consent_for(receiver)
    return Referral.send(
        id=uuid4(),
        receiver=receiver,
        kind=kind,
        household_id=uuid4(),
        details=details or ReferralDetails(household_size=5, language="arabic"),
        consent=consent,
        legal_basis=legal_basis,
        policy=policy,
        at=at,
        by=by,
    )


FOUR_YEAR_OLD = YearMonth(year=2022, month=3)


def daycare_details(
    *, birth_month: YearMonth = FOUR_YEAR_OLD, needed_from: date = date(2026, 8, 1)
) -> ReferralDetails:
    return ReferralDetails(
        children=[ChildFacts(member_id="C4", birth_month=birth_month)], needed_from=needed_from, place=CENTRUM
    )


def minutes(n: int) -> datetime:
    return SENT_AT + timedelta(minutes=n)


def last_event(referral: Referral) -> object:
    return referral.collect_events()[-1]


# The path to each state, each step a minute after the last; every step with its rightful actor.
PATHS: dict[ReferralStatus, list[Callable[[Referral, datetime], None]]] = {
    S.SENT: [],
    S.ACKNOWLEDGED: [lambda r, at: r.acknowledge(at=at, by=RECEIVER)],
    S.ACCEPTED: [
        lambda r, at: r.acknowledge(at=at, by=RECEIVER),
        lambda r, at: r.accept(assignee="bb-3", at=at, by=RECEIVER),
    ],
    S.IN_PROGRESS: [
        lambda r, at: r.acknowledge(at=at, by=RECEIVER),
        lambda r, at: r.accept(assignee="bb-3", at=at, by=RECEIVER),
        lambda r, at: r.start(at=at, by=RECEIVER),
    ],
    S.ON_HOLD: [
        lambda r, at: r.acknowledge(at=at, by=RECEIVER),
        lambda r, at: r.accept(assignee="bb-3", at=at, by=RECEIVER),
        lambda r, at: r.put_on_hold(reason="the family is abroad until August", at=at, by=RECEIVER),
    ],
    S.DECLINED_BY_RECEIVER: [
        lambda r, at: r.decline(declined_by=DeclinedBy.PROVIDER, reason="no capacity", at=at, by=RECEIVER)
    ],
    S.DECLINED_BY_HOUSEHOLD: [
        lambda r, at: r.decline(declined_by=DeclinedBy.HOUSEHOLD, reason="wants no help", at=at, by=REFERRER)
    ],
    S.WITHDRAWN: [lambda r, at: r.withdraw(reason="sent by mistake", at=at, by=REFERRER)],
    S.EXPIRED: [lambda r, at: r.expire(at=r.complete_by)],
    S.COMPLETED: [
        lambda r, at: r.acknowledge(at=at, by=RECEIVER),
        lambda r, at: r.accept(assignee="bb-3", at=at, by=RECEIVER),
        lambda r, at: r.complete(outcome="the bridge holds", at=at, by=RECEIVER),
    ],
    S.ENTERED_IN_ERROR: [lambda r, at: r.mark_entered_in_error(reason="wrong household", at=at, by=REFERRER)],
}


def referral_in(status: ReferralStatus) -> Referral:
    referral = send()
    for minute, step in enumerate(PATHS[status], start=1):
        step(referral, minutes(minute))
    assert referral.status is status
    referral.collect_events()
    return referral


LATE = SENT_AT + timedelta(days=400)  # after every due date, so only the state decides
OPEN = {s for s in S if s.is_open}
# Each step: how it is taken, the states it may be taken from, and the state it leads to.
STEPS: dict[str, tuple[Callable[[Referral], None], set[ReferralStatus], ReferralStatus]] = {
    "acknowledge": (lambda r: r.acknowledge(at=LATE, by=RECEIVER), {S.SENT}, S.ACKNOWLEDGED),
    "accept": (lambda r: r.accept(assignee="bb-9", at=LATE, by=RECEIVER), {S.ACKNOWLEDGED}, S.ACCEPTED),
    "start": (lambda r: r.start(at=LATE, by=RECEIVER), {S.ACCEPTED, S.ON_HOLD}, S.IN_PROGRESS),
    "put_on_hold": (
        lambda r: r.put_on_hold(reason="waiting for the move", at=LATE, by=RECEIVER),
        {S.ACCEPTED, S.IN_PROGRESS},
        S.ON_HOLD,
    ),
    "decline_by_provider": (
        lambda r: r.decline(declined_by=DeclinedBy.PROVIDER, reason="no capacity", at=LATE, by=RECEIVER),
        {S.SENT, S.ACKNOWLEDGED},
        S.DECLINED_BY_RECEIVER,
    ),
    "decline_by_household": (
        lambda r: r.decline(declined_by=DeclinedBy.HOUSEHOLD, reason="said no", at=LATE, by=RECEIVER),
        OPEN,
        S.DECLINED_BY_HOUSEHOLD,
    ),
    "override_decline": (
        lambda r: r.override_decline(
            reason="household changed its mind", policy=DEFAULT_POLICY, at=LATE, by=COORDINATOR
        ),
        {S.DECLINED_BY_RECEIVER, S.DECLINED_BY_HOUSEHOLD},
        S.SENT,
    ),
    "redirect": (
        lambda r: r.redirect(
            to=YOUTH_SCHOOL.organisation,
            reason="their field",
            policy=DEFAULT_POLICY,
            at=LATE,
            by=RECEIVER,
            consent=consent_for(YOUTH_SCHOOL.organisation),
        ),
        {S.SENT, S.ACKNOWLEDGED},
        S.SENT,
    ),
    "withdraw": (lambda r: r.withdraw(reason="no longer needed", at=LATE, by=REFERRER), OPEN, S.WITHDRAWN),
    "expire": (lambda r: r.expire(at=LATE), {S.SENT, S.ACKNOWLEDGED}, S.EXPIRED),
    "complete": (
        lambda r: r.complete(outcome="enrolled", at=LATE, by=RECEIVER),
        {S.ACCEPTED, S.IN_PROGRESS},
        S.COMPLETED,
    ),
    "mark_entered_in_error": (
        lambda r: r.mark_entered_in_error(reason="wrong household", at=LATE, by=REFERRER),
        set(S) - {S.ENTERED_IN_ERROR},
        S.ENTERED_IN_ERROR,
    ),
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("step", list(STEPS))
def test_each_step_is_taken_only_from_the_states_the_closed_loop_allows(
    step: str, status: ReferralStatus
) -> None:
    take, allowed_from, leads_to = STEPS[step]
    referral = referral_in(status)
    if status in allowed_from:
        take(referral)
        assert referral.status is leads_to
        assert (referral.history[-1].status, referral.history[-1].at) == (leads_to, LATE)
        assert len(referral.collect_events()) == 1
    else:
        with pytest.raises(ReferralNotOpen, match=status.value.replace("_", " ")):
            take(referral)
        assert referral.status is status
        assert referral.collect_events() == []


# Sending


def test_a_sent_referral_records_who_to_whom_what_and_its_due_dates() -> None:
    details = ReferralDetails(needs=["school change"], household_size=5, language="arabic")
    referral = send(details=details)

    (sent,) = referral.collect_events()
    assert isinstance(sent, Referral.Sent)
    assert sent.referrer == "CIVICA"
    assert sent.receiver == "Brobyggerne Odense"
    assert sent.kind is ReferralKind.BRIDGE_BUILDING
    assert sent.details == details
    assert sent.consent == consent_for("Brobyggerne Odense")
    assert sent.legal_basis is None
    assert sent.acknowledge_by == datetime(2026, 6, 4, 9, 0, tzinfo=COPENHAGEN)
    assert sent.complete_by == SENT_AT + timedelta(days=30)
    assert sent.at == SENT_AT
    assert sent.by == REFERRER
    assert referral.status is S.SENT
    assert referral.history == [ReferralStep(status=S.SENT, at=SENT_AT, organisation="CIVICA")]
    assert referral.sent_at == referral.last_step_at == SENT_AT


def test_an_organisation_cannot_refer_a_household_to_itself() -> None:
    with pytest.raises(InvalidInput, match="another organisation"):
        send(receiver="civica")


def test_a_referral_needs_consent_or_a_legal_basis() -> None:
    with pytest.raises(ConsentMissing, match="consent or a legal basis"):
        Referral.send(
            id=uuid4(),
            receiver=RECEIVER.organisation,
            kind=ReferralKind.JOBCENTRE,
            household_id=uuid4(),
            details=ReferralDetails(),
            consent=None,
            legal_basis=None,
            policy=DEFAULT_POLICY,
            at=SENT_AT,
            by=REFERRER,
        )


def test_consent_must_name_the_receiver() -> None:
    with pytest.raises(ConsentMissing, match="not the receiver Brobyggerne Odense"):
        send(consent=consent_for("Jobcenter Odense"))


def test_consent_names_the_receiver_whatever_the_letter_case() -> None:
    referral = send(consent=consent_for("BROBYGGERNE odense"))
    assert referral.consent is not None
    assert referral.legal_basis is None


def test_a_legal_basis_is_recorded_instead_of_consent() -> None:
    referral = send(legal_basis="serviceloven § 11")
    sent = last_event(referral)
    assert isinstance(sent, Referral.Sent)
    assert sent.legal_basis == "serviceloven § 11"
    assert sent.consent is None


def test_consent_and_a_legal_basis_together_are_refused() -> None:
    with pytest.raises(InvalidInput, match="not both"):
        send(consent=consent_for(RECEIVER.organisation), legal_basis="serviceloven § 11")


def test_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        send(at=datetime(2026, 6, 1, 9, 0))


# Daycare fast track: only the child's birth month, the date needed and the new area


def test_a_daycare_referral_carries_one_child_the_date_needed_and_the_area() -> None:
    referral = send(
        kind=ReferralKind.DAYCARE_FAST_TRACK, receiver=DAYCARE.organisation, details=daycare_details()
    )
    assert referral.details.children == [
        ChildFacts(member_id="C4", birth_month=YearMonth(year=2022, month=3))
    ]


@pytest.mark.parametrize(
    ("details", "named"),
    [
        (ReferralDetails(needed_from=date(2026, 8, 1), place=CENTRUM), "exactly one child"),
        (
            ReferralDetails(
                children=[
                    ChildFacts(member_id=m, birth_month=YearMonth(year=2022, month=3)) for m in ("C3", "C4")
                ],
                needed_from=date(2026, 8, 1),
                place=CENTRUM,
            ),
            r"exactly one child \(got 2\)",
        ),
        (daycare_details().model_copy(update={"needed_from": None}), "the date the place is needed from"),
        (daycare_details().model_copy(update={"place": None}), "the new address's area"),
    ],
)
def test_a_daycare_referral_without_its_facts_is_refused(details: ReferralDetails, named: str) -> None:
    with pytest.raises(InvalidInput, match=named):
        send(kind=ReferralKind.DAYCARE_FAST_TRACK, receiver=DAYCARE.organisation, details=details)


def test_referral_details_refuse_a_long_note_and_an_empty_household() -> None:
    with pytest.raises(ValidationError, match="note"):
        ReferralDetails(note="x" * 501)
    with pytest.raises(ValidationError, match="household_size"):
        ReferralDetails(household_size=0)


# Due dates


def test_acknowledgement_is_due_in_three_working_days_across_easter_2026() -> None:
    dk = holidays.country_holidays("DK", years=2026)
    assert {date(2026, 4, 2), date(2026, 4, 3), date(2026, 4, 6)} <= set(
        dk
    )  # Maundy Thu, Good Fri, Easter Mon

    referral = send(at=datetime(2026, 4, 1, 10, 0, tzinfo=COPENHAGEN))  # Wednesday

    assert referral.acknowledge_by == datetime(2026, 4, 9, 10, 0, tzinfo=COPENHAGEN)


def test_acknowledgement_is_due_in_three_working_days_across_christmas_and_new_year_2026() -> None:
    dk = holidays.country_holidays("DK", years=[2026, 2027])
    assert {date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1)} <= set(dk)
    assert date(2026, 12, 24) not in dk  # Christmas Eve is a day off by custom, not a public holiday

    before_christmas = send(
        at=datetime(2026, 12, 23, 14, 0, tzinfo=COPENHAGEN)
    )  # Wed: Thu 24, Mon 28, Tue 29
    before_new_year = send(at=datetime(2026, 12, 29, 14, 0, tzinfo=COPENHAGEN))  # Tue: Wed 30, Thu 31, Mon 4

    assert before_christmas.acknowledge_by == datetime(2026, 12, 29, 14, 0, tzinfo=COPENHAGEN)
    assert before_new_year.acknowledge_by == datetime(2027, 1, 4, 14, 0, tzinfo=COPENHAGEN)


def test_a_referral_sent_in_utc_is_due_by_copenhagen_working_days() -> None:
    referral = send(at=datetime(2026, 4, 1, 8, 0, tzinfo=UTC))  # 10:00 in Copenhagen

    assert referral.acknowledge_by == datetime(2026, 4, 9, 10, 0, tzinfo=COPENHAGEN)


def test_a_daycare_referral_is_due_by_the_end_of_the_guarantee_date() -> None:
    # Applied 1 June 2026 for a 4-year-old: three months after applying.
    referral = send(
        kind=ReferralKind.DAYCARE_FAST_TRACK,
        receiver=DAYCARE.organisation,
        details=daycare_details(needed_from=date(2026, 6, 15)),
    )
    assert DEFAULT_POLICY.daycare_guarantee_date(date(2026, 6, 1), YearMonth(year=2022, month=3)) == date(
        2026, 9, 1
    )
    assert referral.complete_by == datetime(2026, 9, 1, 23, 59, 59, 999999, tzinfo=COPENHAGEN)


def test_a_daycare_referral_for_a_baby_is_due_when_it_is_26_weeks_old() -> None:
    # Born in May 2026: certainly 26 weeks old on 31 May + 26 weeks = 29 November 2026.
    referral = send(
        kind=ReferralKind.DAYCARE_FAST_TRACK,
        receiver=DAYCARE.organisation,
        details=daycare_details(birth_month=YearMonth(year=2026, month=5), needed_from=date(2026, 7, 1)),
    )
    assert referral.complete_by.date() == date(2026, 11, 29)


def test_a_daycare_referral_is_not_due_before_the_place_is_needed() -> None:
    referral = send(
        kind=ReferralKind.DAYCARE_FAST_TRACK,
        receiver=DAYCARE.organisation,
        details=daycare_details(needed_from=date(2026, 10, 1)),
    )
    assert referral.complete_by == datetime(2026, 10, 1, 23, 59, 59, 999999, tzinfo=COPENHAGEN)


def test_due_dates_are_recorded_so_a_replay_does_not_depend_on_todays_policy() -> None:
    generous = RehousingPolicy(acknowledge_within_working_days=10, complete_within_days=90)
    referral = send(policy=generous)
    app = new_memory_app()
    app.save(referral)

    again = app.repository.get(referral.id)

    assert again.acknowledge_by == datetime(2026, 6, 15, 9, 0, tzinfo=COPENHAGEN)  # ten working days
    assert again.complete_by == SENT_AT + timedelta(days=90)


# The steps, with the events they record


def test_the_receiver_acknowledges_a_sent_referral() -> None:
    referral = send()
    referral.collect_events()

    referral.acknowledge(at=minutes(5), by=RECEIVER)

    event = last_event(referral)
    assert isinstance(event, Referral.Acknowledged)
    assert (event.at, event.by) == (minutes(5), RECEIVER)
    assert referral.status is S.ACKNOWLEDGED
    assert referral.acknowledged_at == minutes(5)
    assert referral.history[-1] == ReferralStep(
        status=S.ACKNOWLEDGED, at=minutes(5), organisation="Brobyggerne Odense"
    )


def test_the_referrer_cannot_acknowledge_its_own_referral() -> None:
    referral = send()
    with pytest.raises(NotPermitted, match="Only the receiver Brobyggerne Odense may acknowledge"):
        referral.acknowledge(at=minutes(5), by=REFERRER)


def test_the_receiver_accepts_an_acknowledged_referral_with_an_assignee() -> None:
    referral = referral_in(S.ACKNOWLEDGED)

    referral.accept(assignee="bb-7", at=minutes(10), by=RECEIVER)

    event = last_event(referral)
    assert isinstance(event, Referral.Accepted)
    assert event.assignee == "bb-7"
    assert (referral.status, referral.assignee, referral.accepted_at) == (S.ACCEPTED, "bb-7", minutes(10))


def test_a_sent_referral_must_be_acknowledged_before_it_is_accepted() -> None:
    referral = send()
    with pytest.raises(ReferralNotOpen, match="acknowledge it first"):
        referral.accept(assignee="bb-7", at=minutes(10), by=RECEIVER)


def test_an_accepted_referral_needs_an_assignee() -> None:
    referral = referral_in(S.ACKNOWLEDGED)
    with pytest.raises(InvalidInput, match="assignee"):
        referral.accept(assignee="  ", at=minutes(10), by=RECEIVER)


def test_work_starts_pauses_and_resumes() -> None:
    referral = referral_in(S.ACCEPTED)

    referral.start(at=minutes(10), by=RECEIVER)
    referral.put_on_hold(reason="the family is abroad until August", at=minutes(20), by=RECEIVER)
    referral.start(at=minutes(30), by=RECEIVER)

    events = referral.collect_events()
    assert [type(e) for e in events] == [Referral.Started, Referral.PutOnHold, Referral.Started]
    assert events[1].reason == "the family is abroad until August"
    assert referral.status is S.IN_PROGRESS


def test_putting_on_hold_needs_a_reason() -> None:
    referral = referral_in(S.ACCEPTED)
    with pytest.raises(InvalidInput, match="reason"):
        referral.put_on_hold(reason="", at=minutes(10), by=RECEIVER)


def test_the_receiver_completes_with_an_outcome() -> None:
    referral = referral_in(S.IN_PROGRESS)

    referral.complete(outcome="child enrolled at Ahornhaven", at=minutes(10), by=RECEIVER)

    event = last_event(referral)
    assert isinstance(event, Referral.Completed)
    assert event.outcome == "child enrolled at Ahornhaven"
    assert (referral.outcome, referral.completed_at) == ("child enrolled at Ahornhaven", minutes(10))
    assert referral.status.fhir_status == "completed"


def test_only_the_receiver_completes() -> None:
    referral = referral_in(S.IN_PROGRESS)
    with pytest.raises(NotPermitted, match="Only the receiver"):
        referral.complete(outcome="done", at=minutes(10), by=REFERRER)


def test_the_receiver_declines_a_referral_it_has_not_accepted() -> None:
    referral = referral_in(S.ACKNOWLEDGED)

    referral.decline(
        declined_by=DeclinedBy.PROVIDER, reason="no capacity this autumn", at=minutes(10), by=RECEIVER
    )

    event = last_event(referral)
    assert isinstance(event, Referral.Declined)
    assert (event.declined_by, event.reason) == (DeclinedBy.PROVIDER, "no capacity this autumn")
    assert referral.status is S.DECLINED_BY_RECEIVER
    assert referral.status.fhir_status == "rejected"


def test_the_referrer_cannot_decline_on_behalf_of_the_receiver() -> None:
    referral = send()
    with pytest.raises(NotPermitted, match="Only the receiver"):
        referral.decline(declined_by=DeclinedBy.PROVIDER, reason="no capacity", at=minutes(10), by=REFERRER)


@pytest.mark.parametrize("by", [REFERRER, RECEIVER])
def test_either_side_records_that_the_household_declined(by: Actor) -> None:
    referral = referral_in(S.IN_PROGRESS)

    referral.decline(
        declined_by=DeclinedBy.HOUSEHOLD, reason="the mother wants no help", at=minutes(10), by=by
    )

    assert isinstance(last_event(referral), Referral.Declined)
    assert referral.status is S.DECLINED_BY_HOUSEHOLD
    assert referral.status.fhir_status == "cancelled"


def test_a_third_organisation_cannot_record_that_the_household_declined() -> None:
    referral = send()
    with pytest.raises(NotPermitted, match="FAB may not"):
        referral.decline(declined_by=DeclinedBy.HOUSEHOLD, reason="said no", at=minutes(10), by=OUTSIDER)


def test_a_coordinator_overrides_a_decline_and_the_receiver_has_three_new_working_days() -> None:
    referral = referral_in(S.ACCEPTED)
    referral.decline(declined_by=DeclinedBy.HOUSEHOLD, reason="said no", at=minutes(10), by=REFERRER)
    overridden_at = datetime(2026, 6, 10, 12, 0, tzinfo=COPENHAGEN)  # Wednesday

    referral.override_decline(
        reason="the household asked again", policy=DEFAULT_POLICY, at=overridden_at, by=COORDINATOR
    )

    event = last_event(referral)
    assert isinstance(event, Referral.DeclineOverridden)
    assert event.acknowledge_by == datetime(2026, 6, 15, 12, 0, tzinfo=COPENHAGEN)
    assert referral.status is S.SENT
    assert referral.acknowledge_by == datetime(2026, 6, 15, 12, 0, tzinfo=COPENHAGEN)
    assert (referral.assignee, referral.acknowledged_at, referral.accepted_at) == (None, None, None)
    assert referral.history[-1] == ReferralStep(
        status=S.SENT,
        at=overridden_at,
        organisation="Odense Kommune",
        reason_code="other",  # free text alone is `other` (domain/reasons.py)
        reason="the household asked again",
    )


@pytest.mark.parametrize("by", [REFERRER, RECEIVER])
def test_only_a_coordinator_overrides_a_decline(by: Actor) -> None:
    referral = referral_in(S.DECLINED_BY_RECEIVER)
    with pytest.raises(NotPermitted, match="coordinator"):
        referral.override_decline(reason="please reconsider", policy=DEFAULT_POLICY, at=minutes(10), by=by)


def test_the_receiver_redirects_to_a_third_organisation_under_a_new_consent() -> None:
    referral = referral_in(S.ACKNOWLEDGED)
    consent = consent_for(YOUTH_SCHOOL.organisation)

    referral.redirect(
        to=YOUTH_SCHOOL.organisation,
        reason="the youth school runs this",
        policy=DEFAULT_POLICY,
        at=minutes(10),
        by=RECEIVER,
        consent=consent,
    )

    event = last_event(referral)
    assert isinstance(event, Referral.Redirected)
    assert (event.to, event.consent) == ("Ungdomsskolen", consent)
    assert event.acknowledge_by == datetime(2026, 6, 4, 9, 10, tzinfo=COPENHAGEN)
    assert (referral.receiver, referral.status, referral.consent) == ("Ungdomsskolen", S.SENT, consent)
    assert referral.acknowledged_at is None
    with pytest.raises(NotPermitted):
        referral.acknowledge(at=minutes(11), by=RECEIVER)
    referral.acknowledge(at=minutes(11), by=YOUTH_SCHOOL)
    assert referral.status is S.ACKNOWLEDGED


def test_a_consented_referral_is_not_redirected_without_consent_for_the_new_receiver() -> None:
    referral = send()
    with pytest.raises(ConsentMissing):
        referral.redirect(
            to=YOUTH_SCHOOL.organisation,
            reason="their field",
            policy=DEFAULT_POLICY,
            at=minutes(10),
            by=RECEIVER,
        )
    with pytest.raises(ConsentMissing, match="not the receiver Ungdomsskolen"):
        referral.redirect(
            to=YOUTH_SCHOOL.organisation,
            reason="their field",
            policy=DEFAULT_POLICY,
            at=minutes(10),
            by=RECEIVER,
            consent=consent_for("FAB"),
        )


def test_a_referral_on_a_legal_basis_is_redirected_on_that_basis() -> None:
    referral = send(legal_basis="serviceloven § 11")

    referral.redirect(
        to=YOUTH_SCHOOL.organisation, reason="their field", policy=DEFAULT_POLICY, at=minutes(10), by=RECEIVER
    )

    assert (referral.receiver, referral.legal_basis, referral.consent) == (
        "Ungdomsskolen",
        "serviceloven § 11",
        None,
    )


@pytest.mark.parametrize("to", [RECEIVER.organisation, REFERRER.organisation])
def test_a_referral_is_redirected_only_to_a_third_organisation(to: str) -> None:
    referral = send()
    with pytest.raises(InvalidInput, match="third organisation"):
        referral.redirect(
            to=to,
            reason="their field",
            policy=DEFAULT_POLICY,
            at=minutes(10),
            by=RECEIVER,
            consent=consent_for(to),
        )


def test_the_referrer_withdraws_an_open_referral() -> None:
    referral = referral_in(S.IN_PROGRESS)

    referral.withdraw(reason="the household moved abroad", at=minutes(10), by=REFERRER)

    assert isinstance(last_event(referral), Referral.Withdrawn)
    assert referral.status is S.WITHDRAWN
    assert referral.status.fhir_status == "cancelled"


def test_the_receiver_cannot_withdraw_a_referral() -> None:
    referral = send()
    with pytest.raises(NotPermitted, match="Only the referrer CIVICA may withdraw"):
        referral.withdraw(reason="not ours", at=minutes(10), by=RECEIVER)


def test_a_referral_not_accepted_by_its_due_date_expires() -> None:
    referral = referral_in(S.ACKNOWLEDGED)

    referral.expire(at=referral.complete_by)

    event = last_event(referral)
    assert isinstance(event, Referral.Expired)
    assert event.reason == f"not accepted by {referral.complete_by.isoformat()}"
    assert referral.status is S.EXPIRED
    assert referral.history[-1] == ReferralStep(status=S.EXPIRED, at=referral.complete_by, organisation=None)


def test_a_referral_does_not_expire_before_its_due_date() -> None:
    referral = send()
    with pytest.raises(ReferralNotDue, match="not due until"):
        referral.expire(at=referral.complete_by - timedelta(seconds=1))


def test_an_accepted_referral_does_not_expire() -> None:
    referral = referral_in(S.ACCEPTED)
    with pytest.raises(ReferralNotOpen, match="is accepted; it cannot be expired"):
        referral.expire(at=referral.complete_by + timedelta(days=1))


def test_the_referrer_marks_even_a_completed_referral_as_entered_in_error() -> None:
    referral = referral_in(S.COMPLETED)

    referral.mark_entered_in_error(reason="recorded on the wrong household", at=minutes(10), by=REFERRER)

    assert isinstance(last_event(referral), Referral.EnteredInError)
    assert referral.status is S.ENTERED_IN_ERROR
    with pytest.raises(ReferralNotOpen):
        referral.mark_entered_in_error(reason="again", at=minutes(11), by=REFERRER)


def test_the_receiver_cannot_mark_a_referral_as_entered_in_error() -> None:
    referral = send()
    with pytest.raises(NotPermitted):
        referral.mark_entered_in_error(reason="not ours", at=minutes(10), by=RECEIVER)


def test_a_closed_referral_says_what_it_is_and_which_step_it_refused() -> None:
    referral = referral_in(S.COMPLETED)
    with pytest.raises(ReferralNotOpen) as refused:
        referral.acknowledge(at=minutes(10), by=RECEIVER)
    assert (
        refused.value.message == f"Referral {str(referral.id)[:8]}… is completed; it cannot be acknowledged"
    )


def test_a_step_dated_before_the_last_step_is_refused() -> None:
    referral = referral_in(S.ACKNOWLEDGED)
    with pytest.raises(InvalidInput, match="dated before"):
        referral.accept(assignee="bb-3", at=SENT_AT, by=RECEIVER)


def test_steps_taken_at_the_same_moment_are_kept_in_order() -> None:
    referral = send()
    referral.acknowledge(at=SENT_AT, by=RECEIVER)
    referral.accept(assignee="bb-3", at=SENT_AT, by=RECEIVER)
    assert [step.status for step in referral.history] == [S.SENT, S.ACKNOWLEDGED, S.ACCEPTED]


# What is late


def test_acknowledgement_is_overdue_only_while_the_referral_waits_after_its_due_time() -> None:
    referral = send()
    assert not referral.acknowledgement_overdue(referral.acknowledge_by)
    assert referral.acknowledgement_overdue(referral.acknowledge_by + timedelta(seconds=1))

    referral.acknowledge(at=referral.acknowledge_by + timedelta(hours=1), by=RECEIVER)

    assert not referral.acknowledgement_overdue(referral.acknowledge_by + timedelta(days=5))


def test_an_open_referral_past_its_completion_date_is_overdue_and_a_closed_one_is_not() -> None:
    referral = referral_in(S.IN_PROGRESS)
    assert not referral.overdue(referral.complete_by)
    assert referral.overdue(referral.complete_by + timedelta(minutes=1))

    referral.complete(outcome="done at last", at=referral.complete_by + timedelta(days=2), by=RECEIVER)

    assert not referral.overdue(referral.complete_by + timedelta(days=3))


def test_a_referral_stalls_after_seven_days_without_a_step() -> None:
    referral = referral_in(S.ACCEPTED)  # last step two minutes after sending
    seven_days_on = minutes(2) + timedelta(days=7)
    assert not referral.stalled(seven_days_on, DEFAULT_POLICY)
    assert referral.stalled(seven_days_on + timedelta(seconds=1), DEFAULT_POLICY)

    referral.start(at=seven_days_on, by=RECEIVER)

    assert not referral.stalled(seven_days_on + timedelta(days=1), DEFAULT_POLICY)
    assert not referral_in(S.COMPLETED).stalled(SENT_AT + timedelta(days=100), DEFAULT_POLICY)


def test_the_age_of_a_referral_counts_from_when_it_was_sent() -> None:
    referral = referral_in(S.ACCEPTED)
    assert referral.age(SENT_AT + timedelta(days=2, hours=3)) == timedelta(days=2, hours=3)


# FHIR and replay


@pytest.mark.parametrize(
    ("status", "fhir", "is_open"),
    [
        (S.SENT, "requested", True),
        (S.ACKNOWLEDGED, "received", True),
        (S.ACCEPTED, "accepted", True),
        (S.IN_PROGRESS, "in-progress", True),
        (S.ON_HOLD, "on-hold", True),
        (S.DECLINED_BY_RECEIVER, "rejected", False),
        (S.DECLINED_BY_HOUSEHOLD, "cancelled", False),
        (S.WITHDRAWN, "cancelled", False),
        (S.EXPIRED, "failed", False),
        (S.COMPLETED, "completed", False),
        (S.ENTERED_IN_ERROR, "entered-in-error", False),
    ],
)
def test_each_status_maps_to_its_fhir_task_status(status: ReferralStatus, fhir: str, is_open: bool) -> None:
    assert status.fhir_status == fhir
    assert status.is_open is is_open


def test_a_reloaded_referral_equals_the_live_one_after_its_whole_life() -> None:
    referral = send(
        kind=ReferralKind.DAYCARE_FAST_TRACK, receiver=DAYCARE.organisation, details=daycare_details()
    )
    referral.decline(declined_by=DeclinedBy.PROVIDER, reason="no place near", at=minutes(1), by=DAYCARE)
    referral.override_decline(
        reason="fast-track agreement", policy=DEFAULT_POLICY, at=minutes(2), by=COORDINATOR
    )
    referral.acknowledge(at=minutes(3), by=DAYCARE)
    referral.accept(assignee="pa-4", at=minutes(4), by=DAYCARE)
    referral.put_on_hold(reason="waiting for the move date", at=minutes(5), by=DAYCARE)
    referral.start(at=minutes(6), by=DAYCARE)
    referral.complete(outcome="kindergarten place offered", at=minutes(7), by=DAYCARE)
    app = new_memory_app()
    app.save(referral)

    again = app.repository.get(referral.id)

    assert vars(again) == vars(referral)
    assert type(again.kind) is ReferralKind
    assert all(type(step.status) is ReferralStatus for step in again.history)
