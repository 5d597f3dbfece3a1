"""View stores for projections: SQLite (a file or in memory) and PostgreSQL via psycopg 3."""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from adapters.sql.node_db import hung_up
from coordination.projections.definition import Projection
from coordination.projections.row_writes import InsertRows, UpsertRows
from coordination.projections.view_store import Params, SavepointLost, Statement, StatementFailed
from coordination.transient import is_transient

_savepoint_names = itertools.count()


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


def _sqlite_statement_error(exc: sqlite3.Error) -> bool:
    # SQLite reports both "this statement is wrong" and "the disk is full" as OperationalError; only the
    # first kind is an event's fault and may park it.
    if is_transient(exc):
        return False
    return isinstance(
        exc,
        sqlite3.OperationalError
        | sqlite3.IntegrityError
        | sqlite3.DataError
        | sqlite3.ProgrammingError
        | sqlite3.InterfaceError,
    )


@contextmanager
def _statement_errors(is_statement_error: Any, driver_error: type[Exception]) -> Iterator[None]:
    try:
        yield
    except driver_error as exc:
        if is_statement_error(exc):
            raise StatementFailed(f"{type(exc).__name__}: {exc}") from exc
        raise


SETUP_ATTEMPTS = 5


def _deadlock(error: BaseException | None) -> bool:
    """Whether PostgreSQL chose this transaction as a deadlock's victim (SQLSTATE 40P01), however wrapped."""
    while error is not None:
        if getattr(error, "sqlstate", None) == "40P01":
            return True
        error = error.__cause__
    return False


class _Transaction:
    """One open transaction on a DB-API connection; `?` placeholders are turned into the driver's."""

    def __init__(
        self, cursor: Any, placeholder: Any, is_statement_error: Any, driver_error: type[Exception]
    ) -> None:
        self._cursor = cursor
        self._sql = placeholder
        self._errors = lambda: _statement_errors(is_statement_error, driver_error)

    def execute(self, sql: str, params: Params = ()) -> int:
        with self._errors():
            self._cursor.execute(self._sql(sql), params)
            return int(self._cursor.rowcount)

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        with self._errors():
            self._cursor.executemany(self._sql(sql), rows)

    def run(self, statements: Sequence[Statement]) -> None:
        with self._errors():
            self._run(statements)

    def _run(self, statements: Sequence[Statement]) -> None:
        # Runs of the same single-row statement go as one executemany: far fewer calls per batch.
        for (sql, many), group in itertools.groupby(statements, key=lambda s: (s[0], s[2])):
            if isinstance(sql, UpsertRows):
                for _, rows, _ in group:
                    self._upsert(sql, rows)
            elif isinstance(sql, InsertRows):
                for _, rows, _ in group:
                    self._insert(sql, rows)
            elif many:
                for _, rows, _ in group:
                    self._cursor.executemany(self._sql(sql), rows)
            else:
                rows = [params for _, params, _ in group]
                if len(rows) == 1:
                    self._cursor.execute(self._sql(sql), rows[0])
                else:
                    self._cursor.executemany(self._sql(sql), rows)

    def _upsert(self, upsert: UpsertRows, rows: list[tuple[Any, ...]]) -> None:
        for sql, params in upsert.values_statements(rows):
            self._cursor.execute(self._sql(sql), params)

    def _insert(self, insert: InsertRows, rows: list[tuple[Any, ...]]) -> None:
        self._cursor.executemany(self._sql(insert.sql()), rows)

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        with self._errors():
            self._cursor.execute(self._sql(sql), params)
            return list(self._cursor.fetchall())

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        name = f"sp_{next(_savepoint_names)}"
        self._cursor.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            try:
                self._cursor.execute(f"ROLLBACK TO SAVEPOINT {name}")
                self._cursor.execute(f"RELEASE SAVEPOINT {name}")
            except Exception as lost:
                raise SavepointLost(f"could not roll back to savepoint {name}") from lost
            raise
        self._cursor.execute(f"RELEASE SAVEPOINT {name}")


