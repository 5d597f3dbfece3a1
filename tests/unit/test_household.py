"""The Household aggregate: registration, phases as facts, the move, handoff, consents and settlement."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pydantic
import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from adapters.eventstore.transcoding import register_domain_transcodings
from coordination.domain.errors import (
    ConsentMissing,
    ContactPersonNotLinked,
    HandoffNotPending,
    HouseholdAlreadyMoved,
    HouseholdHasLiveOffer,
    HouseholdNotMoved,
    InvalidInput,
    NotPermitted,
    NotSettled,
    OfferNotLive,
    RuleViolated,
)
from coordination.domain.household import (
    Enrolment,
    Household,
    HouseholdPhase,
    InstitutionKind,
    Member,
    MemberKind,
    Need,
    Permanence,
    RehousingKind,
    Scope,
)
from coordination.domain.policy import DEFAULT_POLICY, RehousingPolicy
from coordination.domain.values import Actor, Consent, Holder, Place, Role, YearMonth
from ops.bench.fixtures.household_builders import (
    BRIDGE_BUILDER,
    BRIDGE_HOLDER,
    CENTRAL_ODENSE,
    CONSULTANT,
    a_move,
    at,
    dwelling,
    register,
    temporary,
)
from tests.support import new_memory_app

DAYCARE_ALLOCATOR = Actor(
    organisation="Odense children and youth", person="pa-1", role=Role.DAYCARE_ALLOCATOR
)


def events_of(household: Household) -> list[object]:
    return list(household.collect_events())


def moved_household() -> Household:
    household = register()
    household.record_move(move=a_move(), at=at(90), by=CONSULTANT)
    return household


def enrol(household: Household, member_id: str, kind: InstitutionKind) -> None:
    enrolment = Enrolment(
        member_id=member_id, institution_kind=kind, institution="Ejerslykkeskolen", starts_on=date(2026, 9, 7)
    )
    household.record_enrolment(enrolment=enrolment, at=at(95), by=DAYCARE_ALLOCATOR)


def bridge_that_holds(*, without: str = "", contact_in: Place = CENTRAL_ODENSE) -> Household:
    """The reference family after the bridge builder's work: every criterion met, except the one `without`."""
    household = moved_household()
    enrol(household, "C1", InstitutionKind.SCHOOL)
    enrol(household, "C3", InstitutionKind.SCHOOL)
    if without != "school":
        enrol(household, "C2", InstitutionKind.SCHOOL)
    if without != "daycare":
        enrol(household, "C4", InstitutionKind.DAYCARE)
    if without != "contact":
        household.record_contact_person(link_id=uuid4(), place=contact_in, at=at(100), by=BRIDGE_BUILDER)
    if without != "practical":
        household.record_practical_matters_in_order(
            note="Housing benefit granted", at=at(110), by=BRIDGE_BUILDER
        )
    if without != "help":
        household.record_no_longer_asks_for_help(at=at(120), by=BRIDGE_BUILDER)
    return household


# Registration


def test_a_rehousing_consultant_registers_a_household_held_by_the_consultants_organisation() -> None:
    household = register()
    (registered,) = events_of(household)
    assert isinstance(registered, Household.Registered)
    assert registered.by == CONSULTANT
    assert registered.owner == "CIVICA"
    assert household.holder == Holder(organisation="CIVICA", role=Role.REHOUSING_CONSULTANT)
    assert household.phase == HouseholdPhase.REGISTERED
    assert household.has_consent("odense bridge builders", "BRIDGE_BUILDING")


def test_only_a_rehousing_consultant_may_register_a_household() -> None:
    with pytest.raises(NotPermitted, match="rehousing consultant"):
        register(by=BRIDGE_BUILDER)


def test_a_household_needs_an_adult() -> None:
    child = Member(member_id="C1", kind=MemberKind.CHILD, birth_month=YearMonth(year=2015, month=1))
    with pytest.raises(InvalidInput, match="adult"):
        register(members=[child])


def test_member_ids_are_unique_within_a_household() -> None:
    adult = Member(member_id="A1", kind=MemberKind.ADULT)
    with pytest.raises(InvalidInput, match="unique"):
        register(members=[adult, adult])


