"""What the benchmarks run against, started here and stopped afterwards: PostgreSQL 15 and Tansu.

PostgreSQL and Tansu are started as the tests start them (ops/devservices/), and the histories are built
with the tests' builders (ops/bench/fixtures/).
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psycopg

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Postgres:
    """A database of the bench's own on a cluster it started (or found running), with a login role."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    server_version: str

    @property
    def dsn(self) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.dbname}"

    def env(self, schema: str = "", pool_size: int = 10) -> dict[str, str]:
        """An eventsourcing env for an application in `schema` (created if missing)."""
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_POOL_SIZE": str(pool_size),
            "POSTGRES_MAX_OVERFLOW": "10",
            "POSTGRES_CONNECT_TIMEOUT": "10",
        }
        if schema:
            with psycopg.connect(self.dsn, autocommit=True, connect_timeout=10) as conn:
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            env["POSTGRES_SCHEMA"] = schema
        return env

    def node_settings(
        self, organisation: str, *, schema: str, pool_size: int = 10, **fields: Any
    ) -> dict[str, Any]:
        """The fields of a node's settings (`NodeSettings(**fields)`, for ops/node/bootstrap.py) on this database,
        in `schema` (created if missing), its pool as `env` sizes it; `fields` add to them."""
        self.env(schema=schema)
        return {
            "organisation": organisation,
            "store": "postgres",
            "postgres_host": self.host,
            "postgres_port": self.port,
            "postgres_user": self.user,
            "postgres_password": self.password,
            "postgres_dbname": self.dbname,
            "postgres_schema": schema,
            "postgres_pool_size": pool_size,
            "postgres_max_overflow": 10,
            "cpr_secret": secrets.token_hex(16),
            "data_dir": tempfile.mkdtemp(prefix="coordination-bench-node-"),
            **fields,
        }


@contextmanager
def postgres() -> Iterator[Postgres]:
    """PostgreSQL 15 as the tests get it: 15/main (started if down, stopped again) or a throwaway cluster."""
    from ops.devservices import pgcluster

    cluster = pgcluster.start()
    try:
        server = pgcluster.create_database(cluster)
        try:
            with psycopg.connect(server.dsn, connect_timeout=10) as conn:
                version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
            yield Postgres(server.host, server.port, server.user, server.password, server.dbname, version)
        finally:
            pgcluster.drop_database(cluster, server)
    finally:
        pgcluster.stop(cluster)


class Broker(Protocol):
    """What the scenarios need of a running broker."""

    port: int
    log: Path

    @property
    def bootstrap_servers(self) -> str: ...


@contextmanager
def tansu() -> Iterator[Broker]:
    """Tansu (memory storage) on a free loopback port, started like the tests start it; stopped by PID."""
    from ops.devservices.tansu import running_tansu

    with running_tansu(Path(tempfile.mkdtemp(prefix="coordination-bench-tansu-"))) as broker:
        yield broker
