"""Erasure as an operation (issue 20, item 3): two people of the owner's data-protection role propose and
confirm, the erasure reaches every organisation in the household's network, and each confirms back to the
owner, which shows the erasure complete only then. Five in-memory nodes on one in-process exchange."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID

import pytest

from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp
from coordination.applications.shredding import erasure_id
from coordination.domain.erasure import ErasureDone
from coordination.domain.errors import HouseholdErased, NotFound, NotPermitted
from coordination.domain.support_link import SupportKind, SupportOffer
from coordination.domain.values import Actor, Role
from coordination.integration.erasure import HouseholdErasureConfirmed
from coordination.integration.outbound import Outbound
from coordination.integration.topics import Topics
from tests.application.builders import (
    BRIDGE,
    CIVICA,
    CONSULTANT,
    JOBCENTRE,
    ODENSE_C,
    at,
    cmd,
    register_family,
)
from tests.application.test_erasure import _referred
from tests.application.test_network_exchange import KVINFO, MENTOR_COORDINATOR, Network, five_nodes

GROUND = "GDPR art. 17(1)(a): the household asked"
PROPOSER = Actor(organisation=CIVICA, person="dpo-1", role=Role.DATA_PROTECTION)
CONFIRMER = Actor(organisation=CIVICA, person="dpo-2", role=Role.DATA_PROTECTION)


@pytest.fixture
def network() -> Iterator[Network]:
    with five_nodes() as nodes:
        yield Network(nodes)  # type: ignore[arg-type]


def _with_everyone(network: Network) -> UUID:
    """The reference family handed to the bridge builder, referred on to the jobcentre, with a KVINFO mentor."""
    household = network.handed_to_the_bridge_builder()
    network.referred_to_the_jobcentre(household)
    offer = SupportOffer(
        provider=KVINFO, service="Mentor for job search", kind=SupportKind.MENTOR, place=ODENSE_C
    )
    network.kvinfo.propose_support_link(
        command_id=cmd(),
        household_id=household,
        offer=offer,
        household_owner=CIVICA,
        at=at(95),
        by=MENTOR_COORDINATOR,
    )
    network.settle()
    return household


def test_an_erasure_proposed_and_confirmed_by_two_people_is_complete_once_every_member_has_confirmed(
    network: Network,
) -> None:
    household = _with_everyone(network)
    civica = network.civica
    civica.propose_household_erasure(
        command_id=cmd(), household_id=household, legal_ground=GROUND, at=at(200), by=PROPOSER
    )
    assert civica.erasure(household).state == "proposed"

    civica.confirm_household_erasure(command_id=cmd(), household_id=household, at=at(201), by=CONFIRMER)

    erasing = civica.erasure(household)
    assert erasing.state == "erasing"
    assert set(erasing.told) == {BRIDGE, JOBCENTRE, KVINFO}
    assert set(erasing.not_confirmed) == {BRIDGE, JOBCENTRE, KVINFO}
    assert erasing.proposed_by == PROPOSER and erasing.confirmed_by == CONFIRMER

    network.settle()

    done = civica.erasure(household)
    assert done.state == "complete", done
    assert done.not_confirmed == ()
    assert set(done.confirmed) == {BRIDGE, JOBCENTRE, KVINFO}
    for member in network.members:
        assert member.network_copy(household) is None, member.organisation
    assert sum(node.consumer.stats.parked for node in network.exchange.nodes) == 0


def test_until_a_member_confirms_the_owner_lists_it_as_not_confirmed(network: Network) -> None:
    household = _with_everyone(network)
    network.civica.propose_household_erasure(
        command_id=cmd(), household_id=household, legal_ground=GROUND, at=at(200), by=PROPOSER
    )
    network.civica.confirm_household_erasure(
        command_id=cmd(), household_id=household, at=at(201), by=CONFIRMER
    )
    # The messages are not delivered yet; the bridge builder's confirmation arrives first.
    network.civica.record_erasure_confirmed(
        command_id=cmd(),
        household_id=household,
        at=at(202),
        by=Actor(organisation=BRIDGE, person="erasure", role=Role.SYSTEM),
    )

    erasure = network.civica.erasure(household)
    assert erasure.state == "erasing"
    assert set(erasure.not_confirmed) == {JOBCENTRE, KVINFO}


def test_the_proposer_cannot_confirm_their_own_proposal(network: Network) -> None:
    household = register_family(network.civica)
    network.civica.propose_household_erasure(
        command_id=cmd(), household_id=household, legal_ground=GROUND, at=at(200), by=PROPOSER
    )
    with pytest.raises(NotPermitted, match="another person"):
        network.civica.confirm_household_erasure(
            command_id=cmd(), household_id=household, at=at(201), by=PROPOSER
        )
    assert network.civica.erasure(household).state == "proposed"


@pytest.mark.parametrize(
    "actor",
    [
        CONSULTANT,  # the owner's own caseworker: not its data-protection role
        Actor(organisation="fab", person="fab-dpo", role=Role.DATA_PROTECTION),  # another organisation's
        Actor(organisation=BRIDGE, person="bb-dpo", role=Role.DATA_PROTECTION),  # a member's
    ],
    ids=["owners-consultant", "other-housing-organisation", "network-member"],
)
def test_only_the_owners_data_protection_role_proposes_or_confirms(network: Network, actor: Actor) -> None:
    household = register_family(network.civica)
    with pytest.raises(NotPermitted):
        network.civica.propose_household_erasure(
            command_id=cmd(), household_id=household, legal_ground=GROUND, at=at(200), by=actor
        )
    network.civica.propose_household_erasure(
        command_id=cmd(), household_id=household, legal_ground=GROUND, at=at(200), by=PROPOSER
    )
    with pytest.raises(NotPermitted):
        network.civica.confirm_household_erasure(
            command_id=cmd(), household_id=household, at=at(201), by=actor
        )


def test_a_confirmation_from_an_organisation_not_told_is_refused(network: Network) -> None:
    household = _with_everyone(network)
    network.civica.propose_household_erasure(
        command_id=cmd(), household_id=household, legal_ground=GROUND, at=at(200), by=PROPOSER
    )
    network.civica.confirm_household_erasure(
        command_id=cmd(), household_id=household, at=at(201), by=CONFIRMER
    )
    stranger = Actor(organisation="fab", person="erasure", role=Role.SYSTEM)
    with pytest.raises(NotPermitted, match="fab was not told"):
        network.civica.record_erasure_confirmed(
            command_id=cmd(), household_id=household, at=at(202), by=stranger
        )


def test_a_confirmation_without_a_proposal_is_not_found_and_a_second_proposal_is_refused(
    network: Network,
) -> None:
    household = register_family(network.civica)
    with pytest.raises(NotFound):
        network.civica.confirm_household_erasure(
            command_id=cmd(), household_id=household, at=at(201), by=CONFIRMER
        )
    network.civica.propose_household_erasure(
        command_id=cmd(), household_id=household, legal_ground=GROUND, at=at(200), by=PROPOSER
    )
    with pytest.raises(HouseholdErased, match="proposed already"):
        network.civica.propose_household_erasure(
            command_id=cmd(), household_id=household, legal_ground=GROUND, at=at(200), by=CONFIRMER
        )


def test_the_retention_timers_proposals_are_in_the_same_list_and_two_people_erase_them(
    network: Network,
) -> None:
    civica: HousingOrganisationApp = network.civica
    household = register_family(civica)
    later = at(0) + timedelta(days=31 * (civica.policy.retention_months + 2))
    assert civica.propose_erasures(now=later) == [household]

    [proposed] = civica.erasures()
    assert proposed.household_id == household and proposed.proposed_by is None
    assert proposed.state == "proposed" and proposed.legal_ground.startswith("retention ended on")

    civica.propose_household_erasure(
        command_id=cmd(), household_id=household, legal_ground=proposed.legal_ground, at=later, by=PROPOSER
    )
    civica.confirm_household_erasure(command_id=cmd(), household_id=household, at=later, by=CONFIRMER)
    [erased] = civica.erasures()
    assert erased.state == "complete" and erased.proposed_by == PROPOSER  # nobody else to tell


@pytest.mark.parametrize("store_env", ["memory", "sqlite"], indirect=True)
def test_a_receiver_without_a_copy_of_the_network_confirms_its_erasure_to_the_owner_once(
    housing: HousingOrganisationApp, bridge: BridgeBuilderApp
) -> None:
    household_id, _ = _referred(housing, bridge)  # the bridge builder holds no picture of the network
    notice = cmd()
    bridge.forget_household(command_id=notice, household_id=household_id, at=at(5), by=CONSULTANT)
    bridge.forget_household(command_id=notice, household_id=household_id, at=at(5), by=CONSULTANT)
    bridge.forget_household(command_id=cmd(), household_id=household_id, at=at(6), by=CONSULTANT)

    done = bridge.repository.get(erasure_id(household_id))
    assert isinstance(done, ErasureDone) and (done.owner, done.version) == (CIVICA, 1)
    (recorded,) = list(bridge.events.get(done.id))
    (message,) = Outbound(bridge, Topics())(recorded)
    assert isinstance(message.event, HouseholdErasureConfirmed)
    assert message.topic == Topics().network(CIVICA)
    assert message.event.by.organisation == BRIDGE
    assert set(message.event.model_dump(exclude={"sealed"})) == {"household_id", "at", "by"}
