"""The worklist's rules (coordination/projections/worklist.py `due_items`): what is due, by when, for whom."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

from coordination.domain.policy import DEFAULT_POLICY, RehousingPolicy
from coordination.domain.referral import ReferralStatus
from coordination.domain.values import Role
from coordination.projections.worklist import (
    CaseFacts,
    ErasureFacts,
    OfferFacts,
    ReferralFacts,
    WorkItemKind,
    due_items,
)

NOW = datetime(2026, 9, 10, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
HOUSEHOLD = UUID("00000000-0000-4000-8000-000000000001")


def case(**changes: object) -> CaseFacts:
    facts = {
        "household_id": HOUSEHOLD,
        "owner": "civica",
        "holder_organisation": "civica",
        "responsible_organisation": "civica",
        "responsible_person": "gk-07",
        "termination_date": date(2026, 12, 31),
    }
    return CaseFacts.model_validate({**facts, **changes})


def referral(status: ReferralStatus, *, acknowledge_by: datetime, last_step_at: datetime) -> ReferralFacts:
    return ReferralFacts(
        referral_id=uuid4(),
        household_id=HOUSEHOLD,
        referrer="civica",
        receiver="odense-brobygning",
        status=status,
        acknowledge_by=acknowledge_by,
        last_step_at=last_step_at,
    )


def test_a_referral_sent_to_an_organisation_is_an_acknowledgement_it_owes_by_the_policys_date() -> None:
    due = NOW + timedelta(days=2)
    sent = referral(ReferralStatus.SENT, acknowledge_by=due, last_step_at=NOW - timedelta(days=1))
    [item] = due_items(NOW, DEFAULT_POLICY, referrals=[sent])
    assert (item.kind, item.referral_id, item.due_at, item.due_on) == (
        WorkItemKind.ACKNOWLEDGEMENT_OWED,
        sent.referral_id,
        due,
        due.date(),
    )
    assert item.for_organisation == "odense-brobygning"
    assert not item.overdue
    [late] = due_items(due + timedelta(minutes=1), DEFAULT_POLICY, referrals=[sent])
    assert late.overdue


def test_an_acknowledged_referral_without_a_step_for_the_stalled_days_is_stalled_and_not_before() -> None:
    last = NOW - timedelta(days=DEFAULT_POLICY.stalled_after_days)
    acknowledged = referral(ReferralStatus.ACKNOWLEDGED, acknowledge_by=last, last_step_at=last)
    assert due_items(NOW, DEFAULT_POLICY, referrals=[acknowledged]) == []
    [item] = due_items(NOW + timedelta(seconds=1), DEFAULT_POLICY, referrals=[acknowledged])
    assert item.kind is WorkItemKind.REFERRAL_STALLED
    assert item.due_at == NOW and item.overdue
    # A closed referral is owed nothing.
    closed = referral(ReferralStatus.COMPLETED, acknowledge_by=last, last_step_at=last - timedelta(days=60))
    assert due_items(NOW, DEFAULT_POLICY, referrals=[closed]) == []


def test_an_offer_within_the_expiring_soon_days_is_on_its_owners_list_for_the_responsible_person() -> None:
    policy = RehousingPolicy(expiring_soon_days=3)
    soon = OfferFacts(offer_id=uuid4(), household_id=HOUSEHOLD, expires_at=NOW + timedelta(days=3))
    later = OfferFacts(offer_id=uuid4(), household_id=HOUSEHOLD, expires_at=NOW + timedelta(days=3, hours=1))
    [item] = due_items(NOW, policy, cases=[case()], offers=[soon, later])
    assert (item.kind, item.offer_id, item.due_at) == (
        WorkItemKind.OFFER_EXPIRING_SOON,
        soon.offer_id,
        soon.expires_at,
    )
    assert (item.for_organisation, item.for_person, item.overdue) == ("civica", "gk-07", False)


def test_a_lease_ending_within_the_warning_days_without_an_accepted_offer_is_due_on_the_termination_date() -> (
    None
):
    ends = TODAY + timedelta(days=DEFAULT_POLICY.termination_warning_days)
    [item] = due_items(NOW, DEFAULT_POLICY, cases=[case(termination_date=ends)])
    assert (item.kind, item.due_on, item.overdue) == (
        WorkItemKind.TERMINATION_WITHOUT_ACCEPTED_OFFER,
        ends,
        False,
    )
    assert (item.for_organisation, item.for_person) == ("civica", "gk-07")
    # A day further out, or an accepted offer, or a move: nothing to warn of.
    assert due_items(NOW, DEFAULT_POLICY, cases=[case(termination_date=ends + timedelta(days=1))]) == []
    assert due_items(NOW, DEFAULT_POLICY, cases=[case(termination_date=ends, offer_accepted=True)]) == []
    assert due_items(NOW, DEFAULT_POLICY, cases=[case(termination_date=ends, moved_on=TODAY)]) == []
    [past] = due_items(NOW, DEFAULT_POLICY, cases=[case(termination_date=TODAY - timedelta(days=1))])
    assert past.overdue


def test_a_follow_up_visit_not_done_is_due_for_the_holder_and_overdue_after_its_date() -> None:
    moved = case(
        holder_organisation="odense-brobygning",
        responsible_organisation="odense-brobygning",
        responsible_person="bb-anna",
        moved_on=TODAY - timedelta(days=20),
        follow_up_due=TODAY - timedelta(days=6),
        offer_accepted=True,
    )
    [item] = due_items(NOW, DEFAULT_POLICY, cases=[moved])
    assert (item.kind, item.due_on, item.overdue) == (
        WorkItemKind.FOLLOW_UP_DUE,
        TODAY - timedelta(days=6),
        True,
    )
    assert (item.for_organisation, item.for_person) == ("odense-brobygning", "bb-anna")
    assert due_items(NOW, DEFAULT_POLICY, cases=[moved.model_copy(update={"follow_up_done": True})]) == []
    assert due_items(NOW, DEFAULT_POLICY, cases=[moved.model_copy(update={"settled": True})]) == []


def test_a_proposed_erasure_is_for_the_owners_data_protection_role() -> None:
    proposed = ErasureFacts(household_id=HOUSEHOLD, owner="civica", proposed_at=NOW - timedelta(days=1))
    [item] = due_items(NOW, DEFAULT_POLICY, erasures=[proposed])
    assert (item.kind, item.for_organisation, item.for_role) == (
        WorkItemKind.ERASURE_PROPOSED,
        "civica",
        Role.DATA_PROTECTION,
    )
    assert not item.overdue


def test_items_come_soonest_first() -> None:
    ends = TODAY + timedelta(days=10)
    offer = OfferFacts(offer_id=uuid4(), household_id=HOUSEHOLD, expires_at=NOW + timedelta(days=2))
    sent = referral(ReferralStatus.SENT, acknowledge_by=NOW - timedelta(days=1), last_step_at=NOW)
    items = due_items(
        NOW, DEFAULT_POLICY, cases=[case(termination_date=ends)], offers=[offer], referrals=[sent]
    )
    assert [i.kind for i in items] == [
        WorkItemKind.ACKNOWLEDGEMENT_OWED,
        WorkItemKind.OFFER_EXPIRING_SOON,
        WorkItemKind.TERMINATION_WITHOUT_ACCEPTED_OFFER,
    ]


def test_a_temporary_stay_beyond_twelve_months_puts_the_permanent_offer_owed_on_the_owners_worklist() -> None:
    moved = date(2025, 9, 9)  # 12 months before TODAY, and one day: the right began today
    [item] = due_items(NOW, DEFAULT_POLICY, cases=[case(temporary_since=moved)])
    assert (item.kind, item.due_on, item.overdue) == (WorkItemKind.PERMANENT_OFFER_OWED, TODAY, False)
    assert (item.for_organisation, item.for_person) == ("civica", "gk-07")
    # A day later moved in: not yet twelve months.
    assert due_items(NOW, DEFAULT_POLICY, cases=[case(temporary_since=moved + timedelta(days=1))]) == []


def test_a_stay_expected_beyond_the_limit_owes_a_permanent_offer_from_registration_until_the_permanent_move() -> (
    None
):
    registered = date(2026, 9, 1)
    [item] = due_items(NOW, DEFAULT_POLICY, cases=[case(right_to_permanent_from=registered)])
    assert (item.kind, item.due_on) == (WorkItemKind.PERMANENT_OFFER_OWED, registered)
    for done in (
        case(right_to_permanent_from=registered, moved_permanently=True),
        case(right_to_permanent_from=registered, settled=True),
        case(temporary_since=date(2024, 1, 1), moved_permanently=True),
    ):
        assert due_items(NOW, DEFAULT_POLICY, cases=[done]) == []


def test_the_permanent_offer_is_owed_after_the_policys_own_number_of_months() -> None:
    policy = DEFAULT_POLICY.model_copy(update={"temporary_months_before_right_to_permanent": 6})
    moved = date(2026, 3, 1)
    [item] = due_items(NOW, policy, cases=[case(temporary_since=moved)])
    assert item.due_on == date(2026, 9, 2)
    assert due_items(NOW, DEFAULT_POLICY, cases=[case(temporary_since=moved)]) == []
