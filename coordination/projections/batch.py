"""A batch of a node's notifications, as a runner reads and applies it, and how applying one can fall back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Notification

from coordination.projections.parking import ParkedEvent
from coordination.projections.transaction import ProjectionTx


@dataclass(frozen=True)
class Batch:
    """Notifications read after the tracked position `after`; applying it moves tracking to `last`.

    `through` is the end of the range of the log that was read, when the read skipped events the
    projection has no handler for: tracking moves there even if no notification came back.
    """

    after: int
    notifications: Sequence[Notification]
    through: int | None = None

    @property
    def last(self) -> int:
        if self.through is not None:
            return self.through
        return self.notifications[-1].id if self.notifications else self.after


class Stale(Exception):
    """Tracking moved past the batch's start: someone else applied it."""


class NeedSavepoints(Exception):
    """The optimistic path cannot isolate a failure; redo the batch with a savepoint per event."""


class NeedsTransaction(Exception):
    """A handler read the views: its batch is handled inside the transaction that writes it."""


class Unbound:
    """The transaction of a batch handled ahead of it: handlers may queue writes, not send them."""

    def _refuse(self, *_: Any, **__: Any) -> Any:
        raise NeedsTransaction

    execute = executemany = run = query = savepoint = _refuse


@dataclass
class Handled:
    """A batch handled ahead of its transaction: the writes it queued and the events it parked."""

    ptx: ProjectionTx
    parked: list[ParkedEvent]
