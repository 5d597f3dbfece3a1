"""A node process's restart after SIGKILL and its CPU while idle, beside the limits they are held to.

One node (`python -m ops.node.serve`, CIVICA, production mode) on PostgreSQL and Tansu; FAB, in this
process, publishes vacancies to the pool CIVICA mirrors. Restart: SIGKILL the node, publish a vacancy
while it is dead, start it again, and time from the new process's start until it logs `node.started`
(ready) and until the vacancy is mirrored in its store (consuming). Idle CPU: utime + stime from
/proc/<pid>/stat over a window in which nothing is sent to the node.

    .venv/bin/python -m ops.bench.restart [--restarts 3] [--idle-seconds 60] [--history 0]
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

import httpx

from adapters.eventstore.storage import ShreddingStorage
from adapters.http.auth import ensure_key_pair
from adapters.kafka.transport import KafkaTransport
from adapters.settings import NodeSettings, OrganisationRole
from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.values import Actor, Role
from ops.bench.infra import ROOT, Broker, Postgres
from ops.demo.reference_scenario import on, the_dwelling
from ops.devservices.tansu import free_port
from ops.node.exchange import Node

FAB_CONSULTANT = Actor(organisation="fab", person="fab-gk-01", role=Role.REHOUSING_CONSULTANT)
RESTART_LIMIT_S = 5.0  # ready and consuming after a SIGKILL (issue 22)
IDLE_CPU_LIMIT = 1.0  # per cent of one core, a node doing nothing
WAIT_S = 60.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far (/proc/<pid>/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cpu_percent(pid: int, seconds: float) -> float:
    """Per cent of one core the process used over the next `seconds`."""
    before, started = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100 * (cpu_seconds(pid) - before) / (time.monotonic() - started)


@dataclass
class NodeUnderTest:
    """CIVICA's node as a process of its own, and FAB beside it in this process sending it vacancies."""

    env: dict[str, str]
    logs: Path
    civica: HousingOrganisationApp
    fab: HousingOrganisationApp
    fab_node: Node
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    # `coordination serve` on this port (ready when /readyz answers 200), else `python -m ops.node.serve`.
    serve_port: int | None = None

    @property
    def log(self) -> Path:
        return self.logs / f"civica-{self.starts:02d}.log"

    def start(self) -> float:
        """Start the process; the monotonic time it was started at."""
        assert self.process is None or self.process.poll() is not None
        self.starts += 1
        with self.log.open("wb") as out:
            started = time.monotonic()
            command = ["-m", "ops.node.serve"]
            if self.serve_port is not None:
                command = ["-m", "ops.cli.main", "serve", "--org", "civica", "--port", str(self.serve_port)]
            self.process = subprocess.Popen(
                [sys.executable, *command],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return started

    def cpu_seconds(self) -> float:
        assert self.process is not None
        return cpu_seconds(self.process.pid)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def wait_started(self, max_seconds: float = WAIT_S) -> float:
        deadline = time.monotonic() + max_seconds
        while not self._ready():
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"The node exited; see {self.log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"The node did not start within {max_seconds} s; see {self.log}")
            time.sleep(0.02)
        return time.monotonic()

    def _ready(self) -> bool:
        if self.serve_port is None:
            return "node.started" in self.log.read_text(errors="replace")
        try:
            answer = httpx.get(f"http://127.0.0.1:{self.serve_port}/readyz", timeout=1.0)
        except httpx.HTTPError:
            return False
        return answer.status_code == 200

    def send_vacancy(self) -> UUID:
        """FAB publishes a vacancy and its relay sends it (CIVICA's node mirrors it)."""
        day = the_dwelling().available_from
        vacancy = self.fab.publish_vacancy(
            command_id=uuid4(), dwelling=the_dwelling(), at=on(day), by=FAB_CONSULTANT
        )
        self.fab_node.relay.run_once()
        return vacancy

    def send_history(self, count: int) -> None:
        """FAB publishes `count` vacancies and CIVICA's node mirrors them all (a node with a history)."""
        day = the_dwelling().available_from
        last = None
        for _ in range(count):
            last = self.fab.publish_vacancy(
                command_id=uuid4(), dwelling=the_dwelling(), at=on(day), by=FAB_CONSULTANT
            )
        while self.fab_node.relay.run_once():
            pass
        if last is not None:
            self.wait_applied(last, max_seconds=WAIT_S * 5)

    def wait_applied(self, vacancy: UUID, max_seconds: float = WAIT_S) -> float:
        deadline = time.monotonic() + max_seconds
        while True:
            try:
                self.civica.vacancy(vacancy)
                return time.monotonic()
            except Exception:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"CIVICA did not mirror the vacancy within {max_seconds} s") from None
            time.sleep(0.02)


