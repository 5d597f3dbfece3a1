"""How a projection runner reads a node's notification log: the library's read, or a leaner one on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder

from coordination.transient import retried

# (after, limit, stop, topics or None for all): the notifications after `after`, up to `stop`, in order.
ReadLog = Callable[[int, int, "int | None", "Sequence[str] | None"], Sequence[Any]]


class StoredNotification(NamedTuple):
    """A notification as a runner reads it on PostgreSQL: the library's `Notification` fields, made in C
    from the row (the library builds a dict per row and then a frozen dataclass from it)."""

    id: int
    originator_id: UUID | str
    originator_version: int
    topic: str
    state: bytes


def log_reader(recorder: ApplicationRecorder) -> ReadLog:
    """The cheapest read of this recorder's log that gives what `select_notifications` gives."""
    from eventsourcing.postgres import PostgresApplicationRecorder

    if isinstance(recorder, PostgresApplicationRecorder):
        return _postgres_reader(recorder)

    def select(after: int, limit: int, stop: int | None, topics: Sequence[str] | None) -> Sequence[Any]:
        return recorder.select_notifications(
            start=after, limit=limit, stop=stop, topics=topics or (), inclusive_of_start=False
        )

    return select


def reads_concurrently(recorder: ApplicationRecorder) -> bool:
    """Whether a runner may read this recorder's log on another thread while it writes views (PostgreSQL's
    reads take a connection of their own from the pool; the others' are not made for it)."""
    from eventsourcing.postgres import PostgresApplicationRecorder

    return isinstance(recorder, PostgresApplicationRecorder)


def _postgres_reader(recorder: Any) -> ReadLog:
    from psycopg.sql import SQL, Identifier

    table = SQL("{}.{}").format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
    columns = SQL("SELECT notification_id, originator_id, originator_version, topic, state FROM ")
    order = SQL(" ORDER BY notification_id LIMIT %s")
    # Rendered once: psycopg would compose a `Composed` statement to bytes again on every call.
    statements: dict[tuple[bool, bool], bytes] = {
        (bounded, filtered): (
            columns
            + table
            + SQL(" WHERE notification_id > %s")
            + SQL(" AND notification_id <= %s" if bounded else "")
            + SQL(" AND topic = ANY(%s)" if filtered else "")
            + order
        ).as_bytes(None)
        for bounded in (False, True)
        for filtered in (False, True)
    }

    def rows(_cursor: Any) -> Callable[[Sequence[Any]], StoredNotification]:
        return StoredNotification._make

    # As the library retries its own read: a dropped connection is tried again on a fresh one (and a
    # failure that outlasts the retries is raised as transient: the runner tries the batch again later).
    @retried(attempts=5, wait=0.2)
    def select(after: int, limit: int, stop: int | None, topics: Sequence[str] | None) -> Sequence[Any]:
        params: list[Any] = [after]
        if stop is not None:
            params.append(stop)
        if topics:
            params.append(list(topics))
        params.append(limit)
        # Binary results: ids and the state arrive as they are stored, without text encoding and parsing.
        with (
            recorder.datastore.get_connection() as conn,
            conn.cursor(row_factory=rows, binary=True) as cursor,
        ):
            cursor.execute(statements[(stop is not None, bool(topics))], params, prepare=True)
            return cursor.fetchall()  # type: ignore[no-any-return]

    return select
