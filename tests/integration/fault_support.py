"""Nodes as separate OS processes for fault tests: start, SIGKILL, restart; a plain observer of every topic;
settling judged from the broker's messages and each node's own database; the figures of a scenario."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

from adapters.exchange.inprocess import InProcessBroker
from adapters.exchange.transport import IncomingMessage

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from adapters.exchange.key_directory import KeyOwners
from adapters.http.auth import ensure_key_pair, private_key_path
from adapters.kafka.transport import KafkaSettings, ensure_topics
from adapters.settings import NodeSettings, OrganisationRole
from coordination.applications.base import NodeApplication, derived_id
from coordination.integration.topics import org_source
from ops.devservices.pgcluster import PostgresServer
from ops.node.bootstrap import build_app
from ops.node.exchange import Node
from tests.conftest import _fresh_schema

ROOT = Path(__file__).resolve().parents[2]
DUPLICATE_LOG_EVENT = "consumer.duplicate_suppressed"
# Eight applications and their restarts share the server with other test sessions: a connection or two each
# (the library's pool opens POSTGRES_POOL_SIZE connections up front; the environment sets it here).
SMALL_POOL = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "3"}


class NodeProcess:
    """`python -m ops.node.serve --org ORG` with its settings in the environment; each start logs to a new file."""

    def __init__(
        self, organisation: str, env: dict[str, str], logs: Path, *, label: str | None = None
    ) -> None:
        """`label` names the process's log files (a second replica of the organisation's node: "civica-b")."""
        self.organisation = organisation
        self.label = label or organisation
        self.env = env
        self.logs = logs
        self.starts = 0
        self.kills = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, f"{self.organisation} is running"
        self.starts += 1
        log = self.logs / f"{self.label}-{self.starts:02d}.log"
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ops.node.serve", "--org", self.organisation],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_started(self, max_seconds: float = 30.0) -> None:
        """Until the node logs that it runs (connected to the broker, relay and consumer started)."""
        log = self.logs / f"{self.label}-{self.starts:02d}.log"
        deadline = time.monotonic() + max_seconds
        while "node.started" not in log.read_text(errors="replace"):
            if not self.alive:
                raise AssertionError(f"{self.organisation}'s node exited; see {log}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.organisation}'s node did not start within {max_seconds} s; see {log}"
                )
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no finally blocks, no flush, no goodbye to the broker or the database."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.kills += 1

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _count_in_logs(logs: Path, text: str) -> int:
    return sum(path.read_text(errors="replace").count(text) for path in logs.glob("*.log"))


@dataclass
class Delivery:
    """One message as the observer read it, and the organisations that must apply (or park) it."""

    topic: str
    partition: int
    offset: int
    ce_id: str | None
    source: str | None
    readers: tuple[str, ...]


@dataclass
class Figures:
    """What a scenario did: counted on the wire, in the nodes' logs and in their databases."""

    name: str
    messages: int = 0  # records on the wire (re-publishes and injected copies included)
    unique_messages: int = 0  # distinct CloudEvents ids among them
    duplicates_suppressed: int = 0
    parked: int = 0
    seconds: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        extra = "".join(f", {key} {value}" for key, value in self.notes.items())
        return (
            f"{self.name}: {self.messages} messages on the wire ({self.unique_messages} distinct), "
            f"{self.duplicates_suppressed} duplicates suppressed, {self.parked} parked, "
            f"{self.seconds:.1f} s{extra}"
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _peers(roles: dict[str, OrganisationRole], keys_dir: Path) -> dict[str, dict[str, str]]:
    """Each node's API port, its signing key, and every peer's URL: recipients in other processes ask the
    sender's API for the exchange keys that open its sealed fields."""
    ports = {organisation: _free_port() for organisation in roles}
    for organisation in roles:
        ensure_key_pair(keys_dir, organisation)
    urls = ",".join(f"{organisation}=http://127.0.0.1:{port}" for organisation, port in ports.items())
    return {
        organisation: {
            "http_host": "127.0.0.1",
            "http_port": str(port),
            "peer_urls": urls,
            "public_keys_dir": str(keys_dir),
            "private_key_file": str(private_key_path(keys_dir, organisation)),
        }
        for organisation, port in ports.items()
    }


class Deployment:
    """Four organisations, each a node process on a PostgreSQL schema of its own, on one broker.

    The test process opens its own application on each node's store to issue commands there (the store is
    the outbox, so the node process publishes them) and a Node on it to read relay lag and parked messages.
    """

    def __init__(
        self,
        server: PostgresServer,
        bootstrap_servers: str,
        roles: dict[str, OrganisationRole],
        logs: Path,
        stack: ExitStack,
    ) -> None:
        self.server = server
        self.bootstrap_servers = bootstrap_servers
        self.prefix = f"faults{uuid4().hex[:8]}."
        self.logs = logs
        self.apps: dict[str, NodeApplication] = {}
        self.nodes: dict[str, Node] = {}
        self.processes: dict[str, NodeProcess] = {}
        self.schemas: dict[str, str] = {}
        base = {key: value for key, value in os.environ.items() if not key.startswith("COORDINATION_")}
        peers = _peers(roles, logs / "keys")
        owners = KeyOwners()  # the nodes in this process, as the demo's share theirs
        for organisation, role in roles.items():
            schema = stack.enter_context(_fresh_schema(server))
            fields: dict[str, Any] = dict(
                organisation=organisation,
                role=role.value,
                store="postgres",
                postgres_host=server.host,
                postgres_port=server.port,
                postgres_user=server.user,
                postgres_password=server.password,
                postgres_dbname=server.dbname,
                postgres_schema=schema,
                kafka_bootstrap_servers=bootstrap_servers,
                kafka_topic_prefix=self.prefix,
                cpr_secret="fault-tests-" + organisation,
                data_dir=str(logs / "data"),
                kafka_publish_timeout_s=5,
                kafka_request_timeout_ms=5000,
                # The scenario's business dates lie in the past: timers on the wall clock would expire its
                # referrals mid-test (tests/ops/test_node_timers.py covers the timers).
                timers_interval_s=0,
                **peers[organisation],
            )
            settings = NodeSettings(**fields, municipalities=["Odense"])
            # Tables first, from this process, so two processes never race to create them.
            with pytest.MonkeyPatch.context() as patch:
                for name, value in SMALL_POOL.items():
                    patch.setenv(name, value)
                app = build_app(settings, group_commit=True)
            stack.callback(app.close)
            node = Node(settings, app, InProcessBroker(), key_owners=owners)
            stack.callback(node.close)
            env = {
                **base,
                **SMALL_POOL,
                "PYTHONUNBUFFERED": "1",
                "COORDINATION_MUNICIPALITIES": "Odense",
                **{f"COORDINATION_{k.upper()}": str(v) for k, v in fields.items()},
            }
            self.apps[organisation], self.nodes[organisation], self.schemas[organisation] = app, node, schema
            self.processes[organisation] = NodeProcess(organisation, env, logs)
            stack.callback(self.processes[organisation].kill)
        self.kafka = KafkaSettings(bootstrap_servers=bootstrap_servers, client_id=f"{self.prefix}observer")
        self.topics = sorted({topic for node in self.nodes.values() for topic in node.subscribed})
        ensure_topics(self.kafka, self.topics)
        self.observer = Observer(bootstrap_servers, self.topics)
        stack.callback(self.observer.close)
        self._confirmed: set[tuple[str, int, int, str]] = set()
        self.failures: list[BaseException] = []  # of the scenario's fault thread: waits stop at once

    def start(self) -> None:
        for process in self.processes.values():
            process.start()
        for process in self.processes.values():
            process.wait_started()

    # What happened

    def duplicates_suppressed(self) -> int:
        return _count_in_logs(self.logs, DUPLICATE_LOG_EVENT)

    def parked(self) -> dict[str, int]:
        return {org: len(node.consumer.list_parked()) for org, node in self.nodes.items()}

    def figures(self, name: str) -> Figures:
        self.observer.poll_all()
        return Figures(
            name,
            messages=len(self.observer.messages),
            unique_messages=len(self.observer.ce_ids()),
            duplicates_suppressed=self.duplicates_suppressed(),
            parked=sum(self.parked().values()),
        )

    @contextmanager
    def scenario(self, name: str) -> Iterator[Figures]:
        """The scenario's figures: the differences between before and after it (runtime included)."""
        started, before = time.monotonic(), self.figures(name)
        figures = Figures(name)
        yield figures
        after = self.figures(name)
        figures.messages = after.messages - before.messages
        figures.unique_messages = after.unique_messages - before.unique_messages
        figures.duplicates_suppressed = after.duplicates_suppressed - before.duplicates_suppressed
        figures.parked = after.parked - before.parked
        figures.seconds = time.monotonic() - started

    # Settling

    def deliveries(self) -> list[Delivery]:
        found = []
        for message in self.observer.messages:
            source = _header(message, "ce_source")
            readers = tuple(
                org
                for org, node in self.nodes.items()
                if message.topic in node.subscribed and org_source(org) != source
            )
            found.append(
                Delivery(
                    message.topic,
                    message.partition,
                    message.offset,
                    _header(message, "ce_id"),
                    source,
                    readers,
                )
            )
        return found

    def pending(self) -> list[tuple[str, Delivery]]:
        """Deliveries some reader has neither applied (its receipt is stored) nor parked."""
        waiting: dict[str, list[Delivery]] = {}
        for delivery in self.deliveries():
            for org in delivery.readers:
                if (org, delivery.partition, delivery.offset, delivery.topic) not in self._confirmed:
                    waiting.setdefault(org, []).append(delivery)
        still: list[tuple[str, Delivery]] = []
        for org, deliveries in waiting.items():
            handled = self.handled(org, [d.ce_id for d in deliveries if d.ce_id])
            parked = {(p.topic, p.partition, p.offset) for p in self.nodes[org].consumer.list_parked()}
            for d in deliveries:
                if d.ce_id in handled or (d.topic, d.partition, d.offset) in parked:
                    self._confirmed.add((org, d.partition, d.offset, d.topic))
                else:
                    still.append((org, d))
        return still

    def handled(self, organisation: str, ce_ids: list[str]) -> set[str]:
        """Which of these messages the node applied: a command receipt derived from the id is in its store."""
        receipts = {derived_id("command", UUID(ce_id)): ce_id for ce_id in ce_ids if _is_uuid(ce_id)}
        if not receipts:
            return set()
        recorder: Any = self.apps[organisation].recorder
        sql = (
            f'SELECT originator_id FROM "{recorder.datastore.schema}"."{recorder.events_table_name}"'
            " WHERE originator_version = 1 AND originator_id = ANY(%s)"
        )
        with psycopg.connect(self.server.dsn, connect_timeout=10) as conn:
            rows = conn.execute(sql, (list(receipts),)).fetchall()
        return {receipts[row[0]] for row in rows}

    def relay_lag(self) -> dict[str, int]:
        return {org: node.relay.lag() for org, node in self.nodes.items()}

    def settle(self, max_seconds: float = 90.0) -> None:
        """Wait until every relay has published everything and every message has been applied or parked
        by every node entitled to it; fails with what is still pending."""
        deadline = time.monotonic() + max_seconds
        quiet = 0
        while True:
            self._raise_failures()
            lags = self.relay_lag()
            new = self.observer.poll_all()
            pending = self.pending()
            quiet = quiet + 1 if not any(lags.values()) and not new and not pending else 0
            if quiet >= 2:
                return
            if time.monotonic() > deadline:
                sample = [(org, d.topic, d.partition, d.offset) for org, d in pending[:5]]
                alive = {org: p.alive for org, p in self.processes.items()}
                raise AssertionError(
                    f"not settled after {max_seconds} s: relay lag {lags}, {len(pending)} "
                    f"pending (e.g. {sample}), processes alive {alive}"
                )
            time.sleep(0.2)

    def wait_until(self, condition: Any, what: str, max_seconds: float = 90.0) -> None:
        deadline = time.monotonic() + max_seconds
        while not condition():
            self._raise_failures()
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not within {max_seconds} s")
            time.sleep(0.1)

    def _raise_failures(self) -> None:
        if self.failures:
            raise AssertionError(f"the fault injection failed: {self.failures[0]!r}") from self.failures[0]

    def producer(self) -> KafkaProducer:
        """A plain producer, as an intruder or a confused client would use one (no idempotence, no envelope)."""
        return KafkaProducer(bootstrap_servers=self.bootstrap_servers, acks="all", linger_ms=0)


def _header(message: IncomingMessage, name: str) -> str | None:
    value = message.header(name)
    return None if value is None else value.decode("utf-8", errors="replace")


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


class Observer:
    """Reads every partition of the deployment's topics from the beginning, without a group, and keeps all."""

    def __init__(self, bootstrap_servers: str, topics: list[str]) -> None:
        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=10,
            request_timeout_ms=11000,
        )
        partitions = [
            TopicPartition(topic, number)
            for topic in topics
            for number in sorted(self._consumer.partitions_for_topic(topic) or ())
        ]
        self._consumer.assign(partitions)
        self._consumer.seek_to_beginning(*partitions)
        self.messages: list[IncomingMessage] = []

    def poll_all(self, max_seconds: float = 20.0) -> int:
        """Read until a poll brings nothing; how many messages were new."""
        new = 0
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline:
            batches = self._consumer.poll(timeout_ms=300)
            if not batches:
                break
            for partition, records in batches.items():
                for record in records:
                    self.messages.append(
                        IncomingMessage(
                            topic=partition.topic,
                            partition=partition.partition,
                            offset=record.offset,
                            key=record.key,
                            headers=tuple((name, bytes(value)) for name, value in record.headers or ()),
                            value=record.value if record.value is not None else b"",
                        )
                    )
                    new += 1
        return new

    def ce_ids(self) -> set[str]:
        return {value for m in self.messages if (value := _header(m, "ce_id")) is not None}

    def close(self) -> None:
        self._consumer.close(autocommit=False)
