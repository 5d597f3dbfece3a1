"""The kept-aggregate cache, seen from the commands: an optimisation, not a source of truth.

A command's aggregates are lent from what this process last committed (committed.py) instead of replayed;
`_on_kept` runs a command's attempt on them and, when it was refused on one another process has moved on
since, once more on what the store has, so no answer rests on a stale copy. `_replay` reads an aggregate
younger than the first snapshot from its events alone (no snapshot query that would find nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate

from coordination.applications.committed import CommittedAggregates
from coordination.applications.replay import replay
from coordination.applications.storage import HouseholdKeys
from coordination.domain.errors import ConcurrencyConflict

R = TypeVar("R")

# How many aggregates' last seen versions a node keeps before it starts again (a shortcut, not a record).
_KNOWN_VERSIONS_KEPT = 100_000


@dataclass
class _Borrowing:
    """What the command running in this context (`_once`) loaded: to check, and to give back once saved."""

    from_store: bool = False  # load nothing kept: replay everything from the store
    mark: int = 0  # where the kept aggregates' forgetting stood when it began (committed.py)
    loaded: list[Aggregate] = field(default_factory=list)
    unchecked: dict[UUID, int] = field(default_factory=dict)  # kept ones, by id: the version they were


_borrowing: ContextVar[_Borrowing | None] = ContextVar("borrowing", default=None)


class _MovedOn(Exception):
    """A kept aggregate a command read had been changed by another process: the command decides again."""


class KeptAggregates(Application[UUID]):
    """Loading for commands from what this process committed; checking it before a save relies on it."""

    household_keys: HouseholdKeys | None

    def __init__(self, **kwargs: Any) -> None:
        # The version this process last loaded or saved of each aggregate (ids and numbers only): one
        # younger than the first snapshot is read from its events alone (`_load`).
        self._known_versions: dict[UUID, int] = {}
        # What this process committed, lent to its commands instead of replayed (committed.py).
        self._committed = CommittedAggregates()
        super().__init__(**kwargs)
        intervals = self.snapshotting_intervals.values() if self.snapshots is not None else ()
        self._first_snapshot: int | None = min(intervals, default=None)

    def _load(self, aggregate_id: UUID) -> Aggregate:
        """For a command, the aggregate as this process last committed it (see `_once` for how that is
        checked); otherwise, or when it is not kept, replayed from the store."""
        borrowing = _borrowing.get()
        aggregate = None
        if borrowing is not None and not borrowing.from_store:
            if self.household_keys is not None:
                self.household_keys.notice_erasures()  # what another process erased is not lent out
            aggregate = self._committed.take(aggregate_id)
            if aggregate is not None:
                borrowing.unchecked[aggregate_id] = aggregate.version
        if aggregate is None:
            aggregate = self._replay(aggregate_id)
        if borrowing is not None:
            borrowing.loaded.append(aggregate)
        return aggregate

    def _replay(self, aggregate_id: UUID) -> Aggregate:
        """The aggregate from the repository, or, when this process last saw it younger than the first
        snapshot, straight from its events: no snapshot query that would find nothing.

        Only a shortcut: if another process moved it on meanwhile, all its events give the same state.
        """
        known = self._known_versions.get(aggregate_id)
        aggregate: Aggregate | None
        if known is not None and self._first_snapshot is not None and known < self._first_snapshot:
            aggregate = replay(None, self.events.get(aggregate_id))
            if aggregate is None:
                raise AggregateNotFoundError(aggregate_id)
        else:
            aggregate = self.repository.get(aggregate_id)
        if len(self._known_versions) >= _KNOWN_VERSIONS_KEPT:
            self._known_versions.clear()
        self._known_versions[aggregate_id] = aggregate.version
        return aggregate

    def _on_kept(
        self,
        attempt: Callable[[], tuple[R, Sequence[Aggregate] | None]],
        keep: Callable[[Aggregate], bool],
    ) -> R:
        """Run `attempt` (a command: its result, and the aggregates it saved or None for a repeat) on the
        aggregates kept, and once more on what the store has if it was refused on one another process has
        moved on since; then give back what it loaded and saved (those `keep` accepts)."""
        for from_store in (False, True):
            borrowing = _Borrowing(from_store, self._committed.mark())
            token = _borrowing.set(borrowing)
            try:
                result, saved = attempt()
            except ConcurrencyConflict:
                raise  # reported, never decided again: the caller reloads (what it held is not kept)
            except Exception as refusal:
                if not from_store and (isinstance(refusal, _MovedOn) or self._moved_on(borrowing.unchecked)):
                    continue  # decided on what another process has since changed: again, on what it stored
                raise
            finally:
                _borrowing.reset(token)
            if saved is not None:
                # What the command loaded and changed is now what is committed.
                self._committed.give_back(
                    (a for a in (*borrowing.loaded, *saved) if keep(a)),
                    since=borrowing.mark,
                )
            return result
        raise AssertionError("unreachable: the attempt from the store returns or raises")

    def _check_kept(self, changed: Sequence[Aggregate]) -> None:
        """Refuse to save a decision made on a kept aggregate that the command read but did not change if
        another process has moved it on since (a changed one the store refuses by itself)."""
        borrowing = _borrowing.get()
        if borrowing is None or not borrowing.unchecked:
            return
        saving = {aggregate.id for aggregate in changed}
        if self._moved_on({i: v for i, v in borrowing.unchecked.items() if i not in saving}):
            raise _MovedOn("an aggregate the command read was changed by another process")

    def _moved_on(self, kept: dict[UUID, int]) -> bool:
        """Whether the store has events of these aggregates after the versions this process kept."""
        return any(self.recorder.select_events(i, gt=version, limit=1) for i, version in kept.items())

    def _saved(self, changed: Sequence[Aggregate]) -> None:
        """The versions a command saved are the ones this process knows."""
        for aggregate in changed:
            self._known_versions[aggregate.id] = aggregate.version
