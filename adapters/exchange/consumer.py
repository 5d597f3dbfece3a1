"""The consumer: applies received integration events with exactly-once effect and parks what it cannot."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from enum import Enum
from uuid import UUID

import structlog

from adapters.background_loop import BackgroundLoop
from adapters.exchange.envelope import DecodeError, decode
from adapters.exchange.tables import ParkedMessage, ParkedMessages
from adapters.exchange.transport import IncomingMessage, Subscription, next_positions
from coordination.integration.received import AlreadyApplied, ReceivedEvent
from coordination.transient import is_transient

log = structlog.get_logger()


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


class Outcome(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    PARKED = "parked"


@dataclass
class _Item:
    """One polled message: decoded (or why not), and what became of it once handled (None: unfinished)."""

    message: IncomingMessage
    received: ReceivedEvent | None = None
    ce_id: str | None = None
    outcome: Outcome | None = None
    reason: str = ""
    error: str = "DecodeError"

    @classmethod
    def decoded(cls, message: IncomingMessage, own_source: bytes | None = None) -> _Item:
        if own_source is not None and message.header("ce_source") == own_source:
            # The node's own message on a topic it shares: already in its store, nothing to decode or do.
            ce_id = (message.header("ce_id") or b"").decode("utf-8", errors="replace")
            return cls(message, ce_id=ce_id, outcome=Outcome.APPLIED)
        try:
            received = decode(message)
        except DecodeError as error:
            return cls(message, ce_id=error.ce_id, outcome=Outcome.PARKED, reason=error.reason)
        return cls(message, received, received.id)


def _lanes(items: list[_Item]) -> list[list[_Item]]:
    """Messages in lanes, each in offset order: two messages that share their key (the aggregate the sender
    keyed them by) or any id in their data (what they may change here) are in the same lane."""
    parent: dict[object, object] = {}

    def root(name: object) -> object:
        while parent.setdefault(name, name) != name:
            parent[name] = parent[parent[name]]  # type: ignore[index]
            name = parent[name]
        return name

    names: list[list[object]] = []
    for item in items:
        assert item.received is not None
        event = item.received.event
        found: list[object] = [("key", item.message.key)]
        found += [value for value in vars(event).values() if isinstance(value, UUID)]
        names.append(found)
        first = root(found[0])
        for name in found[1:]:
            parent[root(name)] = first
    lanes: dict[object, list[_Item]] = {}
    for item, found in zip(items, names, strict=True):
        lanes.setdefault(root(found[0]), []).append(item)
    return list(lanes.values())


class Consumer:
    """Reads a subscription and applies each message once in effect.

    Delivery is at least once (offsets are committed after applying) and `apply` must be idempotent by
    the message's id, recording its effect and that id in one transaction and raising AlreadyApplied
    for a repeat; together that is exactly once in effect. A message that cannot be decoded or applied
    is parked with its reason and position, and the partition goes on.

    With `concurrency` above 1 a poll's messages are applied in lanes on that many threads: messages
    that share their key or any id in their data share a lane and apply one after another in offset
    order; different lanes apply at once, so their commands' saves can share store transactions (the
    application's group commit).
    """

    def __init__(
        self,
        subscription: Subscription,
        apply: Apply,
        parked: ParkedMessages,
        *,
        name: str = "consumer",
        poll_timeout: float = 0.2,
        concurrency: int = 1,
        own_source: str | None = None,
    ) -> None:
        """Messages whose CloudEvents source is `own_source` (the node's own, read back from a topic it
        shares) count as applied without being decoded or passed to `apply`."""
        self.name = name
        self.stats = ConsumerStats()
        self._subscription = subscription
        self._apply = apply
        self._parked = parked
        self._poll_timeout = poll_timeout
        self._concurrency = concurrency
        self._own_source = None if own_source is None else own_source.encode()
        self._workers: ThreadPoolExecutor | None = None
        self._loop = BackgroundLoop(f"consumer:{name}", self._step, idle_sleep=0.0)

    def run_once(self, timeout: float | None = None) -> int:
        """Poll once and handle what came; the number of messages handled (and committed)."""
        messages = self._subscription.poll(self._poll_timeout if timeout is None else timeout)
        if not messages:
            return 0
        items = [_Item.decoded(message, self._own_source) for message in messages]
        failure = self._apply_in_lanes(items)
        done: list[IncomingMessage] = []
        try:
            self._record_in_order(items, done)
        finally:
            if done:
                self._subscription.commit(next_positions(done))
            finished = {id(message) for message in done}
            self._rewind_unfinished([message for message in messages if id(message) not in finished])
        if failure is not None:
            raise failure
        return len(done)

    def _apply_in_lanes(self, items: list[_Item]) -> Exception | None:
        """Apply every decoded message; the first transient failure, whose lane stopped there."""
        todo = [item for item in items if item.received is not None]
        lanes = _lanes(todo) if self._concurrency > 1 else [todo]
        if len(lanes) <= 1:
            return self._apply_lane(todo)
        if self._workers is None:
            self._workers = ThreadPoolExecutor(self._concurrency, thread_name_prefix=f"consumer:{self.name}")
        # Each lane in a copy of this thread's context, so its logs carry what the caller bound.
        running = [
            self._workers.submit(contextvars.copy_context().run, self._apply_lane, lane) for lane in lanes
        ]
        wait(running)  # every lane finished before anything is committed or read again
        failures = [future.result() for future in running]
        return next((failure for failure in failures if failure is not None), None)

    def _apply_lane(self, lane: list[_Item]) -> Exception | None:
        for item in lane:
            try:
                self._apply_one(item)
            except Exception as error:
                if is_transient(error):
                    return error
                raise
        return None

    def _apply_one(self, item: _Item) -> None:
        received = item.received
        assert received is not None
        try:
            with structlog.contextvars.bound_contextvars(
                ce_id=received.id, traceparent=received.traceparent, trace_id=received.trace_id
            ):
                self._apply(received)
        except AlreadyApplied:
            item.outcome = Outcome.DUPLICATE
        except Exception as error:
            if is_transient(error):
                # The node's database, network or disk failed, not the message: it is read and applied
                # again, never parked for this (coordination/transient.py).
                raise
            # The reason goes to the node's own database only; the log gets the error's type.
            item.outcome = Outcome.PARKED
            item.reason = f"apply failed: {type(error).__name__}: {error}"
            item.error = type(error).__name__
        else:
            item.outcome = Outcome.APPLIED

    def _record_in_order(self, items: list[_Item], done: list[IncomingMessage]) -> None:
        """Count, log and park what became of each message in offset order, up to the first unfinished one
        of each partition (the rest of that partition is read again, and what applied is then a duplicate)."""
        stopped: set[tuple[str, int]] = set()
        for item in items:
            message = item.message
            where = (message.topic, message.partition)
            if where in stopped or item.outcome is None:
                stopped.add(where)
                continue
            self._record(item)
            done.append(message)

    def _record(self, item: _Item) -> None:
        message, received = item.message, item.received
        where = {"topic": message.topic, "partition": message.partition, "offset": message.offset}
        if item.outcome is Outcome.PARKED:
            self._park(message, item.reason, item.ce_id, item.error)
            return
        if received is None:  # the node's own message, passed undecoded
            self.stats.applied += 1
            log.debug("consumer.own_passed", consumer=self.name, ce_id=item.ce_id, **where)
            return
        if item.outcome is Outcome.DUPLICATE:
            self.stats.duplicates += 1
            log.info("consumer.duplicate_suppressed", consumer=self.name, ce_id=received.id, **where)
            return
        self.stats.applied += 1
        log.info(
            "consumer.applied",
            consumer=self.name,
            ce_id=received.id,
            type=received.type,
            trace_id=received.trace_id,
            **where,
        )

    def _rewind_unfinished(self, unfinished: list[IncomingMessage]) -> None:
        # The subscription has already moved past these; read them again from the first one per partition.
        first: dict[tuple[str, int], int] = {}
        for message in unfinished:
            first.setdefault((message.topic, message.partition), message.offset)
        for (topic, partition), offset in first.items():
            self._subscription.seek(topic, partition, offset)

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

    def parked_now(self) -> int:
        """Parked and not yet retried, from the table: `stats.parked` counts parks since the start and a
        retry (perhaps by the CLI, in another process) does not lower it."""
        return self._parked.count(self.name)

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
            except DecodeError as error:
                self._parked.failed_again(parked.id, error.reason)
                still += 1
                continue
            except Exception as error:
                if is_transient(error):
                    raise
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
        workers, self._workers = self._workers, None
        if workers is not None:
            workers.shutdown(wait=True)

    @property
    def failures(self) -> int:
        return self._loop.failures
