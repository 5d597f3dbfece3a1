"""A node as one of several replicas on one PostgreSQL database: which of its jobs run here.

Every replica serves the API and consumes (its share of the partitions when COORDINATION_REPLICATED is
set: adapters/kafka/group.py). The relay, the sealer, each projection runner and the timers are roles, each
run by the one replica holding its advisory lock (adapters/sql/leadership.py). On SQLite there is one
replica: a second one on the same store refuses to start (`hold_the_store`).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import psycopg
import structlog
from psycopg.conninfo import make_conninfo

from adapters.settings import NodeSettings, Store
from adapters.sql.leadership import Leadership, Role, lock_key
from ops.node.exchange import Node
from ops.node.timers import NodeTimers


class AnotherReplicaRunning(RuntimeError):
    """A second process on a node's SQLite store: SQLite serves one process's node, not replicas."""


def hold_the_store(settings: NodeSettings) -> IO[str] | None:
    """On SQLite, an exclusive lock on a file beside the store, held while the process lives (the kernel
    drops it with the process, however it ends); a second replica of the node fails here with a message
    saying why. None on other stores (PostgreSQL has replicas; the memory store is the process's own)."""
    if settings.store is not Store.SQLITE:
        return None
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / f"{settings.organisation}.sqlite3.lock"
    handle = path.open("a+")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise AnotherReplicaRunning(
            f"{settings.organisation}'s node already runs on the SQLite store in {settings.data_dir}"
            f" (process {holder} holds {path.name}). A node on SQLite runs as one process; run replicas"
            " on PostgreSQL (COORDINATION_STORE=postgres)."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


@contextmanager
def starting_alone(settings: NodeSettings) -> Iterator[None]:
    """On PostgreSQL, one replica of the node at a time builds its parts: two creating the same tables at
    once fail ("tuple concurrently updated"). A session advisory lock of its own, held while they are built;
    the node logs what it waits for while another replica starts."""
    if settings.store is not Store.POSTGRES:
        yield
        return
    key = lock_key(_namespace(settings), "starting")
    with psycopg.connect(_conninfo(settings), autocommit=True, connect_timeout=10) as connection:
        row = connection.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        if not (row and row[0]):
            structlog.get_logger().info("node.waiting", waiting_for="another replica's start")
            connection.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            yield
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (key,))


def _conninfo(settings: NodeSettings) -> str:
    return make_conninfo(
        host=settings.postgres_host,
        port=settings.postgres_port,
        user=settings.postgres_user,
        password=settings.postgres_password.get_secret_value(),
        dbname=settings.postgres_dbname,
    )


def _namespace(settings: NodeSettings) -> str:
    return f"{settings.postgres_dbname}/{settings.postgres_schema}/{settings.organisation}"


def node_roles(node: Node, timers: NodeTimers | None) -> dict[str, Role]:
    """The node's jobs that run on one replica at a time, by name (the names are logged and shown)."""
    roles = {
        "relay": Role(node.relay.start, node.relay.stop),
        "sealer": Role(node.sealer.start, node.sealer.stop),
    }
    if node.read_models is not None:
        for name, runner in node.read_models.runners.items():
            roles[f"projection:{name}"] = Role(
                lambda runner=runner: runner.start(max_sleep=node.idle_poll),  # type: ignore[misc]
                runner.stop,
            )
    if timers is not None:
        roles["timers"] = Role(timers.start, timers.stop)
    return roles


def leadership_for(settings: NodeSettings, roles: dict[str, Role]) -> Leadership | None:
    """The election of the node's roles among its replicas: on PostgreSQL, by advisory locks in the node's
    own database, named by its schema and organisation; None elsewhere (one replica runs them all)."""
    if settings.store is not Store.POSTGRES:
        return None
    return Leadership(_conninfo(settings), _namespace(settings), roles)


def running_here_or_elsewhere(node: Node, leadership: Leadership | None) -> bool:
    """Readiness's question: the consumer runs, and the relay runs here unless another replica holds it."""
    consumer = node.consumer._loop.running
    if leadership is not None and "relay" not in leadership.held():
        return consumer
    return consumer and node.relay._loop.running