class _TablesAndTracking:
    """What both view stores do alike through their own `transaction` and `query`."""

    def transaction(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        raise NotImplementedError

    def ensure_tables(self, projection: Projection) -> None:
        self._run_all(projection.setup_statements())

    def drop_tables(self, projection: Projection) -> None:
        self._run_all(projection.teardown_statements())

    def _run_all(self, statements: Sequence[tuple[str, Params]]) -> None:
        # A replica starting beside one whose runners write these tables may deadlock with them (its index
        # and tracking statements lock in another order than a batch does); PostgreSQL rolls one back, and
        # setting up again is harmless (every statement is IF NOT EXISTS or ON CONFLICT DO NOTHING).
        for attempt in range(SETUP_ATTEMPTS):
            try:
                with self.transaction() as tx:
                    for sql, params in statements:
                        tx.execute(sql, params)
                return
            except Exception as error:
                if attempt + 1 == SETUP_ATTEMPTS or not _deadlock(error):
                    raise
                time.sleep(0.05 * (attempt + 1))

    def tracking_position(self, name: str) -> int:
        rows = self.query("SELECT position FROM projection_tracking WHERE projection = ?", (name,))
        return int(rows[0]["position"]) if rows else 0


class SQLiteViewStore(_TablesAndTracking):
    """Views in a SQLite file (WAL, one writer at a time, a separate reader) or in memory (":memory:").

    Keep it in a file of its own, not the event store's: SQLite has one write lock per file.
    """

    def __init__(self, path: str | Path = ":memory:", *, timeout: float = 30.0) -> None:
        self.path = str(path)
        self._writer = self._connect(timeout)
        in_memory = self.path == ":memory:"
        if not in_memory:
            self._writer.execute("PRAGMA journal_mode=WAL")
            self._writer.execute("PRAGMA synchronous=NORMAL")
        # An in-memory database exists only on its own connection, so reads share the writer there.
        self._reader = self._writer if in_memory else self._connect(timeout)
        self._write_lock = threading.RLock()
        self._read_lock = self._write_lock if in_memory else threading.Lock()

    def _connect(self, timeout: float) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        conn.row_factory = _dict_row
        return conn

    @contextmanager
    def transaction(self) -> Iterator[_Transaction]:
        with self._write_lock:
            cursor = self._writer.cursor()
            # IMMEDIATE takes the write lock at once, so racing runners queue up instead of deadlocking.
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield _Transaction(cursor, _same, _sqlite_statement_error, sqlite3.Error)
            except BaseException:
                self._writer.rollback()
                raise
            cursor.execute("COMMIT")

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        with self._read_lock:
            return list(self._reader.execute(sql, params).fetchall())

    def close(self) -> None:
        self._writer.close()
        if self._reader is not self._writer:
            self._reader.close()


def _same(sql: str) -> str:
    return sql


_pg_sql_cache: dict[str, str] = {}


def _pg_placeholders(sql: str) -> str:
    """Portable `?` placeholders as psycopg's `%s` (and `%` doubled); `?` must not appear in literals."""
    translated = _pg_sql_cache.get(sql)
    if translated is None:
        translated = _pg_sql_cache[sql] = sql.replace("%", "%%").replace("?", "%s")
    return translated


def _pg_statement_error(exc: psycopg.Error) -> bool:
    # A lost connection, a full disk or a shutdown is no event's fault; everything else the server refused is.
    return not is_transient(exc)


class _PostgresTransaction(_Transaction):
    def _run(self, statements: Sequence[Statement]) -> None:
        # A pipeline sends every statement before waiting for any answer: one round trip per run of
        # statements. COPY cannot run inside a pipeline, so bulk rows end the pipeline and go alone.
        run: list[Statement] = []
        for statement in statements:
            sql, rows, _ = statement
            if isinstance(sql, InsertRows | UpsertRows) and len(rows) >= _COPY_FROM_ROWS:
                self._pipelined(run)
                run = []
                if isinstance(sql, InsertRows):
                    self._copy(sql.table, sql.columns, rows)
                else:
                    self._staged_upsert(sql, rows)
            else:
                run.append(statement)
        self._pipelined(run)

    def _pipelined(self, statements: Sequence[Statement]) -> None:
        if statements:
            with self._cursor.connection.pipeline():
                super()._run(statements)

    def _copy(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        # COPY's text format is written row by row in C by psycopg: the fastest way in for many rows.
        with self._cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _staged_upsert(self, upsert: UpsertRows, rows: list[tuple[Any, ...]]) -> None:
        """Many rows upserted through a temporary table filled by COPY (the arrays of `_upsert` are
        dumped value by value in Python, which costs more than the database's work for them)."""
        stage = f"stage__{upsert.table}"
        # Asked every time (a cheap catalog lookup): a rolled-back transaction takes the table with it.
        self._cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} (LIKE {upsert.table} INCLUDING DEFAULTS) "
            "ON COMMIT DELETE ROWS"
        )
        self._copy(stage, upsert.columns, rows)
        columns = ", ".join(upsert.columns)
        self._cursor.execute(
            f"INSERT INTO {upsert.table} ({columns}) SELECT {columns} FROM {stage} {upsert.on_conflict()}"
        )
        self._cursor.execute(f"TRUNCATE {stage}")

    def _upsert(self, upsert: UpsertRows, rows: list[tuple[Any, ...]]) -> None:
        # One array per column: a short statement psycopg parses and prepares once, whatever the row
        # count (a VALUES list of thousands of placeholders is re-parsed on every call).
        arrays = ", ".join(f"%s::{kind}[]" for kind in upsert.types)
        sql = (
            f"INSERT INTO {upsert.table} ({', '.join(upsert.columns)}) "
            f"SELECT * FROM unnest({arrays}) {upsert.on_conflict()}"
        )
        self._cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])

    def _insert(self, insert: InsertRows, rows: list[tuple[Any, ...]]) -> None:
        self._cursor.executemany(self._sql(insert.sql()), rows)


