"""The composition root opens a node's own database once: its household keys, relay positions, parked
messages, audit chain and API records share it (tools/node_connections.py prints the figures)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest

from adapters.exchange.inprocess import InProcessBroker
from adapters.http.node import ApiNode
from adapters.settings import NodeSettings, Store
from adapters.sql.node_db import database_for
from ops.demo.reference_family import the_dwelling
from ops.demo.reference_scenario import CIVICA, consultant, on
from ops.devservices.pgcluster import PostgresServer
from ops.node.bootstrap import NodeParts, build_app, node_read_models
from ops.node.exchange import Node
from tests.conftest import _fresh_schema

pytestmark = pytest.mark.postgres


@pytest.fixture
def settings(postgres_server: PostgresServer, tmp_path: Path) -> Iterator[NodeSettings]:
    with _fresh_schema(postgres_server) as schema:
        yield NodeSettings(
            organisation=CIVICA,
            store=Store.POSTGRES,
            data_dir=tmp_path,
            postgres_host=postgres_server.host,
            postgres_port=postgres_server.port,
            postgres_user=postgres_server.user,
            postgres_password=postgres_server.password,
            postgres_dbname=postgres_server.dbname,
            postgres_schema=schema,
            timers_interval_s=0,
        )


def _sessions(server: PostgresServer) -> int:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        row = conn.execute(
            # Not the erasure watch's own LISTEN session (one per process by design, opened by its thread
            # whenever it gets to it): the parts' pooled sessions are what is compared.
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
            " AND query NOT LIKE 'LISTEN %%'",
            (server.dbname,),
        ).fetchone()
    return int(row[0]) if row else 0


def _serve_a_little(app: object, node: Node, api: ApiNode) -> None:
    """Commands, the exchange, the read models and the API's records: every part that uses a database."""
    for day in range(1, 4):
        app.publish_vacancy(  # type: ignore[attr-defined]
            command_id=uuid4(), dwelling=the_dwelling(), at=on(date(2026, 9, day)), by=consultant
        )
    node.run_until_idle(30)
    api.records.access_log(limit=1)


def _sessions_of(
    server: PostgresServer, build: Callable[[], tuple[object, Node, ApiNode, Callable[[], None]]]
) -> int:
    before = _sessions(server)
    app, node, api, close = build()
    try:
        _serve_a_little(app, node, api)
        return _sessions(server) - before
    finally:
        close()


def test_a_served_node_built_by_the_composition_root_opens_fewer_sessions_than_parts_opening_their_own(
    postgres_server: PostgresServer, settings: NodeSettings
) -> None:
    def by_the_root() -> tuple[object, Node, ApiNode, Callable[[], None]]:
        parts = NodeParts(settings)
        node = parts.on_exchange(InProcessBroker())
        return parts.app, node, parts.api_node(), parts.close

    def each_part_its_own() -> tuple[object, Node, ApiNode, Callable[[], None]]:
        app = build_app(settings, group_commit=True)
        node = Node(settings, app, InProcessBroker(), read_models=node_read_models(settings, app))
        api = ApiNode(app=app, db=database_for(app.env), read_models=node.read_models)
        return app, node, api, lambda: (node.close(), app.close(), api.db.close())  # type: ignore[attr-defined]

    shared = _sessions_of(postgres_server, by_the_root)
    separate = _sessions_of(postgres_server, each_part_its_own)

    assert shared < separate, (shared, separate)


def test_the_parts_of_a_node_share_its_one_database(settings: NodeSettings) -> None:
    parts = NodeParts(settings)
    try:
        node = parts.on_exchange(InProcessBroker())
        assert node.db is parts.db
        assert parts.api_node().db is parts.db
        assert parts.app.storage.db is parts.db  # type: ignore[attr-defined]  # household keys, snapshots
    finally:
        parts.close()
