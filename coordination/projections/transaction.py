"""What a handler writes through: a projection's statements queued per batch and folded into bulk writes."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Mapping, Sequence
from typing import Any

from coordination.projections.definition import Projection
from coordination.projections.row_writes import InsertRows, RowWrite, UpsertRows, fold
from coordination.projections.view_store import Params, Statement, ViewTransaction


class ProjectionTx:
    """What a handler writes through: statements are queued and sent to the database in bulk.

    Queuing is what makes a batch fast (one pipeline or executemany instead of a round trip per
    write). `query()` sends the queue first, so a handler reads its own batch's writes.
    """

    def __init__(self, projection: Projection, tx: ViewTransaction) -> None:
        self._projection = projection
        self._tx = tx
        self._queue: list[Statement | RowWrite] = []
        # Rows for insert-only tables, kept apart as they come: no object per row, nothing to fold.
        self._appended: list[tuple[InsertRows | UpsertRows, tuple[Any, ...]]] = []
        self.flushes = 0
        # The log position of the event being handled (a timeline orders by it).
        self.position = 0

    def execute(self, sql: str, params: Params = ()) -> None:
        self._queue.append((self._projection.resolve(sql), params, False))

    # Writes by primary key: folded per row at flush, so a batch sends each row's final state once.

    def upsert(self, table: str, row: Mapping[str, Any]) -> None:
        """Sets the whole row (every column) of a logical table, inserting it if absent."""
        physical, key_columns, types = self._projection.upsert_target(table)
        key = tuple(row[c] for c in key_columns)
        self._queue.append(RowWrite(physical, key_columns, key, "upsert", row, types))

    def update(self, table: str, key: Sequence[Any], **changes: Any) -> None:
        """Changes some columns of the row with this primary key; nothing if there is no such row."""
        physical = self._projection.table_names[table]
        key_columns = self._projection.key_columns(table)
        self._queue.append(RowWrite(physical, key_columns, tuple(key), "update", changes))

    def update_where(self, table: str, key: Sequence[Any], when: Mapping[str, Any], **changes: Any) -> None:
        """Changes the row with this key only if each column in `when` holds that (non-null) value.

        A change may be `Column(name)`: the value that column had before this update. Unlike a raw UPDATE,
        this folds with the batch's other writes to the row.
        """
        physical = self._projection.table_names[table]
        key_columns = self._projection.key_columns(table)
        self._queue.append(RowWrite(physical, key_columns, tuple(key), "update", changes, when=dict(when)))

    def insert(self, table: str, row: Mapping[str, Any]) -> None:
        """Appends a row to a table the projection only ever inserts into (each row written once).

        Sent in bulk (COPY on PostgreSQL), before the other writes queued with it: nothing else writes
        such a table. A row whose key exists already fails the batch like any refused write, so it is
        not for rows a redelivered event could write again.
        """
        self._appended.append((self._projection.insert_rows(table, tuple(row)), tuple(row.values())))

    def append(self, table: str, row: tuple[Any, ...]) -> None:
        """`insert` of a row given as the value of each of the table's columns, in the order of its DDL."""
        self._appended.append((self._projection.insert_rows(table), row))

    def upsert_row(self, table: str, row: tuple[Any, ...]) -> None:
        """`upsert` of a whole row given in the order of the table's DDL, sent in bulk with the appended
        rows (the last row per key wins) instead of folded with the other row writes: for a table that no
        other kind of write of the projection touches."""
        self._appended.append((self._projection.upsert_rows(table), row))

    def delete(self, table: str, key: Sequence[Any]) -> None:
        physical = self._projection.table_names[table]
        self._queue.append(RowWrite(physical, self._projection.key_columns(table), tuple(key), "delete", {}))

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        self._queue.append((self._projection.resolve(sql), list(rows), True))

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        self.flush()
        return self._tx.query(self._projection.resolve(sql), params)

    def flush(self) -> None:
        if self._queue or self._appended:
            queue, self._queue = self._queue, []
            appended, self._appended = self._appended, []
            self.flushes += 1
            self._tx.run([*_grouped(appended), *_folded(queue)])

    def flush_into(self, tx: ViewTransaction) -> None:
        """Sends what was queued ahead of a transaction (a batch handled while the last one was written)."""
        self._tx = tx
        self.flush()

    def mark(self) -> tuple[int, int, int]:
        return len(self._queue), len(self._appended), self.flushes

    def discard_since(self, mark: tuple[int, int, int]) -> bool:
        """Drops what was queued after `mark`; False if some of it already reached the database."""
        queued, appended, flushes = mark
        if self.flushes != flushes:
            return False
        del self._queue[queued:]
        del self._appended[appended:]
        return True


def _grouped(appended: list[tuple[InsertRows | UpsertRows, tuple[Any, ...]]]) -> list[Statement]:
    """Appended rows as one bulk insert (or upsert) per table (rows of one table mostly come in long runs)."""
    by_table: dict[InsertRows | UpsertRows, list[tuple[Any, ...]]] = {}
    for insert, run in itertools.groupby(appended, key=operator.itemgetter(0)):
        rows = by_table.get(insert)
        if rows is None:
            rows = by_table[insert] = []
        rows += map(operator.itemgetter(1), run)
    statements: list[Statement] = []
    for insert, rows in by_table.items():
        if isinstance(insert, UpsertRows):
            # One row per key, the last written (an upsert may not touch a row twice in one statement).
            key = operator.itemgetter(*(insert.columns.index(c) for c in insert.key_columns))
            rows = list({key(row): row for row in rows}.values())
        statements.append((insert, rows, False))
    return statements


def _folded(queue: Sequence[Statement | RowWrite]) -> list[Statement]:
    """The queue with each run of row writes folded into final-state statements; SQL keeps its place."""
    statements: list[Statement] = []
    run: list[RowWrite] = []
    for item in queue:
        if type(item) is RowWrite:
            run.append(item)
            continue
        if run:
            statements += fold(run)
            run = []
        statements.append(item)
    if run:
        statements += fold(run)
    return statements
