"""The relay: publishes what others need from a node's own stored history (the store is the outbox)."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from typing import Any

import structlog
from eventsourcing.application import Application
from eventsourcing.utils import TopicError, resolve_topic

from adapters.background_loop import BackgroundLoop
from adapters.exchange.envelope import encode, new_traceparent
from adapters.exchange.tables import RelayPositions
from adapters.exchange.transport import OutgoingMessage, Publisher
from coordination.integration.events import Addressed, IntegrationEvent

log = structlog.get_logger()

# From one stored domain event to the integration events others need from it (often none), each on its
# class's topic or addressed to a topic of its own.
ToMessages = Callable[[Any], Sequence[IntegrationEvent | Addressed]]


class Relay:
    """Follows the application's notification log after its durable position and publishes the mapped events.

    Publish first, record the position after: a crash in between publishes those events again with
    the same CloudEvents ids, and consumers recognise them. Never called from a command's save().
    """

    def __init__(
        self,
        app: Application[Any],
        publisher: Publisher,
        to_messages: ToMessages,
        positions: RelayPositions,
        *,
        source: str,
        name: str = "relay",
        poll_interval: float = 0.05,
        batch_size: int = 200,
        record_every: float = 0.1,
        kinds: Collection[type] | None = None,
    ) -> None:
        """`kinds`, when given, are the domain event classes `to_messages` maps: a stored event of any other
        class is passed without being decoded (a receiving node's log is mostly mirrors' receipts)."""
        self.app = app
        self.source = source
        self.name = name
        self.published = 0
        self._publisher = publisher
        self._to_messages = to_messages
        self._positions = positions
        self._batch_size = batch_size
        # Up to where this relay has published (or found nothing to publish), ahead of the durable
        # position: that is written at most every `record_every` seconds while busy, and when idle. A
        # restart publishes again what came after it (the same ids: consumers suppress them); every
        # busy batch writing it was a commit (an fsync) between two publishes.
        self._passed = 0
        # The durable position as this relay last read or wrote it: read once, not before every batch.
        # Only a second relay of the same name (a stale one finishing late) moves it meanwhile; what that
        # one published is then published again here, with the same ids.
        self._durable: int | None = None
        self._kinds = None if kinds is None else frozenset(kinds)
        self._record_every = record_every
        self._recorded_at = float("-inf")
        # When a run last reached the end of the log (time.monotonic()): readiness tells a relay that is
        # behind for a moment from one that does not get its messages out (a broker that takes none).
        self.caught_up_at: float | None = None
        self._loop = BackgroundLoop(f"relay:{name}", self._step, idle_sleep=poll_interval)

    @property
    def position(self) -> int:
        """The notification id up to which everything is published."""
        return max(self._positions.get(self.name), self._passed)

    def lag(self) -> int:
        """How many stored events are not yet published (or found to need no message)."""
        return max(0, (self.app.recorder.max_notification_id() or 0) - self.position)

    def run_once(self, max_events: int = 200) -> int:
        """Publish the messages of up to `max_events` stored events after the position; how many events."""
        if self._durable is None:
            self._durable = self._positions.get(self.name)
        durable = self._durable
        position = max(durable, self._passed)
        notifications = self.app.recorder.select_notifications(start=position + 1, limit=max_events)
        if not notifications:
            self.caught_up_at = time.monotonic()
            if position > durable:
                # Idle now: store how far it got, so the durable position (the lag others read) reaches
                # the end.
                self._record(position)
            return 0
        messages: list[OutgoingMessage] = []
        for notification in notifications:
            if self._passes(notification.topic):
                continue
            messages.extend(self._messages_for(self.app.mapper.to_domain_event(notification)))
        last = notifications[-1].id
        if messages:
            self._publisher.publish(messages)
            if time.monotonic() - self._recorded_at >= self._record_every:
                self._record(last)
        self._passed = last
        self.published += len(messages)
        if len(notifications) < max_events:
            self.caught_up_at = time.monotonic()
        if messages:
            log.info("relay.published", relay=self.name, messages=len(messages), notification_id=last)
        return len(notifications)

    def _passes(self, topic: str) -> bool:
        """Whether a stored event of `topic` certainly maps to no message (so it need not be decoded)."""
        if self._kinds is None:
            return False
        try:
            return resolve_topic(topic) not in self._kinds
        except TopicError:
            return False  # decoding it fails as it always did: the loop's failure handling applies

    def _record(self, position: int) -> None:
        self._positions.set(self.name, position)
        self._durable = max(self._durable or 0, position)
        self._recorded_at = time.monotonic()

    def _messages_for(self, domain_event: Any) -> list[OutgoingMessage]:
        messages = []
        for index, item in enumerate(self._to_messages(domain_event)):
            addressed = item if isinstance(item, Addressed) else Addressed(item, item.topic)
            traceparent = new_traceparent()
            message = encode(
                addressed.event,
                source=self.source,
                originator_id=addressed.subject or domain_event.originator_id,
                originator_version=domain_event.originator_version,
                index=index,
                time=domain_event.timestamp,
                topic=addressed.topic,
                traceparent=traceparent,
            )
            # The trace id travels in the message's traceparent header; the consumer binds the same id.
            with structlog.contextvars.bound_contextvars(trace_id=traceparent.split("-")[1]):
                log.debug(
                    "relay.message", relay=self.name, topic=message.topic, type=addressed.event.event_type
                )
            messages.append(message)
        return messages

    def _step(self) -> bool:
        return self.run_once(self._batch_size) >= self._batch_size

    def wake(self) -> None:
        """Publish now rather than at the next poll (called when the node's own command commits)."""
        self._loop.wake()

    def sleep_when_idle(self, seconds: float) -> None:
        """Poll the log this seldom when idle (something else wakes the relay when events are stored)."""
        self._loop.idle_sleep = seconds

    def start(self) -> None:
        """Publish in a background thread until stopped, retrying (with bounded back-off) after failures."""
        self._durable = None  # read again: another relay of this name may have run meanwhile
        self._loop.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._loop.stop(timeout)
        try:
            if self._passed > self._positions.get(self.name):
                self._record(self._passed)
        except Exception as error:
            # Only a shortcut for the next start, which otherwise publishes those events again.
            log.warning(
                "relay.position_not_recorded", relay=self.name, error=type(error).__name__, exc_info=error
            )

    @property
    def failures(self) -> int:
        return self._loop.failures
