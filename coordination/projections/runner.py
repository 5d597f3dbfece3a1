"""The projection runner: follows a node's notification log and applies it to a projection, exactly once."""

from __future__ import annotations

import contextvars
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import structlog
from eventsourcing.application import Application

from coordination.projections.applying import ViewWriter
from coordination.projections.batch import Batch, Handled, NeedSavepoints, Stale
from coordination.projections.decoding import EventDecoding
from coordination.projections.definition import Projection
from coordination.projections.handling import EventHandling
from coordination.projections.log_reads import log_reader, reads_concurrently
from coordination.projections.parking import ParkedEvent, parked_events
from coordination.projections.view_store import ViewStore


class ProjectionRunner:
    """Follows an application's notification log and applies it to a projection in batches, exactly once.

    Each batch is one transaction that first moves the tracking row from the position the batch was read
    after to its last position (a conditional update), then writes the views and any parked events. A
    runner whose batch is stale (another runner got there first) updates no row and rolls back: nothing
    is applied twice, whatever the number of runners, restarts or duplicate runs.
    """

    def __init__(
        self,
        app: Application,
        projection: Projection,
        view_store: ViewStore,
        batch_size: int = 1000,
        *,
        decoding: EventDecoding,
    ) -> None:
        self.app = app
        self.projection = projection
        self.view_store = view_store
        self.batch_size = batch_size
        self.log = structlog.get_logger(__name__).bind(projection=projection.instance_name)
        self._stopping = threading.Event()
        self._woken = threading.Event()
        self._thread: threading.Thread | None = None
        # How far past the tracked position a filtered read looks (see fetch_batch).
        self._window = 2 * batch_size
        self._read_log = log_reader(app.recorder)
        self._read_ahead = reads_concurrently(app.recorder)
        self.handling = EventHandling(projection, decoding)
        self.writer = ViewWriter(projection, view_store, self.handling, self.log)
        # Whether stored topics were seen to resolve under their own names (see fetch_batch).
        self._topics_checked = False
        view_store.ensure_tables(projection)

    @property
    def name(self) -> str:
        return self.projection.instance_name

    @property
    def stored_handlers(self) -> bool:
        """Whether `handles_stored` methods are given stored events (False: always the ordinary handlers)."""
        return self.handling.stored_handlers

    @stored_handlers.setter
    def stored_handlers(self, value: bool) -> None:
        self.handling.stored_handlers = value

    def position(self) -> int:
        return self.view_store.tracking_position(self.name)

    def lag(self) -> int:
        """How many notification ids the log has beyond the tracked position (gaps count, too)."""
        return max((self.app.recorder.max_notification_id() or 0) - self.position(), 0)

    def fetch_batch(self, up_to: int | None = None, after: int | None = None) -> Batch:
        """The next events after the tracked position (or `after`); only those of handled topics, where
        that is safe.

        A filtered read covers the range up to the log's end as it is now (or `up_to`): notification ids
        become visible in order (one writer at a time), so no id at or below it can appear later.
        """
        if after is None:
            after = self.position()
        topics = self._handled_topics()
        if topics is None:
            notifications = self._read_log(after, self.batch_size, up_to, None)
            return Batch(after=after, notifications=notifications)
        end = self.app.recorder.max_notification_id() or 0
        if up_to is not None:
            end = min(end, up_to)
        if end <= after:
            return Batch(after=after, notifications=[])
        # A bounded range: PostgreSQL may fetch every matching row up to `end` and sort them all to return
        # the first page (a rebuild right after a bulk load, before statistics catch up, did: each page
        # cost a sort of the rest of the log). The window adapts to how many of the log's events match.
        end = min(end, after + self._window)
        notifications = self._read_log(after, self.batch_size, end, topics)
        full = len(notifications) == self.batch_size
        if full:
            self._window = max(2 * self.batch_size, self._window // 2)
        else:
            self._window = min(64 * self.batch_size, self._window * 2)
        return Batch(after=after, notifications=notifications, through=notifications[-1].id if full else end)

    def _handled_topics(self) -> tuple[str, ...] | None:
        """The topics to read, or None to read every event (some topic may be stored under another name)."""
        if not self._topics_checked:
            # Checked until it holds once, as the topics are then known (and kept by the projection).
            if self.handling.decoding.topics_renamed():
                return None
            self._topics_checked = True
        return self.projection.handled_topics()

    def run_once(self, up_to: int | None = None) -> int:
        """Applies the next batch; returns how many notifications it consumed (0 if none or stale)."""
        return self.apply_batch(self.fetch_batch(up_to))

    def run_until_caught_up(self, max_seconds: float = 60.0, up_to: int | None = None) -> int:
        """Applies batches until tracking reaches the log's end as it was at the call (or `up_to`).

        Three batches are in flight at once: the next is read (where the recorder reads concurrently) and
        the current handled while the last one is written and committed, so the database's work for one
        overlaps the handlers' for the other. Each batch is still its own transaction claiming tracking
        from where the one before left it. Why: rebuild speed (docs/performance.md, "Projection engine shims").
        """
        target = up_to if up_to is not None else (self.app.recorder.max_notification_id() or 0)
        deadline = time.monotonic() + max_seconds
        total = 0
        reader = writer = None
        writing: Future[int] | None = None
        batch = self.fetch_batch(up_to=target)
        try:
            while True:
                following = None
                if batch.after < batch.last < target and self._read_ahead:
                    reader = reader or ThreadPoolExecutor(1, thread_name_prefix=f"{self.name}-read")
                    following = reader.submit(self.fetch_batch, target, batch.last)
                handled = self.handling.ahead(batch) if batch.last > batch.after else None
                if writing is not None:
                    applied = writing.result()
                    total += applied
                    writing = None
                    if not applied:
                        # The last batch was stale: tracking is elsewhere, so read on from where it is.
                        batch = self.fetch_batch(up_to=target)
                        continue
                if batch.last <= batch.after:
                    return total
                writer = writer or ThreadPoolExecutor(1, thread_name_prefix=f"{self.name}-write")
                # In the caller's context, so the batch's log lines keep what it bound (the organisation).
                writing = writer.submit(contextvars.copy_context().run, self.apply_batch, batch, handled)
                if batch.last >= target:
                    total += writing.result()
                    writing = None
                    return total
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{self.name} at {batch.last} did not reach {target} in {max_seconds} s"
                    )
                batch = following.result() if following else self.fetch_batch(up_to=target, after=batch.last)
        finally:
            for pool in (reader, writer):
                if pool is not None:
                    pool.shutdown(wait=True, cancel_futures=True)

    def apply_batch(self, batch: Batch, handled: Handled | None = None) -> int:
        """Applies a batch; returns how many positions of the log it moved tracking over (0 if stale).

        `handled`: the batch as `EventHandling.ahead` handled it, if it did (else it is handled here).
        """
        if batch.last <= batch.after:
            return 0
        if handled is None:
            handled = self.handling.ahead(batch)
        try:
            try:
                parked = (
                    self.writer.apply(batch, with_savepoints=False)
                    if handled is None
                    else self.writer.write(batch, handled)
                )
            except NeedSavepoints:
                parked = self.writer.apply(batch, with_savepoints=True)
        except Stale:
            self.log.info("batch skipped as duplicate", after=batch.after, last=batch.last)
            return 0
        self.log.info(
            "batch applied", count=len(batch.notifications), position=batch.last, parked=len(parked)
        )
        for event in parked:
            self.log.warning(
                "event parked",
                position=event.position,
                topic=event.topic,
                originator_id=event.originator_id,
                version=event.originator_version,
                error_type=event.error_type,
            )
        return batch.last - batch.after

    # Parked events.

    def parked(self) -> list[ParkedEvent]:
        return parked_events(self.view_store, self.name)

    def retry_parked(self, position: int | None = None) -> list[ParkedEvent]:
        """Re-applies each parked event (after a fix), or the one at `position`, unparking those that succeed;
        returns those still parked.

        Each is applied in one transaction with the removal of its parked row, claimed by its attempt
        count: two retries of one event never both apply it, and one that succeeded leaves nothing to retry.
        A transient failure (coordination/transient.py) is raised, leaving the event parked as it was.
        """
        for event in self.parked():
            if position is not None and event.position != position:
                continue
            found = self.app.recorder.select_notifications(start=event.position, limit=1, stop=event.position)
            if found:
                self.writer.retry(event, found[0])
        return self.parked()

    # Following the log in the background.

    def start(self, *, max_sleep: float = 1.0) -> None:
        """Polls the log on a thread: at once while there is work, backing off to `max_sleep` when idle."""
        if self._thread is not None:
            raise RuntimeError(f"{self.name} is already running")
        self._stopping.clear()
        self._thread = threading.Thread(target=self._follow, args=(max_sleep,), name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Cut the current idle sleep short: events were stored (e.g. PostgreSQL notified the log's channel)."""
        self._woken.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._woken.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _follow(self, max_sleep: float) -> None:
        sleep = 0.01
        while not self._stopping.is_set():
            # Cleared before the batch, so a wake-up during it is not lost: the wait returns at once.
            self._woken.clear()
            try:
                applied = self.run_once()
            except Exception:
                # A lost connection or a locked database: keep the thread alive and try again later.
                self.log.exception("batch failed; retrying")
                applied = 0
            if applied:
                sleep = 0.01
                continue
            sleep = 0.01 if self._woken.wait(sleep) else min(sleep * 2, max_sleep)