def test_a_child_needs_a_birth_month_and_an_adult_needs_no_school() -> None:
    with pytest.raises(pydantic.ValidationError, match="birth month"):
        Member(member_id="C1", kind=MemberKind.CHILD)
    with pytest.raises(pydantic.ValidationError, match="cannot need school"):
        Member(member_id="A1", kind=MemberKind.ADULT, needs_school=True)


def test_a_cpr_number_is_never_stored_in_place_of_its_digest() -> None:
    with pytest.raises(InvalidInput, match="CPR"):
        Household.register(**(_registration_args() | {"cpr_digest": "010190-1234"}))  # type: ignore[arg-type]


def _registration_args() -> dict[str, object]:
    household = register()
    return {
        "id": uuid4(),
        "case_reference": household.case_reference,
        "cpr_digest": household.cpr_digest,
        "origin": household.origin,
        "members": household.members,
        "needs": [Need.DAYCARE, Need.INTERPRETER],
        "language": "ar",
        "rehousing": household.rehousing,
        "termination_date": household.termination_date,
        "preferences": household.preferences,
        "consents": household.consents,
        "at": at(),
        "by": CONSULTANT,
    }


def test_needs_are_enums_after_registration() -> None:
    household = Household.register(**_registration_args())  # type: ignore[arg-type]
    assert household.needs == [Need.DAYCARE, Need.INTERPRETER]


def test_only_temporary_rehousing_has_an_expected_length() -> None:
    with pytest.raises(pydantic.ValidationError, match="only temporary"):
        RehousingKind(scope=Scope.EXTERNAL, permanence=Permanence.PERMANENT, expected_months=6)


# § 86 stk. 3: the right to permanent rehousing


def test_temporary_rehousing_expected_to_last_over_twelve_months_records_the_right_to_permanent() -> None:
    household = register(rehousing=temporary(months=13))
    (registered,) = events_of(household)
    assert registered.right_to_permanent is True
    assert household.has_right_to_permanent(date(2026, 7, 1), DEFAULT_POLICY)


def test_twelve_expected_months_give_no_right_to_permanent() -> None:
    household = register(rehousing=temporary(months=12))
    assert household.right_to_permanent is False
    assert not household.has_right_to_permanent(date(2026, 7, 1), DEFAULT_POLICY)


def test_a_temporary_stay_longer_than_the_limit_gives_the_right_to_permanent() -> None:
    household = register(rehousing=temporary(months=6))
    household.record_move(move=a_move(permanent=False, moved_on=date(2026, 9, 1)), at=at(90), by=CONSULTANT)
    assert not household.has_right_to_permanent(date(2027, 9, 1), DEFAULT_POLICY)
    assert household.has_right_to_permanent(date(2027, 9, 2), DEFAULT_POLICY)
    assert household.has_right_to_permanent(
        date(2027, 3, 2), RehousingPolicy(temporary_months_before_right_to_permanent=6)
    )


def test_a_permanent_move_within_the_limit_means_no_right_arose() -> None:
    household = register(rehousing=temporary(months=6))
    household.record_move(move=a_move(permanent=False, moved_on=date(2026, 9, 1)), at=at(90), by=CONSULTANT)
    household.record_move(move=a_move(permanent=True, moved_on=date(2027, 3, 1)), at=at(270), by=CONSULTANT)
    assert not household.has_right_to_permanent(date(2028, 1, 1), DEFAULT_POLICY)


# Phases are facts


