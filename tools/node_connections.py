"""How many connections a served node keeps open to its PostgreSQL database (issue 18: one database object
per process). Builds CIVICA's node as `coordination serve --org` does (node on an in-process exchange, its
API node, read models), runs a few commands through every part that uses the database, and counts the
database's sessions in pg_stat_activity.

    .venv/bin/python tools/node_connections.py

Uses a throwaway database of its own on the local cluster (ops/devservices/pgcluster.py), dropped after.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from uuid import uuid4

import psycopg

sys.path.insert(0, str(Path.cwd()))  # the code of the checkout it is run from

from adapters.exchange.inprocess import InProcessBroker
from adapters.settings import NodeSettings, Store
from ops.demo.reference_family import the_dwelling
from ops.demo.reference_scenario import CIVICA, consultant, on
from ops.devservices import pgcluster


def sessions(dsn: str, dbname: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (dbname,)
        ).fetchone()
    return int(row[0]) if row else 0


def served_node(settings: NodeSettings) -> tuple[object, object, object, object]:
    """The node, API node and app as `serve_one` composes them, on this checkout's code."""
    try:
        from ops.node.bootstrap import NodeParts
    except ImportError:  # before the composition root: serve_one's own wiring
        from adapters.http.node import ApiNode
        from adapters.sql.node_db import database_for
        from ops.demo.api import exchange_figures, exchange_running
        from ops.node.exchange import Node, build_app, node_read_models  # type: ignore[attr-defined]

        app = build_app(settings)
        node = Node(settings, app, InProcessBroker(), read_models=node_read_models(settings, app))
        api = ApiNode(
            app=app,
            db=database_for(app.env),
            read_models=node.read_models,
            exchange_figures=lambda: exchange_figures(node),
            exchange_running=lambda: exchange_running(node),
            exchange_keys=node.exchange_keys,
        )
        return app, node, api, lambda: (node.close(), app.close())
    parts = NodeParts(settings)
    node = parts.on_exchange(InProcessBroker())
    return parts.app, node, parts.api_node(), parts.close


def main() -> int:
    cluster = pgcluster.start()
    server = pgcluster.create_database(cluster)
    try:
        settings = NodeSettings(
            organisation=CIVICA,
            store=Store.POSTGRES,
            postgres_host=server.host,
            postgres_port=server.port,
            postgres_user=server.user,
            postgres_password=server.password,
            postgres_dbname=server.dbname,
            timers_interval_s=0,
        )
        before = sessions(server.dsn, server.dbname)
        app, node, api, close = served_node(settings)
        try:
            for day in range(1, 6):
                app.publish_vacancy(  # type: ignore[attr-defined]
                    command_id=uuid4(), dwelling=the_dwelling(), at=on(date(2026, 9, day)), by=consultant
                )
            node.run_until_idle(30)  # type: ignore[attr-defined]  # relay, consumer, sealer, read models
            api.records.access_log(limit=1)  # type: ignore[attr-defined]  # the API's own tables
            print(f"sessions to {server.dbname}: {sessions(server.dsn, server.dbname) - before}")
        finally:
            close()  # type: ignore[operator]
    finally:
        pgcluster.drop_database(cluster, server)
        pgcluster.stop(cluster)
    return 0


if __name__ == "__main__":
    sys.exit(main())
