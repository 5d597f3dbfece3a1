"""The household's network between organisations (docs/design.md §4): the owner's picture reaches every
member, members report the steps the owner cannot see, and the owner refuses what a reporter is not
entitled to and tells it so. Five in-memory nodes on one in-process exchange."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from uuid import UUID, uuid4

import pytest

from adapters.eventstore.storage import ShreddingStorage
from adapters.exchange.inprocess import InProcessBroker
from adapters.exchange.key_directory import KeyOwners
from adapters.settings import NodeSettings, OrganisationRole
from coordination.applications.base import NodeApplication
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.network_copies import NetworkCopies
from coordination.applications.roles import BridgeBuilderApp, CivilActorApp, MunicipalDepartmentApp
from coordination.domain.errors import NotPermitted
from coordination.domain.network import HouseholdNetwork, Item, ItemKind, NetworkPicture, Relation
from coordination.domain.referral import ReferralDetails, ReferralKind
from coordination.domain.support_link import SupportKind, SupportOffer
from coordination.domain.values import Actor, Consent, Role
from coordination.projections.household_status import status_from_picture
from ops.node.exchange import Exchange, Node
from tests.application.builders import (
    BRIDGE,
    BRIDGE_BUILDER,
    CIVICA,
    CONSULTANT,
    JOBCENTRE,
    ODENSE_C,
    at,
    cmd,
    local_contact,
    register_family,
    the_move,
)

FAB = "fab"
KVINFO = "kvinfo-mentornetvaerk"
MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
CASEWORKER = Actor(organisation=JOBCENTRE, person="jc-8", role=Role.DEPARTMENT_CASEWORKER)
MENTOR_COORDINATOR = Actor(organisation=KVINFO, person="kv-2", role=Role.CIVIL_ACTOR)
FAB_CONSULTANT = Actor(organisation=FAB, person="fab-1", role=Role.REHOUSING_CONSULTANT)


@contextmanager
def five_nodes() -> Iterator[dict[str, NodeApplication]]:
    """CIVICA (the owner), the bridge builder, the jobcentre, KVINFO and FAB (in no network here)."""
    apps: dict[str, NodeApplication] = {
        CIVICA: HousingOrganisationApp(
            storage=ShreddingStorage(), organisation=CIVICA, env=MEMORY, cpr_secret=b"c" * 32
        ),
        FAB: HousingOrganisationApp(
            storage=ShreddingStorage(), organisation=FAB, env=MEMORY, cpr_secret=b"f" * 32
        ),
        BRIDGE: BridgeBuilderApp(storage=ShreddingStorage(), organisation=BRIDGE, env=MEMORY),
        JOBCENTRE: MunicipalDepartmentApp(storage=ShreddingStorage(), organisation=JOBCENTRE, env=MEMORY),
        KVINFO: CivilActorApp(storage=ShreddingStorage(), organisation=KVINFO, env=MEMORY),
    }
    roles = {
        CIVICA: OrganisationRole.HOUSING_ORGANISATION,
        FAB: OrganisationRole.HOUSING_ORGANISATION,
        BRIDGE: OrganisationRole.BRIDGE_BUILDER,
        JOBCENTRE: OrganisationRole.MUNICIPAL_DEPARTMENT,
        KVINFO: OrganisationRole.CIVIL_ACTOR,
    }
    broker, owners = InProcessBroker(), KeyOwners()
    exchange = Exchange(
        [
            Node(NodeSettings(organisation=org, role=roles[org]), app, broker, key_owners=owners)
            for org, app in apps.items()
        ]
    )
    apps_and_exchange = {**apps}
    try:
        yield apps_and_exchange | {"exchange": exchange}  # type: ignore[dict-item]
    finally:
        exchange.close()
        for app in apps.values():
            app.close()


class Network:
    """The nodes of one test and the reference family's story on them."""

    def __init__(self, nodes: dict[str, object]) -> None:
        self.exchange: Exchange = nodes["exchange"]  # type: ignore[assignment]
        self.civica: HousingOrganisationApp = nodes[CIVICA]  # type: ignore[assignment]
        self.fab: HousingOrganisationApp = nodes[FAB]  # type: ignore[assignment]
        self.bridge: BridgeBuilderApp = nodes[BRIDGE]  # type: ignore[assignment]
        self.jobcentre: MunicipalDepartmentApp = nodes[JOBCENTRE]  # type: ignore[assignment]
        self.kvinfo: CivilActorApp = nodes[KVINFO]  # type: ignore[assignment]
        self.members: list[NetworkCopies] = [self.bridge, self.jobcentre, self.kvinfo]

    def settle(self) -> None:
        self.exchange.settle(max_seconds=20)

    def owners_picture(self, household_id: UUID) -> NetworkPicture:
        picture = self.civica.network_picture(household_id)
        assert picture is not None
        return picture

    def handed_to_the_bridge_builder(self) -> UUID:
        """Registered, referred for bridge building, moved and handed off; the bridge builder acknowledged."""
        household = register_family(self.civica)
        referral = self.civica.refer_household(
            command_id=cmd(),
            household_id=household,
            receiver=BRIDGE,
            kind=ReferralKind.BRIDGE_BUILDING,
            at=at(1),
            by=CONSULTANT,
        )
        self.settle()
        self.bridge.acknowledge_referral(command_id=cmd(), referral_id=referral, at=at(2), by=BRIDGE_BUILDER)
        self.bridge.accept_referral(
            command_id=cmd(), referral_id=referral, assignee="bb-3", at=at(3), by=BRIDGE_BUILDER
        )
        handoff = self.civica.record_move(
            command_id=cmd(),
            household_id=household,
            move=the_move(),
            hand_off_to=BRIDGE,
            at=at(92),
            by=CONSULTANT,
        )
        self.settle()
        assert handoff is not None
        self.bridge.acknowledge_referral(command_id=cmd(), referral_id=handoff, at=at(93), by=BRIDGE_BUILDER)
        self.settle()
        return household

    def referred_to_the_jobcentre(self, household: UUID) -> UUID:
        referral = self.bridge.send_referral(
            command_id=cmd(),
            receiver=JOBCENTRE,
            kind=ReferralKind.JOBCENTRE,
            household_id=household,
            details=ReferralDetails(needed_from=date(2026, 9, 15), place=ODENSE_C),
            consent=Consent(recipient=JOBCENTRE, purpose="jobcentre", given_on=date(2026, 9, 1)),
            at=at(95),
            by=BRIDGE_BUILDER,
        )
        self.settle()
        return referral


