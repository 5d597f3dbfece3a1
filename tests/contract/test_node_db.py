"""A node's own database (adapters/node_db.py) on SQLite and PostgreSQL: a transaction is all or nothing,
a single statement commits by itself, and both are seen at once by another connection."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.node_db import PostgresDatabase, SqliteDatabase, database_for


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
