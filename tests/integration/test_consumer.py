"""The consumer applies each message once in effect, parks what it cannot apply, and an operator retries."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
import structlog
import structlog.testing

from adapters.exchange.consumer import Apply, Consumer
from adapters.exchange.envelope import encode
from adapters.exchange.tables import ParkedMessages
from adapters.exchange.transport import OutgoingMessage, Subscription
from adapters.sql.node_db import SqlDatabase
from coordination.integration.received import ReceivedEvent
from tests.exchange_support import SOURCE, CaseNoted, ReceivedLog, run_until_handled
from tests.integration.conftest import Transport

CASE = uuid4()


def _noted(topic: str, n: int, *, case: UUID = CASE, note: str = "a note") -> OutgoingMessage:
    message = encode(
        CaseNoted(case_id=case, n=n, note=note),
        source=SOURCE,
        originator_id=case,
        originator_version=n + 2,
        index=0,
        time=datetime.now(UTC),
    )
    return replace(message, topic=topic)


def _garbage(topic: str) -> OutgoingMessage:
    return OutgoingMessage(
        topic=topic, key=str(CASE).encode(), value=b"\x00 not json", headers=(("x", b"y"),)
    )


def _unknown_type(topic: str) -> OutgoingMessage:
    message = _noted(topic, 99)
    headers = tuple(
        (name, b"dk.rehousing.test.case.unheard.v1" if name == "ce_type" else value)
        for name, value in message.headers
    )
    return replace(message, headers=headers)


def _consumer(
    transport: Transport, topic: str, db: SqlDatabase, apply: Apply | None = None
) -> tuple[Consumer, ReceivedLog]:
    log = ReceivedLog(db)
    subscription = transport.subscribe([topic], f"node-{uuid4().hex[:8]}")
    return Consumer(subscription, apply or log.apply, ParkedMessages(db), name="node"), log


def test_a_malformed_message_and_an_unknown_type_are_parked_and_the_partition_goes_on(
    transport: Transport, topic: str, node_db: SqlDatabase
) -> None:
    sent = [_noted(topic, 0), _noted(topic, 1), _garbage(topic), _unknown_type(topic), _noted(topic, 2)]
    transport.publisher().publish(sent)
    consumer, log = _consumer(transport, topic, node_db)

    run_until_handled(consumer, 5, within=15.0)

    assert [data["n"] for *_, data in log.rows()] == [0, 1, 2]
    assert (consumer.stats.applied, consumer.stats.parked) == (3, 2)
    garbage, unknown = consumer.list_parked()
    assert "not a CloudEvents 1.0" in garbage.reason
    assert garbage.ce_id is None
    assert garbage.message.value == b"\x00 not json"
    assert "unknown integration event type 'dk.rehousing.test.case.unheard.v1'" in unknown.reason
    assert unknown.ce_id == dict(sent[3].headers)["ce_id"].decode()
    assert (unknown.topic, unknown.partition) == (garbage.topic, garbage.partition)
    assert unknown.offset == garbage.offset + 1


def test_a_message_delivered_twice_changes_nothing_the_second_time(
    transport: Transport, topic: str, node_db: SqlDatabase
) -> None:
    once = _noted(topic, 0)
    transport.publisher().publish([once, _noted(topic, 1), once])
    consumer, log = _consumer(transport, topic, node_db)

    run_until_handled(consumer, 3, within=15.0)

    assert [data["n"] for *_, data in log.rows()] == [0, 1]
    assert (consumer.stats.applied, consumer.stats.duplicates) == (2, 1)


def test_the_nodes_own_messages_count_as_applied_without_being_decoded_or_applied_again(
    transport: Transport, topic: str, node_db: SqlDatabase
) -> None:
    theirs = encode(
        CaseNoted(case_id=CASE, n=1, note="theirs"),
        source="urn:other",
        originator_id=CASE,
        originator_version=3,
        index=0,
        time=datetime.now(UTC),
    )
    transport.publisher().publish([_noted(topic, 0), _garbage(topic), replace(theirs, topic=topic)])
    log = ReceivedLog(node_db)
    subscription = transport.subscribe([topic], f"node-{uuid4().hex[:8]}")
    consumer = Consumer(subscription, log.apply, ParkedMessages(node_db), name="node", own_source=SOURCE)

    run_until_handled(consumer, 3, within=15.0)

    assert [data["note"] for *_, data in log.rows()] == ["theirs"]
    assert (consumer.stats.applied, consumer.stats.parked) == (2, 1)


class CommitFails:
    """A consumer process that dies after applying, before its offsets are committed."""

    def __init__(self, subscription: Subscription) -> None:
        self._subscription = subscription

    def __getattr__(self, name: str) -> object:
        return getattr(self._subscription, name)

    def commit(self, positions: dict[tuple[str, int], int]) -> None:
        raise ConnectionError("killed")


def test_messages_redelivered_after_a_crash_before_the_commit_are_suppressed(
    transport: Transport, topic: str, node_db: SqlDatabase
) -> None:
    transport.publisher().publish([_noted(topic, n) for n in range(4)])
    log = ReceivedLog(node_db)
    group = f"node-{uuid4().hex[:8]}"
    dying = Consumer(CommitFails(transport.subscribe([topic], group)), log.apply, ParkedMessages(node_db))  # type: ignore[arg-type]
    with pytest.raises(ConnectionError):
        run_until_handled(dying, 4, within=15.0)
    applied_before = dying.stats.applied

    restarted = Consumer(transport.subscribe([topic], group), log.apply, ParkedMessages(node_db))
    run_until_handled(restarted, 4, within=15.0)

    assert [data["n"] for *_, data in log.rows()] == [0, 1, 2, 3]
    assert restarted.stats.duplicates == applied_before
    assert restarted.stats.applied == 4 - applied_before


def test_a_message_whose_effect_failed_is_parked_and_applies_when_retried(
    transport: Transport, topic: str, node_db: SqlDatabase
) -> None:
    log = ReceivedLog(node_db)
    broken = {"n": 1}

    def apply(received: ReceivedEvent) -> None:
        if isinstance(received.event, CaseNoted) and received.event.n == broken["n"]:
            raise ValueError("the receiving node has a bug")
        log.apply(received)

    transport.publisher().publish([_noted(topic, 0), _noted(topic, 1), _garbage(topic), _noted(topic, 2)])
    consumer, _ = _consumer(transport, topic, node_db, apply)
    run_until_handled(consumer, 4, within=15.0)
    assert [data["n"] for *_, data in log.rows()] == [0, 2]
    parked_effect = consumer.list_parked()[0]
    assert parked_effect.reason == "apply failed: ValueError: the receiving node has a bug"

    assert consumer.retry_parked().still_parked == 2
    assert [p.attempts for p in consumer.list_parked()] == [1, 1]

    broken["n"] = -1
    outcome = consumer.retry_parked()

    assert (outcome.applied, outcome.duplicates, outcome.still_parked) == (1, 0, 1)
    assert [data["n"] for *_, data in log.rows()] == [0, 2, 1]
    assert [p.message.value for p in consumer.list_parked()] == [b"\x00 not json"]


def test_a_failure_of_the_nodes_own_database_is_retried_not_parked(
    transport: Transport, topic: str, node_db: SqlDatabase
) -> None:
    log = ReceivedLog(node_db)
    locked = {"times": 2}

    def apply(received: ReceivedEvent) -> None:
        if locked["times"]:
            locked["times"] -= 1
            raise sqlite3.OperationalError("database is locked")
        log.apply(received)

    transport.publisher().publish([_noted(topic, n) for n in range(3)])
    consumer, _ = _consumer(transport, topic, node_db, apply)
    deadline = time.monotonic() + 15
    while len(log.rows()) < 3:
        assert time.monotonic() < deadline
        with contextlib.suppress(sqlite3.OperationalError):
            consumer.run_once(0.2)

    assert [data["n"] for *_, data in log.rows()] == [0, 1, 2]
    assert consumer.list_parked() == []


def test_the_consumer_logs_positions_and_ids_but_no_message_data(
    transport: Transport, topic: str, node_db: SqlDatabase
) -> None:
    transport.publisher().publish([_noted(topic, 0, note="Sofie Jensen, 0101901234"), _garbage(topic)])
    consumer, _ = _consumer(transport, topic, node_db)
    # Every level captured, whatever logging another test configured: this is about what is logged.
    configured = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with structlog.testing.capture_logs() as logs:
            consumer.start()
            try:
                deadline = time.monotonic() + 15
                while consumer.stats.applied + consumer.stats.parked < 2:
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
            finally:
                consumer.stop()
    finally:
        structlog.configure(**configured)

    events = [entry["event"] for entry in logs]
    assert "consumer.applied" in events
    assert "consumer.parked" in events
    printed = repr(logs)
    assert "Sofie" not in printed
    assert "0101901234" not in printed
    assert "not json" not in printed
