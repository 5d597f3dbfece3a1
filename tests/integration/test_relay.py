"""The relay publishes all that others need from the store, in order per aggregate, through crashes."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application

from adapters.exchange.consumer import Consumer
from adapters.exchange.relay import Relay
from adapters.exchange.tables import ParkedMessages, RelayPositions
from adapters.exchange.transport import OutgoingMessage, Publisher, PublishFailed
from adapters.kafka.transport import KafkaPublisher, KafkaSettings
from adapters.sql.node_db import SqliteDatabase, database_for
from tests.exchange_support import SOURCE, Case, ReceivedLog, case_messages, new_case_app
from tests.integration.conftest import Transport


class Crashed(Exception):
    pass


class PositionsThatCrashOnce(RelayPositions):
    """Dies like a killed process would: after publishing, before the position is recorded."""

    crashed = False

    def set(self, name: str, position: int) -> None:
        if not self.crashed:
            self.crashed = True
            raise Crashed
        super().set(name, position)


class FlakyPublisher:
    """The broker is away for the first `failures` attempts."""

    def __init__(self, publisher: Publisher, failures: int) -> None:
        self._publisher = publisher
        self.failures = failures
        self.attempts = 0

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise PublishFailed("broker unavailable")
        self._publisher.publish(messages)

    def close(self) -> None:
        self._publisher.close()


class OwnTopic:
    """Sends what the relay publishes to this test's own topic: the broker is shared by the whole session."""

    def __init__(self, publisher: Publisher, topic: str) -> None:
        self._publisher = publisher
        self._topic = topic

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        self._publisher.publish([replace(message, topic=self._topic) for message in messages])

    def close(self) -> None:
        self._publisher.close()


@pytest.fixture
def publisher(transport: Transport, topic: str) -> Publisher:
    return OwnTopic(transport.publisher(), topic)


@pytest.fixture
def app(store_env: dict[str, str]) -> Iterator[Application[UUID]]:
    made = new_case_app(store_env)
    yield made
    made.close()


def _store_cases(app: Application[UUID], cases: int = 3, notes: int = 4) -> list[Case]:
    stored = [Case() for _ in range(cases)]
    app.save(*stored)
    for n in range(notes):
        for case in stored:
            case.note(n=n, note=f"note {n}")
            case.remark(remark="stays at home")
            app.save(case)
    return stored


def _drain(relay: Relay) -> None:
    for _ in range(100):
        if relay.run_once(7) == 0:
            return
    raise AssertionError("the relay never caught up")


def _receive(
    consumer: Consumer, log: ReceivedLog, cases: list[Case], count: int, within: float = 15.0
) -> list:
    ids = {str(case.id) for case in cases}
    deadline = time.monotonic() + within
    while True:
        mine = [row for row in log.rows() if row[2] in ids]
        if len(mine) >= count:
            return mine
        assert time.monotonic() < deadline, f"{len(mine)} of {count} messages arrived within {within} s"
        consumer.run_once(0.2)


def _consumer(
    transport: Transport, topic: str, tmp_path: Path, name: str = "node"
) -> tuple[Consumer, ReceivedLog]:
    db = SqliteDatabase(str(tmp_path / f"{name}.sqlite3"))
    log = ReceivedLog(db)
    subscription = transport.subscribe([topic], f"{name}-{uuid4().hex[:8]}")
    return Consumer(subscription, log.apply, ParkedMessages(db), name=name), log


def test_everything_stored_that_others_need_is_published_in_order_per_aggregate(
    app: Application[UUID],
    store_env: dict[str, str],
    transport: Transport,
    publisher: Publisher,
    topic: str,
    tmp_path: Path,
) -> None:
    cases = _store_cases(app)
    positions = RelayPositions(database_for(store_env))
    relay = Relay(app, publisher, case_messages, positions, source=SOURCE)
    _drain(relay)
    consumer, log = _consumer(transport, topic, tmp_path)

    rows = _receive(consumer, log, cases, count=3 * 5)

    for case in cases:
        mine = [(kind, data) for _, kind, subject, data in rows if subject == str(case.id)]
        assert [kind for kind, _ in mine] == ["dk.rehousing.test.case.opened.v1"] + [
            "dk.rehousing.test.case.noted.v1"
        ] * 4
        assert [data["n"] for _, data in mine[1:]] == [0, 1, 2, 3]
    assert all("stays at home" not in str(data) for *_, data in rows)
    assert relay.position == app.recorder.max_notification_id()
    assert relay.lag() == 0
    assert consumer.stats.duplicates == 0


