"""A node process on PostgreSQL and Tansu: back and consuming within seconds of a SIGKILL, and cheap while idle.

The exact figures and their limits (5 s; 1 % of a core) are the bench's (`python -m ops.bench.restart`):
this machine is shared, so the bounds here are generous and the measured figures are printed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from ops.bench.infra import Postgres
from ops.bench.restart import (
    NodeUnderTest,
    first_start,
    idle_cpu_percent,
    node_under_test,
    restart_after_sigkill,
)
from ops.devservices.pgcluster import PostgresServer
from ops.devservices.tansu import BrokerProcess

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]

# The bench holds a restart to 5 s and idle CPU to 1 %; on a shared, loaded host the tests allow more.
RESTART_BOUND_S = 10.0
IDLE_CPU_BOUND = 5.0


@pytest.fixture
def node(postgres_server: PostgresServer, kafka_broker: BrokerProcess) -> Iterator[NodeUnderTest]:
    server = Postgres(
        postgres_server.host,
        postgres_server.port,
        postgres_server.user,
        postgres_server.password,
        postgres_server.dbname,
        "",
    )
    with node_under_test(server, kafka_broker) as running:
        first_start(running)
        yield running


def _logged(node: NodeUnderTest, event: str) -> dict[str, object]:
    for line in node.log.read_text(errors="replace").splitlines():
        if line.startswith("{") and json.loads(line).get("event") == event:
            return json.loads(line)  # type: ignore[no-any-return]
    raise AssertionError(f"{event} is not in {node.log}")


def test_a_node_killed_with_sigkill_is_ready_and_applies_a_message_sent_while_it_was_dead_within_seconds(
    node: NodeUnderTest,
) -> None:
    restart = restart_after_sigkill(node)
    print(f"\nrestart after SIGKILL: ready {restart.ready_s:.2f} s, consuming {restart.consuming_s:.2f} s")
    assert restart.consuming_s <= RESTART_BOUND_S
    # No wait for a group session the dead process held, a lock or a replay: once started, it consumes.
    assert restart.consuming_s - restart.ready_s <= 2.0
    # And it said what it waited for on the way.
    assert _logged(node, "node.starting")["waiting_for"] == "store"
    assert _logged(node, "node.store_open")["waiting_for"] == "broker"
    assert _logged(node, "node.consuming")["process_age_s"] <= _logged(node, "node.started")["process_age_s"]


def test_an_idle_node_process_uses_a_small_fraction_of_a_core(node: NodeUnderTest) -> None:
    assert node.process is not None
    time.sleep(3)  # the start's own work done
    idle = idle_cpu_percent(node.process.pid, 15)
    print(f"\nidle CPU over 15 s: {idle:.2f} % of a core")
    assert idle <= IDLE_CPU_BOUND
