"""A node's own SQL database beside its event store (SQLite or PostgreSQL), for the exchange's tables."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

import psycopg


class Tx(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement (`?` placeholders); the rows it returns, if any."""
        ...


class SqlDatabase(Protocol):
    def transaction(self) -> AbstractContextManager[Tx]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        ...


class _SqliteTx:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self._connection.execute(sql, tuple(params))
        return cursor.fetchall() if cursor.description else []


class SqliteDatabase:
    """A SQLite file (a connection per transaction, so any thread may use it) or a private in-memory one."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._memory = path in (":memory:", "") or "mode=memory" in path or path.startswith("file::memory:")
        self._shared = sqlite3.connect(":memory:", check_same_thread=False) if self._memory else None
        # Run on each new connection; the demo relaxes fsync with "PRAGMA synchronous=NORMAL" (WAL mode).
        self.pragmas: tuple[str, ...] = ()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._lock if self._memory else _no_lock():
            connection = self._shared or sqlite3.connect(self.path, timeout=15)
            try:
                for pragma in self.pragmas if self._shared is None else ():
                    connection.execute(pragma)
                # BEGIN IMMEDIATE takes the write lock up front: no lock-upgrade deadlock with the store.
                connection.execute("BEGIN IMMEDIATE")
                try:
                    yield _SqliteTx(connection)
                except BaseException:
                    connection.rollback()
                    raise
                connection.commit()
            finally:
                if self._shared is None:
                    connection.close()


class _PostgresTx:
    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self._connection.execute(sql.replace("?", "%s"), tuple(params))
        return cursor.fetchall() if cursor.description else []


class PostgresDatabase:
    """One connection (reopened when broken), used by one transaction at a time."""

    def __init__(self, *, schema: str = "", connect_timeout: int = 10, **conninfo: Any) -> None:
        self._conninfo = conninfo
        self._schema = schema
        self._connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._connection: psycopg.Connection[Any] | None = None

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._lock:
            if self._connection is None or self._connection.closed or self._connection.broken:
                self._connection = psycopg.connect(connect_timeout=self._connect_timeout, **self._conninfo)
                if self._schema:
                    self._connection.execute("SELECT set_config('search_path', %s, false)", (self._schema,))
                    self._connection.commit()
            with self._connection.transaction():
                yield _PostgresTx(self._connection)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


@contextmanager
def _no_lock() -> Iterator[None]:
    yield


def database_for(env: Mapping[str, str]) -> SqliteDatabase | PostgresDatabase:
    """The database of an eventsourcing application's store (from its `env`); a private one for POPO."""
    module = env.get("PERSISTENCE_MODULE", "eventsourcing.popo")
    if module == "eventsourcing.sqlite":
        return SqliteDatabase(env.get("SQLITE_DBNAME", ":memory:"))
    if module == "eventsourcing.postgres":
        return PostgresDatabase(
            host=env.get("POSTGRES_HOST", "127.0.0.1"),
            port=int(env.get("POSTGRES_PORT", "5432")),
            user=env.get("POSTGRES_USER", ""),
            password=env.get("POSTGRES_PASSWORD", ""),
            dbname=env.get("POSTGRES_DBNAME", ""),
            schema=env.get("POSTGRES_SCHEMA", ""),
            connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT", "10")),
        )
    return SqliteDatabase(":memory:")
