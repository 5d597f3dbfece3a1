"""Fixtures for real stores: a PostgreSQL server for the session, and one env per backend for a test."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from ops.devservices import pgcluster
from ops.devservices.pgcluster import PostgresServer


def pytest_configure(config: pytest.Config) -> None:
    """With parallel workers (`-n`), the first worker that needs PostgreSQL starts it for all of them
    (ops/devservices/pgcluster.py `start_shared`, in a directory they inherit the name of), and this
    process, their controller, stops it after them."""
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        directory = tempfile.mkdtemp(prefix="coordination-pg-shared-")
        config.stash[_SHARED] = Path(directory)
        os.environ[_SHARED_ENV] = directory


def pytest_unconfigure(config: pytest.Config) -> None:
    directory = config.stash.get(_SHARED, None)
    if directory is not None:
        pgcluster.stop_shared(directory)
        shutil.rmtree(directory, ignore_errors=True)
        del os.environ[_SHARED_ENV]


_SHARED = pytest.StashKey[Path]()
_SHARED_ENV = "COORDINATION_TEST_PG_SHARED"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL 15 server on 127.0.0.1 with a database of its own for this test session.

    Starts cluster 15/main if it is down (and stops it at the end), or falls back to a throwaway
    cluster; a cluster that was already running is left running. Parallel workers share the one the
    first of them started (pytest_configure). Each session has a role and a database of its own.
    """
    shared = os.environ.get(_SHARED_ENV)
    cluster = pgcluster.start_shared(Path(shared)) if shared else pgcluster.start()
    try:
        server = pgcluster.create_database(cluster)
        try:
            pgcluster.check_password_login_allowed(cluster.port, server.dbname)
            with psycopg.connect(server.dsn, connect_timeout=10) as conn:
                conn.execute("SELECT 1")
            yield server
        finally:
            pgcluster.drop_database(cluster, server)
    finally:
        pgcluster.stop(cluster)


@pytest.fixture(
    params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The eventsourcing env for an Application on each backend; pass it as `env=` (os.environ loses)."""
    if request.param == "memory":
        yield {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    elif request.param == "sqlite":
        yield {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "store.db")}
    else:
        # Asked for lazily so that memory- and SQLite-only runs never start PostgreSQL.
        server: PostgresServer = request.getfixturevalue("postgres_server")
        with _fresh_schema(server) as schema:
            yield postgres_env(server, schema)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_store_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """`store_env` without the in-memory store: one that every connection opened from the env shares (a
    SQLite file, a PostgreSQL schema), as a node's processes and its own database do."""
    if request.param == "sqlite":
        yield {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "store.db")}
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    with _fresh_schema(server) as schema:
        yield postgres_env(server, schema)


def postgres_env(server: PostgresServer, schema: str) -> dict[str, str]:
    """The eventsourcing env of a store in `schema` of the test session's database."""
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": server.dbname,
        "POSTGRES_HOST": server.host,
        "POSTGRES_PORT": str(server.port),
        "POSTGRES_USER": server.user,
        "POSTGRES_PASSWORD": server.password,
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_CONNECT_TIMEOUT": "10",
    }


@contextmanager
def _fresh_schema(server: PostgresServer) -> Iterator[str]:
    """A schema of its own for one test, so tables never leak between tests; dropped with its tables."""
    name = f"test_{secrets.token_hex(6)}"
    with psycopg.connect(server.dsn, connect_timeout=10, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    try:
        yield name
    finally:
        with psycopg.connect(server.dsn, connect_timeout=10, autocommit=True) as conn:
            # An application left open could hold a lock; fail the teardown rather than hang on it.
            conn.execute("SET lock_timeout = '10s'")
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
