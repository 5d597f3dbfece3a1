"""Scenario f's deployment: N organisations, each its node as an OS process on a PostgreSQL database of its
own and one Tansu broker, the bench issuing the housing organisations' commands into their stores.

Each node is `python -m ops.bench.receiver --read-models --serve-keys` (ops/node/bootstrap.py's node, with
its read models and its key server as `python -m ops.node.serve` runs them), reporting when each mirrored
vacancy and each referral sent to it committed. The bench opens each housing organisation's application
on that organisation's store to issue commands there (the store is the outbox: the node's relay publishes
them), as tests/integration/fault_support.py does.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from adapters.http.auth import ensure_key_pair, private_key_path
from adapters.settings import NodeSettings, OrganisationRole
from coordination.applications.housing import HousingOrganisationApp
from ops.bench.infra import ROOT, Postgres
from ops.bench.receiver import NODE_SETTINGS
from ops.devservices import pgcluster
from ops.devservices.tansu import free_port
from ops.node.bootstrap import build_app

HOUSING = OrganisationRole.HOUSING_ORGANISATION
DEPARTMENT = OrganisationRole.MUNICIPAL_DEPARTMENT
BRIDGE = OrganisationRole.BRIDGE_BUILDER
CIVIL = OrganisationRole.CIVIL_ACTOR
MUNICIPALITY = "Odense"  # one municipality: one shared vacancy pool
# A node's event store pool: one connection kept, three more under load (20 nodes share the server with
# the rest of the machine's work; max_connections is 400 here).
SMALL_POOL = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "3"}
STOP_WAIT = 30.0


def organisations(count: int) -> dict[str, OrganisationRole]:
    """`count` organisations at the national mix: half housing organisations, a fifth municipal
    departments, the rest bridge builders and civil actors (2: one housing organisation, one department)."""
    if count < 2:
        raise ValueError("the fan-out needs at least two organisations")
    housing = max(1, count // 2)
    departments = max(1, count // 5)
    rest = count - housing - departments
    bridges = (rest + 1) // 2
    civil = rest - bridges
    roles = {f"housing-{i + 1:02d}": HOUSING for i in range(housing)}
    roles |= {f"department-{i + 1:02d}": DEPARTMENT for i in range(departments)}
    roles |= {f"bridge-{i + 1:02d}": BRIDGE for i in range(bridges)}
    roles |= {f"civil-{i + 1:02d}": CIVIL for i in range(civil)}
    return roles


@dataclass
class Arrivals:
    """When each vacancy mirror or referral committed at one node (its `time.monotonic()`)."""

    times: dict[UUID, float] = field(default_factory=dict)
    ready: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)

    def follow(self, lines: IO[str]) -> None:
        try:
            for line in lines:
                what, *rest = line.split()
                if what == "committed":
                    self.times[UUID(rest[0])] = float(rest[1])
                elif what == "ready":
                    self.ready.set()
        finally:
            self.ended.set()


@dataclass
class NodeProcess:
    organisation: str
    role: OrganisationRole
    process: subprocess.Popen[bytes]
    arrivals: Arrivals
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid


@dataclass
class Deployment:
    """The running nodes, the housing organisations' applications in the bench's process, the prefix."""

    prefix: str
    nodes: dict[str, NodeProcess]
    housing: dict[str, HousingOrganisationApp]
    logs: Path

    def of_role(self, role: OrganisationRole) -> list[str]:
        return [name for name, node in self.nodes.items() if node.role is role]

    def wait_ready(self, max_seconds: float) -> None:
        deadline = time.monotonic() + max_seconds
        for node in self.nodes.values():
            while not node.arrivals.ready.wait(0.2):
                if node.process.poll() is not None or node.arrivals.ended.is_set():
                    raise RuntimeError(f"{node.organisation}'s node exited; see {node.log}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{node.organisation}'s node did not start in {max_seconds:.0f} s")


@contextmanager
def databases(postgres: Postgres, count: int) -> Iterator[list[Postgres]]:
    """`count` databases of their own on the bench's server (owned by its role), dropped afterwards."""
    names = [f"bench_f_{secrets.token_hex(4)}" for _ in range(count)]
    try:
        for name in names:
            pgcluster.psql(postgres.port, f"CREATE DATABASE {name} OWNER {postgres.user}")
        yield [replace(postgres, dbname=name) for name in names]
    finally:
        for name in names:
            pgcluster.psql(postgres.port, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _peers(roles: dict[str, OrganisationRole], keys_dir: Path) -> dict[str, dict[str, Any]]:
    """Each node's key server port, its signing key, and every peer's URL (recipients ask the sender's
    node for the exchange keys that open a referral's sealed fields)."""
    ports = {organisation: free_port() for organisation in roles}
    for organisation in roles:
        ensure_key_pair(keys_dir, organisation)
    urls = ",".join(f"{organisation}=http://127.0.0.1:{port}" for organisation, port in ports.items())
    return {
        organisation: {
            "http_host": "127.0.0.1",
            "http_port": port,
            "peer_urls": urls,
            "public_keys_dir": str(keys_dir),
            "private_key_file": str(private_key_path(keys_dir, organisation)),
        }
        for organisation, port in ports.items()
    }


@contextmanager
def _small_pools() -> Iterator[None]:
    """The library reads its pool size from the environment: small for the bench's own applications."""
    saved = {name: os.environ.get(name) for name in SMALL_POOL}
    os.environ.update(SMALL_POOL)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _start(organisation: str, role: OrganisationRole, fields: dict[str, Any], logs: Path) -> NodeProcess:
    read_end, write_end = os.pipe()
    log = logs / f"{organisation}.log"
    command = [sys.executable, "-m", "ops.bench.receiver", "--report-fd", str(write_end)]
    command += ["--read-models", "--serve-keys"]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("COORDINATION_")},
        **SMALL_POOL,
        NODE_SETTINGS: json.dumps(fields),
    }
    try:
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
                pass_fds=(write_end,),
            )
    finally:
        os.close(write_end)
    arrivals = Arrivals()
    lines = os.fdopen(read_end, "r")
    threading.Thread(
        target=arrivals.follow, args=(lines,), name=f"reports-{organisation}", daemon=True
    ).start()
    return NodeProcess(organisation, role, process, arrivals, log)


