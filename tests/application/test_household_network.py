"""The owner keeps each household's network beside the household, in the same transaction as every step
(coordination/applications/network.py): erased with the household, noted from members' reports, and the
one picture the status answers from."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest

from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.network import network_id
from coordination.applications.roles import BridgeBuilderApp
from coordination.audit.as_of import household_status_as_of
from coordination.domain.errors import NotSettled, ReferralNotOpen
from coordination.domain.household_values import Enrolment, InstitutionKind
from coordination.domain.network import HouseholdNetwork, Item, ItemKind, RefusedFact, Relation
from coordination.domain.referral import HANDOFF_OUTCOME, Referral, ReferralKind, ReferralStatus
from coordination.domain.values import Consent
from coordination.projections.household_status import status_from_picture
from tests.application.builders import (
    BRIDGE,
    BRIDGE_BUILDER,
    CIVICA,
    CONSULTANT,
    JOBCENTRE,
    ODENSE_C,
    at,
    cmd,
    consents,
    event_names,
    local_contact,
    register_family,
    the_move,
)


def moved_and_handed_off(
    housing: HousingOrganisationApp, given: list[Consent] | None = None
) -> tuple[UUID, UUID]:
    household = register_family(housing, given=given)
    handoff = housing.record_move(
        command_id=cmd(),
        household_id=household,
        move=the_move(),
        hand_off_to=BRIDGE,
        at=at(90),
        by=CONSULTANT,
    )
    assert handoff is not None
    return household, handoff


def test_erasing_a_household_leaves_nothing_of_its_network_readable_at_the_owner(
    housing: HousingOrganisationApp,
) -> None:
    household, _ = moved_and_handed_off(housing)
    picture = housing.network_picture(household)
    assert picture is not None and BRIDGE in picture.organisations()

    housing.erase_household(
        command_id=cmd(), household_id=household, legal_ground="GDPR art. 17(1)(a)", at=at(95), by=CONSULTANT
    )

    assert housing.network_picture(household) is None
    # Its stored history still replays, naming no one who worked with the family but its owner.
    network = housing.repository.get(network_id(household))
    assert isinstance(network, HouseholdNetwork)
    erased = network.picture()
    assert (erased.organisations(), erased.items, erased.household) == ([CIVICA], [], None)


def test_a_handoff_is_complete_once_the_new_holder_acknowledges_it_and_cannot_be_completed_again(
    housing: HousingOrganisationApp,
) -> None:
    household, handoff = moved_and_handed_off(housing)

    housing.acknowledge_referral(command_id=cmd(), referral_id=handoff, at=at(91), by=BRIDGE_BUILDER)

    view = housing.referral(handoff)
    assert (view.status, view.outcome) == ("completed", HANDOFF_OUTCOME)
    with pytest.raises(ReferralNotOpen, match="is completed; it cannot be completed"):
        housing.complete_referral(
            command_id=cmd(), referral_id=handoff, outcome="again", at=at(92), by=BRIDGE_BUILDER
        )
    picture = housing.network_picture(household)
    assert picture is not None
    assert picture.open_items() == []
    assert picture.relations_of(BRIDGE) == {Relation.HOLDER}  # no longer a handoff receiver


def test_an_acknowledged_handoff_stored_before_handoffs_closed_completes_when_its_history_is_replayed(
    open_node: Callable[..., Any], store_env: dict[str, str]
) -> None:
    housing = open_node(HousingOrganisationApp, CIVICA)
    household, handoff = moved_and_handed_off(housing)
    housing.acknowledge_referral(command_id=cmd(), referral_id=handoff, at=at(91), by=BRIDGE_BUILDER)
    # What is stored is what the code before this rule stored: the sending and the acknowledgement.
    assert event_names(housing, handoff) == ["Sent", "Acknowledged"]

    replayed = housing.repository.get(handoff)
    assert isinstance(replayed, Referral)
    assert (replayed.status, replayed.completed_at) == (ReferralStatus.COMPLETED, at(91))
    assert [step.status for step in replayed.history] == ["sent", "acknowledged", "completed"]
    # The audit's reconstruction as of a moment agrees, before and after the acknowledgement.
    before = household_status_as_of(housing, household, at(90, minutes=30))
    after = household_status_as_of(housing, household, at(92))
    assert [r.referral_id for r in before.open_referrals] == [handoff]
    assert after.open_referrals == []


def test_settling_is_refused_while_the_network_has_an_open_item_naming_it(
    housing: HousingOrganisationApp, bridge: BridgeBuilderApp
) -> None:
    household = ready_to_settle(housing, bridge)
    referral = housing.refer_household(
        command_id=cmd(),
        household_id=household,
        receiver=JOBCENTRE,
        kind=ReferralKind.JOBCENTRE,
        at=at(110),
        by=CONSULTANT,
    )

    with pytest.raises(NotSettled, match=f"open items: jobcentre {CIVICA} → {JOBCENTRE} \\(sent\\)"):
        housing.settle_household(command_id=cmd(), household_id=household, at=at(121), by=BRIDGE_BUILDER)
    picture = housing.network_picture(household)
    assert picture is not None
    status = status_from_picture(picture, at(121), housing.policy)
    assert status.settlement_gaps == [f"open items: jobcentre {CIVICA} → {JOBCENTRE} (sent)"]

    housing.withdraw_referral(
        command_id=cmd(), referral_id=referral, reason="found work herself", at=at(121), by=CONSULTANT
    )
    housing.settle_household(command_id=cmd(), household_id=household, at=at(122), by=BRIDGE_BUILDER)
    settled = housing.network_picture(household)
    assert settled is not None and settled.household is not None
    assert (settled.household.settled_at, settled.open_items()) == (at(122), [])


def test_a_members_reported_item_is_noted_once_on_the_network_and_counts_for_settlement(
    housing: HousingOrganisationApp, bridge: BridgeBuilderApp
) -> None:
    household = ready_to_settle(housing, bridge)
    onward = Item(
        item_id=uuid4(),
        kind=ItemKind.REFERRAL,
        subtype="jobcentre",
        from_org=BRIDGE,
        to_org=JOBCENTRE,
        state="acknowledged",
        open=True,
        opened_at=at(110),
        last_step_at=at(111),
        acknowledge_by=at(113),
        complete_by=at(140),
        acknowledged_at=at(111),
    )
    command_id = cmd()
    for _ in range(2):  # a redelivered report is the same command
        housing.note_network_item(
            command_id=command_id, household_id=household, item=onward, at=at(111), by=BRIDGE_BUILDER
        )

    picture = housing.network_picture(household)
    assert picture is not None
    assert picture.open_items() == [onward]
    assert Relation.REFERRER in picture.relations_of(BRIDGE)
    assert picture.relations_of(JOBCENTRE) == {Relation.REFERRAL_RECEIVER}
    with pytest.raises(NotSettled, match=f"jobcentre {BRIDGE} → {JOBCENTRE} \\(acknowledged\\)"):
        housing.settle_household(command_id=cmd(), household_id=household, at=at(121), by=BRIDGE_BUILDER)

    done = onward.model_copy(update={"state": "completed", "open": False, "last_step_at": at(115)})
    housing.note_network_item(
        command_id=cmd(), household_id=household, item=done, at=at(115), by=BRIDGE_BUILDER
    )
    housing.settle_household(command_id=cmd(), household_id=household, at=at(122), by=BRIDGE_BUILDER)


def test_a_refused_report_is_recorded_on_the_network_with_its_reason(housing: HousingOrganisationApp) -> None:
    household = register_family(housing)
    refusal = RefusedFact(
        reporter=JOBCENTRE,
        fact_kind="referral",
        reason=f"{JOBCENTRE} is not in the network of household {household}",
        reported_at=at(2),
        at=at(2, minutes=1),
    )

    housing.refuse_network_report(command_id=cmd(), household_id=household, refusal=refusal)

    network = housing.repository.get(network_id(household))
    assert isinstance(network, HouseholdNetwork)
    assert network.refused == [refusal]
    picture = housing.network_picture(household)
    assert picture is not None and not picture.is_member(JOBCENTRE)  # a refusal makes no one a member


def ready_to_settle(housing: HousingOrganisationApp, bridge: BridgeBuilderApp) -> UUID:
    """The reference family moved, handed off, acknowledged, visited and meeting every criterion."""
    household, handoff = moved_and_handed_off(housing, given=consents(BRIDGE, JOBCENTRE))
    housing.acknowledge_referral(command_id=cmd(), referral_id=handoff, at=at(91), by=BRIDGE_BUILDER)
    housing.record_follow_up_visit(
        command_id=cmd(), household_id=household, visited_on=date(2026, 9, 10), at=at(101), by=BRIDGE_BUILDER
    )
    for member, kind, name in (
        ("C1", InstitutionKind.SCHOOL, "Ejerslykkeskolen"),
        ("C2", InstitutionKind.DAYCARE, "Børnehuset Solsikken"),
    ):
        enrolment = Enrolment(
            member_id=member, institution_kind=kind, institution=name, starts_on=date(2026, 9, 7)
        )
        housing.record_enrolment(
            command_id=cmd(), household_id=household, enrolment=enrolment, at=at(103), by=BRIDGE_BUILDER
        )
    link_id = bridge.propose_support_link(
        command_id=cmd(),
        household_id=household,
        offer=local_contact(),
        contact_person=True,
        at=at(103),
        by=BRIDGE_BUILDER,
    )
    housing.record_contact_person(
        command_id=cmd(),
        household_id=household,
        link_id=link_id,
        place=ODENSE_C,
        at=at(104),
        by=BRIDGE_BUILDER,
    )
    housing.record_practical_matters_in_order(
        command_id=cmd(),
        household_id=household,
        note="housing benefit granted",
        at=at(105),
        by=BRIDGE_BUILDER,
    )
    housing.record_no_longer_asks_for_help(
        command_id=cmd(), household_id=household, at=at(106), by=BRIDGE_BUILDER
    )
    return household
