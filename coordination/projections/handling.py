"""Handing a batch's events to a projection's handlers, each in the form it asks for, and isolating failures.

An event whose handler fails is parked, not the batch: optimistically (its queued writes dropped) while
nothing of it reached the database, with a savepoint per event otherwise. A transient failure (the
database, network or disk; coordination/transient.py) is never parked: the batch is tried again.
"""

from __future__ import annotations

from eventsourcing.persistence import Notification

from coordination.projections.batch import Batch, Handled, NeedSavepoints, NeedsTransaction, Unbound
from coordination.projections.decoding import EventDecoding
from coordination.projections.definition import Projection
from coordination.projections.parking import ParkedEvent, parked_event
from coordination.projections.transaction import ProjectionTx
from coordination.projections.view_store import SavepointLost, StatementFailed, ViewTransaction
from coordination.transient import is_transient


class EventHandling:
    """A projection's handlers and the decoding that gives each the event as it asks for it."""

    def __init__(self, projection: Projection, decoding: EventDecoding) -> None:
        self.projection = projection
        self.decoding = decoding
        # Whether `handles_stored` methods may be given stored events (False: always the ordinary handlers).
        self.stored_handlers = decoding.reads_stored_json
        # Whether a handler has read the views (see ahead).
        self.reads_views = False

    def ahead(self, batch: Batch) -> Handled | None:
        """The batch handled before its transaction opens (handlers mostly only queue writes); None if a
        handler reads the views (then never again: it is handled in its transaction from then on), or a
        failure cannot be isolated without savepoints."""
        if self.reads_views:
            return None
        ptx = ProjectionTx(self.projection, Unbound())
        parked: list[ParkedEvent] = []
        try:
            for notification in batch.notifications:
                failure = self.optimistically(notification, ptx)
                if failure is not None:
                    parked.append(parked_event(self.projection.instance_name, notification, failure))
        except NeedsTransaction:
            self.reads_views = True
            return None
        except NeedSavepoints:
            return None
        return Handled(ptx, parked)

    def optimistically(self, notification: Notification, ptx: ProjectionTx) -> Exception | None:
        mark = ptx.mark()
        try:
            self.handle(notification, ptx)
        except StatementFailed as exc:
            # A read inside a handler failed: on PostgreSQL the transaction is now aborted.
            raise NeedSavepoints from exc
        except NeedsTransaction:
            raise
        except Exception as exc:
            if is_transient(exc):
                raise  # the database, network or disk failed, not the event: the batch is tried again
            if not ptx.discard_since(mark):
                raise NeedSavepoints from exc
            return exc
        return None

    def isolated(
        self, notification: Notification, ptx: ProjectionTx, tx: ViewTransaction
    ) -> Exception | None:
        mark = ptx.mark()
        try:
            with tx.savepoint():
                self.handle(notification, ptx)
                ptx.flush()
        except SavepointLost:
            raise
        except Exception as exc:
            if is_transient(exc):
                raise  # never parked for this: the batch (or the retry) is tried again
            ptx.discard_since(mark)
            return exc
        return None

    def handle(self, notification: Notification, ptx: ProjectionTx) -> None:
        projection = self.projection
        topic = notification.topic
        handler = projection.handler_for(topic)
        if handler is not None:
            ptx.position = notification.id
            if self.stored_handlers:
                stored = projection.stored_handler_for(topic)
                if stored is not None:
                    state = self.decoding.stored_state(notification.state, stored[1])
                    if state is not None and stored[0](notification, state, ptx):
                        return
            if projection.wants_header_only(topic):
                handler(notification, ptx)
                return
            names = projection.reads(topic)
            if names is None:
                handler(self.decoding.event(notification), ptx)
            else:
                handler(self.decoding.attributes(notification, names), ptx)
