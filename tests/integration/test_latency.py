"""Produce→consume latency over the real broker, with the settings the node uses (fetch_max_wait_ms=10)."""

from __future__ import annotations

import statistics
import threading
import time
from uuid import uuid4

import pytest

from adapters.exchange.transport import OutgoingMessage
from adapters.kafka.transport import KafkaPublisher, KafkaSettings, KafkaSubscription

MESSAGES = 200
RATE = 200  # per second


@pytest.mark.kafka
def test_produce_to_consume_latency_over_tansu_is_tens_of_milliseconds(
    kafka_settings: KafkaSettings, topic: str
) -> None:
    subscription = KafkaSubscription(kafka_settings, [topic], group=f"latency-{uuid4().hex[:8]}")
    subscription.poll(0.5)  # set-up (metadata, positions) is not latency
    publisher = KafkaPublisher(kafka_settings)
    received: dict[bytes, float] = {}
    done = threading.Event()

    def consume() -> None:
        deadline = time.monotonic() + 30
        while len(received) < MESSAGES and time.monotonic() < deadline:
            for message in subscription.poll(0.1):
                received[message.value] = time.perf_counter()
        done.set()

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    sent: dict[bytes, float] = {}
    try:
        for i in range(MESSAGES):
            value = str(i).encode()
            sent[value] = time.perf_counter()
            publisher.publish([OutgoingMessage(topic=topic, key=b"k%d" % (i % 5), value=value)])
            time.sleep(max(0.0, 1 / RATE - (time.perf_counter() - sent[value])))
        assert done.wait(30)
    finally:
        publisher.close()
        subscription.close()

    latencies = sorted((received[v] - sent[v]) * 1000 for v in sent)
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"\nproduce→consume over Tansu, {MESSAGES} messages at {RATE}/s: p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )
    assert len(received) == MESSAGES
    assert p50 < 250