def test_the_phase_is_the_furthest_fact_recorded() -> None:
    household = register()
    household.record_first_contact(at=at(1), by=BRIDGE_BUILDER)
    assert household.phase == HouseholdPhase.FIRST_CONTACT
    household.record_inspiration_tour(areas=["Odense C", "Bolbro"], at=at(2), by=BRIDGE_BUILDER)
    assert household.phase == HouseholdPhase.EXPLORING_AREAS
    household.record_tasks_found(tasks=["debt counselling"], at=at(3), by=BRIDGE_BUILDER)
    assert household.phase == HouseholdPhase.TASKS_FOUND
    household.start_bridge_building(at=at(4), by=BRIDGE_BUILDER)
    assert household.phase == HouseholdPhase.BRIDGE_BUILDING
    offer_id = uuid4()
    household.receive_offer(
        offer_id=offer_id,
        vacancy_id=uuid4(),
        dwelling=dwelling(),
        expires_at=at(20),
        overrides=[],
        policy=DEFAULT_POLICY,
        at=at(5),
        by=CONSULTANT,
    )
    assert household.phase == HouseholdPhase.HOUSING_OFFER
    household.accept_offer(offer_id=offer_id, at=at(6), by=CONSULTANT)
    household.record_move(move=a_move(moved_on=date(2026, 9, 1)), at=at(92), by=CONSULTANT)
    assert household.phase == HouseholdPhase.MOVED
    household.record_follow_up_visit(visited_on=date(2026, 9, 10), at=at(101), by=BRIDGE_BUILDER)
    assert household.phase == HouseholdPhase.FOLLOW_UP_VISITED
    names = [type(e).__name__ for e in events_of(household)]
    assert names == [
        "Registered",
        "FirstContactMade",
        "AreasExplored",
        "TasksFoundOutsideRehousing",
        "BridgeBuildingStarted",
        "OfferReceived",
        "OfferAccepted",
        "Moved",
        "FollowUpVisitDone",
    ]


def test_facts_may_skip_phases_and_the_phase_is_still_the_furthest() -> None:
    household = register()
    household.start_bridge_building(at=at(1), by=BRIDGE_BUILDER)
    assert household.phase == HouseholdPhase.BRIDGE_BUILDING


def test_first_contact_and_the_start_of_bridge_building_are_recorded_once() -> None:
    household = register()
    household.record_first_contact(at=at(1), by=BRIDGE_BUILDER)
    household.start_bridge_building(at=at(1), by=BRIDGE_BUILDER)
    with pytest.raises(RuleViolated, match="already recorded"):
        household.record_first_contact(at=at(2), by=BRIDGE_BUILDER)
    with pytest.raises(RuleViolated, match="already started"):
        household.start_bridge_building(at=at(2), by=BRIDGE_BUILDER)


def test_an_inspiration_tour_needs_an_area_and_comes_before_the_permanent_move() -> None:
    household = register()
    with pytest.raises(InvalidInput, match="area"):
        household.record_inspiration_tour(areas=[" "], at=at(1), by=BRIDGE_BUILDER)
    household.record_move(move=a_move(), at=at(90), by=CONSULTANT)
    with pytest.raises(HouseholdAlreadyMoved):
        household.record_inspiration_tour(areas=["Bolbro"], at=at(91), by=BRIDGE_BUILDER)


def test_a_follow_up_visit_before_the_move_is_refused() -> None:
    household = register()
    with pytest.raises(HouseholdNotMoved, match="has not moved"):
        household.record_follow_up_visit(visited_on=date(2026, 8, 1), at=at(60), by=BRIDGE_BUILDER)
    household.record_move(move=a_move(moved_on=date(2026, 9, 1)), at=at(92), by=CONSULTANT)
    with pytest.raises(HouseholdNotMoved, match="before the move on 2026-09-01"):
        household.record_follow_up_visit(visited_on=date(2026, 8, 31), at=at(93), by=BRIDGE_BUILDER)


def test_the_follow_up_visit_is_due_fourteen_days_after_the_move() -> None:
    household = register()
    assert household.follow_up_due(DEFAULT_POLICY) is None
    household.record_move(move=a_move(moved_on=date(2026, 9, 1)), at=at(92), by=CONSULTANT)
    assert household.follow_up_due(DEFAULT_POLICY) == date(2026, 9, 15)


# The move


def test_a_move_records_the_rents_and_a_rent_rise() -> None:
    household = register()
    events_of(household)
    move = a_move(new_rent="7800")
    household.record_move(move=move, at=at(90), by=CONSULTANT)
    (moved,) = events_of(household)
    assert isinstance(moved, Household.Moved)
    assert moved.move == move
    assert household.move == move
    assert household.rent_rise is True


