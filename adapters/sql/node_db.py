"""A node's own SQL database beside its event store (SQLite or PostgreSQL), for the exchange's tables."""

from __future__ import annotations

import hashlib
import os
import select
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

import psycopg
from psycopg import sql as pgsql


class Tx(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement (`?` placeholders); the rows it returns, if any."""
        ...


class SqlDatabase(Protocol):
    dialect: str  # "sqlite" or "postgresql": for the few statements written differently

    def transaction(self) -> AbstractContextManager[Tx]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        ...

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One statement in a transaction of its own (on PostgreSQL one round trip, not three)."""
        ...


class _SqliteTx:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self._connection.execute(sql, tuple(params))
        return cursor.fetchall() if cursor.description else []


class _Held:
    """One thread's connection to a SQLite file, with the pragmas it was given; gone with its thread."""

    __slots__ = ("__weakref__", "connection", "generation", "pragmas")

    def __init__(self, connection: sqlite3.Connection, generation: int) -> None:
        self.connection = connection
        self.generation = generation
        self.pragmas: tuple[str, ...] = ()


class SqliteDatabase:
    """A SQLite file, or a private in-memory one shared under a lock.

    A file gets a new connection for each transaction (so nothing stays open: once the store's own
    connections close too, the file is complete without its WAL), unless `keep_connections` is set: then
    each thread keeps one connection from one transaction to the next (no connection open per
    transaction), closed by `close()` or when the process exits.
    """

    dialect = "sqlite"

    def __init__(self, path: str, *, keep_connections: bool = False, busy_timeout: float = 15.0) -> None:
        self.path = path
        self.keep_connections = keep_connections
        self._busy_timeout = busy_timeout
        self._lock = threading.Lock()
        self._memory = path in (":memory:", "") or "mode=memory" in path or path.startswith("file::memory:")
        self._shared = sqlite3.connect(":memory:", check_same_thread=False) if self._memory else None
        # This process's transactions on the file take turns on a lock of its own: waiting for the file's
        # write lock instead, SQLite's busy handler sleeps in growing steps of up to 100 ms (8 threads:
        # p99 80 ms to begin). Reentrant, as a transaction inside another on this thread was before.
        # Other processes still meet at the file's lock.
        self._turns = threading.RLock() if self._memory else _file_lock(path)  # memory: `_lock` serves
        # Run on each connection before its next transaction; the demo relaxes fsync with
        # "PRAGMA synchronous=NORMAL" (WAL mode).
        self.pragmas: tuple[str, ...] = ()
        self._local = threading.local()
        self._held: weakref.WeakSet[_Held] = weakref.WeakSet()
        self._generation = 0
        weakref.finalize(self, _close_held, self._held)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        if self._shared is not None:
            with self._lock:
                yield from _transaction(self._shared)
            return
        held = self._held_by_this_thread() if self.keep_connections else None
        if held is not None and not held.connection.in_transaction:
            with self._turns:
                yield from _transaction(held.connection)
            return
        # A connection of its own, closed after the transaction (also for one inside another on this thread).
        connection = self._connect()
        try:
            for pragma in self.pragmas:
                connection.execute(pragma)
            with self._turns:
                yield from _transaction(connection)
        finally:
            connection.close()

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.transaction() as tx:
            return tx.execute(sql, params)

    def close(self) -> None:
        """Close the kept connections; a thread using the database afterwards opens a new one. One that is
        in a transaction on another thread just now is left to finish: it closes with its thread."""
        with self._lock:
            self._generation += 1
            held = list(self._held)
            self._held.clear()
        _close_held(each for each in held if not each.connection.in_transaction)

    def _held_by_this_thread(self) -> _Held:
        held: _Held | None = getattr(self._local, "held", None)
        if held is None or held.generation != self._generation:
            held = _Held(self._connect(), self._generation)
            self._local.held = held
            with self._lock:
                self._held.add(held)
        if held.pragmas != self.pragmas:
            for pragma in self.pragmas:
                held.connection.execute(pragma)
            held.pragmas = self.pragmas
        return held

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=self._busy_timeout, check_same_thread=False)


_file_locks: dict[str, threading.RLock] = {}
_file_locks_lock = threading.Lock()


def _file_lock(path: str) -> threading.RLock:
    """The lock of this process's transactions on the SQLite file at `path` (one per file)."""
    key = os.path.realpath(path)
    with _file_locks_lock:
        return _file_locks.setdefault(key, threading.RLock())


def _close_held(held: Iterable[_Held]) -> None:
    for each in list(held):
        each.connection.close()


