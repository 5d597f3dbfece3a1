"""Under load, PostgreSQL restarts in immediate mode and then its disk fills for a while: afterwards every
projection equals a rebuild and nothing is parked.

Two housing nodes (CIVICA and FAB) run in this process on a throwaway PostgreSQL cluster of the test's own,
each with its relay, consumer and projections, over the in-process transport: CIVICA's vacancies reach
FAB's store through FAB's consumer, and FAB's households are read back by its timeline through their keys
in FAB's database. FAB's events table and timeline entries live in a tablespace on a size-limited tmpfs, so
filling the tmpfs makes PostgreSQL fail to extend them ("could not extend file ... No space left on device",
SQLSTATE 53100) while its WAL and every other table still have room.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.eventstore.event_decoding import StoredEventDecoder
from adapters.exchange.inprocess import InProcessBroker
from adapters.settings import NodeSettings, OrganisationRole, Store
from coordination.applications.housing import HousingOrganisationApp
from coordination.projections.rebuild import compare, drop
from coordination.projections.runner import ProjectionRunner
from coordination.transient import is_transient
from ops.bench.fixtures import read_model_support as s
from ops.devservices.pgcluster import (
    PG_VERSION,
    Cluster,
    _drop_throwaway,
    _throwaway,
    _wait_ready,
    create_database,
    psql,
)
from ops.node.bootstrap import build_app, node_read_models
from ops.node.exchange import Node

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]

TABLESPACE_MB = 16
HELD_FULL_S = 5.0
MAX_FULL_S = 30.0
# FAB's events table (named after its application class) and its timeline's entries.
ON_SMALL_DISK = (f"node_{s.FAB}.housingorganisationapp_events", f"node_{s.FAB}_views.timeline_entries__live")
VACUUM_SMALL = "; ".join(f"VACUUM FULL {table}" for table in ON_SMALL_DISK)
LOAD_INTERVAL_S = 0.03
SETTLE_S = 40.0


@dataclass
class Load:
    """Commands at both nodes on a thread of its own, each recorded as acknowledged or refused (transient)."""

    civica: HousingOrganisationApp
    fab: HousingOrganisationApp
    acknowledged: int = 0
    refused: int = 0
    refused_for_full_disk: int = 0  # SQLSTATE 53100, at FAB: CIVICA's store is not on the small disk
    acknowledged_while_full: int = 0
    unexpected: list[BaseException] = field(default_factory=list)
    disk_full: threading.Event = field(default_factory=threading.Event)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="load", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(30)

    def _run(self) -> None:
        deadline = time.monotonic() + 120  # bounded even if the test forgets to stop it
        turn = 0
        while not self._stopping.is_set() and time.monotonic() < deadline:
            turn += 1
            try:
                if turn % 2:
                    s.publish(self.civica)  # relayed to FAB's consumer, which stores it at FAB
                else:
                    s.register(self.fab)  # FAB's timeline reads its keys from FAB's database
                self.acknowledged += 1
                self.acknowledged_while_full += self.disk_full.is_set()
            except Exception as error:
                if not is_transient(error):
                    self.unexpected.append(error)
                self.refused += 1
                self.refused_for_full_disk += _disk_full(error)
            self._stopping.wait(LOAD_INTERVAL_S)


def _disk_full(error: BaseException | None) -> bool:
    """Whether the error was raised, at any depth, from PostgreSQL's disk_full (53100)."""
    while error is not None:
        if isinstance(error, psycopg.errors.DiskFull):
            return True
        error = error.__cause__ or error.__context__
    return False


@contextlib.contextmanager
def small_tmpfs() -> Iterator[Path]:
    where = Path(tempfile.mkdtemp(prefix="coordination-tablespace-"))
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TABLESPACE_MB}m,mode=0700", "tmpfs", str(where)], check=True
    )
    try:
        subprocess.run(["chown", "postgres:postgres", str(where)], check=True)
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, timeout=30)
        with contextlib.suppress(OSError):
            where.rmdir()


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    cluster = _throwaway()
    try:
        yield cluster
    finally:
        assert cluster.throwaway_dir is not None
        _drop_throwaway(cluster.name, cluster.throwaway_dir)


def restart_immediately(cluster: Cluster) -> None:
    subprocess.run(
        ["pg_ctlcluster", PG_VERSION, cluster.name, "stop", "-m", "immediate"], check=True, timeout=60
    )
    time.sleep(1.0)  # down for a moment, as in a crash
    subprocess.run(["pg_ctlcluster", PG_VERSION, cluster.name, "start"], check=True, timeout=90)
    _wait_ready(cluster.name, cluster.port)


def fill(where: Path) -> Path:
    """Fill the tmpfs to its last byte with a file of its own; the file, to free the space again."""
    filler = where / "filler"
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={filler}", "bs=1M", f"count={TABLESPACE_MB * 2}"],
        capture_output=True,
        check=False,
        timeout=30,
    )
    # The last partial megabyte too: PostgreSQL extends a table 8 kB at a time.
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={filler}", "bs=8k", "oflag=append", "conv=notrunc", "count=100000"],
        capture_output=True,
        check=False,
        timeout=30,
    )
    return filler


