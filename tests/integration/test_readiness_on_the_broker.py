"""On a real broker (Tansu, started here, so that pausing it touches no other test): /readyz reports a relay
that does not get its messages out, and the consumer's lag is filled from the broker's offsets."""

from __future__ import annotations

import os
import signal
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from adapters.exchange.transport import OutgoingMessage
from adapters.http.app import create_app
from adapters.http.auth import AuthConfig
from adapters.http.health import RELAY_LAG_BOUND, NodeHealth
from adapters.http.node import ApiNode
from adapters.kafka.transport import KafkaPublisher, KafkaSettings, KafkaSubscription, KafkaTransport
from adapters.settings import NodeSettings, OrganisationRole, Store
from adapters.sql.node_db import database_for
from ops.demo.reference_scenario import CIVICA, consultant, the_dwelling
from ops.devservices.tansu import BrokerProcess, running_tansu
from ops.node.bootstrap import build_app
from ops.node.exchange import Node, exchange_figures, exchange_running

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.kafka

BEHIND_S = 3.0  # the test's bound on how long the relay may be behind (production: RELAY_BEHIND_S)


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    with running_tansu(tmp_path) as broker:
        yield broker
        if broker.process.poll() is None:
            os.kill(broker.process.pid, signal.SIGCONT)  # never leave it stopped for the teardown


def _settings(broker: BrokerProcess) -> KafkaSettings:
    # Short timeouts: a publish to the paused broker fails within seconds, and is retried after it.
    return KafkaSettings(
        bootstrap_servers=broker.bootstrap_servers, publish_timeout_s=3.0, request_timeout_ms=3000
    )


def _ready(client: TestClient) -> tuple[float, int, dict[str, object]]:
    started = time.monotonic()
    response = client.get("/readyz")
    return time.monotonic() - started, response.status_code, response.json()


def test_readyz_reports_a_relay_stalled_by_a_paused_broker_and_recovers_after_it(
    own_broker: BrokerProcess, tmp_path: Path
) -> None:
    settings = NodeSettings(
        organisation=CIVICA,
        role=OrganisationRole.HOUSING_ORGANISATION,
        store=Store.SQLITE,
        data_dir=tmp_path,
        kafka_topic_prefix=f"pause{uuid4().hex[:8]}.",
    )
    app = build_app(settings, group_commit=True)
    node = Node(settings, app, KafkaTransport(_settings(own_broker)), poll_timeout=0.05)
    api = ApiNode(
        app=app,
        db=database_for(app.env),
        exchange_figures=lambda: exchange_figures(node),
        exchange_running=lambda: exchange_running(node),
    )
    web = create_app(api, AuthConfig(CIVICA, {}))
    web.state.health = NodeHealth(api, relay_behind_s=BEHIND_S)
    node.start()
    try:
        with TestClient(web) as client:

            def publish_vacancies(count: int) -> None:
                for _ in range(count):
                    app.publish_vacancy(
                        command_id=uuid4(), dwelling=the_dwelling(), at=datetime.now(UTC), by=consultant
                    )

            publish_vacancies(5)
            deadline = time.monotonic() + 30
            # Ready, and the consumer's lag known: in production mode (each node its own process) it comes
            # from the broker, once every partition has been fetched from.
            while (answer := _ready(client))[1] != 200 or "consumer_lag" not in str(answer[2]):
                assert time.monotonic() < deadline, answer
                time.sleep(0.2)
            assert answer[2]["checks"]["exchange"]["consumer_lag"] == 0  # type: ignore[index]

            os.kill(own_broker.process.pid, signal.SIGSTOP)
            try:
                publish_vacancies(RELAY_LAG_BOUND + 50)
                seen: list[tuple[float, int, dict[str, object]]] = []
                deadline = time.monotonic() + BEHIND_S + 15
                while time.monotonic() < deadline:
                    seen.append(_ready(client))
                    if seen[-1][1] == 503:
                        break
                    time.sleep(0.25)
                _, status, body = seen[-1]
                assert status == 503, body
                exchange = body["checks"]["exchange"]  # type: ignore[index]
                assert "relay stalled" in exchange["error"]
                assert exchange["relay_lag"] > RELAY_LAG_BOUND
                assert exchange["relay_behind_s"] > BEHIND_S
                assert max(t for t, _, _ in seen) < 1.0
            finally:
                os.kill(own_broker.process.pid, signal.SIGCONT)
            deadline = time.monotonic() + 40
            while (answer := _ready(client))[1] != 200:
                assert time.monotonic() < deadline, answer
                time.sleep(0.25)
            assert answer[2]["checks"]["exchange"]["relay_lag"] <= RELAY_LAG_BOUND  # type: ignore[index]
    finally:
        node.close()
        app.close()


def test_the_subscriptions_lag_is_what_the_broker_holds_beyond_what_was_read(
    own_broker: BrokerProcess,
) -> None:
    settings = _settings(own_broker)
    topic = f"lag{uuid4().hex[:8]}"
    publisher = KafkaPublisher(settings)
    subscription = KafkaSubscription(settings, [topic], group=f"g{uuid4().hex[:8]}")
    try:
        assert subscription.lag() is None  # nothing fetched yet: unknown, not zero
        publisher.publish(
            [OutgoingMessage(topic=topic, key=f"k{n % 7}".encode(), value=b"x") for n in range(40)]
        )
        read = 0
        deadline = time.monotonic() + 20
        while read < 40:
            assert time.monotonic() < deadline, f"read {read} of 40"
            read += len(subscription.poll(0.5))
            lag = subscription.lag()
            if lag is not None:
                assert lag == 40 - read
        assert subscription.lag() == 0
        publisher.publish([OutgoingMessage(topic=topic, key=b"k", value=b"y") for _ in range(3)])
        deadline = time.monotonic() + 10
        while subscription.lag() == 0 and read == 40:
            assert time.monotonic() < deadline
            read += len(subscription.poll(0.2))
        assert subscription.lag() == 43 - read
    finally:
        subscription.close()
        publisher.close()
