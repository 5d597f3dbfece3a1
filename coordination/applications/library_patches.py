"""Where the node applications step around the eventsourcing library (9.5.6), each with its reason.

Every shortcut past the library is here, so a library upgrade is checked in one place:

* The repository replays with `replay` (replay.py): the library asserts every event against a
  runtime-checkable Protocol, about 30 µs an event here. The library builds the repository itself, so its
  class is swapped for `NodeRepository`, a subclass that only changes that default.
* `save` of aggregates alone collects their events directly: the library asks of each object whether it is
  a domain event by a runtime-checkable Protocol (about 40 µs an aggregate here, several per command).
* `_notify`, the library's private hook after each save commits (grouped saves call it too), also
  records the highest notification id committed (`committed_through`) and tells the commit listeners the
  app was built with (`after_commit`): the supported way to hear of commits, instead of wrapping the hook.

The measured figures are in docs/performance.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent, ProjectorFunction, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Recording

from coordination.applications.replay import replay

# Hears of each save once its transaction committed, with what it recorded (the node's relay wakes so).
CommitListener = Callable[[list[Recording[UUID]]], None]


class NodeRepository(Repository[UUID]):
    """The library's repository, replaying with `replay` unless told otherwise."""

    def get(
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = replay,
        **kw: Any,
    ) -> Any:
        return super().get(aggregate_id, version=version, projector_func=projector_func, **kw)


class LibraryShortcuts(Application[UUID]):
    """The library's application with the shortcuts above; `committed_through` is kept by `_notify`."""

    # The highest notification id this process saw committed: ids commit in order (one writer at a time),
    # so every id up to it is committed and visible to any read begun after (`MovesIndex`).
    committed_through: int = 0

    def __init__(self, *, after_commit: Sequence[CommitListener] = (), **kwargs: Any) -> None:
        self._commit_listeners = tuple(after_commit)
        super().__init__(**kwargs)

    def construct_repository(self) -> Repository[UUID]:
        repository = super().construct_repository()
        repository.__class__ = NodeRepository  # the same repository, replaying without per-event asserts
        return repository

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's `save`; for aggregates alone, without its runtime Protocol checks.

        The library asks of each object whether it is a domain event by a runtime-checkable Protocol
        (about 40 µs an aggregate here, several per command). Our aggregates are `Aggregate`s: collect
        their events directly, then record, snapshot and notify as the library does.
        """
        if kwargs or not all(isinstance(obj, Aggregate) for obj in objs):
            return super().save(*objs, **kwargs)
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregate in objs:
            processing.events.extend(aggregate.collect_events())
            processing.aggregates[aggregate.id] = aggregate
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        self.notify(processing.events)  # the library's deprecated hook, called as its save does
        return recordings

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        """The library's hook after each save commits (grouped saves call it too)."""
        if recordings and recordings[-1].notification.id > self.committed_through:
            self.committed_through = recordings[-1].notification.id
        super()._notify(recordings)
        for listener in self._commit_listeners:
            listener(recordings)