def _nodes(
    cluster: Cluster, tablespace: Path, stack: contextlib.ExitStack, data_dir: Path
) -> tuple[dict[str, Node], str]:
    """CIVICA's and FAB's nodes on one broker, a schema each in one database of the cluster; the database."""
    broker = InProcessBroker()
    psql(cluster.port, f"CREATE TABLESPACE small LOCATION '{tablespace}'")
    server = create_database(cluster)
    nodes = {}
    for organisation in (s.CIVICA, s.FAB):
        schema = f"node_{organisation}"
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        settings = NodeSettings(
            organisation=organisation,
            role=OrganisationRole.HOUSING_ORGANISATION,
            store=Store.POSTGRES,
            postgres_host=server.host,
            postgres_port=server.port,
            postgres_user=server.user,
            postgres_password=server.password,
            postgres_dbname=server.dbname,
            postgres_schema=schema,
            cpr_secret="fault-tests-" + organisation,
            data_dir=data_dir,
            municipalities=["Odense"],
            timers_interval_s=0,
        )
        app = build_app(settings, group_commit=True)
        stack.callback(app.close)
        node = Node(settings, app, broker, poll_timeout=0.02, read_models=node_read_models(settings, app))
        stack.callback(node.close)
        nodes[organisation] = node
    # FAB's events table and its timeline's entries on the small disk, as in the issue (FAB's events table on
    # the full disk): FAB's consumer then stores CIVICA's vacancies, and its timeline writes, on the full
    # disk, while CIVICA goes on publishing.
    moves = "; ".join(f"ALTER TABLE {table} SET TABLESPACE small" for table in ON_SMALL_DISK)
    psql(cluster.port, moves, dbname=server.dbname)
    return nodes, server.dbname


def _settled(nodes: dict[str, Node]) -> bool:
    """Nothing left to publish or project, and every vacancy CIVICA stored in FAB's pool."""
    return all(
        node.relay.lag() == 0 and not any(node.read_model_lags().values()) for node in nodes.values()
    ) and _pool(nodes[s.FAB]) == _pool(nodes[s.CIVICA])


def _pool(node: Node) -> set[str]:
    """The vacancies in the node's pool view (its own and those mirrored from other organisations)."""
    assert node.read_models is not None
    rows = node.read_models.views.query(f"SELECT vacancy_id FROM pool_vacancies__{node.read_models.suffix}")
    return {row["vacancy_id"] for row in rows}


def _differences(node: Node) -> dict[str, list[Any]]:
    """Each projection compared with a rebuild of it from the node's log up to the live one's position."""
    assert node.read_models is not None
    found = {}
    for name, live in node.read_models.runners.items():
        rebuilt = ProjectionRunner(
            node.app,
            node.read_models.projection(name, "rebuilt"),
            node.read_models.views,
            decoding=StoredEventDecoder(node.app.mapper),
        )
        try:
            rebuilt.run_until_caught_up(max_seconds=30, up_to=live.position())
            found[name] = compare(live, rebuilt)
        finally:
            drop(rebuilt)
    return found


def test_projections_and_the_consumer_retry_through_a_restart_and_a_full_disk_and_park_nothing(
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        # Left in reverse: the nodes and apps close, then the cluster is dropped, then the tmpfs unmounted.
        tablespace = stack.enter_context(small_tmpfs())
        cluster = stack.enter_context(throwaway_cluster())
        nodes, database = _nodes(cluster, tablespace, stack, tmp_path)
        civica, fab = nodes[s.CIVICA].app, nodes[s.FAB].app
        assert isinstance(civica, HousingOrganisationApp) and isinstance(fab, HousingOrganisationApp)
        for node in nodes.values():
            node.start()
        load = Load(civica, fab)
        load.start()
        stack.callback(load.stop)

        time.sleep(3)
        restart_immediately(cluster)
        time.sleep(3)
        # PostgreSQL extends a busy table many pages at a time: the tables are first rewritten without the
        # empty pages it took (VACUUM FULL), or commands would fit in them for a while on a full disk.
        psql(cluster.port, VACUUM_SMALL, dbname=database)
        filler = fill(tablespace)
        load.disk_full.set()
        # Full until FAB's store has refused a command for it (bounded), and at least HELD_FULL_S.
        full_since = time.monotonic()
        while time.monotonic() - full_since < HELD_FULL_S or (
            not load.refused_for_full_disk and time.monotonic() - full_since < MAX_FULL_S
        ):
            time.sleep(0.1)
        filler.unlink()
        load.disk_full.clear()
        full_for = time.monotonic() - full_since
        time.sleep(3)
        load.stop()

        deadline = time.monotonic() + SETTLE_S
        while not (settled := _settled(nodes)) and time.monotonic() < deadline:
            time.sleep(0.2)
        for node in nodes.values():
            node.stop()

        parked_events = {
            org: [r.parked() for r in node.read_models.runners.values()] for org, node in nodes.items()
        }  # type: ignore[union-attr]
        parked_messages = {org: node.consumer.list_parked() for org, node in nodes.items()}
        differences = {org: _differences(node) for org, node in nodes.items()}
        failures = {org: node.consumer.failures for org, node in nodes.items()}
        pools = {org: _pool(node) for org, node in nodes.items()}

    seconds = time.monotonic() - started
    print(
        f"\nrestart + full disk: {load.acknowledged} commands acknowledged, {load.refused} refused "
        f"({load.refused_for_full_disk} for the full disk, full for {full_for:.1f} s, when "
        f"{load.acknowledged_while_full} were acknowledged), consumer failures {failures}, "
        f"pools { {org: len(pool) for org, pool in pools.items()} }, {seconds:.1f} s"
    )
    assert load.unexpected == []
    assert load.acknowledged > 50
    assert load.refused_for_full_disk > 0  # the disk was full for the store, not only for show
    assert all(not any(events) for events in parked_events.values()), parked_events
    assert parked_messages == {s.CIVICA: [], s.FAB: []}
    assert all(not any(diffs.values()) for diffs in differences.values()), differences
    assert pools[s.FAB] == pools[s.CIVICA]  # every vacancy CIVICA stored reached FAB's pool
    assert settled
    assert seconds < 90
