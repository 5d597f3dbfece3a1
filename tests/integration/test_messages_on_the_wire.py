"""Every message on every topic, read with a plain Kafka consumer: a valid CloudEvent, no personal data outside
its data, and a daycare referral carrying only what the allocator needs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from uuid import UUID, uuid4

import pytest
from kafka import KafkaConsumer, TopicPartition

from adapters.eventstore.storage import ShreddingStorage
from adapters.exchange.envelope import decode
from adapters.exchange.inprocess import InProcessBroker
from adapters.exchange.key_directory import ExchangeOpener, InProcessKeyDirectory, KeyOwners
from adapters.exchange.transport import IncomingMessage
from adapters.kafka.transport import KafkaSettings, KafkaTransport
from adapters.settings import NodeSettings
from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.values import Override
from ops.demo.reference_scenario import (
    CHILDREN_AND_YOUTH,
    CIVICA,
    ScenarioIds,
    consultant,
    on,
    play,
    the_dwelling,
    the_family,
)
from ops.node.exchange import Node
from tests.exchange_support import reference_nodes
from tests.integration.conftest import BrokerProcess
from tests.integration.flow_support import FAB, fab_consultant, register

CE_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time", "ce_dataschema")
TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


@pytest.fixture(scope="module")
def wire(kafka_broker: BrokerProcess) -> Iterator[tuple[list[IncomingMessage], ScenarioIds, str, KeyOwners]]:
    """The reference scenario and an offer across organisations played over the broker (in-memory stores);
    every message of the run's topics, read back with a plain consumer."""
    prefix = f"wire{uuid4().hex[:8]}."
    transport = KafkaTransport(KafkaSettings(bootstrap_servers=kafka_broker.bootstrap_servers))
    nodes = reference_nodes(transport, topic_prefix=prefix, poll_timeout=0.05)
    fab = HousingOrganisationApp(
        storage=ShreddingStorage(),
        organisation=FAB,
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        cpr_secret=b"f" * 32,
        group_commit=True,
    )
    assert nodes.exchange is not None
    owners = nodes.exchange.key_owners  # type: ignore[attr-defined]
    nodes.exchange.nodes.append(  # type: ignore[attr-defined]
        Node(NodeSettings(organisation=FAB, kafka_topic_prefix=prefix), fab, transport, key_owners=owners)
    )
    try:
        ids = play(nodes)
        # FAB asks CIVICA to reserve a second vacancy for a FAB household: the requests topics carry it.
        vacancy = nodes.civica.publish_vacancy(
            command_id=uuid4(), dwelling=the_dwelling(), at=on(date(2026, 9, 1)), by=consultant
        )
        nodes.sync()
        household = register(fab, fab_consultant, "FAB-2026-0099")
        fab.request_offer(
            command_id=uuid4(),
            household_id=household,
            vacancy_id=vacancy,
            at=on(date(2026, 9, 2)),
            overrides=[Override(rule="suitable_size", by=fab_consultant, reason="The family chose it")],
            by=fab_consultant,
        )
        nodes.sync()
        yield _read_all(kafka_broker.bootstrap_servers, prefix), ids, str(household), owners
    finally:
        nodes.close()
        fab.close()


