"""Scenario e: resident memory of a node process (`python -m ops.node.serve`) at idle and under load.

The node runs CIVICA on PostgreSQL and Tansu as in production. Load is both directions of its exchange
at once: commands written to its store (its relay publishes them) and FAB's vacancies arriving (its
consumer mirrors them). Memory is read from /proc/<pid>/status: VmRSS now, VmHWM the peak.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from uuid import UUID, uuid4

from adapters.kafka.transport import KafkaTransport
from adapters.settings import NodeSettings
from coordination.applications.housing import HousingOrganisationApp
from ops.bench.infra import ROOT, Broker, Postgres
from ops.bench.report import Results, at_most
from ops.demo.reference_scenario import consultant, on, the_dwelling
from ops.node.bootstrap import NodeParts

WAIT = 120.0


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no {field}")


def _mb(kb: int) -> float:
    return kb / 1024


def _publish_many(app: HousingOrganisationApp, count: int) -> list[UUID]:
    day = the_dwelling().available_from
    return [
        app.publish_vacancy(command_id=uuid4(), dwelling=the_dwelling(), at=on(day), by=consultant)
        for _ in range(count)
    ]


def _until_quiet(log: Path, quiet: float = 2.0) -> None:
    """Wait (bounded) until the node has logged nothing for `quiet` seconds: relayed and applied all."""
    deadline = time.monotonic() + WAIT
    size, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now = log.stat().st_size
        if now != size:
            size, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.2)


def run(
    results: Results, postgres: Postgres, broker: Broker, load_events: int, idle_seconds: float, repeat: int
) -> None:
    for _ in range(repeat):
        _once(results, postgres, broker, load_events, idle_seconds)


def _once(
    results: Results, postgres: Postgres, broker: Broker, load_events: int, idle_seconds: float
) -> None:
    prefix = f"benchmem{secrets.token_hex(3)}."
    schema = f"bench_e_{secrets.token_hex(4)}"
    data_dir = tempfile.mkdtemp(prefix="coordination-bench-node-")
    node_env = {
        **os.environ,
        "COORDINATION_ORGANISATION": "civica",
        "COORDINATION_ROLE": "housing_organisation",
        "COORDINATION_STORE": "postgres",
        "COORDINATION_DATA_DIR": data_dir,
        "COORDINATION_POSTGRES_HOST": postgres.host,
        "COORDINATION_POSTGRES_PORT": str(postgres.port),
        "COORDINATION_POSTGRES_USER": postgres.user,
        "COORDINATION_POSTGRES_PASSWORD": postgres.password,
        "COORDINATION_POSTGRES_DBNAME": postgres.dbname,
        "COORDINATION_POSTGRES_SCHEMA": schema,
        "COORDINATION_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "COORDINATION_KAFKA_TOPIC_PREFIX": prefix,
    }
    log = Path(data_dir) / "node.log"
    # CIVICA's commands written here into the node's store (no node of its own here), and FAB's node here;
    # both built by the composition root, without read models or group commit.
    civica_parts = NodeParts(
        NodeSettings(**postgres.node_settings("civica", schema=schema, pool_size=4)),
        read_models=False,
        group_commit=False,
    )
    fab_settings = NodeSettings(
        **postgres.node_settings(
            "fab",
            schema=f"{schema}_fab",
            pool_size=4,
            kafka_topic_prefix=prefix,
            kafka_bootstrap_servers=broker.bootstrap_servers,
        )
    )
    fab_parts = NodeParts(fab_settings, read_models=False, group_commit=False)
    civica, fab = civica_parts.app, fab_parts.app
    assert isinstance(civica, HousingOrganisationApp) and isinstance(fab, HousingOrganisationApp)
    fab_node = fab_parts.on_exchange(KafkaTransport(fab_settings.kafka()))
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ops.node.serve"],
            env=node_env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        fab_node.start()
        time.sleep(idle_seconds)  # start-up: imports, connections, the consumer joining its group
        if process.poll() is not None:
            raise RuntimeError(f"The node exited with {process.returncode}; see {log}")
        idle = _status_kb(process.pid, "VmRSS")
        results.add(
            "e",
            "idle_rss",
            "idle node (python -m ops.node.serve, PostgreSQL, Tansu): RSS",
            "MB",
            _mb(idle),
            target=at_most(150),
        )
        own = threading.Thread(target=_publish_many, args=(civica, load_events), daemon=True)
        own.start()
        _publish_many(fab, load_events)
        own.join(WAIT)
        _until_quiet(log)
        results.add(
            "e",
            "peak_rss",
            f"node under load ({load_events:,} commands relayed + {load_events:,} mirrored): peak RSS",
            "MB",
            _mb(_status_kb(process.pid, "VmHWM")),
        )
        results.add("e", "after_rss", "node after the load: RSS", "MB", _mb(_status_kb(process.pid, "VmRSS")))
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        fab_parts.close()
        civica_parts.close()
