"""The reference scenario of docs/design.md §6 through the applications and the exchange, checked by chapter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from adapters.eventstore.storage import ShreddingStorage
from adapters.exchange.inprocess import InProcessBroker
from adapters.exchange.transport import Transport
from adapters.kafka.transport import KafkaSettings, KafkaTransport
from adapters.settings import NodeSettings
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp, CivilActorApp, MunicipalDepartmentApp
from ops.demo.nodes import DEMO_ROLES, on_exchange
from ops.demo.reference_scenario import (
    BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH,
    CIVICA,
    KVINFO,
    Nodes,
    ScenarioIds,
    on,
    play,
)
from ops.devservices.pgcluster import PostgresServer
from tests.conftest import _fresh_schema, postgres_env
from tests.integration.conftest import BrokerProcess

TODAY = date(2026, 11, 22)


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("postgres-kafka", marks=[pytest.mark.postgres, pytest.mark.kafka]),
    ]
)
def nodes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Nodes]:
    """Four organisations, each a node with a store of its own on the chosen backend, on the exchange:
    the in-process transport, or (postgres-kafka) a real Kafka-protocol broker with topics of this test's own."""
    with ExitStack() as stack:
        env_for: Callable[[str], dict[str, str]]
        if request.param == "memory":
            env_for = lambda org: {"PERSISTENCE_MODULE": "eventsourcing.popo"}  # noqa: E731
        elif request.param == "sqlite":
            env_for = lambda org: {  # noqa: E731
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(tmp_path / f"{org}.db"),
            }
        else:
            server: PostgresServer = request.getfixturevalue("postgres_server")

            def env_for(org: str) -> dict[str, str]:
                return postgres_env(server, stack.enter_context(_fresh_schema(server)))

        built = Nodes(
            civica=HousingOrganisationApp(
                storage=ShreddingStorage(), organisation=CIVICA, env=env_for(CIVICA), cpr_secret=b"s" * 32
            ),
            bridge_builder=BridgeBuilderApp(
                storage=ShreddingStorage(), organisation=BRIDGE_BUILDER, env=env_for(BRIDGE_BUILDER)
            ),
            children_and_youth=MunicipalDepartmentApp(
                storage=ShreddingStorage(), organisation=CHILDREN_AND_YOUTH, env=env_for(CHILDREN_AND_YOUTH)
            ),
            kvinfo=CivilActorApp(storage=ShreddingStorage(), organisation=KVINFO, env=env_for(KVINFO)),
        )
        stack.callback(built.close)  # closed before the schemas are dropped
        if request.param == "postgres-kafka":
            broker: BrokerProcess = request.getfixturevalue("kafka_broker")
            prefix = f"e2e{uuid4().hex[:8]}."
            transport: Transport = KafkaTransport(KafkaSettings(bootstrap_servers=broker.bootstrap_servers))
            on_exchange(built, _settings(prefix), transport, poll_timeout=0.05)
        else:
            on_exchange(built, _settings(""), InProcessBroker())
        yield built


def _settings(prefix: str) -> dict[str, NodeSettings]:
    return {
        org: NodeSettings(organisation=org, role=role, kafka_topic_prefix=prefix)
        for org, role in DEMO_ROLES.items()
    }