def _read_all(bootstrap_servers: str, prefix: str) -> list[IncomingMessage]:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, fetch_max_wait_ms=10
    )
    try:
        topics = sorted(t for t in consumer.topics() if t.startswith(prefix))
        partitions = [
            TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        found: list[IncomingMessage] = []
        quiet = 0
        while quiet < 3:
            batch = consumer.poll(timeout_ms=300)
            quiet = 0 if batch else quiet + 1
            for tp, records in batch.items():
                found.extend(
                    IncomingMessage(
                        topic=tp.topic,
                        partition=tp.partition,
                        offset=r.offset,
                        key=r.key,
                        headers=tuple((k, bytes(v)) for k, v in r.headers),
                        value=r.value,
                    )
                    for r in records
                )
        return found
    finally:
        consumer.close()


@pytest.mark.kafka
def test_every_message_on_every_topic_is_a_binary_mode_cloudevent_keyed_by_its_aggregate(
    wire: tuple[list[IncomingMessage], ScenarioIds, str, KeyOwners],
) -> None:
    messages, _, _, _ = wire
    families = {m.topic.split(".", 1)[1].rsplit(".", 1)[0] for m in messages}
    assert families == {
        "rehousing.referrals",
        "rehousing.vacancies",
        "rehousing.vacancy-requests",
        "rehousing.household-facts",
        "rehousing.placements",  # issue 19: the municipality's picture, keyed by each fact's own id
        "rehousing.municipal-picture",
        "rehousing.network",
    }
    for message in messages:
        headers = dict(message.headers)
        assert all(headers.get(name) for name in CE_HEADERS), sorted(headers)
        assert headers["ce_specversion"] == b"1.0" and headers["content-type"] == b"application/json"
        assert TRACEPARENT.match(headers["traceparent"].decode())
        assert headers["ce_source"].decode().startswith("urn:dk:rehousing:org:")
        assert re.match(r"^dk\.rehousing\.[a-z_.]+\.v\d+$", headers["ce_type"].decode())
        datetime.fromisoformat(headers["ce_time"].decode().replace("Z", "+00:00"))
        UUID(headers["ce_id"].decode())
        assert message.key == headers["ce_subject"] and UUID(message.key.decode())
        received = decode(message)  # the data validates against the type's model
        assert received.event.dataschema() == headers["ce_dataschema"].decode()


@pytest.mark.kafka
def test_no_personal_data_travels_in_topic_names_keys_or_headers(
    wire: tuple[list[IncomingMessage], ScenarioIds, str, KeyOwners],
) -> None:
    messages, ids, fab_household, _ = wire
    family = the_family()
    personal = [
        family["case_reference"],
        "FAB-2026-0099",
        "Kochsgade",
        "Vollsmose",
        "Bøgeparken",
        "arabic",
        str(ids.household),
        fab_household,
    ]
    for message in messages:
        outside_data = " ".join(
            [message.topic, (message.key or b"").decode()]
            + [f"{k}={v.decode(errors='replace')}" for k, v in message.headers]
        )
        for text in personal:
            assert str(text) not in outside_data
        assert not re.search(r"\b[AC][0-9]\b", outside_data), "a household member id outside the data"
        assert not re.search(r"\b\d{6}-?\d{4}\b", outside_data), (
            "something like a CPR number outside the data"
        )


@pytest.mark.kafka
def test_a_daycare_referral_carries_one_child_and_no_needs_size_or_language(
    wire: tuple[list[IncomingMessage], ScenarioIds, str, KeyOwners],
) -> None:
    messages, _, _, owners = wire
    [message] = [
        m
        for m in messages
        if dict(m.headers)["ce_type"] == b"dk.rehousing.referral.sent.v1"
        and json.loads(m.value)["kind"] == "daycare_fast_track"
    ]
    # On the wire the child travels sealed (only the sender's key opens it): the details hold no child.
    on_the_wire = json.loads(message.value)
    assert on_the_wire["details"]["children"] == [] and on_the_wire["sealed"]["owner"] == CIVICA
    assert "details" in on_the_wire["sealed"]["fields"]
    # What the department reads, with CIVICA's key obtained outside Kafka:
    opened = ExchangeOpener(InProcessKeyDirectory(CHILDREN_AND_YOUTH, owners))(decode(message).event)
    daycare = opened.model_dump(mode="json")
    details = daycare["details"]
    assert details["children"] == [{"member_id": "C4", "birth_month": {"year": 2022, "month": 2}}]
    assert details["needs"] == [] and details["household_size"] is None and details["language"] is None
    assert details["needed_from"] == "2026-08-03" and details["place"] == {
        "municipality": "Odense",
        "area": "Odense C",
    }
    assert set(daycare) == {
        "referral_id",
        "referrer",
        "receiver",
        "kind",
        "household_id",
        "details",
        "consent",
        "legal_basis",
        "acknowledge_by",
        "complete_by",
        "at",
        "by",
        "sealed",
    }
    assert daycare["sealed"] is None


def test_the_in_process_transport_carries_the_same_messages_as_kafka() -> None:
    """The embedded default keeps the contract: the same scenario gives the same types on the same topics."""
    broker = InProcessBroker()
    nodes = reference_nodes(broker)
    try:
        play(nodes)
        subscription = broker.subscribe(list(broker._logs), group="reader")
        messages = subscription.poll(0)
    finally:
        nodes.close()
    assert messages and all(decode(m).type.startswith("dk.rehousing.") for m in messages)
