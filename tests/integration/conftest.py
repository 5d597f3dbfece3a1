"""Fixtures for the exchange: a real Kafka-protocol broker (Tansu) for the session, and each transport."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Protocol
from uuid import uuid4

import pytest

with warnings.catch_warnings():
    # kafka-python 3.0.12 loads its protocol schemas with importlib APIs deprecated in 3.11: noise, not ours.
    warnings.simplefilter("ignore", DeprecationWarning)
    import kafka  # noqa: F401

from adapters.exchange.inprocess import InProcessBroker
from adapters.exchange.transport import Publisher, Subscription
from adapters.kafka.transport import KafkaPublisher, KafkaSettings, KafkaSubscription
from adapters.sql.node_db import SqlDatabase, database_for
from ops.devservices.tansu import BrokerProcess, running_tansu


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    """Tansu on a free loopback port (memory storage: it starts empty); stopped by its PID at the end."""
    with running_tansu(tmp_path_factory.mktemp("tansu")) as broker:
        yield broker


class Transport(Protocol):
    """Makes publishers and subscriptions of one kind; closes them all at the end of the test."""

    name: str

    def publisher(self) -> Publisher: ...

    def subscribe(self, topics: list[str], group: str) -> Subscription: ...


class InProcessTransport:
    name = "inprocess"

    def __init__(self) -> None:
        self.broker = InProcessBroker()

    def publisher(self) -> Publisher:
        return self.broker.publisher()

    def subscribe(self, topics: list[str], group: str) -> Subscription:
        return self.broker.subscribe(topics, group=group)

    def close(self) -> None:
        pass


class KafkaTransport:
    name = "kafka"

    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings
        self._opened: list[Publisher | Subscription] = []

    def publisher(self) -> Publisher:
        publisher = KafkaPublisher(self.settings)
        self._opened.append(publisher)
        return publisher

    def subscribe(self, topics: list[str], group: str) -> Subscription:
        subscription = KafkaSubscription(self.settings, topics, group=group)
        self._opened.append(subscription)
        return subscription

    def close(self) -> None:
        for opened in self._opened:
            opened.close()


@pytest.fixture
def kafka_settings(kafka_broker: BrokerProcess) -> KafkaSettings:
    return KafkaSettings(
        bootstrap_servers=kafka_broker.bootstrap_servers, client_id=f"test-{uuid4().hex[:8]}"
    )


@pytest.fixture(params=["inprocess", pytest.param("kafka", marks=pytest.mark.kafka)])
def transport(request: pytest.FixtureRequest) -> Iterator[InProcessTransport | KafkaTransport]:
    """Each transport in turn, with the same contract; the broker is started only for the Kafka one."""
    made: InProcessTransport | KafkaTransport
    if request.param == "inprocess":
        made = InProcessTransport()
    else:
        made = KafkaTransport(request.getfixturevalue("kafka_settings"))
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def topic() -> str:
    """A topic of this test's own: the broker lives for the whole session."""
    return f"test.{uuid4().hex[:12]}"


@pytest.fixture
def node_db(store_env: dict[str, str]) -> Iterator[SqlDatabase]:
    """The node's own database on each backend (a private in-memory SQLite for the in-memory store)."""
    db = database_for(store_env)
    yield db
    if hasattr(db, "close"):
        db.close()
