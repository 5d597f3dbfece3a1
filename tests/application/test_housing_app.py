"""The housing organisation's node through its commands on every backend: households, offers, the move."""

from __future__ import annotations

from datetime import date

import pytest

from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp
from coordination.domain.errors import ConsentMissing, NotSettled, OverrideRequired, RuleViolated
from coordination.domain.household import Enrolment, InstitutionKind
from coordination.domain.referral import ReferralKind
from coordination.domain.values import Consent, DeclinedBy, Holder, Override, Role
from tests.application.builders import (
    BRIDGE,
    BRIDGE_BUILDER,
    CIVICA,
    CONSULTANT,
    CPR,
    ODENSE_C,
    at,
    cmd,
    consents,
    event_names,
    local_contact,
    publish,
    register_family,
    stored_events,
    the_move,
)

TODAY = date(2026, 6, 1)


def test_a_registered_household_is_held_by_the_consultants_organisation(
    housing: HousingOrganisationApp,
) -> None:
    household_id = register_family(housing)

    view = housing.household(household_id, today=TODAY)
    assert (view.case_reference, view.phase, [m.member_id for m in view.members], view.children) == (
        "CIVICA-2026-0042",
        "registered",
        ["A1", "C1", "C2"],
        2,
    )
    assert view.holder == Holder(organisation=CIVICA, role=Role.REHOUSING_CONSULTANT)
    assert event_names(housing, household_id) == ["Registered"]


def test_a_cpr_number_given_at_registration_is_stored_only_as_a_keyed_digest(
    housing: HousingOrganisationApp,
) -> None:
    with_cpr = register_family(housing, cpr=CPR)
    without = register_family(housing, case_reference="CIVICA-2026-0043")

    digest = stored_events(housing, with_cpr)[0].cpr_digest
    assert len(digest) == 64
    assert "0707614285" not in digest
    assert stored_events(housing, without)[0].cpr_digest is None


def test_the_phases_are_recorded_facts_and_the_view_shows_the_furthest(
    housing: HousingOrganisationApp,
) -> None:
    household_id = register_family(housing)
    steps = [
        (
            lambda: housing.record_first_contact(
                command_id=cmd(), household_id=household_id, at=at(1), by=CONSULTANT
            ),
            "first_contact",
        ),
        (
            lambda: housing.record_inspiration_tour(
                command_id=cmd(), household_id=household_id, areas=["Odense C"], at=at(2), by=CONSULTANT
            ),
            "exploring_areas",
        ),
        (
            lambda: housing.record_tasks_found(
                command_id=cmd(), household_id=household_id, tasks=["jobcentre"], at=at(3), by=CONSULTANT
            ),
            "tasks_found",
        ),
        (
            lambda: housing.start_bridge_building(
                command_id=cmd(), household_id=household_id, at=at(4), by=CONSULTANT
            ),
            "bridge_building",
        ),
    ]
    for step, phase in steps:
        assert step() == household_id
        assert housing.household(household_id, today=TODAY).phase == phase

    assert event_names(housing, household_id) == [
        "Registered",
        "FirstContactMade",
        "AreasExplored",
        "TasksFoundOutsideRehousing",
        "BridgeBuildingStarted",
    ]


def test_consent_is_given_and_withdrawn_and_a_referral_then_needs_it_again(
    housing: HousingOrganisationApp,
) -> None:
    household_id = register_family(housing, given=[])
    consent = Consent(recipient="jobcenter-odense", purpose="jobcentre", given_on=date(2026, 6, 2))

    housing.give_consent(
        command_id=cmd(), household_id=household_id, consent=consent, at=at(1), by=CONSULTANT
    )
    referral_id = housing.refer_household(
        command_id=cmd(),
        household_id=household_id,
        receiver="jobcenter-odense",
        kind=ReferralKind.JOBCENTRE,
        at=at(1.5),
        by=CONSULTANT,
    )
    housing.withdraw_consent(
        command_id=cmd(),
        household_id=household_id,
        recipient="jobcenter-odense",
        purpose="jobcentre",
        at=at(2),
        by=CONSULTANT,
    )

    given, withdrawn = stored_events(housing, household_id)[1:]
    assert given.consent == consent
    assert (withdrawn.recipient, withdrawn.purpose) == ("jobcenter-odense", "jobcentre")
    assert housing.referral(referral_id).consent == consent
    with pytest.raises(ConsentMissing, match="jobcenter-odense"):
        housing.refer_household(
            command_id=cmd(),
            household_id=household_id,
            receiver="jobcenter-odense",
            kind=ReferralKind.JOBCENTRE,
            at=at(3),
            by=CONSULTANT,
        )