class Expectations:
    """What must be true after each chapter of the story; every chapter is checked."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, chapter: str, nodes: Nodes, ids: ScenarioIds | None) -> None:
        self.seen.append(chapter)
        getattr(self, chapter.replace(" ", "_").replace(",", ""))(nodes, ids)

    def referred_to_the_bridge_builder(self, nodes: Nodes, ids: ScenarioIds | None) -> None:
        [copy] = _referrals_at(nodes.bridge_builder)
        assert copy.status == "sent" and copy.fhir_status == "requested"
        assert copy.referrer == CIVICA and copy.receiver == BRIDGE_BUILDER
        # Sent Wednesday 10 June: 3 working days later is Monday 15 June, same time of day.
        assert copy.acknowledge_by == on(date(2026, 6, 15))
        assert copy.details.household_size == 5 and len(copy.details.children) == 4
        assert copy.consent is not None and copy.consent.purpose == "bridge_building"
        household = nodes.civica.household(copy.household_id, today=TODAY)
        assert household.holder.organisation == CIVICA and household.holder.role == "rehousing_consultant"
        assert household.phase == "tasks_found"

    def offer_made(self, nodes: Nodes, ids: ScenarioIds | None) -> None:
        [vacancy_id] = {e.aggregate_id for e in _all(nodes.civica) if e.aggregate == "Vacancy"}
        vacancy = nodes.civica.vacancy(vacancy_id)
        assert vacancy.status == "reserved"
        household = nodes.civica.household(_household_id_of(nodes.civica), today=TODAY)
        assert household.live_offer is not None and household.live_offer.vacancy_id == vacancy_id
        assert [o.rule for o in household.live_offer.overrides] == ["suitable_size"]

    def daycare_and_school_referred(self, nodes: Nodes, ids: ScenarioIds | None) -> None:
        at_department = {r.kind: r for r in _referrals_at(nodes.children_and_youth)}
        daycare = at_department["daycare_fast_track"]
        # Only what the allocator needs: one child's birth month, the date needed, the new area.
        assert [(c.member_id, str(c.birth_month)) for c in daycare.details.children] == [("C4", "2022-02")]
        assert daycare.details.needed_from == date(2026, 8, 3)
        assert daycare.details.place is not None and daycare.details.place.area == "Odense C"
        assert daycare.details.needs == [] and daycare.details.household_size is None
        assert daycare.details.language is None
        school = at_department["school_change"]
        assert sorted(c.member_id for c in school.details.children) == ["C1", "C2", "C3"]
        assert "mental_health" not in school.details.needs and "financial_advice" not in school.details.needs

    def moved_handoff_pending(self, nodes: Nodes, ids: ScenarioIds | None) -> None:
        assert ids is not None
        household = nodes.civica.household(ids.household, today=TODAY)
        assert household.phase == "moved" and household.rent_rise
        assert household.holder.organisation == CIVICA  # still CIVICA's until the bridge builder says so
        assert household.pending_handoff is not None
        assert household.pending_handoff.to.organisation == BRIDGE_BUILDER
        assert household.follow_up_due == date(2026, 7, 29)
        assert nodes.bridge_builder.referral(ids.handoff_referral).status == "sent"
        assert nodes.civica.vacancy(ids.vacancy).status == "let"
        # The daycare referral was answered in four days, within the fast track.
        assert nodes.civica.referral(ids.daycare_referral).status == "completed"

    def handoff_acknowledged(self, nodes: Nodes, ids: ScenarioIds | None) -> None:
        assert ids is not None
        household = nodes.civica.household(ids.household, today=TODAY)
        assert household.holder.organisation == BRIDGE_BUILDER and household.holder.role == "bridge_builder"
        assert household.pending_handoff is None
        for node in (nodes.civica, nodes.bridge_builder):
            handoff = node.referral(ids.handoff_referral)
            assert handoff.status == "completed"  # the new holder's acknowledgement completes a handoff
            assert handoff.acknowledged_at - handoff.sent_at == on(date(2026, 7, 16), 9) - on(
                date(2026, 7, 15), 16
            )

    def support_linked(self, nodes: Nodes, ids: ScenarioIds | None) -> None:
        assert ids is not None
        household = nodes.civica.household(ids.household, today=TODAY)
        gaps = " ".join(household.settlement_gaps).lower()
        assert "practical" in gaps and "help" in gaps
        assert "contact" not in gaps and "enrol" not in gaps
        links = [nodes.bridge_builder.support_link(i) for i in ids.support_links[:4] + ids.support_links[5:]]
        assert all(link.status == "active" for link in links)
        assert nodes.kvinfo.support_link(ids.support_links[4]).offer.kind == "mentor"

    def settled(self, nodes: Nodes, ids: ScenarioIds | None) -> None:
        assert ids is not None
        household = nodes.civica.household(ids.household, today=TODAY)
        assert household.phase == "settled" and household.settlement_gaps == []
        assert household.holder.organisation == BRIDGE_BUILDER
        for node in (nodes.civica, nodes.bridge_builder):
            assert node.referral(ids.bridge_referral).status == "completed"
        # Every loop closed: nothing is open in the family's network.
        picture = nodes.civica.network_picture(ids.household)
        assert picture is not None and picture.open_items() == []


def _all(node):  # type: ignore[no-untyped-def]
    return node.history(_household_id_of(node))


def _household_id_of(node):  # type: ignore[no-untyped-def]
    return next(r.household_id for r in _referrals_at(node))


def _referrals_at(node):  # type: ignore[no-untyped-def]
    """Every referral in a node's store, by reading its log (the read models come with issue 4)."""
    ids = []
    position = 0
    while page := node.recorder.select_notifications(start=position, limit=100, inclusive_of_start=False):
        for notification in page:
            position = notification.id
            if notification.topic.endswith("Referral.Sent"):
                ids.append(notification.originator_id)
    return [node.referral(i) for i in ids]


def test_the_reference_family_is_carried_from_vollsmose_to_settled_in_odense_c(nodes: Nodes) -> None:
    expectations = Expectations()
    ids = play(nodes, checkpoint=expectations)

    assert expectations.seen == [
        "referred to the bridge builder",
        "offer made",
        "daycare and school referred",
        "moved, handoff pending",
        "handoff acknowledged",
        "support linked",
        "settled",
    ]
    # The whole history is retrievable at the household's node, in the order it was recorded.
    history = nodes.civica.history(ids.household)
    events = [(entry.aggregate, entry.event) for entry in history]
    # The bridge referral is completed before the household is settled (settling waits for open items).
    assert events[0] == ("Household", "Registered") and events[-1] == ("Household", "Settled")
    bridge_done = next(
        e.position for e in history if (e.aggregate_id, e.event) == (ids.bridge_referral, "Completed")
    )
    assert bridge_done < history[-1].position
    assert [e for e in events if e[0] == "Household"][-1] == ("Household", "Settled")
    assert {a for a, _ in events} == {"Household", "Referral", "Vacancy"}
    assert [entry.position for entry in history] == sorted(entry.position for entry in history)
    handoff_ack = next(e for e in history if e.event == "HandoffAcknowledged")
    assert (handoff_ack.organisation, handoff_ack.person, handoff_ack.role) == (
        BRIDGE_BUILDER,
        "bb-anna",
        "bridge_builder",
    )
    assert all(isinstance(entry.at, datetime) for entry in history)


def test_playing_the_scenario_twice_on_the_same_stores_changes_nothing(nodes: Nodes) -> None:
    first = play(nodes)
    counts = [node.recorder.max_notification_id() for node in nodes.all()]
    again = play(nodes)
    assert again == first
    assert [node.recorder.max_notification_id() for node in nodes.all()] == counts
