"""The node's own SQLite database: one kept connection per thread, transactions as before."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from adapters.sql.node_db import SqliteDatabase


def _database(tmp_path: Path, *, keep_connections: bool = True) -> SqliteDatabase:
    db = SqliteDatabase(str(tmp_path / "node.sqlite3"), keep_connections=keep_connections)
    with db.transaction() as tx:
        tx.execute("CREATE TABLE t (n INTEGER)")
    return db


def _connection_of(db: SqliteDatabase) -> sqlite3.Connection:
    with db.transaction() as tx:
        return tx._connection  # type: ignore[attr-defined, no-any-return]


def test_a_thread_keeps_its_connection_from_one_transaction_to_the_next(tmp_path: Path) -> None:
    db = _database(tmp_path)
    assert _connection_of(db) is _connection_of(db)


def test_by_default_each_transaction_has_a_connection_of_its_own_closed_after_it(tmp_path: Path) -> None:
    db = _database(tmp_path, keep_connections=False)
    first = _connection_of(db)
    with pytest.raises(sqlite3.ProgrammingError):
        first.execute("SELECT 1")
    assert _connection_of(db) is not first


def test_each_thread_has_a_connection_of_its_own(tmp_path: Path) -> None:
    db = _database(tmp_path)
    seen: list[sqlite3.Connection] = []
    thread = threading.Thread(target=lambda: seen.append(_connection_of(db)))
    thread.start()
    thread.join()
    assert seen[0] is not _connection_of(db)


def test_a_transaction_commits_when_the_block_ends_and_rolls_back_when_it_raises(tmp_path: Path) -> None:
    db = _database(tmp_path)
    with db.transaction() as tx:
        tx.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(RuntimeError):
        _insert_then_fail(db)
    other = SqliteDatabase(db.path)
    with other.transaction() as tx:
        assert tx.execute("SELECT n FROM t") == [(1,)]


def test_a_transaction_inside_another_on_the_same_thread_uses_a_connection_of_its_own(tmp_path: Path) -> None:
    db = _database(tmp_path)
    outer_connection = _connection_of(db)
    # The inner one waits for the outer one's write lock, as two connections always did (briefly, here).
    db._connect = lambda: sqlite3.connect(db.path, timeout=0.1)  # type: ignore[method-assign]
    with db.transaction() as outer:
        outer.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(sqlite3.OperationalError, match="locked"), db.transaction() as inner:
            inner.execute("SELECT 1")
    assert _connection_of(db) is outer_connection
    with db.transaction() as tx:
        assert tx.execute("SELECT n FROM t") == [(1,)]


def test_pragmas_set_later_reach_connections_already_open(tmp_path: Path) -> None:
    db = _database(tmp_path)
    with db.transaction() as tx:
        assert tx.execute("PRAGMA synchronous") == [(2,)]  # FULL
    db.pragmas = ("PRAGMA synchronous=NORMAL",)
    with db.transaction() as tx:
        assert tx.execute("PRAGMA synchronous") == [(1,)]


def test_closing_closes_every_connection_and_a_later_transaction_opens_a_new_one(tmp_path: Path) -> None:
    db = _database(tmp_path)
    before = _connection_of(db)
    db.close()
    with pytest.raises(sqlite3.ProgrammingError):
        before.execute("SELECT 1")
    with db.transaction() as tx:
        assert tx.execute("SELECT count(*) FROM t") == [(0,)]


def test_an_in_memory_database_is_one_shared_by_every_thread() -> None:
    db = SqliteDatabase(":memory:")
    with db.transaction() as tx:
        tx.execute("CREATE TABLE t (n INTEGER)")
    thread = threading.Thread(target=lambda: _insert(db))
    thread.start()
    thread.join()
    with db.transaction() as tx:
        assert tx.execute("SELECT n FROM t") == [(7,)]


def _insert(db: SqliteDatabase) -> None:
    with db.transaction() as tx:
        tx.execute("INSERT INTO t VALUES (7)")


def _insert_then_fail(db: SqliteDatabase) -> None:
    with db.transaction() as tx:
        tx.execute("INSERT INTO t VALUES (2)")
        raise RuntimeError("the caller failed")


def test_closing_leaves_a_transaction_under_way_on_another_thread_to_finish(tmp_path: Path) -> None:
    db = _database(tmp_path)
    inside, closed = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def insert_while_closing() -> None:
        try:
            with db.transaction() as tx:
                inside.set()
                closed.wait(10)
                tx.execute("INSERT INTO t VALUES (3)")
        except BaseException as error:
            failures.append(error)

    thread = threading.Thread(target=insert_while_closing)
    thread.start()
    assert inside.wait(10)
    db.close()
    closed.set()
    thread.join()
    assert failures == []
    with db.transaction() as tx:
        assert tx.execute("SELECT n FROM t") == [(3,)]
