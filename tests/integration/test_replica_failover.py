"""Two replicas of CIVICA's node, beside the other organisations' nodes, each an OS process on PostgreSQL and
the broker: a random replica (the leader of the relay and projections, or the follower) SIGKILLed and
restarted again and again under load; nothing acknowledged is lost or applied twice, every projection equals
a rebuild, and the relay and projections run again within 5 s of each kill of their leader.

The leader of a role is the replica whose lock connection holds its advisory lock (adapters/sql/leadership.py):
read here from PostgreSQL's pg_locks (which roles are held) and from each replica's log (by whom).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from random import Random

import psycopg
import pytest

from adapters.settings import OrganisationRole
from adapters.sql.leadership import lock_key
from coordination.projections.rebuild import compare, drop, rebuild
from ops.demo.reference_scenario import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, CIVICA
from ops.devservices.pgcluster import PostgresServer
from ops.node.read_models import READ_MODELS, ReadModels, open_views_beside
from tests.integration.conftest import BrokerProcess
from tests.integration.exchange_checks import no_effect_applied_twice, replayed_equals_live
from tests.integration.exchange_load import FAB, HOUSING, Load
from tests.integration.fault_support import Deployment, NodeProcess, _free_port

pytestmark = [pytest.mark.postgres, pytest.mark.kafka, pytest.mark.timeout(420)]

SEED = int(os.environ.get("FAULTS_SEED", "20261207"))
KILLS = int(os.environ.get("FAILOVER_KILLS", "10"))
ROLES = {
    CIVICA: OrganisationRole.HOUSING_ORGANISATION,
    FAB: OrganisationRole.HOUSING_ORGANISATION,
    BRIDGE_BUILDER: OrganisationRole.BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH: OrganisationRole.MUNICIPAL_DEPARTMENT,
}
POOL = (CIVICA, FAB, CHILDREN_AND_YOUTH)
# The relay and every projection runner of CIVICA: what must run again within the target after a kill.
WATCHED = ["relay", *(f"projection:{name}" for name in READ_MODELS)]
RESUME_TARGET_S = 5.0


class Replicas:
    """CIVICA's two replica processes, and who leads which of its roles."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        first = deployment.processes[CIVICA]
        second_env = dict(first.env)
        second_env["COORDINATION_HTTP_PORT"] = str(_free_port())
        # Its peers may ask either replica for CIVICA's exchange keys (a load balancer's job in production).
        urls = dict(pair.split("=", 1) for pair in first.env["COORDINATION_PEER_URLS"].split(","))
        urls[CIVICA] += f"|http://127.0.0.1:{second_env['COORDINATION_HTTP_PORT']}"
        peers = ",".join(f"{org}={url}" for org, url in urls.items())
        for process in deployment.processes.values():
            process.env |= {"COORDINATION_PEER_URLS": peers, "COORDINATION_REPLICATED": "true"}
        second_env |= {"COORDINATION_PEER_URLS": peers, "COORDINATION_REPLICATED": "true"}
        self.all = [first, NodeProcess(CIVICA, second_env, deployment.logs, label=f"{CIVICA}-b")]
        schema = deployment.schemas[CIVICA]
        namespace = f"{deployment.server.dbname}/{schema}/{CIVICA}"
        self.keys = {lock_key(namespace, role): role for role in WATCHED}

    def leader(self) -> NodeProcess | None:
        """The live replica whose current log says it acquired the relay (and has not lost it since)."""
        for process in self.all:
            if not process.alive:
                continue
            text = (process.logs / f"{process.label}-{process.starts:02d}.log").read_text(errors="replace")
            acquired = [m.start() for m in re.finditer(r"leadership\.acquired.*\brole=relay\b", text)]
            lost = [m.start() for m in re.finditer(r"leadership\.lost.*\brole=relay\b", text)]
            if acquired and (not lost or lost[-1] < acquired[-1]):
                return process
        return None

    def held(self) -> set[str]:
        """CIVICA's watched roles whose advisory lock some session holds now."""
        with psycopg.connect(self.deployment.server.dsn, connect_timeout=10) as conn:
            rows = conn.execute(
                "SELECT ((classid::bigint << 32) | objid::bigint) FROM pg_locks"
                " WHERE locktype = 'advisory' AND objsubid = 1 AND granted"
            ).fetchall()
        return {self.keys[value] for (value,) in rows if value in self.keys}

    def resumed_after_kill(self, victim: NodeProcess, max_seconds: float = 20.0) -> float:
        """SIGKILL the leader; seconds until every watched role is held again (by the other replica)."""
        killed = time.monotonic()
        victim.kill()
        while self.held() != set(WATCHED):
            assert time.monotonic() - killed < max_seconds, f"roles held after {max_seconds} s: {self.held()}"
            time.sleep(0.05)
        return time.monotonic() - killed