@pytest.fixture
def network() -> Iterator[Network]:
    with five_nodes() as nodes:
        yield Network(nodes)  # type: ignore[arg-type]


def test_the_owners_picture_of_the_network_reaches_every_member_and_equals_the_owners(
    network: Network,
) -> None:
    household = network.handed_to_the_bridge_builder()

    owners = network.owners_picture(household)
    assert set(owners.organisations()) == {CIVICA, BRIDGE}
    assert network.bridge.network_copy(household) == owners
    assert owners.household is not None and owners.household.holder.organisation == BRIDGE
    # The status the bridge builder's node answers is the owner's, item for item.
    now = at(100)
    assert status_from_picture(network.bridge.network_copy(household), now, network.bridge.policy) == (  # type: ignore[arg-type]
        status_from_picture(owners, now, network.civica.policy)
    )
    # Organisations outside the network hold no copy.
    for outsider in (network.jobcentre, network.kvinfo, network.fab):
        assert outsider.network_copy(household) is None


def test_the_bridge_builders_referral_to_the_jobcentre_and_its_steps_reach_the_owner_and_every_member(
    network: Network,
) -> None:
    household = network.handed_to_the_bridge_builder()
    referral = network.referred_to_the_jobcentre(household)

    owners = network.owners_picture(household)
    item = next(i for i in owners.items if i.item_id == referral)
    assert (item.kind, item.from_org, item.to_org, item.state, item.open) == (
        ItemKind.REFERRAL,
        BRIDGE,
        JOBCENTRE,
        "sent",
        True,
    )
    assert Relation.REFERRAL_RECEIVER in owners.relations_of(JOBCENTRE)
    assert Relation.REFERRER in owners.relations_of(BRIDGE)
    for member in (network.bridge, network.jobcentre):
        assert member.network_copy(household) == owners

    network.jobcentre.acknowledge_referral(command_id=cmd(), referral_id=referral, at=at(96), by=CASEWORKER)
    network.jobcentre.accept_referral(
        command_id=cmd(), referral_id=referral, assignee="jc-8", at=at(97), by=CASEWORKER
    )
    network.settle()

    owners = network.owners_picture(household)
    accepted = next(i for i in owners.items if i.item_id == referral)
    assert (accepted.state, accepted.acknowledged_at, accepted.accepted_at) == ("accepted", at(96), at(97))
    for member in (network.bridge, network.jobcentre):
        assert member.network_copy(household) == owners

    network.jobcentre.complete_referral(
        command_id=cmd(), referral_id=referral, outcome="in a job-search course", at=at(120), by=CASEWORKER
    )
    network.settle()
    owners = network.owners_picture(household)
    assert referral not in {i.item_id for i in owners.open_items()}
    assert not owners.relations_of(JOBCENTRE) and owners.is_member(JOBCENTRE)  # a past member keeps history
    assert network.jobcentre.network_copy(household) == owners