def _transaction(connection: sqlite3.Connection) -> Iterator[Tx]:
    # BEGIN IMMEDIATE takes the write lock up front: no lock-upgrade deadlock with the store.
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield _SqliteTx(connection)
        connection.commit()
    except BaseException:
        connection.rollback()
        raise


class _PostgresTx:
    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self._connection.execute(sql.replace("?", "%s"), tuple(params))
        return cursor.fetchall() if cursor.description else []


class PostgresDatabase:
    """Connections in autocommit mode, opened as needed up to `max_connections` and kept for the next
    use, each used by one transaction or statement at a time; a broken one is dropped.

    `transaction()` wraps its block in BEGIN and COMMIT, and `run()` sends its one statement alone, which
    PostgreSQL commits by itself. Concurrent commands each write their household keys and subjects on a
    connection of their own: on one shared connection they queued behind each other's commits (p50 5 ms
    of an 8-client command's 7.6 ms, docs/performance.md).
    """

    dialect = "postgresql"

    def __init__(
        self, *, schema: str = "", connect_timeout: int = 10, max_connections: int = 4, **conninfo: Any
    ) -> None:
        self._conninfo = conninfo
        self._schema = schema
        self._connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._free = threading.BoundedSemaphore(max_connections)
        self._idle: list[psycopg.Connection[Any]] = []

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._connection() as connection, connection.transaction():
            yield _PostgresTx(connection)

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._connection() as connection:
            return _PostgresTx(connection).execute(sql, params)

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        with self._free:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None or hung_up(connection):
                if connection is not None:
                    connection.close()
                connection = self._connect()
            try:
                yield connection
            finally:
                if connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                    with self._lock:
                        self._idle.append(connection)
                else:  # broken, or left in a transaction: not for the next use
                    connection.close()
                    if connection.broken:
                        # The server went away (a restart): the idle connections opened to it are dead
                        # too, and each would fail one more caller before being dropped.
                        self.close()

    def _connect(self) -> psycopg.Connection[Any]:
        connection = psycopg.connect(connect_timeout=self._connect_timeout, autocommit=True, **self._conninfo)
        if self._schema:
            connection.execute("SELECT set_config('search_path', %s, false)", (self._schema,))
        return connection

    def channel(self, name: str) -> str:
        """A NOTIFY channel of this node's database alone (its schema's): `name` and a digest of the
        schema, as a channel's name is at most 63 bytes."""
        return f"{name}_{hashlib.sha256(self._schema.encode()).hexdigest()[:16]}"

    @contextmanager
    def listening(self, channel: str) -> Iterator[Callable[[float], int]]:
        """LISTEN on `channel` on a connection of its own (not one of the pool's); yields `wait(seconds)`,
        which answers how many notifications arrived within `seconds` (0: none came)."""
        connection = psycopg.connect(connect_timeout=self._connect_timeout, autocommit=True, **self._conninfo)
        try:
            connection.execute(pgsql.SQL("LISTEN {}").format(pgsql.Identifier(channel)))

            yield lambda seconds: notifications_within(connection, seconds)
        finally:
            connection.close()

    def close(self) -> None:
        """Closes the idle connections (a later use opens new ones)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


def hung_up(connection: psycopg.Connection[Any]) -> bool:
    """Whether a connection kept idle for reuse is gone: closed, broken, or the server has hung up on it.

    An idle connection has nothing to read unless the server went away: a restart or shutdown sends a
    FATAL message and closes the socket, which psycopg notices only when the next statement fails (a
    handler then got "server closed the connection unexpectedly"). Asking the socket whether it is
    readable costs a system call, not a round trip.
    """
    if connection.closed or connection.broken:
        return True
    # poll, not select: select refuses descriptors above 1023.
    probe = select.poll()
    try:
        probe.register(connection.fileno(), select.POLLIN)
        return bool(probe.poll(0))
    except (OSError, ValueError):
        return True


def notifications_within(connection: psycopg.Connection[Any], seconds: float) -> int:
    """How many notifications a LISTENing connection received within `seconds` (0: none came).

    The thread sleeps in poll(2) on the connection's socket until the server sends something: psycopg's
    `notifies(timeout=...)` wakes every 0.1 s to look for signals, ten wake-ups a second for each listener
    of a node that has nothing to do.
    """
    arrived = sum(1 for _ in connection.notifies(timeout=0))  # any read with a statement's results
    if arrived:
        return arrived
    probe = select.poll()
    probe.register(connection.fileno(), select.POLLIN)
    if not probe.poll(int(seconds * 1000)):
        return 0
    return sum(1 for _ in connection.notifies(timeout=0))


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