def test_a_published_vacancy_is_open_and_a_withdrawn_one_is_withdrawn(
    housing: HousingOrganisationApp,
) -> None:
    vacancy_id = publish(housing)
    assert housing.vacancy(vacancy_id).status == "open"

    housing.withdraw_vacancy(
        command_id=cmd(), vacancy_id=vacancy_id, reason="sold to a private investor", at=at(1), by=CONSULTANT
    )

    assert housing.vacancy(vacancy_id).status == "withdrawn"
    assert event_names(housing, vacancy_id) == ["Published", "Withdrawn"]


def _offered(housing: HousingOrganisationApp) -> tuple:
    household_id, vacancy_id = register_family(housing), publish(housing)
    offer_id = housing.make_offer(
        command_id=cmd(), household_id=household_id, vacancy_id=vacancy_id, at=at(1), by=CONSULTANT
    )
    return household_id, vacancy_id, offer_id


def test_an_offer_reserves_the_vacancy_and_is_the_households_live_offer(
    housing: HousingOrganisationApp,
) -> None:
    household_id, vacancy_id, offer_id = _offered(housing)

    household, vacancy = housing.household(household_id, today=TODAY), housing.vacancy(vacancy_id)
    assert household.live_offer is not None
    assert household.live_offer.offer_id == offer_id
    assert household.phase == "housing_offer"
    assert (vacancy.status, vacancy.live_offer_id, vacancy.offer_expires_at) == ("reserved", offer_id, at(15))
    reserved = stored_events(housing, vacancy_id)[-1]
    assert (type(reserved).__name__, reserved.household_id, reserved.by) == (
        "OfferReserved",
        household_id,
        CONSULTANT,
    )


def test_an_accepted_offer_lets_the_vacancy_to_the_household(housing: HousingOrganisationApp) -> None:
    household_id, vacancy_id, offer_id = _offered(housing)

    housing.accept_offer(
        command_id=cmd(), household_id=household_id, offer_id=offer_id, at=at(2), by=CONSULTANT
    )

    assert housing.household(household_id, today=TODAY).offers[0].status == "accepted"
    assert (housing.vacancy(vacancy_id).status, housing.vacancy(vacancy_id).let_to) == ("let", household_id)
    assert event_names(housing, household_id)[-1] == event_names(housing, vacancy_id)[-1] == "OfferAccepted"


def test_a_declined_offer_puts_the_vacancy_back_in_the_pool_with_the_households_reason(
    housing: HousingOrganisationApp,
) -> None:
    household_id, vacancy_id, offer_id = _offered(housing)

    housing.decline_offer(
        command_id=cmd(),
        household_id=household_id,
        offer_id=offer_id,
        declined_by=DeclinedBy.HOUSEHOLD,
        reason="too far from the children's school",
        at=at(2),
        by=CONSULTANT,
    )

    offer = housing.household(household_id, today=TODAY).offers[0]
    assert (offer.status, offer.reason) == ("declined_by_household", "too far from the children's school")
    assert (housing.vacancy(vacancy_id).status, housing.vacancy(vacancy_id).live_offer_id) == ("open", None)
    declined = stored_events(housing, vacancy_id)[-1]
    assert (type(declined).__name__, declined.declined_by) == ("OfferDeclined", "household")