def test_a_mentor_link_from_kvinfo_joins_it_to_the_network_and_reaches_every_member(network: Network) -> None:
    household = network.handed_to_the_bridge_builder()
    offer = SupportOffer(
        provider=KVINFO, service="Mentor for job search", kind=SupportKind.MENTOR, place=ODENSE_C
    )
    link = network.kvinfo.propose_support_link(
        command_id=cmd(),
        household_id=household,
        offer=offer,
        household_owner=CIVICA,
        at=at(95),
        by=MENTOR_COORDINATOR,
    )
    network.settle()

    owners = network.owners_picture(household)
    proposed = next(i for i in owners.items if i.item_id == link)
    assert (proposed.kind, proposed.subtype, proposed.to_org, proposed.state, proposed.open) == (
        ItemKind.SUPPORT_LINK,
        "mentor",
        KVINFO,
        "proposed",
        True,
    )
    assert Relation.SUPPORT_PROVIDER in owners.relations_of(KVINFO)
    assert network.kvinfo.network_copy(household) == owners == network.bridge.network_copy(household)

    network.kvinfo.activate_support_link(command_id=cmd(), link_id=link, at=at(96), by=MENTOR_COORDINATOR)
    network.settle()
    owners = network.owners_picture(household)
    active = next(i for i in owners.items if i.item_id == link)
    assert (active.state, active.open) == ("active", False)  # ongoing support, not a pending item
    assert network.kvinfo.network_copy(household) == owners == network.bridge.network_copy(household)


def test_an_activated_contact_person_link_is_the_households_contact_person_once_and_ends_with_the_link(
    network: Network,
) -> None:
    household = network.handed_to_the_bridge_builder()
    link = network.bridge.propose_support_link(
        command_id=cmd(),
        household_id=household,
        offer=local_contact(),
        contact_person=True,
        at=at(95),
        by=BRIDGE_BUILDER,
    )
    network.bridge.activate_support_link(command_id=cmd(), link_id=link, at=at(96), by=BRIDGE_BUILDER)
    network.settle()

    assert not _contact_person_gap(network.owners_picture(household))
    household_events = [type(e).__name__ for e in network.civica.events.get(household)]
    assert household_events.count("ContactPersonLinked") == 1
    # No second entry: the link's activation is the contact person (no household fact needed besides).
    assert network.bridge.network_copy(household) == network.owners_picture(household)

    network.bridge.end_support_link(
        command_id=cmd(), link_id=link, reason="moved away", at=at(97), by=BRIDGE_BUILDER
    )
    network.settle()
    assert _contact_person_gap(network.owners_picture(household))
    assert [type(e).__name__ for e in network.civica.events.get(household)].count(
        "ContactPersonUnlinked"
    ) == 1


def _contact_person_gap(picture: NetworkPicture) -> list[str]:
    assert picture.household is not None
    return [gap for gap in picture.household.settlement_gaps if "contact person" in gap]