def test_a_relay_told_which_kinds_become_messages_decodes_no_other_and_still_reaches_the_end(
    app: Application[UUID], store_env: dict[str, str], publisher: Publisher
) -> None:
    _store_cases(app, cases=2, notes=2)  # 2 openings, 4 notes, 4 remarks
    decoded: list[type] = []
    to_domain_event = app.mapper.to_domain_event

    def decoding(stored: Any) -> Any:
        decoded.append(type(event := to_domain_event(stored)))
        return event

    app.mapper.to_domain_event = decoding  # type: ignore[method-assign]
    positions = RelayPositions(database_for(store_env))
    relay = Relay(app, publisher, case_messages, positions, source=SOURCE, kinds={Case.Opened, Case.Noted})

    _drain(relay)

    assert sorted(kind.__name__ for kind in set(decoded)) == ["Noted", "Opened"]
    assert relay.published == 2 + 4
    assert relay.position == app.recorder.max_notification_id()


def test_a_new_relay_resumes_from_the_durable_position_and_publishes_nothing_twice(
    app: Application[UUID],
    store_env: dict[str, str],
    transport: Transport,
    publisher: Publisher,
    topic: str,
    tmp_path: Path,
) -> None:
    cases = _store_cases(app, cases=2, notes=2)
    db = database_for(store_env)
    _drain(Relay(app, publisher, case_messages, RelayPositions(db), source=SOURCE))
    cases[0].note(n=2, note="later")
    app.save(cases[0])

    again = Relay(app, publisher, case_messages, RelayPositions(db), source=SOURCE)
    _drain(again)

    assert again.published == 1
    consumer, log = _consumer(transport, topic, tmp_path)
    _receive(consumer, log, cases, count=2 * 3 + 1)
    assert consumer.stats.duplicates == 0


def test_a_relay_killed_after_publishing_publishes_again_with_the_same_ids_and_consumers_suppress_them(
    app: Application[UUID],
    store_env: dict[str, str],
    transport: Transport,
    publisher: Publisher,
    topic: str,
    tmp_path: Path,
) -> None:
    cases = _store_cases(app, cases=2, notes=3)
    db = database_for(store_env)
    killed = Relay(app, publisher, case_messages, PositionsThatCrashOnce(db), source=SOURCE)
    with pytest.raises(Crashed):
        killed.run_once(100)
    assert RelayPositions(db).get("relay") == 0

    restarted = Relay(app, publisher, case_messages, RelayPositions(db), source=SOURCE)
    _drain(restarted)
    consumer, log = _consumer(transport, topic, tmp_path)
    rows = _receive(consumer, log, cases, count=2 * 4)
    deadline = time.monotonic() + 10
    while consumer.stats.applied + consumer.stats.duplicates < 2 * 2 * 4 and time.monotonic() < deadline:
        consumer.run_once(0.2)

    assert restarted.published == 2 * 4
    assert len({ce_id for ce_id, *_ in rows}) == 2 * 4
    mine = {str(case.id) for case in cases}
    assert len([row for row in log.rows() if row[2] in mine]) == 2 * 4
    assert consumer.stats.duplicates >= 2 * 4


def test_while_the_broker_is_away_the_relay_retries_and_loses_nothing(
    app: Application[UUID],
    store_env: dict[str, str],
    transport: Transport,
    publisher: Publisher,
    topic: str,
    tmp_path: Path,
) -> None:
    flaky = FlakyPublisher(publisher, failures=3)
    relay = Relay(app, flaky, case_messages, RelayPositions(database_for(store_env)), source=SOURCE)
    relay.start()
    try:
        cases = _store_cases(app, cases=2, notes=3)
        consumer, log = _consumer(transport, topic, tmp_path)
        rows = _receive(consumer, log, cases, count=2 * 4, within=20)
    finally:
        relay.stop()

    assert relay.failures >= 3
    assert len(rows) == 2 * 4
    assert consumer.stats.duplicates == 0


@pytest.mark.kafka
def test_publishing_to_an_absent_kafka_broker_fails_within_its_timeout_and_keeps_the_position(
    tmp_path: Path,
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = KafkaSettings(
        bootstrap_servers=f"127.0.0.1:{port}", publish_timeout_s=1.0, request_timeout_ms=1000
    )
    positions = RelayPositions(SqliteDatabase(str(tmp_path / "node.sqlite3")))
    app = new_case_app({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    _store_cases(app, cases=1, notes=1)
    relay = Relay(app, KafkaPublisher(settings), case_messages, positions, source=SOURCE)

    started = time.monotonic()
    with pytest.raises(PublishFailed):
        relay.run_once()
    assert time.monotonic() - started < 5
    assert relay.position == 0
