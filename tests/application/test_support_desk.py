"""Support links through the bridge builder's and a civil actor's applications on every backend."""

from __future__ import annotations

import pytest

from coordination.applications.roles import BridgeBuilderApp, CivilActorApp
from coordination.domain.errors import NotFound, SupportLinkEnded, SupportLinkNotProposed
from coordination.domain.support_link import SupportKind, SupportOffer
from coordination.domain.values import Actor, Role
from tests.application.builders import BRIDGE, BRIDGE_BUILDER, ODENSE_C, at, cmd, event_names, local_contact

VOLUNTEER = Actor(organisation="red-cross-odense", person="rk-9", role=Role.CIVIL_ACTOR)
HOMEWORK_CAFE = SupportOffer(
    provider="Red Cross", service="homework café", kind=SupportKind.HOMEWORK_CAFE, place=ODENSE_C
)


def test_a_support_link_is_proposed_activated_and_ended(bridge: BridgeBuilderApp) -> None:
    household_id = cmd()

    link_id = bridge.propose_support_link(
        command_id=cmd(),
        household_id=household_id,
        offer=local_contact(),
        contact_person=True,
        at=at(1),
        by=BRIDGE_BUILDER,
    )
    proposed = bridge.support_link(link_id)
    assert (proposed.status, proposed.owner, proposed.household_id) == ("proposed", BRIDGE, household_id)
    assert (proposed.offer, proposed.contact_person) == (local_contact(), True)

    bridge.activate_support_link(command_id=cmd(), link_id=link_id, at=at(2), by=BRIDGE_BUILDER)
    assert bridge.support_link(link_id).status == "active"
    bridge.end_support_link(
        command_id=cmd(), link_id=link_id, reason="the family moved on", at=at(3), by=BRIDGE_BUILDER
    )

    assert bridge.support_link(link_id).status == "ended"
    assert event_names(bridge, link_id) == ["Proposed", "Activated", "Ended"]


def test_a_civil_actor_keeps_its_own_support_links(civil_actor: CivilActorApp) -> None:
    link_id = civil_actor.propose_support_link(
        command_id=cmd(), household_id=cmd(), offer=HOMEWORK_CAFE, at=at(1), by=VOLUNTEER
    )

    assert civil_actor.support_link(link_id).contact_person is False
    assert civil_actor.support_link(link_id).owner == "red-cross-odense"


def test_a_proposal_the_household_turns_down_ends_without_being_active(bridge: BridgeBuilderApp) -> None:
    link_id = bridge.propose_support_link(
        command_id=cmd(), household_id=cmd(), offer=HOMEWORK_CAFE, at=at(1), by=BRIDGE_BUILDER
    )
    bridge.end_support_link(
        command_id=cmd(), link_id=link_id, reason="the family said no", at=at(2), by=BRIDGE_BUILDER
    )

    with pytest.raises(SupportLinkEnded, match="cannot be activated"):
        bridge.activate_support_link(command_id=cmd(), link_id=link_id, at=at(3), by=BRIDGE_BUILDER)
    assert event_names(bridge, link_id) == ["Proposed", "Ended"]


def test_an_active_link_cannot_be_activated_again(bridge: BridgeBuilderApp) -> None:
    link_id = bridge.propose_support_link(
        command_id=cmd(), household_id=cmd(), offer=HOMEWORK_CAFE, at=at(1), by=BRIDGE_BUILDER
    )
    bridge.activate_support_link(command_id=cmd(), link_id=link_id, at=at(2), by=BRIDGE_BUILDER)

    with pytest.raises(SupportLinkNotProposed, match="already active"):
        bridge.activate_support_link(command_id=cmd(), link_id=link_id, at=at(3), by=BRIDGE_BUILDER)


def test_an_unknown_support_link_is_not_found(bridge: BridgeBuilderApp) -> None:
    unknown = cmd()
    with pytest.raises(NotFound, match=f"No support link with id {unknown}"):
        bridge.activate_support_link(command_id=cmd(), link_id=unknown, at=at(1), by=BRIDGE_BUILDER)
