"""Health tells the truth fast: with PostgreSQL stopped (a throwaway cluster of the test's own, never 15/main)
/livez and /readyz answer within a second and /operations within its bound, and readiness is back within
seconds of the server."""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from adapters.exchange.inprocess import InProcessBroker
from adapters.http.app import create_app
from adapters.http.auth import AuthConfig, ensure_key_pair, issue_token, public_keys_in
from adapters.http.health import OPERATIONS_BUDGET_S
from adapters.http.node import ApiNode
from adapters.settings import NodeSettings, OrganisationRole, Store
from adapters.sql.node_db import database_for
from coordination.domain.values import Role
from ops.bench.fixtures import read_model_support as rm
from ops.devservices import pgcluster
from ops.devservices.tansu import free_port
from ops.logging import configure
from ops.node.bootstrap import build_app, node_read_models
from ops.node.exchange import Node, exchange_figures, exchange_running

pytestmark = pytest.mark.postgres

ORG = "civica"
RECOVERY_S = 2.0  # from the server accepting connections again to /readyz 200
# Long enough for the pools' reconnect attempts to back off (the issue's outage was 30 s).
OUTAGE_S = 20.0


@dataclass
class Served:
    cluster: pgcluster.Cluster
    base: str
    operator: dict[str, str]
    node: Node


def _pg(cluster: pgcluster.Cluster, action: str, *extra: str) -> None:
    subprocess.run(
        ["pg_ctlcluster", pgcluster.PG_VERSION, cluster.name, action, *extra],
        check=True,
        capture_output=True,
        timeout=90,
    )


@pytest.fixture
def served_on_a_throwaway_cluster(tmp_path: Path) -> Iterator[Served]:
    """One node (store, views, relay, consumer, projections following the log) on a PostgreSQL cluster
    created for this test, served by uvicorn on a free port."""
    configure(json=True, level=logging.WARNING)  # as a node in production logs (plain tracebacks, JSON)
    cluster = pgcluster._throwaway()
    assert cluster.name != "main" and cluster.throwaway_dir is not None
    stops: list[object] = []
    try:
        server = pgcluster.create_database(cluster)
        pgcluster.check_password_login_allowed(cluster.port, server.dbname)
        settings = NodeSettings(
            organisation=ORG,
            role=OrganisationRole.HOUSING_ORGANISATION,
            store=Store.POSTGRES,
            data_dir=tmp_path,
            postgres_host=server.host,
            postgres_port=server.port,
            postgres_user=server.user,
            postgres_password=server.password,  # type: ignore[arg-type]
            postgres_dbname=server.dbname,
        )
        app = build_app(settings, group_commit=True)
        stops.append(app.close)
        node = Node(settings, app, InProcessBroker(), read_models=node_read_models(settings, app))
        stops.insert(0, node.close)
        for _ in range(5):
            app.save(rm.register(app))
        node.start()
        api = ApiNode(
            app=app,
            db=database_for(app.env),
            read_models=node.read_models,
            exchange_figures=lambda: exchange_figures(node),
            exchange_running=lambda: exchange_running(node),
        )
        keys = tmp_path / "keys"
        key = ensure_key_pair(keys, ORG)
        token = issue_token(key, organisation=ORG, person="ops-1", role=Role.OPERATOR, audience=ORG)
        port = free_port()
        config = uvicorn.Config(
            create_app(api, AuthConfig(ORG, public_keys_in(keys))),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
        uv = uvicorn.Server(config)
        thread = threading.Thread(target=uv.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not uv.started:
            assert time.monotonic() < deadline, "uvicorn did not start within 20 s"
            time.sleep(0.05)

        def stop_server() -> None:
            uv.should_exit = True
            thread.join(10)

        stops.insert(0, stop_server)
        yield Served(cluster, f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}, node)
    finally:
        # The server first (a stopped cluster is started again so that the node closes cleanly), then drop it.
        for stop in stops:
            try:
                stop()  # type: ignore[operator]
            except Exception as error:  # teardown goes on; the cluster is dropped below
                print(f"teardown: {type(error).__name__}: {error}")
        pgcluster.stop(cluster)
        configure(json=False, level=logging.WARNING)


def _timed_get(client: httpx.Client, path: str, **kwargs: object) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    response = client.get(path, **kwargs)  # type: ignore[arg-type]
    return time.monotonic() - started, response


def _ready_within(client: httpx.Client, seconds: float) -> float:
    """Seconds until /readyz says 200; fails after `seconds`."""
    started = time.monotonic()
    last = None
    while time.monotonic() - started < seconds:
        last = client.get("/readyz")
        if last.status_code == 200:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"not ready {seconds} s after the store came back: {last and last.text}")


