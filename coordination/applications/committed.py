"""The aggregates this process last committed, lent to one command at a time instead of replayed anew.

A command that loads an aggregate replays all its events (or a snapshot and the rest), decoding each:
most of a command's own time here. A node's next command is usually about an aggregate it just saved
(offer, accept, refer one household), so the node keeps what it committed and lends it out:

* `take` removes the aggregate, so only one command holds it; a second command loading it meanwhile
  replays it from the store as before, and the store refuses whichever saves second.
* The store is not asked whether the aggregate moved on: a node runs its application in one process,
  and what it kept is what it committed last. If another process changed it all the same, the command
  cannot go wrong on it (`NodeApplication._once`): a change to it collides in the store, an aggregate
  only read is checked before the save, and a refusal is decided again from the store.
* `give_back` takes back only aggregates without unsaved events, after the command saved. A command
  that failed gives nothing back: whatever it did to the aggregate is dropped with it.
* `forget` drops a household's aggregates when it is erased, so nothing personal outlives its key here;
  an erasure by another process is noticed within a second (adapters/eventstore/household_keys.py `HouseholdKeys`). A
  command that held one of them meanwhile cannot give it back: `give_back` takes the `mark` the command
  made before it borrowed anything, and refuses what was forgotten after it.

At most `maxsize` aggregates are kept, the least recently committed dropped first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from uuid import UUID

from eventsourcing.domain import Aggregate

AGGREGATES_KEPT = 1_000
# How many forgotten ids are remembered for commands still running; a command older than the oldest of
# them gives nothing back.
FORGOTTEN_REMEMBERED = 10_000


class CommittedAggregates:
    def __init__(self, maxsize: int = AGGREGATES_KEPT) -> None:
        self.maxsize = maxsize
        self._kept: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._lock = threading.Lock()
        self._forgets = 0  # how many times `forget` was called
        self._forgotten: OrderedDict[UUID, int] = OrderedDict()  # id -> the number of its latest forget
        self._remembered_since = 0  # forgets up to this one may be missing from `_forgotten`

    def mark(self) -> int:
        """Where forgetting stands, for a command about to borrow: `give_back(..., since=mark)`."""
        return self._forgets

    def take(self, aggregate_id: UUID) -> Aggregate | None:
        with self._lock:
            return self._kept.pop(aggregate_id, None)

    def give_back(self, aggregates: Iterable[Aggregate], *, since: int) -> None:
        """Keep what a command that began at `since` (its `mark`) committed or read, except what was
        forgotten while it ran."""
        with self._lock:
            if since < self._remembered_since:
                return  # so old that what was forgotten since is no longer known
            for aggregate in aggregates:
                kept = self._kept.get(aggregate.id)
                if aggregate.pending_events or (kept is not None and kept.version > aggregate.version):
                    continue  # unsaved changes, or a second, older copy the command read
                if self._forgotten.get(aggregate.id, since) > since:
                    continue  # its household was erased while the command held it
                self._kept[aggregate.id] = aggregate
                self._kept.move_to_end(aggregate.id)
            while len(self._kept) > self.maxsize:
                self._kept.popitem(last=False)

    def forget(self, aggregate_ids: Iterable[UUID]) -> None:
        with self._lock:
            self._forgets += 1
            for aggregate_id in aggregate_ids:
                self._kept.pop(aggregate_id, None)
                self._forgotten[aggregate_id] = self._forgets
                self._forgotten.move_to_end(aggregate_id)
            while len(self._forgotten) > FORGOTTEN_REMEMBERED:
                _, number = self._forgotten.popitem(last=False)
                self._remembered_since = max(self._remembered_since, number)

    def __len__(self) -> int:
        return len(self._kept)