def test_a_referral_reported_by_an_organisation_outside_the_network_is_refused_recorded_and_shown_back(
    network: Network,
) -> None:
    household = network.handed_to_the_bridge_builder()
    before = network.owners_picture(household)
    # FAB knows the household's id and claims to have sent it to the jobcentre: it is in no relation to it.
    outsider = network.fab.send_referral(
        command_id=cmd(),
        receiver=JOBCENTRE,
        kind=ReferralKind.JOBCENTRE,
        household_id=household,
        details=ReferralDetails(needed_from=date(2026, 9, 15), place=ODENSE_C),
        consent=Consent(recipient=JOBCENTRE, purpose="jobcentre", given_on=date(2026, 9, 1)),
        at=at(95),
        by=FAB_CONSULTANT,
    )
    network.settle()
    # FAB holds no copy of the network, so its node reports nothing and the owner's picture is unchanged.
    assert network.fab.network_copy(household) is None
    assert outsider not in {i.item_id for i in network.owners_picture(household).items}
    assert network.owners_picture(household).members == before.members

    # Had it reported the referral anyway (as its node would with a forged copy), the owner refuses it,
    # records why, and FAB's node shows the refusal.
    reported = Item(
        item_id=outsider,
        kind=ItemKind.REFERRAL,
        subtype="jobcentre",
        from_org=FAB,
        to_org=JOBCENTRE,
        state="sent",
        open=True,
        opened_at=at(95),
        last_step_at=at(95),
    )
    network.civica.apply_network_report(
        command_id=cmd(), household_id=household, item=reported, at=at(95), by=FAB_CONSULTANT
    )
    network.settle()
    assert outsider not in {i.item_id for i in network.owners_picture(household).items}
    assert [(r.reporter, r.reason) for r in network.fab.refused_reports(household)] == [
        (FAB, f"fab is not in the network of household {household}")
    ]


def test_a_step_reported_by_an_organisation_that_did_not_take_it_is_refused_recorded_and_sent_back(
    network: Network,
) -> None:
    household = network.handed_to_the_bridge_builder()
    referral = network.referred_to_the_jobcentre(household)
    # The jobcentre, a member, reports the bridge builder's referral as completed: only its referrer reports it.
    item = next(i for i in network.owners_picture(household).items if i.item_id == referral)
    forged = item.model_copy(update={"state": "completed", "open": False, "last_step_at": at(99)})
    network.civica.apply_network_report(
        command_id=cmd(), household_id=household, item=forged, at=at(99), by=CASEWORKER
    )
    network.settle()

    owners = network.owners_picture(household)
    assert next(i for i in owners.items if i.item_id == referral).state == "sent"
    refused = network.jobcentre.refused_reports(household)
    assert [(r.reporter, r.fact_kind) for r in refused] == [(JOBCENTRE, "referral")]
    assert "jobcenter-odense did not send referral" in refused[0].reason


def test_the_owners_erasure_reaches_every_organisation_in_the_network_which_forgets_its_copy(
    network: Network,
) -> None:
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
    assert all(member.network_copy(household) is not None for member in network.members)

    network.civica.erase_household(
        command_id=cmd(), household_id=household, legal_ground="GDPR art. 17(1)(a)", at=at(200), by=CONSULTANT
    )
    network.settle()

    # KVINFO (through its link) and the jobcentre (referred by the bridge builder, not by CIVICA) were told
    # too, and every member's copy of the network is gone with the household.
    for member in network.members:
        assert member.network_copy(household) is None, member.organisation
    assert sum(node.consumer.stats.parked for node in network.exchange.nodes) == 0


def test_a_member_keeps_the_newest_picture_and_refuses_one_it_is_not_in_or_from_another_owner(
    network: Network,
) -> None:
    keeper = HouseholdNetwork.open(id=uuid4(), household_id=uuid4(), owner=CIVICA, at=at(0))
    first = keeper.picture()
    with pytest.raises(NotPermitted, match="a network it is not in"):
        network.bridge.receive_network_picture(command_id=cmd(), picture=first, at=at(0))

    referral = Item(
        item_id=uuid4(),
        kind=ItemKind.REFERRAL,
        subtype="bridge_building",
        from_org=CIVICA,
        to_org=BRIDGE,
        state="sent",
        open=True,
        opened_at=at(1),
        last_step_at=at(1),
    )
    keeper.note_item(referral, at(1))
    joined = keeper.picture()
    keeper.note_item(referral.model_copy(update={"state": "acknowledged", "last_step_at": at(2)}), at(2))
    newest = keeper.picture()
    network.bridge.receive_network_picture(command_id=cmd(), picture=newest, at=at(2))
    network.bridge.receive_network_picture(command_id=cmd(), picture=joined, at=at(1))  # late and older
    assert network.bridge.network_copy(first.household_id) == newest

    claimed = newest.model_copy(update={"owner": FAB, "version": newest.version + 1})
    with pytest.raises(NotPermitted, match="a household civica owns"):
        network.bridge.receive_network_picture(command_id=cmd(), picture=claimed, at=at(3))
    assert network.bridge.network_copy(first.household_id) == newest