def test_an_offer_not_answered_in_time_expires_on_both_sides(housing: HousingOrganisationApp) -> None:
    household_id, vacancy_id, offer_id = _offered(housing)

    with pytest.raises(RuleViolated, match="does not expire before"):
        housing.expire_offer(command_id=cmd(), household_id=household_id, offer_id=offer_id, at=at(14))
    housing.expire_offer(command_id=cmd(), household_id=household_id, offer_id=offer_id, at=at(15))

    assert housing.household(household_id, today=TODAY).offers[0].status == "expired"
    assert housing.vacancy(vacancy_id).status == "open"
    expired = stored_events(housing, household_id)[-1]
    assert (type(expired).__name__, expired.at) == ("OfferExpired", at(15))


def test_an_offer_of_a_too_small_dwelling_needs_an_override_which_is_recorded(
    housing: HousingOrganisationApp,
) -> None:
    household_id, vacancy_id = register_family(housing), publish(housing, rooms=2)
    override = Override(
        rule="suitable_size", reason="the household asked for this flat near family", by=CONSULTANT
    )

    with pytest.raises(OverrideRequired, match="2 rooms") as refused:
        housing.make_offer(
            command_id=cmd(), household_id=household_id, vacancy_id=vacancy_id, at=at(1), by=CONSULTANT
        )
    assert refused.value.rule == "suitable_size"
    housing.make_offer(
        command_id=cmd(),
        household_id=household_id,
        vacancy_id=vacancy_id,
        overrides=[override],
        at=at(1),
        by=CONSULTANT,
    )

    assert stored_events(housing, household_id)[-1].overrides == [override]
    assert housing.household(household_id, today=TODAY).offers[0].overrides == [override]


def test_the_move_hands_the_household_to_the_bridge_builder_who_holds_it_once_acknowledged(
    housing: HousingOrganisationApp,
) -> None:
    household_id = register_family(housing)

    handoff_id = housing.record_move(
        command_id=cmd(),
        household_id=household_id,
        move=the_move(new_rent="8100"),
        hand_off_to=BRIDGE,
        at=at(90),
        by=CONSULTANT,
    )

    assert handoff_id is not None
    pending = housing.household(household_id, today=date(2026, 9, 1))
    assert (pending.phase, pending.rent_rise, pending.follow_up_due) == ("moved", True, date(2026, 9, 15))
    assert pending.holder.organisation == CIVICA
    assert pending.pending_handoff is not None
    assert pending.pending_handoff.referral_id == handoff_id
    handoff = housing.referral(handoff_id)
    assert (handoff.kind, handoff.status, handoff.receiver, handoff.details.place) == (
        "handoff",
        "sent",
        BRIDGE,
        ODENSE_C,
    )
    assert event_names(housing, household_id)[-2:] == ["Moved", "HandoffIssued"]

    housing.acknowledge_referral(command_id=cmd(), referral_id=handoff_id, at=at(91), by=BRIDGE_BUILDER)

    held = housing.household(household_id, today=date(2026, 9, 2))
    assert held.holder == Holder(organisation=BRIDGE, role=Role.BRIDGE_BUILDER)
    assert held.pending_handoff is None
    assert housing.referral(handoff_id).status == "completed"  # the acknowledgement completes a handoff
    acknowledged = stored_events(housing, household_id)[-1]
    assert (type(acknowledged).__name__, acknowledged.by) == ("HandoffAcknowledged", BRIDGE_BUILDER)


def test_a_move_without_handoff_or_rent_rise_returns_no_referral_and_flags_nothing(
    housing: HousingOrganisationApp,
) -> None:
    household_id = register_family(housing)

    assert (
        housing.record_move(
            command_id=cmd(),
            household_id=household_id,
            move=the_move(new_rent="6200"),
            at=at(90),
            by=CONSULTANT,
        )
        is None
    )
    assert housing.household(household_id, today=TODAY).rent_rise is False


