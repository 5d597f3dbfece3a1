"""Replicas of one node on the real broker (Tansu): their subscriptions share the organisation's partitions
through its consumer group, each partition read by one of them, and what one applied is not read again by
the other when a partition moves."""

from __future__ import annotations

import time
from uuid import uuid4

import pytest

from adapters.exchange.transport import IncomingMessage, OutgoingMessage, next_positions
from adapters.kafka.group import GroupSubscription
from adapters.kafka.transport import KafkaPublisher, KafkaSettings

pytestmark = pytest.mark.kafka


def _read(
    subscriptions: list[GroupSubscription], seen: dict[int, list[IncomingMessage]], until: float
) -> None:
    """Poll each replica in turn, committing what it read (as the consumer does once applied)."""
    for number, subscription in enumerate(subscriptions):
        found = subscription.poll(0.2)
        if found:
            seen.setdefault(number, []).extend(found)
            subscription.commit(next_positions(found))
    if time.monotonic() > until:
        raise AssertionError("the replicas did not share the partitions in time")


def test_two_replicas_of_a_node_read_disjoint_shares_of_its_partitions_and_every_message_once(
    kafka_settings: KafkaSettings, topic: str
) -> None:
    group = f"test.coordination.{uuid4().hex[:8]}"
    publisher = KafkaPublisher(kafka_settings)
    first = GroupSubscription(kafka_settings, [topic], group=group)
    second = GroupSubscription(kafka_settings, [topic], group=group)
    replicas = [first, second]
    try:
        seen: dict[int, list[IncomingMessage]] = {}
        until = time.monotonic() + 60  # Tansu's group join takes about half the 6 s session timeout
        while not (first._consumer.assignment() and second._consumer.assignment()):
            _read(replicas, seen, until)
        shares = [{tp.partition for tp in r._consumer.assignment()} for r in replicas]
        assert not shares[0] & shares[1] and shares[0] | shares[1] == {0, 1, 2}
        publisher.publish(
            [OutgoingMessage(topic, key=f"household-{n}".encode(), value=str(n).encode()) for n in range(60)]
        )
        while sum(len(found) for found in seen.values()) < 60:
            _read(replicas, seen, until)
        time.sleep(0.5)
        _read(replicas, seen, until)
        values = sorted(int(m.value) for found in seen.values() for m in found)
        assert values == list(range(60)), "every message read once, by one replica"
        assert all(seen.get(n) for n in range(2)), "both replicas read their share"
        # One replica leaves: the other gets its partitions, and reads nothing the first had committed.
        first.close()
        replicas = [second]
        while {tp.partition for tp in second._consumer.assignment()} != {0, 1, 2}:
            _read(replicas, seen, until)
        publisher.publish([OutgoingMessage(topic, key=b"after", value=b"60")])
        while sum(len(found) for found in seen.values()) < 61:
            _read(replicas, seen, until)
        assert sorted(int(m.value) for found in seen.values() for m in found) == list(range(61))
    finally:
        for subscription in (first, second):
            subscription.close()
        publisher.close()
