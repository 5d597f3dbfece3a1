"""A node's own database (adapters/sql/node_db.py) on SQLite and PostgreSQL: a transaction is all or nothing,
a single statement commits by itself, and both are seen at once by another connection."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.sql.node_db import PostgresDatabase, SqliteDatabase, database_for


@pytest.fixture
def two_connections(
    shared_store_env: dict[str, str],
) -> Iterator[tuple[SqliteDatabase | PostgresDatabase, ...]]:
    databases = (database_for(shared_store_env), database_for(shared_store_env))
    with databases[0].transaction() as tx:
        tx.execute("CREATE TABLE things (name TEXT PRIMARY KEY, n INTEGER NOT NULL)")
    yield databases
    for db in databases:
        db.close()


def _things(db: SqliteDatabase | PostgresDatabase) -> list[tuple[str, int]]:
    return [(str(name), int(n)) for name, n in db.run("SELECT name, n FROM things ORDER BY name")]


def test_a_transaction_is_all_or_nothing(
    two_connections: tuple[SqliteDatabase | PostgresDatabase, ...],
) -> None:
    here, elsewhere = two_connections
    with here.transaction() as tx:
        tx.execute("INSERT INTO things (name, n) VALUES (?, ?)", ("a", 1))
        tx.execute("UPDATE things SET n = n + 1 WHERE name = ?", ("a",))

    def failing_block() -> None:
        with here.transaction() as tx:
            tx.execute("INSERT INTO things (name, n) VALUES (?, ?)", ("b", 1))
            tx.execute("UPDATE things SET n = 10 WHERE name = ?", ("a",))
            raise RuntimeError("the block fails")

    with pytest.raises(RuntimeError):
        failing_block()
    assert _things(elsewhere) == [("a", 2)]


def test_a_single_statement_commits_by_itself_and_a_failed_one_changes_nothing(
    two_connections: tuple[SqliteDatabase | PostgresDatabase, ...],
) -> None:
    here, elsewhere = two_connections
    assert here.run("INSERT INTO things (name, n) VALUES (?, ?) RETURNING n", ("a", 1)) == [(1,)]
    assert _things(elsewhere) == [("a", 1)]
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        here.run("INSERT INTO things (name, n) VALUES (?, ?)", ("a", 2))
    # The connection goes on after the failure, and a conflict-tolerant insert returns nothing.
    assert (
        here.run(
            "INSERT INTO things (name, n) VALUES (?, ?) ON CONFLICT (name) DO NOTHING RETURNING n", ("a", 3)
        )
        == []
    )
    here.run("INSERT INTO things (name, n) VALUES (?, ?)", ("b", 2))
    assert _things(elsewhere) == [("a", 1), ("b", 2)]


@pytest.mark.timeout(30)
def test_this_process_s_transactions_on_a_sqlite_file_take_turns_instead_of_finding_it_locked(
    tmp_path: Path,
) -> None:
    # With no busy timeout, a transaction that met another one at the file's write lock would fail at once
    # ("database is locked"); taking turns in the process, it waits for the other to commit instead.
    path = str(tmp_path / "node.db")
    first, second = SqliteDatabase(path, busy_timeout=0), SqliteDatabase(path, busy_timeout=0)
    first.run("CREATE TABLE things (name TEXT PRIMARY KEY, n INTEGER NOT NULL)")
    holding, release = threading.Event(), threading.Event()
    outcomes: list[object] = []

    def hold() -> None:
        with first.transaction() as tx:
            tx.execute("INSERT INTO things (name, n) VALUES (?, ?)", ("first", 1))
            holding.set()
            release.wait(10)

    def meanwhile() -> None:
        try:
            second.run("INSERT INTO things (name, n) VALUES (?, ?)", ("second", 2))
            outcomes.append("committed")
        except sqlite3.OperationalError as error:
            outcomes.append(error)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(10)
    other = threading.Thread(target=meanwhile)
    other.start()
    other.join(0.3)
    assert outcomes == [], "the second transaction waits while the first is open"
    release.set()
    holder.join(10)
    other.join(10)

    assert outcomes == ["committed"]
    assert [tuple(row) for row in first.run("SELECT name, n FROM things ORDER BY name")] == [
        ("first", 1),
        ("second", 2),
    ]


def _holding_a_transaction(db: PostgresDatabase, holding: threading.Event, release: threading.Event) -> None:
    with db.transaction() as tx:
        tx.execute("INSERT INTO things (name, n) VALUES (?, ?)", ("first", 1))
        holding.set()
        release.wait(10)


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "shared_store_env", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_on_postgresql_a_statement_goes_through_while_another_thread_holds_a_transaction(
    shared_store_env: dict[str, str],
) -> None:
    # A node's threads (commands writing household keys, the relay, the sealer, API records) share one
    # database object; one thread's open transaction must not hold up the others' statements.
    db = database_for(shared_store_env)
    assert isinstance(db, PostgresDatabase)
    db.run("CREATE TABLE things (name TEXT PRIMARY KEY, n INTEGER NOT NULL)")
    holding, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_holding_a_transaction, args=(db, holding, release))
    holder.start()
    try:
        assert holding.wait(10)
        db.run("INSERT INTO things (name, n) VALUES (?, ?)", ("second", 2))
        # Committed by itself, on a connection of its own: the open transaction's row is not seen yet.
        assert _things(db) == [("second", 2)]
    finally:
        release.set()
        holder.join(10)
    assert _things(db) == [("first", 1), ("second", 2)]
    db.close()


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "shared_store_env", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_on_postgresql_no_more_connections_are_opened_than_allowed(shared_store_env: dict[str, str]) -> None:
    env = shared_store_env
    db = PostgresDatabase(
        host=env["POSTGRES_HOST"],
        port=int(env["POSTGRES_PORT"]),
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        dbname=env["POSTGRES_DBNAME"],
        schema=env["POSTGRES_SCHEMA"],
        max_connections=1,
    )
    db.run("CREATE TABLE things (name TEXT PRIMARY KEY, n INTEGER NOT NULL)")
    holding, release = threading.Event(), threading.Event()
    done: list[str] = []
    holder = threading.Thread(target=_holding_a_transaction, args=(db, holding, release))
    holder.start()
    assert holding.wait(10)
    other = threading.Thread(
        target=lambda: done.append(str(db.run("INSERT INTO things VALUES (?, ?) RETURNING name", ("b", 2))))
    )
    other.start()
    other.join(0.3)
    assert done == [], "the one connection is in use: the statement waits for it"
    release.set()
    holder.join(10)
    other.join(10)
    assert done == ["[('b',)]"]
    # The connection goes back for the next use instead of a new one being opened each time.
    assert len({db.run("SELECT pg_backend_pid()")[0][0] for _ in range(3)}) == 1
    db.close()
