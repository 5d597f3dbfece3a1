"""The consumer: applies received integration events with exactly-once effect and parks what it cannot."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
import structlog

from adapters.kafka.envelope import DecodeError, ReceivedEvent, decode
from adapters.kafka.loop import BackgroundLoop
from adapters.outbox import ParkedMessage, ParkedMessages
from adapters.transport import IncomingMessage, Subscription, next_positions

log = structlog.get_logger()

# Failures of the node's own database or network: the message is fine, so retry it later, do not park it.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.OperationalError,
    psycopg.OperationalError,
    ConnectionError,
    TimeoutError,
)


class AlreadyApplied(Exception):
    """Raised by an `apply` function for a message whose CloudEvents id it has already applied."""


Apply = Callable[[ReceivedEvent], None]


@dataclass
class ConsumerStats:
    applied: int = 0
    duplicates: int = 0
    parked: int = 0


@dataclass(frozen=True)
class RetryOutcome:
    applied: int
    duplicates: int
    still_parked: int


class Consumer:
    """Reads a subscription and applies each message once in effect.

    Delivery is at least once (offsets are committed after applying) and `apply` must be idempotent by
    the message's id, recording its effect and that id in one transaction and raising AlreadyApplied
    for a repeat; together that is exactly once in effect. A message that cannot be decoded or applied
    is parked with its reason and position, and the partition goes on.
    """

    def __init__(
        self,
        subscription: Subscription,
        apply: Apply,
        parked: ParkedMessages,
        *,
        name: str = "consumer",
        poll_timeout: float = 0.2,
        transient_errors: tuple[type[Exception], ...] = TRANSIENT_ERRORS,
    ) -> None:
        self.name = name
        self.stats = ConsumerStats()
        self._subscription = subscription
        self._apply = apply
        self._parked = parked
        self._poll_timeout = poll_timeout
        self._transient = transient_errors
        self._loop = BackgroundLoop(f"consumer:{name}", self._step, idle_sleep=0.0)

    def run_once(self, timeout: float | None = None) -> int:
        """Poll once and handle what came; the number of messages handled (and committed)."""
        messages = self._subscription.poll(self._poll_timeout if timeout is None else timeout)
        done: list[IncomingMessage] = []
        try:
            for message in messages:
                self._handle(message)
                done.append(message)
        finally:
            if done:
                self._subscription.commit(next_positions(done))
            self._rewind_unfinished(messages[len(done) :])
        return len(done)

    def _rewind_unfinished(self, unfinished: list[IncomingMessage]) -> None:
        # The subscription has already moved past these; read them again from the first one per partition.
        first: dict[tuple[str, int], int] = {}
        for message in unfinished:
            first.setdefault((message.topic, message.partition), message.offset)
        for (topic, partition), offset in first.items():
            self._subscription.seek(topic, partition, offset)

    def _handle(self, message: IncomingMessage) -> None:
        where = {"topic": message.topic, "partition": message.partition, "offset": message.offset}
        try:
            received = decode(message)
        except DecodeError as error:
            self._park(message, error.reason, error.ce_id)
            return
        # The W3C trace id from the publisher's header: its logs and ours name the same trace.
        trace_id = received.traceparent.split("-")[1] if received.traceparent else None
        try:
            with structlog.contextvars.bound_contextvars(
                ce_id=received.id, traceparent=received.traceparent, trace_id=trace_id
            ):
                self._apply(received)
        except AlreadyApplied:
            self.stats.duplicates += 1
            log.info("consumer.duplicate_suppressed", consumer=self.name, ce_id=received.id, **where)
            return
        except self._transient:
            raise
        except Exception as error:
            # The reason goes to the node's own database only; the log gets the error's type.
            self._park(
                message, f"apply failed: {type(error).__name__}: {error}", received.id, type(error).__name__
            )
            return
        self.stats.applied += 1
        log.info(
            "consumer.applied",
            consumer=self.name,
            ce_id=received.id,
            type=received.type,
            trace_id=trace_id,
            **where,
        )

    def _park(
        self, message: IncomingMessage, reason: str, ce_id: str | None, error: str = "DecodeError"
    ) -> None:
        self._parked.park(self.name, message, reason=reason, ce_id=ce_id)
        self.stats.parked += 1
        log.warning(
            "consumer.parked",
            consumer=self.name,
            ce_id=ce_id,
            error=error,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
        )

    # Operator functions

    def list_parked(self) -> list[ParkedMessage]:
        return self._parked.list(self.name)

    def retry_parked(self, parked_id: str | None = None) -> RetryOutcome:
        """Apply parked messages again (all, or one); those that apply now, or were applied since, leave."""
        applied = duplicates = still = 0
        for parked in self._parked.list(self.name):
            if parked_id is not None and parked.id != parked_id:
                continue
            try:
                self._apply(decode(parked.message))
            except AlreadyApplied:
                duplicates += 1
            except self._transient:
                raise
            except DecodeError as error:
                self._parked.failed_again(parked.id, error.reason)
                still += 1
                continue
            except Exception as error:
                self._parked.failed_again(parked.id, f"apply failed: {type(error).__name__}: {error}")
                still += 1
                continue
            else:
                applied += 1
            self._parked.remove(parked.id)
            log.info("consumer.unparked", consumer=self.name, ce_id=parked.ce_id, parked_id=parked.id)
        return RetryOutcome(applied=applied, duplicates=duplicates, still_parked=still)

    # Running in the background

    def _step(self) -> bool:
        return self.run_once() > 0

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._loop.stop(timeout)

    @property
    def failures(self) -> int:
        return self._loop.failures
