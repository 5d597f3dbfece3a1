"""The in-process transport: topics as in-memory partitioned logs, for the embedded default (no server)."""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Iterable, Sequence

from adapters.exchange.transport import IncomingMessage, OutgoingMessage


class InProcessBroker:
    """Partitioned, append-only topic logs with committed offsets per consumer group; thread-safe.

    Like Kafka: a key always goes to the same partition (so one aggregate's messages stay in order),
    and a group resumes from what it committed. Unlike Kafka: nothing survives the process.
    """

    def __init__(self, *, partitions: int = 3) -> None:
        self.partitions = partitions
        self._logs: dict[str, list[list[IncomingMessage]]] = {}
        self._committed: dict[tuple[str, str, int], int] = {}
        self._changed = threading.Condition()

    def publisher(self) -> InProcessPublisher:
        return InProcessPublisher(self)

    def subscribe(self, topics: Iterable[str], *, group: str) -> InProcessSubscription:
        return InProcessSubscription(self, list(topics), group)

    def ensure_topics(self, topics: Iterable[str]) -> None:
        with self._changed:
            for topic in topics:
                self._log(topic)

    def append(self, messages: Sequence[OutgoingMessage]) -> None:
        with self._changed:
            for message in messages:
                partitions = self._log(message.topic)
                number = zlib.crc32(message.key) % len(partitions)
                log = partitions[number]
                log.append(
                    IncomingMessage(
                        topic=message.topic,
                        partition=number,
                        offset=len(log),
                        key=message.key,
                        headers=tuple(message.headers),
                        value=message.value,
                    )
                )
            self._changed.notify_all()

    def _log(self, topic: str) -> list[list[IncomingMessage]]:
        if topic not in self._logs:
            self._logs[topic] = [[] for _ in range(self.partitions)]
        return self._logs[topic]


class InProcessPublisher:
    def __init__(self, broker: InProcessBroker) -> None:
        self._broker = broker

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        self._broker.append(messages)

    def close(self) -> None:
        pass


class InProcessSubscription:
    def __init__(
        self, broker: InProcessBroker, topics: list[str], group: str, *, max_records: int = 500
    ) -> None:
        self._broker = broker
        self._topics = topics
        self._group = group
        self._max_records = max_records
        self._positions: dict[tuple[str, int], int] = {}
        broker.ensure_topics(topics)

    def poll(self, timeout: float) -> list[IncomingMessage]:
        deadline = time.monotonic() + timeout
        broker = self._broker
        with broker._changed:
            while True:
                found = self._take()
                remaining = deadline - time.monotonic()
                if found or remaining <= 0:
                    return found
                broker._changed.wait(remaining)

    def _take(self) -> list[IncomingMessage]:
        found: list[IncomingMessage] = []
        for topic in self._topics:
            for number, log in enumerate(self._broker._logs[topic]):
                where = (topic, number)
                if where not in self._positions:
                    self._positions[where] = self._broker._committed.get((self._group, topic, number), 0)
                start = self._positions[where]
                batch = log[start : start + self._max_records - len(found)]
                self._positions[where] = start + len(batch)
                found.extend(batch)
        return found

    def commit(self, positions: dict[tuple[str, int], int]) -> None:
        with self._broker._changed:
            for (topic, partition), offset in positions.items():
                self._broker._committed[(self._group, topic, partition)] = offset

    def seek(self, topic: str, partition: int, offset: int) -> None:
        with self._broker._changed:
            self._positions[(topic, partition)] = offset

    def close(self) -> None:
        pass
