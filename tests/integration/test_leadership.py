"""The election of a node's one-at-a-time jobs among its replicas, on the real PostgreSQL server."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest

from adapters.exchange.inprocess import InProcessBroker
from adapters.settings import NodeSettings, Store
from adapters.sql.leadership import Leadership, Role, lock_key
from ops.devservices.pgcluster import PostgresServer
from ops.node.bootstrap import NodeParts
from ops.node.read_models import READ_MODELS
from ops.node.replicas import starting_alone

pytestmark = pytest.mark.postgres


class Job:
    """A role's start and stop, counted; `running` as the role's loop would be."""

    def __init__(self) -> None:
        self.running = False
        self.starts = self.stops = 0

    def role(self) -> Role:
        return Role(self._start, self._stop)

    def _start(self) -> None:
        self.running, self.starts = True, self.starts + 1

    def _stop(self) -> None:
        self.running, self.stops = False, self.stops + 1


def _replica(server: PostgresServer, namespace: str, jobs: dict[str, Job]) -> Leadership:
    return Leadership(server.dsn, namespace, {name: job.role() for name, job in jobs.items()}, retry_s=0.2)


def _within(condition: Callable[[], bool], seconds: float) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, "not within the bound"
        time.sleep(0.02)
    return time.monotonic() - started


def test_each_role_runs_on_one_replica_and_is_stopped_and_taken_again_when_its_holder_loses_its_connection(
    postgres_server: PostgresServer,
) -> None:
    namespace = f"tests/{uuid4().hex}/civica"
    first_jobs = {"relay": Job(), "timers": Job()}
    second_jobs = {"relay": Job(), "timers": Job()}
    first, second = (
        _replica(postgres_server, namespace, first_jobs),
        _replica(postgres_server, namespace, second_jobs),
    )
    first.start()
    second.start()
    try:
        assert first.held() == ["relay", "timers"] and second.held() == []
        time.sleep(0.6)  # several rounds of the follower's tries: still nothing for it
        assert second.held() == [] and not any(job.running for job in second_jobs.values())
        # The holder's lock connection dies under it (as when the server terminates its session).
        with psycopg.connect(postgres_server.dsn, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1"
                " AND ((classid::bigint << 32) | objid::bigint) = (%s::bigint & x'ffffffffffffffff'::bigint)",
                (lock_key(namespace, "relay"),),
            )
        stopped_in = _within(lambda: first_jobs["relay"].stops == 1, 2.0)
        # Then one replica runs it again: the other, or this one if its next try came first.
        relays = (first_jobs["relay"], second_jobs["relay"])
        taken_in = _within(lambda: sum(job.starts for job in relays) == 2, 2.0)
        print(f"relay stopped on the old holder in {stopped_in:.2f} s, running again in {taken_in:.2f} s")
        assert [job.running for job in relays].count(True) == 1
        assert len([r for r in (first, second) if "relay" in r.held()]) == 1
        assert first_jobs["timers"].running and not second_jobs["timers"].running
    finally:
        first.stop()
        second.stop()
    assert not any(job.running for jobs in (first_jobs, second_jobs) for job in jobs.values())


def test_a_replica_that_stops_hands_its_roles_over_at_the_others_next_try(
    postgres_server: PostgresServer,
) -> None:
    namespace = f"tests/{uuid4().hex}/civica"
    first_jobs, second_jobs = {"relay": Job()}, {"relay": Job()}
    first, second = (
        _replica(postgres_server, namespace, first_jobs),
        _replica(postgres_server, namespace, second_jobs),
    )
    first.start()
    second.start()
    try:
        first.stop()
        assert not first_jobs["relay"].running
        _within(lambda: second_jobs["relay"].running, 1.5)
    finally:
        second.stop()


def test_two_organisations_on_one_server_hold_their_roles_independently(
    postgres_server: PostgresServer,
) -> None:
    civica, fab = Job(), Job()
    run = uuid4().hex
    one = _replica(postgres_server, f"tests/{run}/civica", {"relay": civica})
    other = _replica(postgres_server, f"tests/{run}/fab", {"relay": fab})
    one.start()
    other.start()
    try:
        assert civica.running and fab.running
    finally:
        one.stop()
        other.stop()


def test_two_replicas_built_by_the_composition_root_share_the_roles_and_say_which_they_hold(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    settings = _node_settings(postgres_server, tmp_path)
    with starting_alone(settings):
        first = NodeParts(settings)
    with starting_alone(settings):
        second = NodeParts(settings)
    every = {"relay", "sealer", "timers", "webhooks", *(f"projection:{name}" for name in READ_MODELS)}
    try:
        for parts in (first, second):
            parts.on_exchange(InProcessBroker())
            parts.start_node()
        one, other = first.api_node(), second.api_node()
        assert (
            one.exchange_figures
            and other.exchange_figures
            and one.exchange_running
            and other.exchange_running
        )
        assert set(one.exchange_figures()["roles_held"]) == every
        assert other.exchange_figures()["roles_held"] == []
        # Ready, both: the follower's relay runs on the other replica.
        assert one.exchange_running() and other.exchange_running()
        first.close()
        _within(lambda: set(other.exchange_figures()["roles_held"]) == every, 5.0)
        assert second.node is not None and second.node.relay._loop.running
    finally:
        first.close()
        second.close()


def _node_settings(server: PostgresServer, data_dir: Path) -> NodeSettings:
    schema = f"leadership_{uuid4().hex[:10]}"
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return NodeSettings(
        organisation="civica",
        store=Store.POSTGRES,
        data_dir=data_dir,
        postgres_host=server.host,
        postgres_port=server.port,
        postgres_user=server.user,
        postgres_password=server.password,
        postgres_dbname=server.dbname,
        postgres_schema=schema,
        postgres_pool_size=1,
        postgres_max_overflow=3,
    )
