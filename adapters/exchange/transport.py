"""The transport port: how a node publishes messages to topics and follows them, whatever carries them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class OutgoingMessage:
    """A message to publish: messages with one key keep their order (they share a partition)."""

    topic: str
    key: bytes
    value: bytes = field(repr=False)
    headers: Headers = ()


@dataclass(frozen=True)
class IncomingMessage:
    """A message as read from a topic, with where it was read from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    headers: Headers
    value: bytes = field(repr=False)

    def header(self, name: str) -> bytes | None:
        """The last header of that name (a repeated header: the later one wins), or None."""
        found = None
        for key, value in self.headers:
            if key == name:
                found = value
        return found


class PublishFailed(Exception):
    """The transport could not confirm that every message was stored; some may have been, in order."""


class Publisher(Protocol):
    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Return once the transport has stored every message, in the given order per key.

        Raises PublishFailed otherwise; the caller publishes them all again (consumers dedupe).
        """
        ...

    def close(self) -> None: ...


class Subscription(Protocol):
    """Follows some topics for one consumer group; where it resumes is what it last committed."""

    def poll(self, timeout: float) -> list[IncomingMessage]:
        """The next messages (in offset order per partition), waiting up to `timeout` seconds for some."""
        ...

    def commit(self, positions: dict[tuple[str, int], int]) -> None:
        """Record, per (topic, partition), the offset of the NEXT message to read after a restart."""
        ...

    def seek(self, topic: str, partition: int, offset: int) -> None:
        """Read that partition again from `offset` (e.g. after a failure, from the first unfinished one)."""
        ...

    def close(self) -> None: ...


def next_positions(messages: Sequence[IncomingMessage]) -> dict[tuple[str, int], int]:
    """The positions to commit once `messages` are done: one past the last offset per partition."""
    positions: dict[tuple[str, int], int] = {}
    for message in messages:
        where = (message.topic, message.partition)
        positions[where] = max(positions.get(where, 0), message.offset + 1)
    return positions


class Transport(Protocol):
    """What carries a node's messages: makes its publisher and its subscription (Kafka, or in-process)."""

    def publisher(self) -> Publisher: ...

    def subscribe(self, topics: Sequence[str], *, group: str) -> Subscription: ...