def test_with_the_store_down_health_answers_within_a_second_and_readiness_returns_within_seconds(
    served_on_a_throwaway_cluster: Served,
) -> None:
    served = served_on_a_throwaway_cluster
    with httpx.Client(base_url=served.base, timeout=40) as client:
        _ready_within(client, 20)
        assert client.get("/operations", headers=served.operator).status_code == 200

        _pg(served.cluster, "stop", "-m", "immediate")
        try:
            # Let the node's own threads (projections, relay, consumer) meet the dead server first.
            time.sleep(1.0)
            stopped = time.monotonic()
            for _ in range(3):
                took, live = _timed_get(client, "/livez")
                assert live.status_code == 200 and took < 1.0, took
                took, ready = _timed_get(client, "/readyz")
                assert ready.status_code == 503 and took < 1.0, (took, ready.text)
                assert ready.json()["checks"]["store"]["ok"] is False
            # A burst of probes does not pile up: each answers within the second.
            with ThreadPoolExecutor(12) as burst:
                answers = list(burst.map(lambda _: _timed_get(client, "/readyz"), range(24)))
            assert max(took for took, _ in answers) < 1.0, sorted(took for took, _ in answers)[-3:]
            assert {r.status_code for _, r in answers} == {503}
            took, figures = _timed_get(
                client, "/operations", headers={**served.operator, "Accept-Language": "en"}
            )
            print(f"\nstore down: /operations answered {figures.status_code} in {took:.3f} s")
            assert took < OPERATIONS_BUDGET_S + 1.0, took
            assert figures.status_code == 503
            assert figures.headers["content-type"].startswith("application/problem+json")
            assert "store" in figures.json()["detail"]
            # Probed as a kubelet would, until the outage has lasted OUTAGE_S: every answer within the second.
            slowest = 0.0
            while time.monotonic() - stopped < OUTAGE_S:
                took, ready = _timed_get(client, "/readyz")
                assert ready.status_code == 503
                slowest = max(slowest, took)
                time.sleep(0.5)
            assert slowest < 1.0, slowest
            burst_max = max(took for took, _ in answers)
            print(f"\nstore down: slowest /readyz {slowest:.3f} s, burst of 24 at most {burst_max:.3f} s")
        finally:
            _pg(served.cluster, "start")
        pgcluster._wait_ready(served.cluster.name, served.cluster.port)
        back = _ready_within(client, RECOVERY_S)
        print(f"\nready {back:.2f} s after the store accepted connections again")
        assert client.get("/operations", headers=served.operator).status_code == 200
    # Ready means the event store's pool works: none of its connections is one that died with the server
    # (each would fail one command). The node's own tables' connections are adapters/sql/node_db.py's.
    recorder = served.node.app.recorder
    for _ in range(20):
        assert recorder.max_notification_id() == 5


def test_after_an_idle_restart_the_first_commands_find_the_store_and_readiness_its_own_connection(
    served_on_a_throwaway_cluster: Served,
) -> None:
    served = served_on_a_throwaway_cluster
    with httpx.Client(base_url=served.base, timeout=10) as client:
        _ready_within(client, 20)
        # The store check reads on a connection of its own, not one of the application's pool.
        probes = pgcluster.psql(
            served.cluster.port,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'coordination-readiness'",
        )
        assert int(probes.strip()) == 1
        _pg(served.cluster, "restart", "-m", "immediate")
        pgcluster._wait_ready(served.cluster.name, served.cluster.port)
        # Every pooled connection of the event store died with the server; none may fail a read now.
        recorder = served.node.app.recorder
        for _ in range(20):
            assert recorder.max_notification_id() == 5
        _ready_within(client, RECOVERY_S)