def test_a_move_to_a_cheaper_dwelling_is_no_rent_rise() -> None:
    household = register()
    household.record_move(move=a_move(new_rent="6000"), at=at(90), by=CONSULTANT)
    assert household.rent_rise is False


def test_a_move_while_an_offer_is_live_is_refused() -> None:
    household = register()
    household.receive_offer(
        offer_id=uuid4(),
        vacancy_id=uuid4(),
        dwelling=dwelling(),
        expires_at=at(20),
        overrides=[],
        policy=DEFAULT_POLICY,
        at=at(5),
        by=CONSULTANT,
    )
    with pytest.raises(HouseholdHasLiveOffer):
        household.record_move(move=a_move(), at=at(6), by=CONSULTANT)


def test_a_permanent_move_is_recorded_once() -> None:
    household = moved_household()
    with pytest.raises(HouseholdAlreadyMoved, match="already moved permanently"):
        household.record_move(move=a_move(moved_on=date(2026, 10, 1)), at=at(120), by=CONSULTANT)


def test_a_temporary_move_may_be_followed_by_the_permanent_move() -> None:
    household = register(rehousing=temporary())
    household.record_move(move=a_move(permanent=False, moved_on=date(2026, 9, 1)), at=at(90), by=CONSULTANT)
    later = a_move(
        permanent=True, moved_on=date(2027, 3, 1), place=Place(municipality="Odense", area="Bolbro")
    )
    household.record_move(move=later, at=at(270), by=CONSULTANT)
    assert household.move == later
    assert household.moved_permanently


def test_moves_are_recorded_in_order() -> None:
    household = register(rehousing=temporary())
    household.record_move(move=a_move(permanent=False, moved_on=date(2026, 9, 1)), at=at(90), by=CONSULTANT)
    with pytest.raises(RuleViolated, match="cannot come before"):
        household.record_move(move=a_move(moved_on=date(2026, 8, 1)), at=at(91), by=CONSULTANT)


# Consents


def test_consent_is_given_and_withdrawn_by_recipient_and_purpose() -> None:
    household = register()
    events_of(household)
    consent = Consent(recipient="Jobcentre Odense", purpose="Jobcentre", given_on=date(2026, 6, 2))
    household.give_consent(consent=consent, at=at(1), by=CONSULTANT)
    assert household.has_consent("jobcentre odense", "jobcentre")
    household.withdraw_consent(recipient="Jobcentre Odense", purpose="jobcentre", at=at(2), by=CONSULTANT)
    given, withdrawn = events_of(household)
    assert isinstance(given, Household.ConsentGiven)
    assert isinstance(withdrawn, Household.ConsentWithdrawn)
    assert withdrawn.recipient == "jobcentre odense"
    assert not household.has_consent("jobcentre odense", "jobcentre")
    with pytest.raises(ConsentMissing, match="jobcentre"):
        household.withdraw_consent(recipient="jobcentre odense", purpose="jobcentre", at=at(3), by=CONSULTANT)


# Handoff


def test_a_handoff_is_issued_only_after_the_move() -> None:
    household = register()
    with pytest.raises(HouseholdNotMoved, match="handed off at the move"):
        household.issue_handoff(referral_id=uuid4(), to=BRIDGE_HOLDER, at=at(1), by=CONSULTANT)


def test_the_holder_changes_only_when_the_receiver_acknowledges_the_handoff() -> None:
    household = moved_household()
    events_of(household)
    referral_id = uuid4()
    household.issue_handoff(referral_id=referral_id, to=BRIDGE_HOLDER, at=at(91), by=CONSULTANT)
    assert household.pending_handoff is not None
    assert household.holder.organisation == "CIVICA"
    household.acknowledge_handoff(referral_id=referral_id, at=at(92), by=BRIDGE_BUILDER)
    issued, acknowledged = events_of(household)
    assert isinstance(issued, Household.HandoffIssued)
    assert issued.to == BRIDGE_HOLDER
    assert isinstance(acknowledged, Household.HandoffAcknowledged)
    assert acknowledged.referral_id == referral_id
    assert household.holder == BRIDGE_HOLDER
    assert household.pending_handoff is None


