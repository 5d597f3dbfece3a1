"""A real PostgreSQL 15 server for the tests: Debian's cluster 15/main, or a throwaway cluster beside it."""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

PG_VERSION = "15"
HOST = "127.0.0.1"
TEST_ROLE = "coordination_test"
PASSWORD_METHODS = {"md5", "scram-sha-256", "password"}


class ClusterError(RuntimeError):
    """PostgreSQL could not be made ready for the tests; the message says what to look at."""


@dataclass(frozen=True)
class PostgresServer:
    """Where the tests' own database is, and how to log in to it over TCP with a password."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    @property
    def dsn(self) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.dbname}"


@dataclass(frozen=True)
class Cluster:
    name: str
    port: int
    started_here: bool
    throwaway_dir: str | None = None


def _run(args: list[str], *, input: str | None = None, timeout: float = 60) -> str:
    try:
        done = subprocess.run(
            args, input=input, capture_output=True, text=True, timeout=timeout, cwd="/", check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ClusterError(f"`{' '.join(args)}` did not finish within {timeout:.0f} s") from exc
    if done.returncode != 0:
        raise ClusterError(f"`{' '.join(args)}` failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def psql(port: int, sql: str, *, dbname: str = "postgres") -> str:
    """Run SQL as the postgres superuser over the Unix socket (peer auth); the SQL goes on stdin."""
    command = f"psql -X -q -A -t -F '|' -v ON_ERROR_STOP=1 -p {port} -d {dbname}"
    return _run(["su", "postgres", "-c", command], input=sql)


def _status(name: str) -> tuple[int, bool] | None:
    for line in _run(["pg_lsclusters", "-h"]).splitlines():
        fields = line.split()
        if fields[:2] == [PG_VERSION, name]:
            return int(fields[2]), fields[3].startswith("online")
    return None


def _wait_ready(cluster_name: str, port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready = subprocess.run(
            ["pg_isready", "-q", "-h", HOST, "-p", str(port), "-t", "2"], timeout=10, check=False
        )
        if ready.returncode == 0:
            return
        time.sleep(0.5)
    raise ClusterError(
        f"PostgreSQL {PG_VERSION}/{cluster_name} did not accept connections on {HOST}:{port} "
        f"within {seconds:.0f} s; see /var/log/postgresql/postgresql-{PG_VERSION}-{cluster_name}.log"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


# Every node in a test keeps a small connection pool; the default 100 slots ran out in full runs.
# Parallel test workers each keep their own.
SERVER_OPTIONS = "-c max_connections=900"


def start() -> Cluster:
    """Use 15/main (starting it if it is down), else create a throwaway cluster on a free port."""
    if os.geteuid() != 0:
        raise ClusterError("The test setup manages PostgreSQL as root (it runs `su postgres`)")
    if shutil.which("pg_ctlcluster") is None or not os.path.exists(f"/usr/lib/postgresql/{PG_VERSION}"):
        raise ClusterError(
            "PostgreSQL 15 is not installed: run the tests with `bash ops/test.sh`, which installs it"
        )
    status = _status("main")
    if status is not None:
        port, online = status
        if online:
            _wait_ready("main", port)
            return Cluster("main", port, started_here=False)
        try:
            _run(["pg_ctlcluster", PG_VERSION, "main", "start", "--", "-o", SERVER_OPTIONS], timeout=90)
            _wait_ready("main", port)
            return Cluster("main", port, started_here=True)
        except ClusterError as problem:
            print(f"\nCould not use PostgreSQL {PG_VERSION}/main ({problem}); creating a throwaway cluster")
            _stop_quietly("main")
    return _throwaway()


def _throwaway() -> Cluster:
    name = f"coordination_test_{secrets.token_hex(4)}"
    data_dir = tempfile.mkdtemp(prefix="coordination-pg-")
    shutil.chown(data_dir, "postgres", "postgres")
    port = _free_port()
    try:
        _run(
            [
                "pg_createcluster",
                PG_VERSION,
                name,
                "--port",
                str(port),
                "--datadir",
                data_dir,
                "--start-conf",
                "manual",
            ],
            timeout=120,
        )
        # Not `pg_createcluster -o`: postgresql-common writes 127.0.0.1 unquoted, as if it were a number.
        Path(f"/etc/postgresql/{PG_VERSION}/{name}/conf.d/listen.conf").write_text(
            f"listen_addresses = '{HOST}'\n"
        )
        _run(["pg_ctlcluster", PG_VERSION, name, "start", "--", "-o", SERVER_OPTIONS], timeout=90)
        _wait_ready(name, port)
    except ClusterError:
        _drop_throwaway(name, data_dir)
        raise
    return Cluster(name, port, started_here=True, throwaway_dir=data_dir)


def start_shared(directory: Path) -> Cluster:
    """The cluster of a group of processes (parallel test workers), started by the first of them that
    asks, under a lock in `directory`, and found there by the others. None of them stops it: the group's
    owner calls `stop_shared` once they are all done."""
    with open(directory / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = directory / "cluster.json"
        if record.exists():
            cluster = Cluster(**json.loads(record.read_text()))
            _wait_ready(cluster.name, cluster.port)
        else:
            cluster = start()
            record.write_text(json.dumps(asdict(cluster)))
    return replace(cluster, started_here=False, throwaway_dir=None)


def stop_shared(directory: Path) -> None:
    """Stop the group's cluster if one of its processes started it (`start_shared`)."""
    record = directory / "cluster.json"
    if record.exists():
        stop(Cluster(**json.loads(record.read_text())))