def _stop(node: NodeProcess) -> None:
    if node.process.poll() is None:
        node.process.send_signal(signal.SIGTERM)
        try:
            node.process.wait(timeout=STOP_WAIT)
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait(timeout=10)
    if node.process.stdin is not None:
        node.process.stdin.close()


@contextmanager
def deployment(postgres: Postgres, bootstrap_servers: str, count: int, logs: Path) -> Iterator[Deployment]:
    """`count` organisations' nodes started (not yet waited for), each on a database of its own."""
    roles = organisations(count)
    prefix = f"benchf{secrets.token_hex(3)}."
    peers = _peers(roles, logs / "keys")
    with ExitStack() as stack:
        servers = stack.enter_context(databases(postgres, count))
        running = Deployment(prefix, {}, {}, logs)
        fields = {
            organisation: _fields(server, organisation, role, bootstrap_servers, prefix, peers[organisation])
            for (organisation, role), server in zip(roles.items(), servers, strict=True)
        }
        for organisation in roles:
            # Tables first, from this process, so the node and the bench never race to create them.
            with _small_pools():
                app = build_app(NodeSettings(**fields[organisation]), group_commit=True)
            stack.callback(app.close)
            if isinstance(app, HousingOrganisationApp):
                running.housing[organisation] = app
            else:
                app.close()  # only the housing organisations' commands are issued here
        for organisation, role in roles.items():
            node = _start(organisation, role, fields[organisation], logs)
            running.nodes[organisation] = node
            stack.callback(_stop, node)
        yield running


def _fields(
    server: Postgres,
    organisation: str,
    role: OrganisationRole,
    bootstrap_servers: str,
    prefix: str,
    peer: dict[str, Any],
) -> dict[str, Any]:
    """The node's settings (NodeSettings fields): its own database, the shared broker and municipality."""
    return {
        **server.node_settings(organisation, schema="", pool_size=1),
        "role": role.value,
        "municipalities": [MUNICIPALITY],
        "kafka_bootstrap_servers": bootstrap_servers,
        "kafka_topic_prefix": prefix,
        "kafka_publish_timeout_s": 10,
        "timers_interval_s": 0,  # the bench's business dates lie in the past
        "postgres_max_overflow": 3,
        **peer,
    }