@pytest.fixture
def deployment(
    postgres_server: PostgresServer, kafka_broker: BrokerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Deployment, Replicas]]:
    with ExitStack() as stack:
        deployment = Deployment(
            postgres_server,
            kafka_broker.bootstrap_servers,
            ROLES,
            tmp_path_factory.mktemp("failover-nodes"),
            stack,
        )
        replicas = Replicas(deployment)
        stack.callback(replicas.all[1].kill)
        processes = [*deployment.processes.values(), replicas.all[1]]
        for process in processes:
            process.start()
        for process in processes:  # a shared, loaded machine: imports alone took 30 s once
            process.wait_started(180)
        yield deployment, replicas
        for process in [*deployment.processes.values(), replicas.all[1]]:
            process.stop()


def _projections_equal_a_rebuild(deployment: Deployment) -> int:
    """Each of CIVICA's live projections (run by whichever replica led it) equals one rebuilt from its log."""
    app = deployment.apps[CIVICA]
    views = open_views_beside(app.env)
    models = ReadModels(app, views)
    head = app.recorder.max_notification_id() or 0
    deployment.wait_until(
        lambda: all(runner.position() >= head for runner in models.runners.values()),
        "CIVICA's projections caught up with its log",
        60,
    )
    compared = 0
    makers = models.projections()  # as the node makes them: the caseload with its case-reference key
    for name, runner in models.runners.items():
        rebuilt = rebuild(app, makers[name], views, "failover_check", decoding=runner.handling.decoding)
        differences = compare(runner, rebuilt)
        drop(rebuilt)
        assert not differences, f"{name}: {[str(d) for d in differences[:3]]}"
        compared += 1
    getattr(views, "close", lambda: None)()
    return compared


def test_replicas_sigkilled_at_random_under_load_lose_and_double_nothing_and_fail_over_within_5_s(
    deployment: tuple[Deployment, Replicas], capsys: pytest.CaptureFixture[str]
) -> None:
    deployment_, replicas = deployment
    rng = Random(SEED)
    load = Load(deployment_.apps, lambda condition, what: deployment_.wait_until(condition, what), seed=SEED)
    resumed: list[float] = []
    kinds: list[str] = []

    def kill_and_restart() -> None:
        for number in range(KILLS):
            # Leader and follower both, at random, with at least three of each.
            leader_left = 3 - kinds.count("leader")
            follower_left = 3 - kinds.count("follower")
            left = KILLS - number
            if leader_left >= left:
                kind = "leader"
            elif follower_left >= left:
                kind = "follower"
            else:
                kind = rng.choice(["leader", "follower"])
            deployment_.wait_until(lambda: replicas.leader() is not None, "a leader of the relay", 30)
            leader = replicas.leader()
            victim = leader if kind == "leader" else next(p for p in replicas.all if p is not leader)
            assert victim is not None and victim.alive
            if kind == "leader":
                resumed.append(replicas.resumed_after_kill(victim))
            else:
                victim.kill()
            kinds.append(kind)
            time.sleep(rng.uniform(0.2, 1.5))
            victim.start()
            victim.wait_started(120)
            time.sleep(rng.uniform(0.5, 2.0))

    failures: list[BaseException] = []

    def run() -> None:
        try:
            kill_and_restart()
        except BaseException as error:
            failures.append(error)
            deployment_.failures.append(error)

    started = time.monotonic()
    fault = threading.Thread(target=run, name="failover-faults", daemon=True)
    fault.start()
    waves = [load.wave("r1", households=6, vacancies=8)]
    while fault.is_alive() and len(waves) < 6:
        waves.append(load.wave(f"r{len(waves) + 1}", households=3, vacancies=4))
    fault.join(240)
    assert not fault.is_alive(), "the kills did not finish"
    if failures:
        raise failures[0]
    deployment_.settle(120)
    states = {org: replayed_equals_live(app) for org, app in deployment_.apps.items()}
    checked = no_effect_applied_twice(states, HOUSING, POOL)
    compared = _projections_equal_a_rebuild(deployment_)
    commands = sum(w.commands for w in waves)
    parked = deployment_.parked()
    with capsys.disabled():
        print(
            f"\nreplica failover: {len(kinds)} SIGKILLs ({kinds.count('leader')} of the leader,"
            f" {kinds.count('follower')} of the follower), {commands} commands in {len(waves)} waves,"
            f" {deployment_.duplicates_suppressed()} duplicates suppressed, {sum(parked.values())} parked;"
            f" relay and {len(WATCHED) - 1} projections running again after a leader's kill:"
            f" max {max(resumed):.2f} s, each {[round(s, 2) for s in resumed]};"
            f" {compared} projections equal a rebuild; checked {checked};"
            f" {time.monotonic() - started:.0f} s"
        )
    # As many kills as asked (FAILOVER_KILLS; 10 by default), three of each kind when there are enough.
    assert len(kinds) == KILLS and kinds.count("leader") >= min(3, KILLS)
    assert kinds.count("follower") >= min(3, max(0, KILLS - 3))
    assert max(resumed) <= RESUME_TARGET_S
    assert sum(parked.values()) == 0