@contextmanager
def node_under_test(postgres: Postgres, broker: Broker, *, serve: bool = False) -> Iterator[NodeUnderTest]:
    prefix = f"benchrestart{secrets.token_hex(3)}."
    schema = f"bench_r_{secrets.token_hex(4)}"
    cipher_key = base64.b64encode(secrets.token_bytes(16)).decode()
    store_env = {
        **postgres.env(schema=schema, pool_size=2),
        "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
        "CIPHER_KEY": cipher_key,
    }
    data_dir = Path(tempfile.mkdtemp(prefix="coordination-bench-restart-"))
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "COORDINATION_ORGANISATION": "civica",
        "COORDINATION_PROFILE": "production",
        "COORDINATION_CIPHER_KEY": cipher_key,
        "COORDINATION_ROLE": "housing_organisation",
        "COORDINATION_STORE": "postgres",
        "COORDINATION_DATA_DIR": str(data_dir),
        "COORDINATION_POSTGRES_HOST": postgres.host,
        "COORDINATION_POSTGRES_PORT": str(postgres.port),
        "COORDINATION_POSTGRES_USER": postgres.user,
        "COORDINATION_POSTGRES_PASSWORD": postgres.password,
        "COORDINATION_POSTGRES_DBNAME": postgres.dbname,
        "COORDINATION_POSTGRES_SCHEMA": schema,
        "COORDINATION_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "COORDINATION_KAFKA_TOPIC_PREFIX": prefix,
        "COORDINATION_CPR_SECRET": "bench-restart-civica",
        "POSTGRES_POOL_SIZE": "2",
    }
    civica = HousingOrganisationApp(
        storage=ShreddingStorage(), organisation="civica", env=store_env, cpr_secret=b"c" * 32
    )
    fab_settings = NodeSettings(
        organisation="fab",
        role=OrganisationRole.HOUSING_ORGANISATION,
        kafka_topic_prefix=prefix,
        kafka_bootstrap_servers=broker.bootstrap_servers,
    )
    fab = HousingOrganisationApp(
        storage=ShreddingStorage(),
        organisation="fab",
        env=postgres.env(schema=f"{schema}_fab", pool_size=2),
        cpr_secret=b"f" * 32,
    )
    fab_node = Node(fab_settings, fab, KafkaTransport(fab_settings.kafka()))
    if serve:
        ensure_key_pair(data_dir / "keys", "civica")
        env["COORDINATION_PUBLIC_KEYS_DIR"] = str(data_dir / "keys")
    node = NodeUnderTest(env, data_dir, civica, fab, fab_node, serve_port=free_port() if serve else None)
    try:
        yield node
    finally:
        node.stop()
        fab_node.close()
        fab.close()
        civica.close()


@dataclass(frozen=True)
class Restart:
    ready_s: float
    consuming_s: float
    # CPU seconds the new process had used when it was ready: its own work, whatever the host's load.
    ready_cpu_s: float = float("nan")


def restart_after_sigkill(node: NodeUnderTest) -> Restart:
    """SIGKILL the running node, send it a vacancy while it is dead, start it again: seconds until ready and
    until the vacancy is applied, from the new process's start."""
    node.kill()
    vacancy = node.send_vacancy()
    started = node.start()
    ready = node.wait_started()
    cpu = node.cpu_seconds()
    applied = node.wait_applied(vacancy)
    return Restart(ready - started, applied - started, cpu)


def first_start(node: NodeUnderTest) -> Restart:
    started = node.start()
    ready = node.wait_started()
    cpu = node.cpu_seconds()
    applied = node.wait_applied(node.send_vacancy())
    return Restart(ready - started, applied - started, cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.bench.restart", description=__doc__.split("\n")[0])
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument(
        "--serve", action="store_true", help="run `coordination serve` (ready: /readyz answers 200)"
    )
    parser.add_argument("--history", type=int, default=0, help="vacancies mirrored before the kills")
    args = parser.parse_args(argv)
    from ops.bench import infra

    with (
        infra.postgres() as postgres,
        infra.tansu() as broker,
        node_under_test(postgres, broker, serve=args.serve) as node,
    ):
        first = first_start(node)
        print(
            f"first start: ready {first.ready_s:.2f} s ({first.ready_cpu_s:.2f} s CPU), "
            f"consuming {first.consuming_s:.2f} s"
        )
        if args.history:
            node.send_history(args.history)
            print(f"history: {args.history:,} vacancies mirrored")
        worst = 0.0
        for number in range(1, args.restarts + 1):
            restart = restart_after_sigkill(node)
            worst = max(worst, restart.consuming_s)
            print(
                f"restart {number} after SIGKILL: ready {restart.ready_s:.2f} s "
                f"({restart.ready_cpu_s:.2f} s CPU), "
                f"consuming {restart.consuming_s:.2f} s (limit {RESTART_LIMIT_S} s)"
            )
        assert node.process is not None
        time.sleep(5)  # the start-up's own work done
        idle = idle_cpu_percent(node.process.pid, args.idle_seconds)
        print(f"idle CPU over {args.idle_seconds:.0f} s: {idle:.2f} % of a core (limit {IDLE_CPU_LIMIT} %)")
        print(f"logs: {node.logs}")
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
        within = worst <= RESTART_LIMIT_S and idle <= IDLE_CPU_LIMIT
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