def stop(cluster: Cluster) -> None:
    """Leave the machine as it was: stop what the tests started, remove what they created."""
    if cluster.throwaway_dir is not None:
        _drop_throwaway(cluster.name, cluster.throwaway_dir)
    elif cluster.started_here:
        _run(["pg_ctlcluster", PG_VERSION, cluster.name, "stop", "-m", "fast"], timeout=90)


def _stop_quietly(name: str) -> None:
    subprocess.run(["pg_ctlcluster", PG_VERSION, name, "stop", "-m", "fast"], capture_output=True, timeout=90)


def _drop_throwaway(name: str, data_dir: str) -> None:
    subprocess.run(["pg_dropcluster", "--stop", PG_VERSION, name], capture_output=True, timeout=120)
    # pg_dropcluster keeps a config directory holding files it did not write (our listen.conf).
    shutil.rmtree(f"/etc/postgresql/{PG_VERSION}/{name}", ignore_errors=True)
    shutil.rmtree(data_dir, ignore_errors=True)


def check_password_login_allowed(port: int, dbname: str) -> None:
    """Fail clearly unless the first pg_hba rule matching our TCP login asks for a password."""
    rules = psql(
        port,
        "SELECT line_number, type, array_to_string(database, ','), array_to_string(user_name, ','), "
        "coalesce(address, ''), coalesce(netmask, ''), auth_method, coalesce(error, '') "
        "FROM pg_hba_file_rules ORDER BY line_number",
    )
    hba_file = psql(port, "SHOW hba_file").strip()
    for row in rules.splitlines():
        line, kind, databases, users, address, netmask, method, error = row.split("|")
        if error or kind not in {"host", "hostssl", "hostnossl"}:
            continue
        if not (
            {"all", dbname} & set(databases.split(","))
            and ("all" in users.split(",") or any(u.startswith(TEST_ROLE) for u in users.split(",")))
        ):
            continue
        if not _covers_loopback(address, netmask):
            continue
        if method in PASSWORD_METHODS:
            return
        raise ClusterError(
            f"{hba_file} line {line} makes TCP logins from {HOST} use {method!r}; the tests log in with "
            f"a password: add `host all all {HOST}/32 scram-sha-256` before it"
        )
    raise ClusterError(
        f"{hba_file} has no rule for TCP logins from {HOST}; add `host all all {HOST}/32 scram-sha-256`"
    )


def _covers_loopback(address: str, netmask: str) -> bool:
    if address in {"all", "samehost", "samenet", "localhost"}:
        return True
    try:
        network = ipaddress.ip_network(f"{address}/{netmask}" if netmask else address, strict=False)
    except ValueError:
        return False
    return ipaddress.ip_address(HOST) in network


def create_database(cluster: Cluster) -> PostgresServer:
    """A fresh database owned by a role of this test session's own, so two sessions never collide."""
    password = secrets.token_urlsafe(18)
    suffix = secrets.token_hex(4)
    role, dbname = f"{TEST_ROLE}_{suffix}", f"coordination_test_{suffix}"
    psql(
        cluster.port,
        f"""
        CREATE ROLE {role} LOGIN PASSWORD '{password}';
        CREATE DATABASE {dbname} OWNER {role};
        """,
    )
    return PostgresServer(HOST, cluster.port, role, password, dbname)


def drop_database(cluster: Cluster, server: PostgresServer) -> None:
    psql(cluster.port, f"DROP DATABASE IF EXISTS {server.dbname} WITH (FORCE)")
    psql(cluster.port, f"DROP ROLE IF EXISTS {server.user}")
