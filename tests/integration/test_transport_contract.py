"""One contract for every transport (in-process, Kafka): ordered per key, resumable, seekable."""

from __future__ import annotations

import time

from adapters.exchange.transport import IncomingMessage, OutgoingMessage, Subscription, next_positions
from tests.integration.conftest import Transport


def consume(subscription: Subscription, count: int, *, within: float = 15.0) -> list[IncomingMessage]:
    """Poll until `count` messages came (or fail after `within` seconds)."""
    found: list[IncomingMessage] = []
    deadline = time.monotonic() + within
    while len(found) < count:
        assert time.monotonic() < deadline, f"only {len(found)} of {count} messages within {within} s"
        found.extend(subscription.poll(0.2))
    return found


def _messages(topic: str, count: int, keys: int = 3) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(
            topic=topic,
            key=f"key-{i % keys}".encode(),
            value=f"message {i}".encode(),
            headers=(("ce_id", f"id-{i}".encode()), ("traceparent", b"t")),
        )
        for i in range(count)
    ]


def test_messages_with_one_key_arrive_in_the_order_published_with_key_headers_and_value(
    transport: Transport, topic: str
) -> None:
    sent = _messages(topic, 30)
    publisher = transport.publisher()
    publisher.publish(sent[:10])
    publisher.publish(sent[10:])

    received = consume(transport.subscribe([topic], "contract"), 30)

    assert sorted(m.value for m in received) == sorted(m.value for m in sent)
    for key in {m.key for m in sent}:
        assert [m.value for m in received if m.key == key] == [m.value for m in sent if m.key == key]
    by_value = {m.value: m for m in received}
    for message in sent:
        got = by_value[message.value]
        assert (got.topic, got.key, got.headers) == (message.topic, message.key, message.headers)
    for partition in {m.partition for m in received}:
        offsets = [m.offset for m in received if m.partition == partition]
        assert offsets == sorted(offsets)
        assert len(set(offsets)) == len(offsets)


def test_a_group_resumes_after_what_it_committed_and_another_group_reads_from_the_beginning(
    transport: Transport, topic: str
) -> None:
    publisher = transport.publisher()
    publisher.publish(_messages(topic, 6, keys=1))
    first = transport.subscribe([topic], "resuming")
    early = consume(first, 6)
    first.commit(next_positions(early[:4]))
    first.close()

    again = consume(transport.subscribe([topic], "resuming"), 2)
    assert [m.value for m in again] == [b"message 4", b"message 5"]
    publisher.publish(_messages(topic, 8, keys=1)[6:])
    assert [m.value for m in consume(transport.subscribe([topic], "other"), 8)][:3] == [
        b"message 0",
        b"message 1",
        b"message 2",
    ]


def test_a_subscription_reads_a_partition_again_from_a_chosen_offset(
    transport: Transport, topic: str
) -> None:
    transport.publisher().publish(_messages(topic, 5, keys=1))
    subscription = transport.subscribe([topic], "seeking")
    read = consume(subscription, 5)
    subscription.seek(topic, read[0].partition, read[2].offset)
    assert [m.value for m in consume(subscription, 3)] == [b"message 2", b"message 3", b"message 4"]


def test_polling_an_empty_topic_returns_nothing_after_about_the_timeout(
    transport: Transport, topic: str
) -> None:
    subscription = transport.subscribe([topic], "idle")
    subscription.poll(0.5)  # a Kafka consumer's first poll may spend its time on set-up
    started = time.monotonic()
    assert subscription.poll(0.3) == []
    assert time.monotonic() - started < 2.0
