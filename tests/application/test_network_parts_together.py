"""Where the parts of the household's network meet at the owner: a settlement a member reports is held to the
same rule as the owner's own settling (nothing may be open anywhere in the household's network)."""

from collections.abc import Iterator
from datetime import date
from uuid import UUID, uuid4

import pytest

from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp
from coordination.domain.follow_up import FactKind, FactState, HouseholdFact
from coordination.domain.household import Enrolment, Household
from coordination.domain.household_values import InstitutionKind
from coordination.domain.network import ItemKind
from ops.node.exchange import Exchange
from tests.application.builders import (
    BRIDGE,
    BRIDGE_BUILDER,
    CIVICA,
    CONSULTANT,
    ODENSE_C,
    at,
    cmd,
    register_family,
    the_move,
)
from tests.application.three_nodes import three_nodes

Nodes = tuple[HousingOrganisationApp, HousingOrganisationApp, BridgeBuilderApp, Exchange]


@pytest.fixture
def nodes() -> Iterator[Nodes]:
    with three_nodes() as opened:
        yield opened


def _moved_with_every_criterion_met(civica: HousingOrganisationApp) -> UUID:
    """The family moved and handed to the bridge builder (the handoff still open), and every one of the
    household's own settlement criteria met by the consultant."""
    household = register_family(civica)
    civica.record_move(
        command_id=cmd(),
        household_id=household,
        move=the_move(),
        hand_off_to=BRIDGE,
        at=at(100),
        by=CONSULTANT,
    )
    for child, kind in (("C1", InstitutionKind.SCHOOL), ("C2", InstitutionKind.DAYCARE)):
        enrolment = Enrolment(
            member_id=child,
            institution_kind=kind,
            institution="Near the new home",
            starts_on=date(2026, 9, 1),
        )
        civica.record_enrolment(
            command_id=cmd(), household_id=household, enrolment=enrolment, at=at(101), by=CONSULTANT
        )
    civica.record_contact_person(
        command_id=cmd(), household_id=household, link_id=uuid4(), place=ODENSE_C, at=at(101), by=CONSULTANT
    )
    civica.record_practical_matters_in_order(
        command_id=cmd(), household_id=household, note="Rent and benefits in order", at=at(101), by=CONSULTANT
    )
    civica.record_no_longer_asks_for_help(command_id=cmd(), household_id=household, at=at(101), by=CONSULTANT)
    return household


def test_a_settlement_reported_by_the_handoff_receiver_is_refused_while_the_handoff_is_open(
    nodes: Nodes,
) -> None:
    civica, _, bridge, exchange = nodes
    household = _moved_with_every_criterion_met(civica)
    exchange.settle(max_seconds=10)
    picture = civica.network_picture(household)
    assert picture is not None
    assert [(i.kind, i.open) for i in picture.items] == [(ItemKind.HANDOFF, True)]
    assert civica.repository.get(household).settlement_gaps() == []

    bridge.report_household_fact(
        command_id=cmd(),
        household_id=household,
        owner=CIVICA,
        fact=HouseholdFact(kind=FactKind.SETTLED),
        at=at(102),
        by=BRIDGE_BUILDER,
    )
    exchange.settle(max_seconds=10)

    settled: Household = civica.repository.get(household)
    assert settled.settled_at is None
    (answer,) = bridge.reported_facts(household)
    assert answer.state is FactState.REFUSED
    assert answer.reason is not None and "open items: handoff" in answer.reason, answer.reason


def test_after_the_owner_answers_a_reported_fact_every_member_holds_the_owners_version_of_the_network(
    nodes: Nodes,
) -> None:
    """The answer is an event on the network (its version moves), so the picture goes out with it: a
    member's status names the same network_version as the owner's, refused fact or applied."""
    civica, _, bridge, exchange = nodes
    household = _moved_with_every_criterion_met(civica)
    for fact in (HouseholdFact(kind=FactKind.SETTLED), HouseholdFact(kind=FactKind.NO_LONGER_ASKS_FOR_HELP)):
        bridge.report_household_fact(
            command_id=cmd(), household_id=household, owner=CIVICA, fact=fact, at=at(102), by=BRIDGE_BUILDER
        )
        exchange.settle(max_seconds=10)
        owners, copy = civica.network_picture(household), bridge.network_copy(household)
        assert owners is not None and copy is not None
        assert copy.version == owners.version, fact.kind
    assert [f.state for f in bridge.reported_facts(household)] == [FactState.REFUSED, FactState.APPLIED]