# Below this many rows a bulk write goes in the pipeline with the rest; above, COPY pays for its round trip.
_COPY_FROM_ROWS = 50


class PostgresViewStore(_TablesAndTracking):
    """Views in a PostgreSQL schema: one writing connection (transactions) and one reading (autocommit)."""

    def __init__(
        self, dsn: str = "", *, schema: str = "public", connect_timeout: int = 10, **conninfo: Any
    ) -> None:
        if not schema.isidentifier():
            raise ValueError(f"{schema!r} is not a plain schema name")
        self.schema = schema
        self._conninfo = make_conninfo(dsn, connect_timeout=connect_timeout, **conninfo)
        self._reader = self._connect(autocommit=True)
        self._reader.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        self._writer = self._connect(autocommit=False)
        self._write_lock = threading.RLock()
        self._read_lock = threading.Lock()

    def _connect(self, *, autocommit: bool) -> psycopg.Connection[dict[str, Any]]:
        return psycopg.connect(
            self._conninfo,
            autocommit=autocommit,
            row_factory=dict_row,
            options=f"-c search_path={self.schema}",
        )

    @contextmanager
    def transaction(self) -> Iterator[_Transaction]:
        with self._write_lock:
            # A runner outlives server restarts: a connection the server hung up on is replaced, not reused.
            if hung_up(self._writer):
                self._writer.close()
                self._writer = self._connect(autocommit=False)
            with self._writer.transaction(), self._writer.cursor() as cursor:
                yield _PostgresTransaction(cursor, _pg_placeholders, _pg_statement_error, psycopg.Error)

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        with self._read_lock:
            if hung_up(self._reader):
                self._reader.close()
                self._reader = self._connect(autocommit=True)
            return self._reader.execute(_pg_placeholders(sql), params).fetchall()

    def close(self) -> None:
        self._writer.close()
        self._reader.close()
