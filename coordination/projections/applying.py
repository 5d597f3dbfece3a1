"""Writing to a projection's views exactly once: a batch with the move of its tracking row, or a parked event
with the removal of its parked row, each in one transaction that first claims what it moves."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Notification

from coordination.projections.batch import Batch, Handled, NeedSavepoints, Stale
from coordination.projections.definition import Projection
from coordination.projections.handling import EventHandling
from coordination.projections.parking import ParkedEvent, describe, park, parked_event
from coordination.projections.transaction import ProjectionTx
from coordination.projections.view_store import (
    PARKED_TABLE,
    TRACKING_TABLE,
    StatementFailed,
    ViewStore,
    ViewTransaction,
    now,
)


class ViewWriter:
    """The transactions of one projection instance's runner: a loser of a race changes nothing."""

    def __init__(
        self, projection: Projection, view_store: ViewStore, handling: EventHandling, log: Any
    ) -> None:
        self.projection = projection
        self.view_store = view_store
        self.handling = handling
        self.log = log
        self.name = projection.instance_name

    def write(self, batch: Batch, handled: Handled) -> list[ParkedEvent]:
        """Sends what a batch handled ahead of its transaction queued; its parked events."""
        with self.view_store.transaction() as tx:
            self._claim(tx, batch)
            try:
                handled.ptx.flush_into(tx)
            except StatementFailed as exc:
                raise NeedSavepoints from exc
            park(tx, handled.parked)
        return handled.parked

    def apply(self, batch: Batch, *, with_savepoints: bool) -> list[ParkedEvent]:
        """Handles a batch inside its transaction (with a savepoint per event, if asked); its parked events."""
        parked: list[ParkedEvent] = []
        with self.view_store.transaction() as tx:
            self._claim(tx, batch)
            ptx = ProjectionTx(self.projection, tx)
            for notification in batch.notifications:
                if with_savepoints:
                    failure = self.handling.isolated(notification, ptx, tx)
                else:
                    failure = self.handling.optimistically(notification, ptx)
                if failure is not None:
                    parked.append(parked_event(self.name, notification, failure))
            if not with_savepoints:
                try:
                    ptx.flush()
                except StatementFailed as exc:
                    raise NeedSavepoints from exc
            park(tx, parked)
        return parked

    def _claim(self, tx: ViewTransaction, batch: Batch) -> None:
        # Claim first: the row lock serialises racing runners, and a loser stops before writing.
        claimed = tx.execute(
            f"UPDATE {TRACKING_TABLE} SET position = ?, updated_at = ? WHERE projection = ? AND position = ?",
            (batch.last, now(), self.name, batch.after),
        )
        if claimed != 1:
            raise Stale

    def retry(self, event: ParkedEvent, notification: Notification) -> None:
        """Applies a parked event again, unparking it if it succeeds (claimed by its attempt count)."""
        where = "WHERE projection = ? AND position = ?"
        with self.view_store.transaction() as tx:
            # Claim by attempt count, so two retries of one parked event never both apply it.
            claimed = tx.execute(
                f"UPDATE {PARKED_TABLE} SET attempts = attempts + 1 {where} AND attempts = ?",
                (self.name, event.position, event.attempts),
            )
            if claimed != 1:
                return
            failure = self.handling.isolated(notification, ProjectionTx(self.projection, tx), tx)
            if failure is None:
                tx.execute(f"DELETE FROM {PARKED_TABLE} {where}", (self.name, event.position))
            else:
                tx.execute(
                    f"UPDATE {PARKED_TABLE} SET error_type = ?, error_message = ?, parked_at = ? {where}",
                    (type(failure).__name__, describe(failure), now(), self.name, event.position),
                )
        if failure is None:
            self.log.info("parked event applied", position=event.position, attempts=event.attempts + 1)
        else:
            self.log.warning(
                "parked event failed again", position=event.position, error_type=type(failure).__name__
            )