def test_only_the_receiving_organisation_acknowledges_a_handoff() -> None:
    household = moved_household()
    referral_id = uuid4()
    household.issue_handoff(referral_id=referral_id, to=BRIDGE_HOLDER, at=at(91), by=CONSULTANT)
    with pytest.raises(NotPermitted, match="Odense bridge builders"):
        household.acknowledge_handoff(referral_id=referral_id, at=at(92), by=CONSULTANT)


def test_a_handoff_is_acknowledged_once() -> None:
    household = moved_household()
    referral_id = uuid4()
    household.issue_handoff(referral_id=referral_id, to=BRIDGE_HOLDER, at=at(91), by=CONSULTANT)
    household.acknowledge_handoff(referral_id=referral_id, at=at(92), by=BRIDGE_BUILDER)
    with pytest.raises(HandoffNotPending, match=str(referral_id)):
        household.acknowledge_handoff(referral_id=referral_id, at=at(93), by=BRIDGE_BUILDER)


def test_only_the_holder_hands_off_and_one_handoff_is_pending_at_a_time() -> None:
    household = moved_household()
    with pytest.raises(NotPermitted, match="CIVICA"):
        household.issue_handoff(referral_id=uuid4(), to=BRIDGE_HOLDER, at=at(91), by=BRIDGE_BUILDER)
    household.issue_handoff(referral_id=uuid4(), to=BRIDGE_HOLDER, at=at(91), by=CONSULTANT)
    with pytest.raises(RuleViolated, match="pending"):
        household.issue_handoff(referral_id=uuid4(), to=BRIDGE_HOLDER, at=at(92), by=CONSULTANT)


# Facts learned from other organisations, and settlement


def test_only_a_child_of_the_household_is_enrolled() -> None:
    household = moved_household()
    with pytest.raises(InvalidInput, match="A1 is not a child"):
        enrol(household, "A1", InstitutionKind.SCHOOL)
    with pytest.raises(InvalidInput, match="C9 is not a child"):
        enrol(household, "C9", InstitutionKind.SCHOOL)
    events_of(household)
    enrol(household, "C4", InstitutionKind.DAYCARE)
    (enrolled,) = events_of(household)
    assert isinstance(enrolled, Household.ChildEnrolled)
    assert household.enrolments == [enrolled.enrolment]


def test_a_contact_person_is_linked_and_unlinked() -> None:
    household = moved_household()
    link_id = uuid4()
    household.record_contact_person(link_id=link_id, place=CENTRAL_ODENSE, at=at(100), by=BRIDGE_BUILDER)
    household.end_contact_person(link_id=link_id, at=at(101), by=BRIDGE_BUILDER)
    assert household.contact_persons == []
    with pytest.raises(ContactPersonNotLinked):
        household.end_contact_person(link_id=link_id, at=at(102), by=BRIDGE_BUILDER)


def test_a_household_whose_bridge_holds_is_settled() -> None:
    household = bridge_that_holds()
    assert household.settlement_gaps() == []
    events_of(household)
    household.settle(at=at(130), by=BRIDGE_BUILDER)
    (settled,) = events_of(household)
    assert isinstance(settled, Household.Settled)
    assert household.phase == HouseholdPhase.SETTLED
    with pytest.raises(RuleViolated, match="already settled"):
        household.settle(at=at(131), by=BRIDGE_BUILDER)


VOLLSMOSE_AREA = Place(municipality="Odense", area="Vollsmose")


@pytest.mark.parametrize(
    ("without", "contact_in", "named_gap"),
    [
        ("school", CENTRAL_ODENSE, "child C2 is not enrolled in a new school"),
        ("daycare", CENTRAL_ODENSE, "child C4 is not enrolled in a new daycare"),
        ("contact", CENTRAL_ODENSE, "no active contact person in Odense C, Odense"),
        ("", VOLLSMOSE_AREA, "no active contact person in Odense C, Odense"),
        ("practical", CENTRAL_ODENSE, "practical and economic matters are not recorded as in order"),
        ("help", CENTRAL_ODENSE, "the household still asks for help"),
    ],
)
def test_settlement_is_refused_naming_the_missing_criterion(
    without: str, contact_in: Place, named_gap: str
) -> None:
    household = bridge_that_holds(without=without, contact_in=contact_in)
    assert household.settlement_gaps() == [named_gap]
    with pytest.raises(NotSettled, match=named_gap):
        household.settle(at=at(130), by=BRIDGE_BUILDER)


