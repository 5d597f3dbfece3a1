"""The figures in /operations are current: what is parked now, not what was parked since the start."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.exchange.tables import ParkedMessages
from adapters.exchange.transport import OutgoingMessage
from adapters.settings import Store
from ops.demo.api import ServedNodes, demo_api_nodes, demo_tokens, mounted_app
from ops.demo.nodes import demo_nodes
from ops.demo.reference_scenario import CIVICA, Nodes
from ops.node.exchange import Exchange

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def unseeded_demo(tmp_path: Path) -> Iterator[tuple[Nodes, ServedNodes, TestClient, dict[str, str]]]:
    nodes = demo_nodes(tmp_path, Store.SQLITE)
    served = demo_api_nodes(nodes, tmp_path)
    try:
        tokens = demo_tokens(tmp_path)
        operator = {"Authorization": f"Bearer {tokens['CIVICA_OPERATOR']}"}
        yield nodes, served, TestClient(mounted_app(served, tmp_path)), operator
    finally:
        served.close()
        assert isinstance(nodes.exchange, Exchange)
        nodes.exchange.close()
        for app in nodes.all():
            app.close()


def test_operations_says_what_is_parked_now_after_a_retry_applied_it(
    unseeded_demo: tuple[Nodes, ServedNodes, TestClient, dict[str, str]],
) -> None:
    nodes, _, client, operator = unseeded_demo
    assert isinstance(nodes.exchange, Exchange)
    civica = next(node for node in nodes.exchange.nodes if node.organisation == CIVICA)
    # A message civica cannot decode arrives on a topic it reads, and is parked.
    topic = civica.subscribed[0]
    civica._publisher.publish([OutgoingMessage(topic=topic, key=b"k", value=b"not a cloudevent")])
    nodes.exchange.settle(max_seconds=20)
    assert civica.consumer.stats.parked == 1
    before = client.get(f"/orgs/{CIVICA}/operations", headers=operator).json()["exchange"]
    assert (before["parked"], before["parked_total"]) == (1, 1)

    # `parked retry` (perhaps in another process) applied it and removed it from the table.
    parked = ParkedMessages(civica.db)
    (message,) = parked.list()
    parked.remove(message.id)

    after = client.get(f"/orgs/{CIVICA}/operations", headers=operator).json()["exchange"]
    assert after["parked"] == 0
    assert after["parked_total"] == 1  # the counter (Prometheus') still says one was parked since the start
    dashboard = client.get(
        f"/orgs/{CIVICA}/operations/dashboard", params={"from": "2025-01-01"}, headers=operator
    ).json()
    assert dashboard["parked"]["exchange"] == 0
