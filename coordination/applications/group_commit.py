"""Group commit: concurrent commands' events written in one store transaction instead of one each.

The events table takes one writer at a time (the library locks it for each insert), so under
concurrency commands queue for the lock and each pays a full round trip and commit. Here the first
command to arrive writes everything that is waiting, and commands arriving meanwhile form the next
group (natural batching), optionally gathering for a short `window`. Each command keeps its own outcome:
if a group fails, its members are written again one by one, so only the real conflicts fail. Each command
maps its own events to stored events (encryption, the household-key writes) in its own thread before it
joins a group, so the writer's turn holds only the insert transaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Notification, Recording, StoredEvent


@dataclass
class _Member:
    """One command's save: its events, collected and mapped once (so a failed group can write them again)."""

    events: list[Any]
    stored: list[StoredEvent]
    aggregates: dict[Any, Aggregate]
    done: threading.Event = field(default_factory=threading.Event)
    leads: bool = False
    error: BaseException | None = None

    @classmethod
    def of(cls, app: Application[Any], aggregates: Sequence[Aggregate]) -> _Member:
        events = [event for aggregate in aggregates for event in aggregate.collect_events()]
        stored = [app.mapper.to_stored_event(event) for event in events]
        return cls(
            events=events, stored=stored, aggregates={aggregate.id: aggregate for aggregate in aggregates}
        )


@dataclass
class GroupCommitStats:
    transactions: int = 0
    commands: int = 0
    fallbacks: int = 0


class GroupCommit:
    """Saves for `app` on behalf of concurrent commands (attach with `NodeApplication.group_commit`).

    `save(*aggregates)` returns when the command's events are committed, or raises what its own save
    would have raised (IntegrityError for a conflict or a repeated receipt), so the command's callers
    see the same outcomes as with one transaction per command.
    """

    def __init__(
        self,
        app: Application[Any],
        *,
        window: float = 0.0,
        max_commands: int = 100,
        wait_timeout: float = 60.0,
    ) -> None:
        self.app = app
        self.window = window
        self.max_commands = max_commands
        self.wait_timeout = wait_timeout
        self.stats = GroupCommitStats()
        self._lock = threading.Lock()
        self._full = threading.Condition(self._lock)
        self._pending: list[_Member] = []
        self._writing = False

    def save(self, *aggregates: Aggregate) -> None:
        member = _Member.of(self.app, aggregates)
        with self._lock:
            self._pending.append(member)
            # Whoever finds no write in progress writes; otherwise the writer of the current group hands
            # the turn to the first member of the next one when it finishes.
            member.leads = not self._writing
            self._writing = True
            if len(self._pending) >= self.max_commands:
                self._full.notify()
        if not member.leads and not member.done.wait(self.wait_timeout):
            raise TimeoutError(f"The store did not commit a group within {self.wait_timeout} s")
        if member.leads:
            self._write_next_group()
        if member.error is not None:
            raise member.error

    def _write_next_group(self) -> None:
        with self._lock:
            if self.window > 0:
                deadline = time.monotonic() + self.window
                while len(self._pending) < self.max_commands and (left := deadline - time.monotonic()) > 0:
                    self._full.wait(left)
            group = self._pending[: self.max_commands]
            del self._pending[: self.max_commands]
        try:
            self._write(group)
        finally:
            with self._lock:
                if self._pending:
                    successor = self._pending[0]
                    successor.leads = True
                    successor.done.set()
                else:
                    self._writing = False
            for member in group:
                member.done.set()

    def _write(self, group: list[_Member]) -> None:
        try:
            self._save(group)
        except Exception as error:
            if len(group) == 1:
                group[0].error = error
                return
            # One member's conflict (or repeated receipt) spoils the whole transaction: write each again
            # alone, in arrival order, so the first of two rivals wins as it would have without grouping.
            self.stats.fallbacks += 1
            for member in group:
                try:
                    self._save([member])
                except Exception as own:
                    member.error = own

    def _save(self, group: list[_Member]) -> None:
        # What `Application.save` does after mapping: insert in one transaction, then the app's hooks.
        events = [event for member in group for event in member.events]
        stored = [stored for member in group for stored in member.stored]
        notification_ids = self.app.recorder.insert_events(stored) or []
        self.stats.transactions += 1
        self.stats.commands += len(group)
        repository = self.app.repository
        if repository.cache and not repository.fastforward:
            for member in group:
                for aggregate_id, aggregate in member.aggregates.items():
                    repository.cache.put(aggregate_id, aggregate)
        for member in group:
            self._take_snapshots(member)
        self.app._notify(_recordings(events, stored, notification_ids))
        self.app.notify(events)

    def _take_snapshots(self, member: _Member) -> None:
        # The events were saved as events, not aggregates, so the library cannot see which class each
        # belongs to: snapshot here at the application's intervals, as its own save would have.
        intervals = getattr(self.app, "snapshotting_intervals", None)
        if not intervals or self.app.snapshots is None:
            return
        for event in member.events:
            aggregate = member.aggregates.get(event.originator_id)
            interval = intervals.get(type(aggregate)) if aggregate is not None else None
            if interval and event.originator_version % interval == 0:
                self.app.take_snapshot(event.originator_id, version=event.originator_version)


def _recordings(
    events: list[Any], stored: list[StoredEvent], notification_ids: Sequence[int]
) -> list[Recording[Any]]:
    """What `EventStore.put` returns: each event with its place in the application's sequence."""
    if not notification_ids:
        return []
    return [
        Recording(
            event, Notification(row.originator_id, row.originator_version, row.topic, row.state, position)
        )
        for event, row, position in zip(events, stored, notification_ids, strict=True)
    ]