def test_a_household_settles_only_when_every_criterion_holds(
    housing: HousingOrganisationApp, bridge: BridgeBuilderApp
) -> None:
    household_id = register_family(housing, given=consents(BRIDGE))
    handoff_id = housing.record_move(
        command_id=cmd(),
        household_id=household_id,
        move=the_move(),
        hand_off_to=BRIDGE,
        at=at(90),
        by=CONSULTANT,
    )
    assert handoff_id is not None
    housing.acknowledge_referral(command_id=cmd(), referral_id=handoff_id, at=at(91), by=BRIDGE_BUILDER)
    housing.record_follow_up_visit(
        command_id=cmd(),
        household_id=household_id,
        visited_on=date(2026, 9, 10),
        at=at(101),
        by=BRIDGE_BUILDER,
    )

    with pytest.raises(NotSettled, match="child C1 is not enrolled") as refused:
        housing.settle_household(command_id=cmd(), household_id=household_id, at=at(102), by=BRIDGE_BUILDER)
    assert "no active contact person in Odense C" in refused.value.message
    assert housing.household(household_id, today=TODAY).settlement_gaps == [
        "child C1 is not enrolled in a new school",
        "child C2 is not enrolled in a new daycare",
        "no active contact person in Odense C, Odense",
        "practical and economic matters are not recorded as in order",
        "the household still asks for help",
    ]

    for member, kind, name in (
        ("C1", InstitutionKind.SCHOOL, "Ejerslykkeskolen"),
        ("C2", InstitutionKind.DAYCARE, "Børnehuset Solsikken"),
    ):
        enrolment = Enrolment(
            member_id=member, institution_kind=kind, institution=name, starts_on=date(2026, 9, 7)
        )
        housing.record_enrolment(
            command_id=cmd(), household_id=household_id, enrolment=enrolment, at=at(103), by=BRIDGE_BUILDER
        )
    link_id = bridge.propose_support_link(
        command_id=cmd(),
        household_id=household_id,
        offer=local_contact(),
        contact_person=True,
        at=at(103),
        by=BRIDGE_BUILDER,
    )
    housing.record_contact_person(
        command_id=cmd(),
        household_id=household_id,
        link_id=link_id,
        place=ODENSE_C,
        at=at(104),
        by=BRIDGE_BUILDER,
    )
    housing.record_practical_matters_in_order(
        command_id=cmd(),
        household_id=household_id,
        note="housing benefit and deposit loan granted",
        at=at(105),
        by=BRIDGE_BUILDER,
    )
    housing.record_no_longer_asks_for_help(
        command_id=cmd(), household_id=household_id, at=at(120), by=BRIDGE_BUILDER
    )

    housing.settle_household(command_id=cmd(), household_id=household_id, at=at(121), by=BRIDGE_BUILDER)

    settled = housing.household(household_id, today=date(2026, 10, 1))
    assert (settled.phase, settled.settlement_gaps, settled.settled_at) == ("settled", [], at(121))
    assert event_names(housing, household_id)[-1] == "Settled"


def test_a_contact_person_that_ends_leaves_a_settlement_gap_again(housing: HousingOrganisationApp) -> None:
    household_id = register_family(housing)
    housing.record_move(
        command_id=cmd(), household_id=household_id, move=the_move(), at=at(90), by=CONSULTANT
    )
    link_id = cmd()
    housing.record_contact_person(
        command_id=cmd(),
        household_id=household_id,
        link_id=link_id,
        place=ODENSE_C,
        at=at(91),
        by=BRIDGE_BUILDER,
    )
    gaps = housing.household(household_id, today=TODAY).settlement_gaps
    assert not any("contact person" in gap for gap in gaps)

    housing.end_contact_person(
        command_id=cmd(), household_id=household_id, link_id=link_id, at=at(92), by=BRIDGE_BUILDER
    )

    assert (
        "no active contact person in Odense C, Odense"
        in housing.household(household_id, today=TODAY).settlement_gaps
    )
    assert event_names(housing, household_id)[-2:] == ["ContactPersonLinked", "ContactPersonUnlinked"]
