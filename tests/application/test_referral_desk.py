"""Referrals through the applications on every backend: minimised details, consent, the loop, history."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import pytest

from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.referrals import ReferralDesk
from coordination.applications.roles import BridgeBuilderApp, MunicipalDepartmentApp
from coordination.domain.errors import ConsentMissing, NotPermitted, ReferralNotDue, ReferralNotOpen
from coordination.domain.referral import ChildFacts, ReferralDetails, ReferralKind
from coordination.domain.values import Actor, Consent, DeclinedBy, Role, YearMonth
from tests.application.builders import (
    ALLOCATOR,
    BRIDGE,
    BRIDGE_BUILDER,
    CONSULTANT,
    DAYCARE,
    DEBT,
    ELDERLY,
    JOBCENTRE,
    ODENSE_C,
    SCHOOLS,
    at,
    cmd,
    consents,
    event_names,
    register_family,
    stored_events,
    the_move,
)

C1 = ChildFacts(member_id="C1", birth_month=YearMonth(year=2014, month=1))
C2 = ChildFacts(member_id="C2", birth_month=YearMonth(year=2022, month=2))
COORDINATOR = Actor(organisation="odense-kommune", person="ko-1", role=Role.COORDINATOR)
SCHOOL_CASEWORKER = Actor(organisation=SCHOOLS, person="sk-2", role=Role.DEPARTMENT_CASEWORKER)


def _moved_family(housing: HousingOrganisationApp) -> UUID:
    household_id = register_family(housing)
    housing.record_move(
        command_id=cmd(), household_id=household_id, move=the_move(), at=at(90), by=CONSULTANT
    )
    return household_id


def _refer(
    housing: HousingOrganisationApp, household_id: UUID, receiver: str, kind: ReferralKind, **extra: object
) -> UUID:
    return housing.refer_household(
        command_id=cmd(),
        household_id=household_id,
        receiver=receiver,
        kind=kind,
        at=at(91),
        by=CONSULTANT,
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("receiver", "kind", "extra", "children", "needs", "language", "size"),
    [
        (
            BRIDGE,
            ReferralKind.BRIDGE_BUILDING,
            {},
            [C1, C2],
            ["school_change", "daycare", "mental_health", "interpreter"],
            "ar",
            3,
        ),
        (
            DAYCARE,
            ReferralKind.DAYCARE_FAST_TRACK,
            {"child_id": "C2", "needed_from": date(2026, 9, 1)},
            [C2],
            [],
            None,
            None,
        ),
        (SCHOOLS, ReferralKind.SCHOOL_CHANGE, {}, [C1], ["school_change", "interpreter"], "ar", None),
        (JOBCENTRE, ReferralKind.JOBCENTRE, {}, [], ["interpreter"], "ar", None),
        (ELDERLY, ReferralKind.ELDERLY_HOUSING, {}, [], [], None, 3),
        (DEBT, ReferralKind.FINANCIAL_COUNSELLING, {}, [], ["interpreter"], "ar", 3),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_referral_carries_only_what_its_kind_of_receiver_needs(
    housing: HousingOrganisationApp,
    receiver: str,
    kind: ReferralKind,
    extra: dict[str, object],
    children: list[ChildFacts],
    needs: list[str],
    language: str | None,
    size: int | None,
) -> None:
    household_id = _moved_family(housing)

    referral_id = _refer(housing, household_id, receiver, kind, **extra)

    view = housing.referral(referral_id)
    assert (view.kind, view.status, view.receiver, view.household_id) == (
        kind,
        "sent",
        receiver,
        household_id,
    )
    assert view.details == ReferralDetails(
        children=children,
        needs=needs,
        needed_from=extra.get("needed_from"),
        place=ODENSE_C,
        language=language,
        household_size=size,
    )
    assert view.consent is not None
    assert view.consent.recipient == receiver
    sent = stored_events(housing, referral_id)
    assert [type(e).__name__ for e in sent] == ["Sent"]
    assert sent[0].details == view.details


def test_a_daycare_referral_carries_exactly_one_child_the_date_and_the_place_and_no_needs(
    housing: HousingOrganisationApp,
) -> None:
    household_id = _moved_family(housing)

    referral_id = _refer(
        housing,
        household_id,
        DAYCARE,
        ReferralKind.DAYCARE_FAST_TRACK,
        child_id="C2",
        needed_from=date(2026, 9, 1),
    )

    details = housing.referral(referral_id).details
    assert details.children == [C2]
    assert (details.needed_from, details.place, details.needs) == (date(2026, 9, 1), ODENSE_C, [])
    # The guarantee date: three months after the application, never before the place is needed.
    assert housing.referral(referral_id).complete_by.date() == date(2026, 11, 30)


def test_a_referral_without_the_households_consent_is_refused_and_nothing_is_stored(
    housing: HousingOrganisationApp,
) -> None:
    household_id = register_family(housing, given=consents(BRIDGE))
    before = housing.recorder.max_notification_id()

    with pytest.raises(ConsentMissing, match=f"no consent to share data with {JOBCENTRE}"):
        _refer(housing, household_id, JOBCENTRE, ReferralKind.JOBCENTRE)

    assert housing.recorder.max_notification_id() == before


def _received_at(receiver: ReferralDesk, housing: HousingOrganisationApp, referral_id: UUID) -> UUID:
    """The receiver keeps its own copy of the referral, as the referrer recorded it."""
    sent = housing.referral(referral_id)
    return receiver.receive_referral(
        command_id=cmd(),
        referral_id=sent.id,
        referrer=sent.referrer,
        kind=ReferralKind(sent.kind),
        household_id=sent.household_id,
        details=sent.details,
        consent=sent.consent,
        legal_basis=sent.legal_basis,
        acknowledge_by=sent.acknowledge_by,
        complete_by=sent.complete_by,
        at=sent.sent_at,
        by=CONSULTANT,
    )


def test_a_received_referral_is_acknowledged_accepted_and_completed_at_the_receivers_node(
    housing: HousingOrganisationApp, bridge: BridgeBuilderApp
) -> None:
    household_id = register_family(housing)
    referral_id = _refer(housing, household_id, BRIDGE, ReferralKind.BRIDGE_BUILDING)

    assert _received_at(bridge, housing, referral_id) == referral_id
    copy = bridge.referral(referral_id)
    assert (copy.status, copy.referrer, copy.details) == (
        "sent",
        "civica",
        housing.referral(referral_id).details,
    )
    assert copy.acknowledge_by == housing.referral(referral_id).acknowledge_by

    bridge.acknowledge_referral(command_id=cmd(), referral_id=referral_id, at=at(92), by=BRIDGE_BUILDER)
    bridge.accept_referral(
        command_id=cmd(), referral_id=referral_id, assignee="bb-3", at=at(93), by=BRIDGE_BUILDER
    )
    bridge.start_referral(command_id=cmd(), referral_id=referral_id, at=at(94), by=BRIDGE_BUILDER)
    bridge.complete_referral(
        command_id=cmd(),
        referral_id=referral_id,
        outcome="family linked to a mentor and a homework café",
        at=at(120),
        by=BRIDGE_BUILDER,
    )

    done = bridge.referral(referral_id)
    assert (done.status, done.fhir_status, done.assignee) == ("completed", "completed", "bb-3")
    assert (done.acknowledged_at, done.accepted_at, done.completed_at) == (at(92), at(93), at(120))
    assert [step.status for step in done.history] == [
        "sent",
        "acknowledged",
        "accepted",
        "in_progress",
        "completed",
    ]
    assert event_names(bridge, referral_id) == ["Sent", "Acknowledged", "Accepted", "Started", "Completed"]
    # The referrer's copy is unchanged until the receiver's steps arrive over the exchange.
    assert housing.referral(referral_id).status == "sent"


def test_a_daycare_referral_is_answered_by_the_department(
    housing: HousingOrganisationApp, department: MunicipalDepartmentApp
) -> None:
    household_id = _moved_family(housing)
    referral_id = _refer(
        housing,
        household_id,
        DAYCARE,
        ReferralKind.DAYCARE_FAST_TRACK,
        child_id="C2",
        needed_from=date(2026, 9, 1),
    )
    _received_at(department, housing, referral_id)

    department.acknowledge_referral(command_id=cmd(), referral_id=referral_id, at=at(92), by=ALLOCATOR)
    department.accept_referral(
        command_id=cmd(), referral_id=referral_id, assignee="pa-4", at=at(92), by=ALLOCATOR
    )
    department.put_referral_on_hold(
        command_id=cmd(),
        referral_id=referral_id,
        reason="waiting for a place to open",
        at=at(93),
        by=ALLOCATOR,
    )
    department.start_referral(command_id=cmd(), referral_id=referral_id, at=at(95), by=ALLOCATOR)
    department.complete_referral(
        command_id=cmd(),
        referral_id=referral_id,
        outcome="place at Børnehuset Solsikken",
        at=at(96),
        by=ALLOCATOR,
    )

    assert event_names(department, referral_id) == [
        "Sent",
        "Acknowledged",
        "Accepted",
        "PutOnHold",
        "Started",
        "Completed",
    ]
    assert department.referral(referral_id).outcome == "place at Børnehuset Solsikken"


def test_a_step_by_the_wrong_organisation_is_not_permitted(
    housing: HousingOrganisationApp, bridge: BridgeBuilderApp
) -> None:
    referral_id = _refer(housing, register_family(housing), BRIDGE, ReferralKind.BRIDGE_BUILDING)
    _received_at(bridge, housing, referral_id)

    with pytest.raises(NotPermitted, match=f"Only the receiver {BRIDGE} may acknowledge"):
        bridge.acknowledge_referral(command_id=cmd(), referral_id=referral_id, at=at(92), by=CONSULTANT)


def test_a_declined_referral_can_be_overridden_by_a_coordinator_and_starts_again(
    housing: HousingOrganisationApp, bridge: BridgeBuilderApp
) -> None:
    referral_id = _refer(housing, register_family(housing), BRIDGE, ReferralKind.BRIDGE_BUILDING)
    _received_at(bridge, housing, referral_id)

    bridge.decline_referral(
        command_id=cmd(),
        referral_id=referral_id,
        declined_by=DeclinedBy.PROVIDER,
        reason="no capacity this month",
        at=at(92),
        by=BRIDGE_BUILDER,
    )
    assert bridge.referral(referral_id).status == "declined_by_receiver"
    bridge.override_referral_decline(
        command_id=cmd(),
        referral_id=referral_id,
        reason="a vulnerable family: take it",
        at=at(93),
        by=COORDINATOR,
    )
    assert bridge.referral(referral_id).status == "sent"
    bridge.decline_referral(
        command_id=cmd(),
        referral_id=referral_id,
        declined_by=DeclinedBy.HOUSEHOLD,
        reason="the family said no",
        at=at(94),
        by=BRIDGE_BUILDER,
    )

    assert bridge.referral(referral_id).status == "declined_by_household"
    assert event_names(bridge, referral_id) == ["Sent", "Declined", "DeclineOverridden", "Declined"]


def test_a_receiver_redirects_a_referral_to_a_third_organisation_under_a_consent_naming_it(
    housing: HousingOrganisationApp, bridge: BridgeBuilderApp
) -> None:
    referral_id = _refer(housing, register_family(housing), BRIDGE, ReferralKind.BRIDGE_BUILDING)
    _received_at(bridge, housing, referral_id)
    consent = Consent(recipient="aarhus-bydelsguider", purpose="bridge_building", given_on=date(2026, 6, 1))

    with pytest.raises(ConsentMissing):
        bridge.redirect_referral(
            command_id=cmd(),
            referral_id=referral_id,
            to="aarhus-bydelsguider",
            reason="the family moves to Aarhus",
            at=at(92),
            by=BRIDGE_BUILDER,
        )
    bridge.redirect_referral(
        command_id=cmd(),
        referral_id=referral_id,
        to="aarhus-bydelsguider",
        reason="the family moves to Aarhus",
        consent=consent,
        at=at(92),
        by=BRIDGE_BUILDER,
    )

    view = bridge.referral(referral_id)
    assert (view.receiver, view.status, view.consent) == ("aarhus-bydelsguider", "sent", consent)


def test_the_referrer_withdraws_a_referral_or_marks_it_entered_in_error(
    housing: HousingOrganisationApp,
) -> None:
    household_id = register_family(housing)
    withdrawn = _refer(housing, household_id, JOBCENTRE, ReferralKind.JOBCENTRE)
    mistaken = _refer(housing, household_id, DEBT, ReferralKind.FINANCIAL_COUNSELLING)

    housing.withdraw_referral(
        command_id=cmd(),
        referral_id=withdrawn,
        reason="the household found work itself",
        at=at(92),
        by=CONSULTANT,
    )
    housing.mark_referral_entered_in_error(
        command_id=cmd(),
        referral_id=mistaken,
        reason="sent for the wrong household",
        at=at(92),
        by=CONSULTANT,
    )

    assert (housing.referral(withdrawn).status, housing.referral(withdrawn).fhir_status) == (
        "withdrawn",
        "cancelled",
    )
    assert housing.referral(mistaken).fhir_status == "entered-in-error"


def test_a_referral_not_accepted_by_its_due_date_expires_by_the_timer(
    housing: HousingOrganisationApp,
) -> None:
    referral_id = _refer(housing, register_family(housing), JOBCENTRE, ReferralKind.JOBCENTRE)
    due = housing.referral(referral_id).complete_by

    with pytest.raises(ReferralNotDue):
        housing.expire_referral(command_id=cmd(), referral_id=referral_id, at=at(92))
    housing.expire_referral(command_id=cmd(), referral_id=referral_id, at=due)

    expired = stored_events(housing, referral_id)[-1]
    assert (type(expired).__name__, expired.at) == ("Expired", due)
    assert housing.referral(referral_id).history[-1].organisation is None


def test_a_department_sends_a_referral_on_a_legal_basis(department: MunicipalDepartmentApp) -> None:
    household_id = cmd()
    referral_id = department.send_referral(
        command_id=cmd(),
        receiver=SCHOOLS,
        kind=ReferralKind.SCHOOL_CHANGE,
        household_id=household_id,
        details=ReferralDetails(children=[C1], place=ODENSE_C),
        legal_basis="folkeskoleloven § 36 (school district)",
        at=at(1),
        by=ALLOCATOR,
    )

    view = department.referral(referral_id)
    assert (view.referrer, view.receiver, view.consent, view.legal_basis) == (
        DAYCARE,
        SCHOOLS,
        None,
        "folkeskoleloven § 36 (school district)",
    )


def test_history_lists_household_and_referral_events_in_order_with_who_and_when(
    housing: HousingOrganisationApp,
) -> None:
    household_id = register_family(housing)
    other = register_family(housing, case_reference="CIVICA-2026-0099")
    housing.record_first_contact(command_id=cmd(), household_id=household_id, at=at(1), by=CONSULTANT)
    housing.record_first_contact(command_id=cmd(), household_id=other, at=at(1), by=CONSULTANT)
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

    history = housing.history(household_id)

    assert [(entry.aggregate, entry.event) for entry in history] == [
        ("Household", "Registered"),
        ("Household", "FirstContactMade"),
        ("Household", "Moved"),
        ("Household", "HandoffIssued"),
        ("Referral", "Sent"),
        ("Referral", "Acknowledged"),
        ("Household", "HandoffAcknowledged"),
    ]
    positions = [entry.position for entry in history]
    assert positions == sorted(positions)
    assert {entry.aggregate_id for entry in history} == {household_id, handoff_id}
    assert [(entry.organisation, entry.person, entry.at) for entry in history][-3:] == [
        ("civica", "gk-17", at(90)),
        (BRIDGE, "bb-3", at(91)),
        (BRIDGE, "bb-3", at(91)),
    ]
    assert history[0].role == "rehousing_consultant"
    assert all(isinstance(entry.recorded_at, datetime) for entry in history)


def test_an_accept_before_the_acknowledgement_is_a_step_out_of_order(
    housing: HousingOrganisationApp, bridge: BridgeBuilderApp
) -> None:
    referral_id = _refer(housing, register_family(housing), BRIDGE, ReferralKind.BRIDGE_BUILDING)
    _received_at(bridge, housing, referral_id)
    before = bridge.recorder.max_notification_id()

    with pytest.raises(ReferralNotOpen, match="is sent; acknowledge it first"):
        bridge.accept_referral(
            command_id=cmd(), referral_id=referral_id, assignee="bb-3", at=at(92), by=BRIDGE_BUILDER
        )

    assert bridge.recorder.max_notification_id() == before
    assert bridge.referral(referral_id).status == "sent"
