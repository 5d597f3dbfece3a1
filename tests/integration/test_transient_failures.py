"""A connection the server dropped is a transient failure: projection runners and consumers retry, never park.

The failures are real: a handler's (or an apply's) pooled connection has its backend ended with
`pg_terminate_backend` just before it is used, as a PostgreSQL restart ends every pooled connection. The
statement on it fails, and the eventsourcing library raises its own `OperationalError` (not a subclass of
psycopg's) from psycopg's. It is injected at that boundary, inside the handler, because the runner's own
reads of the log (retried on a fresh connection) would otherwise meet the dropped connection first.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import OperationalError as StoreOperationalError

from adapters.eventstore.event_decoding import StoredEventDecoder
from adapters.exchange.consumer import Consumer
from adapters.exchange.tables import ParkedMessages
from adapters.sql.node_db import PostgresDatabase, database_for
from adapters.sql.view_stores import SQLiteViewStore
from coordination.domain.vacancy import Vacancy
from coordination.integration.received import ReceivedEvent
from coordination.projections.definition import Projection, handles
from coordination.projections.runner import ProjectionRunner
from coordination.projections.transaction import ProjectionTx
from ops.bench.fixtures.projection_toys import StoreApp, publish
from ops.devservices.pgcluster import PostgresServer
from tests.conftest import _fresh_schema, postgres_env
from tests.exchange_support import ReceivedLog
from tests.integration.conftest import Transport
from tests.integration.test_consumer import _noted

pytestmark = pytest.mark.postgres


@pytest.fixture
def store_app(postgres_server: PostgresServer) -> Iterator[StoreApp]:
    """An application on PostgreSQL with a pool of one connection, so the next read gets the stale one."""
    with _fresh_schema(postgres_server) as schema:
        env = {
            **postgres_env(postgres_server, schema),
            "POSTGRES_POOL_SIZE": "1",
            "POSTGRES_MAX_OVERFLOW": "0",
        }
        app = StoreApp(env=env)
        try:
            yield app
        finally:
            app.close()


class DroppedOnce:
    """Reads through the app's pool; the first read's connection has its backend ended just before use
    (`pg_terminate_backend`, waiting until it is gone), as a server restart ends every pooled one."""

    def __init__(self, app: StoreApp, server: PostgresServer) -> None:
        self.app, self.server, self.dropped = app, server, 0

    def read(self) -> None:
        with self.app.recorder.datastore.get_connection() as conn:  # type: ignore[attr-defined]
            if not self.dropped:
                self.dropped += 1
                with psycopg.connect(self.server.dsn, autocommit=True) as admin:
                    ended = admin.execute("SELECT pg_terminate_backend(%s, 5000)", (conn.info.backend_pid,))
                    assert ended.fetchone() == (True,)
            conn.execute("SELECT 1")


class AsksTheStore(Projection):
    """Published vacancies, each noted after a read of the event store (as the timeline reads a
    household's keys from the node's database while it handles an event)."""

    name = "asks_the_store"
    tables = {"asked": "vacancy_id TEXT PRIMARY KEY"}
    store: DroppedOnce

    @handles(Vacancy.Published)
    def published(self, event: Vacancy.Published, tx: ProjectionTx) -> None:
        self.store.read()
        tx.upsert("asked", {"vacancy_id": str(event.originator_id)})


def test_a_projection_handler_meeting_a_dropped_connection_is_retried_not_parked(
    store_app: StoreApp, postgres_server: PostgresServer
) -> None:
    projection = AsksTheStore()
    projection.store = DroppedOnce(store_app, postgres_server)
    views = SQLiteViewStore(":memory:")
    runner = ProjectionRunner(store_app, projection, views, decoding=StoredEventDecoder(store_app.mapper))
    vacancy_id = publish(store_app, "Vollsmose").id

    with pytest.raises(StoreOperationalError) as failed:
        runner.run_once()
    applied = runner.run_until_caught_up(max_seconds=10)

    assert not isinstance(failed.value, psycopg.OperationalError)  # the library's own, as in production
    assert runner.parked() == []
    assert applied == 1
    assert views.query("SELECT vacancy_id FROM asked__live") == [{"vacancy_id": str(vacancy_id)}]
    views.close()


def test_a_running_projection_gets_past_a_dropped_connection_by_itself(
    store_app: StoreApp, postgres_server: PostgresServer
) -> None:
    projection = AsksTheStore()
    projection.store = DroppedOnce(store_app, postgres_server)
    views = SQLiteViewStore(":memory:")
    runner = ProjectionRunner(store_app, projection, views, decoding=StoredEventDecoder(store_app.mapper))
    publish(store_app, "Vollsmose")
    runner.start(max_sleep=0.1)
    try:
        deadline = time.monotonic() + 10
        while runner.lag() and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        runner.stop()

    assert projection.store.dropped == 1
    assert runner.lag() == 0
    assert runner.parked() == []
    views.close()


def test_a_message_whose_apply_meets_a_dropped_connection_is_retried_not_parked(
    transport: Transport, topic: str, store_app: StoreApp, postgres_server: PostgresServer, tmp_path: Any
) -> None:
    node_db = database_for(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "n.db")}
    )
    log = ReceivedLog(node_db)
    store = DroppedOnce(store_app, postgres_server)

    def apply(received: ReceivedEvent) -> None:
        store.read()
        log.apply(received)

    transport.publisher().publish([_noted(topic, n) for n in range(2)])
    consumer = Consumer(
        transport.subscribe([topic], f"node-{uuid4().hex[:8]}"), apply, ParkedMessages(node_db), name="node"
    )
    failures = []
    deadline = time.monotonic() + 15
    while len(log.rows()) < 2:
        assert time.monotonic() < deadline
        try:
            consumer.run_once(0.2)
        except StoreOperationalError as failure:
            failures.append(failure)

    assert len(failures) == 1
    assert [data["n"] for *_, data in log.rows()] == [0, 1]
    assert consumer.list_parked() == []
    assert consumer.stats.parked == 0


def test_a_node_database_connection_the_server_dropped_is_replaced_before_it_is_used(
    postgres_server: PostgresServer,
) -> None:
    db = database_for(postgres_env(postgres_server, "public"))
    assert isinstance(db, PostgresDatabase)
    try:
        [(pid,)] = db.run("SELECT pg_backend_pid()")
        with psycopg.connect(postgres_server.dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))

        [(again,)] = db.run("SELECT pg_backend_pid()")
        with db.transaction() as tx:
            [(inside,)] = tx.execute("SELECT pg_backend_pid()")
    finally:
        with contextlib.suppress(Exception):
            db.close()

    assert again != pid
    assert inside == again
