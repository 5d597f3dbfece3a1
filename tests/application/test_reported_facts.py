"""Facts reported about a household another organisation owns, between in-process nodes: the owner applies
what the reporter's relation entitles it to, refuses the rest with the reason (recorded on the household's
network, never parked), and the reporter's record shows each fact's state from the owner's answer."""

from collections.abc import Iterator
from datetime import date
from uuid import UUID

import pytest

from adapters.exchange.envelope import message_id
from coordination.applications.base import NodeApplication
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.network import network_id
from coordination.applications.roles import BridgeBuilderApp
from coordination.domain.follow_up import FactKind, FactState, HouseholdFact
from coordination.domain.network import HouseholdNetwork
from coordination.domain.values import ReferralKind
from coordination.integration.inbound import Inbound
from coordination.integration.outbound import Outbound
from coordination.integration.received import AlreadyApplied, ReceivedEvent
from coordination.integration.topics import Topics, org_source
from ops.node.exchange import Exchange
from tests.application.builders import (
    BRIDGE,
    BRIDGE_BUILDER,
    CIVICA,
    CONSULTANT,
    at,
    cmd,
    event_names,
    register_family,
    the_move,
)
from tests.application.three_nodes import three_nodes

Nodes = tuple[HousingOrganisationApp, HousingOrganisationApp, BridgeBuilderApp, Exchange]
NO_LONGER_ASKS = HouseholdFact(kind=FactKind.NO_LONGER_ASKS_FOR_HELP)
VISIT = HouseholdFact(kind=FactKind.FOLLOW_UP_VISIT_DONE, visited_on=date(2026, 9, 20))


@pytest.fixture
def nodes() -> Iterator[Nodes]:
    with three_nodes() as opened:
        yield opened


def _report(bridge: BridgeBuilderApp, household: UUID, fact: HouseholdFact, days: float = 120) -> UUID:
    return bridge.report_household_fact(
        command_id=cmd(), household_id=household, owner=CIVICA, fact=fact, at=at(days), by=BRIDGE_BUILDER
    )


def _network(civica: HousingOrganisationApp, household: UUID) -> HouseholdNetwork:
    network = civica.repository.get(network_id(household))
    assert isinstance(network, HouseholdNetwork)
    return network


def _handed_to_the_bridge(civica: HousingOrganisationApp, exchange: Exchange) -> UUID:
    household = register_family(civica)
    civica.record_move(
        command_id=cmd(),
        household_id=household,
        move=the_move(),
        hand_off_to=BRIDGE,
        at=at(100),
        by=CONSULTANT,
    )
    exchange.settle(max_seconds=10)
    return household


def test_a_fact_from_an_organisation_outside_the_households_network_is_refused_recorded_and_answered(
    nodes: Nodes,
) -> None:
    civica, _, bridge, exchange = nodes
    household = register_family(civica)
    exchange.settle(max_seconds=10)

    fact_id = _report(bridge, household, NO_LONGER_ASKS)  # the application, past any HTTP edge
    exchange.settle(max_seconds=10)

    assert "NoLongerAsksForHelp" not in event_names(civica, household)
    [refusal] = _network(civica, household).refused
    assert (refusal.reporter, refusal.fact_kind, refusal.fact_id) == (
        BRIDGE,
        "no_longer_asks_for_help",
        fact_id,
    )
    assert refusal.reason.startswith(f"{BRIDGE} is not in this household's network")
    [reported] = bridge.reported_facts(household)
    assert (reported.fact_id, reported.state) == (fact_id, FactState.REFUSED)
    assert reported.shown == f"refused: {refusal.reason}"
    assert sum(node.consumer.stats.parked for node in exchange.nodes) == 0


def test_the_receiver_of_the_handoff_reports_the_follow_up_visit_and_the_owner_applies_it_and_says_so(
    nodes: Nodes,
) -> None:
    civica, _, bridge, exchange = nodes
    household = _handed_to_the_bridge(civica, exchange)

    fact_id = _report(bridge, household, VISIT)
    assert [f.state for f in bridge.reported_facts(household)] == [FactState.REPORTED]
    exchange.settle(max_seconds=10)

    assert "FollowUpVisitDone" in event_names(civica, household)
    network = _network(civica, household)
    assert [a.fact_id for a in network.applied] == [fact_id]
    assert network.refused == []
    [reported] = bridge.reported_facts(household)
    assert (reported.fact_id, reported.shown) == (fact_id, "applied")


def test_a_fact_the_household_refuses_is_refused_with_the_households_reason_not_parked(nodes: Nodes) -> None:
    civica, _, bridge, exchange = nodes
    household = register_family(civica)
    # An open bridge-building referral entitles the bridge builder to report the visit, but there was no move.
    civica.refer_household(
        command_id=cmd(),
        household_id=household,
        receiver=BRIDGE,
        kind=ReferralKind.BRIDGE_BUILDING,
        at=at(1),
        by=CONSULTANT,
    )
    exchange.settle(max_seconds=10)

    _report(bridge, household, VISIT)
    exchange.settle(max_seconds=10)

    assert "FollowUpVisitDone" not in event_names(civica, household)
    [refusal] = _network(civica, household).refused
    assert "has not moved" in refusal.reason
    [reported] = bridge.reported_facts(household)
    assert reported.state is FactState.REFUSED and reported.reason == refusal.reason
    assert sum(node.consumer.stats.parked for node in exchange.nodes) == 0


def _deliver_again(sender: NodeApplication, receiver: NodeApplication) -> int:
    """Every message `sender` published to `receiver`, delivered once more under its first id; how many
    the receiver found it had applied already."""
    source = org_source(sender.organisation)
    repeats = 0
    for notification in sender.recorder.select_notifications(start=1, limit=10_000):
        stored = sender.mapper.to_domain_event(notification)
        for index, addressed in enumerate(Outbound(sender, Topics())(stored)):
            if not addressed.topic.endswith(receiver.organisation):
                continue
            ce_id = message_id(source, stored.originator_id, stored.originator_version, index)
            received = ReceivedEvent(
                id=ce_id,
                source=source,
                type=addressed.event.event_type,
                subject=str(stored.originator_id),
                time=at(130),
                traceparent=None,
                event=addressed.event,
            )
            with pytest.raises(AlreadyApplied):
                Inbound(receiver)(received)
            repeats += 1
    return repeats


def test_a_redelivered_report_and_a_redelivered_answer_change_nothing(nodes: Nodes) -> None:
    civica, _, bridge, exchange = nodes
    household = register_family(civica)
    exchange.settle(max_seconds=10)
    _report(bridge, household, NO_LONGER_ASKS)
    exchange.settle(max_seconds=10)
    before = [app.recorder.max_notification_id() for app in (civica, bridge)]

    assert _deliver_again(bridge, civica) == 1  # the report
    assert _deliver_again(civica, bridge) == 1  # the owner's answer

    assert [app.recorder.max_notification_id() for app in (civica, bridge)] == before
    assert len(_network(civica, household).refused) == 1
    assert [f.state for f in bridge.reported_facts(household)] == [FactState.REFUSED]