def test_an_ended_contact_person_no_longer_counts() -> None:
    household = bridge_that_holds()
    household.end_contact_person(link_id=household.contact_persons[0].link_id, at=at(125), by=BRIDGE_BUILDER)
    assert household.settlement_gaps() == ["no active contact person in Odense C, Odense"]


def test_a_household_that_has_not_moved_is_not_settled() -> None:
    household = register()
    with pytest.raises(NotSettled) as refused:
        household.settle(at=at(1), by=BRIDGE_BUILDER)
    assert "the household has not moved yet" in str(refused.value)
    assert "no active contact person in the receiving area" in str(refused.value)


def test_the_contact_person_must_be_in_the_area_of_the_latest_move() -> None:
    household = register(rehousing=temporary())
    household.record_move(move=a_move(permanent=False, moved_on=date(2026, 9, 1)), at=at(90), by=CONSULTANT)
    household.record_contact_person(link_id=uuid4(), place=CENTRAL_ODENSE, at=at(100), by=BRIDGE_BUILDER)
    bolbro = Place(municipality="Odense", area="Bolbro")
    household.record_move(move=a_move(moved_on=date(2027, 3, 1), place=bolbro), at=at(270), by=CONSULTANT)
    assert "no active contact person in Bolbro, Odense" in household.settlement_gaps()


# Replay


def test_the_whole_story_reloads_from_the_store_into_the_same_state() -> None:
    household = bridge_that_holds()
    referral_id = uuid4()
    household.issue_handoff(referral_id=referral_id, to=BRIDGE_HOLDER, at=at(91), by=CONSULTANT)
    household.acknowledge_handoff(referral_id=referral_id, at=at(92), by=BRIDGE_BUILDER)
    household.record_follow_up_visit(visited_on=date(2026, 9, 10), at=at(101), by=BRIDGE_BUILDER)
    household.settle(at=at(130), by=BRIDGE_BUILDER)
    app = new_memory_app()
    try:
        app.save(household)
        again = app.repository.get(household.id)
    finally:
        app.close()
    assert vars(again) == vars(household)
    assert again.phase == HouseholdPhase.SETTLED


def test_the_consent_to_send_along_and_the_vacancy_of_an_offer_are_found() -> None:
    household = register()
    consent = household.consent_for("ODENSE BRIDGE BUILDERS", "bridge_building")
    assert consent is not None
    assert consent.given_on == date(2026, 6, 1)
    assert household.consent_for("jobcentre odense", "bridge_building") is None
    vacancy_id, offer_id = uuid4(), uuid4()
    household.receive_offer(
        offer_id=offer_id,
        vacancy_id=vacancy_id,
        dwelling=dwelling(),
        expires_at=at(20),
        overrides=[],
        policy=DEFAULT_POLICY,
        at=at(5),
        by=CONSULTANT,
    )
    assert household.vacancy_of_offer(offer_id) == vacancy_id
    with pytest.raises(OfferNotLive, match="no offer"):
        household.vacancy_of_offer(uuid4())


class _SnapshottingApp(Application):
    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)


def test_a_snapshot_restores_a_household_that_behaves_the_same() -> None:
    # The housing organisation's application snapshots households; enums come back from one as plain str.
    household = bridge_that_holds()
    app = _SnapshottingApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo", "IS_SNAPSHOTTING_ENABLED": "y"})
    try:
        app.save(household)
        app.take_snapshot(household.id)
        again: Household = app.repository.get(household.id)
    finally:
        app.close()
    assert vars(again) == vars(household)
    assert again.phase == HouseholdPhase.MOVED
    assert again.settlement_gaps() == []
    again.settle(at=at(130), by=BRIDGE_BUILDER)
