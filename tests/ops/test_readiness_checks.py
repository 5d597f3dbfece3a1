"""Readiness judges within its budget: a check that does not answer in time fails as "timeout" (and a burst
of probes runs it once), and a consumer behind by more than its bound is not ready."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.http.health import CONSUMER_LAG_BOUND, READY_BUDGET_S, NodeHealth
from adapters.http.node import ApiNode
from adapters.settings import NodeSettings, OrganisationRole, Store
from adapters.sql.node_db import database_for
from coordination.applications.base import NodeApplication
from ops.node.bootstrap import build_app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[NodeApplication]:
    settings = NodeSettings(
        organisation="civica",
        role=OrganisationRole.HOUSING_ORGANISATION,
        store=Store.SQLITE,
        data_dir=tmp_path,
    )
    made = build_app(settings)
    yield made
    made.close()


def _figures(consumer_lag: int) -> dict[str, Any]:
    return {"relay_lag": 0, "relay_caught_up_s_ago": 0.0, "consumer_lag": consumer_lag, "parked": 0}


def test_a_consumer_behind_by_more_than_its_bound_makes_the_node_not_ready(app: NodeApplication) -> None:
    lag = {"now": CONSUMER_LAG_BOUND}
    node = ApiNode(
        app=app,
        db=database_for(app.env),
        exchange_figures=lambda: _figures(lag["now"]),
        exchange_running=lambda: True,
    )
    health = NodeHealth(node)
    assert all(check["ok"] for check in health.readiness().values())
    lag["now"] = CONSUMER_LAG_BOUND + 1
    time.sleep(1.1)  # past the second for which a passing answer is kept
    exchange = health.readiness()["exchange"]
    assert exchange["ok"] is False
    assert exchange["error"] == "consumer behind"
    assert exchange["consumer_lag"] == CONSUMER_LAG_BOUND + 1


def test_a_check_that_does_not_answer_in_time_fails_as_timeout_and_runs_once_for_a_burst(
    app: NodeApplication,
) -> None:
    released = threading.Event()
    calls = []

    def stuck_figures() -> dict[str, Any]:
        calls.append(1)
        released.wait(10)  # as a call queued behind a pool for a dead server
        return _figures(0)

    node = ApiNode(
        app=app, db=database_for(app.env), exchange_figures=stuck_figures, exchange_running=lambda: True
    )
    health = NodeHealth(node)
    try:
        took = []
        for _ in range(5):
            started = time.monotonic()
            checks = health.readiness()
            took.append(time.monotonic() - started)
            assert checks["store"]["ok"] is True
            assert checks["exchange"] == {
                "ok": False,
                "error": "timeout",
                "budget_s": READY_BUDGET_S,
                "running": True,
            }
        assert max(took) < READY_BUDGET_S + 0.3, took
        assert len(calls) == 1  # the stuck run is waited for, not started again
    finally:
        released.set()
    deadline = time.monotonic() + 5
    while not health.readiness()["exchange"]["ok"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
