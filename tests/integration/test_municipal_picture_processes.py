"""The waterbed part of issue 19 as in production: CIVICA, FAB and the municipality's node, each a
separate OS process (`python -m ops.node.serve`) on a PostgreSQL schema of its own, on one broker.

Placements by CIVICA and FAB into one receiving area add up at both housing organisations and at the
municipal node; FAB's offer is warned once the sum crosses the inflow limit, where FAB's own moves alone
would not; and the municipality's coordinator reads the picture over the municipal node's HTTP API,
counts of 1-4 as "<5".

    .venv/bin/python -m pytest tests/integration/test_municipal_picture_processes.py -s
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from typing import Any
from uuid import UUID

import httpx
import pytest

from adapters.http.auth import issue_token, load_private_key, private_key_path
from adapters.settings import OrganisationRole
from coordination.applications.base import NodeApplication
from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.errors import OverrideRequired
from coordination.domain.municipal_picture import SharedPlacement
from coordination.domain.values import Actor, Place, Role
from coordination.domain.waterbed import INFLOW
from ops.demo.reference_scenario import CHILDREN_AND_YOUTH, CIVICA
from ops.devservices.pgcluster import PostgresServer
from tests.application.builders import T0, at, cmd, dwelling, register_family, the_move
from tests.integration.conftest import BrokerProcess
from tests.integration.fault_support import ROOT, Deployment, NodeProcess

pytestmark = [pytest.mark.postgres, pytest.mark.kafka, pytest.mark.timeout(240)]

FAB = "fab"
MUNICIPAL = CHILDREN_AND_YOUTH  # the municipality's own node: a municipal department's
ROLES = {
    CIVICA: OrganisationRole.HOUSING_ORGANISATION,
    FAB: OrganisationRole.HOUSING_ORGANISATION,
    MUNICIPAL: OrganisationRole.MUNICIPAL_DEPARTMENT,
}
RISING = Place(municipality="Odense", area="Rising")
LIMIT = 10  # the default policy's inflow limit (local practice): an offer making the 11th is warned


def _consultant(org: str) -> Actor:
    return Actor(organisation=org, person="rc-1", role=Role.REHOUSING_CONSULTANT)


def _housing(deployment: Deployment, org: str) -> HousingOrganisationApp:
    app = deployment.apps[org]
    assert isinstance(app, HousingOrganisationApp)
    return app


def _placed(app: HousingOrganisationApp, count: int, moved_on: date) -> None:
    for _ in range(count):
        household_id = register_family(app)
        move = the_move().model_copy(update={"place": RISING, "moved_on": moved_on})
        app.record_move(
            command_id=cmd(), household_id=household_id, move=move, at=T0, by=_consultant(app.organisation)
        )


def _kept(app: NodeApplication) -> int:
    """Placements of other organisations this node keeps (read from its store, as its guard does)."""
    topic = f"{SharedPlacement.__module__}:SharedPlacement.Recorded"
    ids: set[UUID] = set()
    position = 0
    for _ in range(1000):  # bounded: 1000 pages of 500
        page = app.recorder.select_notifications(position + 1, 500)
        ids |= {n.originator_id for n in page if n.topic == topic}
        if len(page) < 500:
            return len(ids)
        position = page[-1].id
    raise AssertionError("the log is longer than this test ever writes")


class ServingNodeProcess(NodeProcess):
    """The municipal node as `coordination serve --org ORG` runs it: with its whole API and read models
    (the fault harness's `ops.node.serve` answers only its peers' exchange-key requests)."""

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, f"{self.organisation} is running"
        self.starts += 1
        log = self.logs / f"{self.organisation}-{self.starts:02d}.log"
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ops.cli.main", "serve", "--org", self.organisation],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_started(self, max_seconds: float = 30.0) -> None:
        """Until its API answers /livez."""
        url = f"http://127.0.0.1:{self.env['COORDINATION_HTTP_PORT']}/livez"
        deadline = time.monotonic() + max_seconds
        while True:
            assert self.alive, f"{self.organisation}'s node exited; see {self.logs}"
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"{self.organisation}'s API did not answer in {max_seconds} s"
            time.sleep(0.1)


@pytest.fixture(scope="module")
def deployment(
    postgres_server: PostgresServer, kafka_broker: BrokerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    with ExitStack() as stack:
        deployment = Deployment(
            postgres_server,
            kafka_broker.bootstrap_servers,
            ROLES,
            tmp_path_factory.mktemp("municipal-nodes"),
            stack,
        )
        harness = deployment.processes[MUNICIPAL]
        serving = ServingNodeProcess(MUNICIPAL, harness.env, harness.logs)
        deployment.processes[MUNICIPAL] = serving
        stack.callback(serving.kill)
        deployment.start()
        yield deployment
        for process in deployment.processes.values():
            process.stop()


def test_placements_by_civica_and_fab_add_up_everywhere_and_the_guard_warns_fabs_offer(
    deployment: Deployment,
) -> None:
    civica, fab = _housing(deployment, CIVICA), _housing(deployment, FAB)
    municipal = deployment.apps[MUNICIPAL]
    started = time.monotonic()

    _placed(fab, 4, date(2026, 3, 10))
    household_id = register_family(fab)
    home = dwelling().model_copy(update={"place": RISING})
    vacancy_id = fab.publish_vacancy(command_id=cmd(), dwelling=home, at=T0, by=_consultant(FAB))
    assert fab.area_warnings(RISING, at=at(1)) == []  # FAB's own 4 (+1) stay under the limit of 10

    _placed(civica, 6, date(2026, 4, 20))
    deployment.wait_until(lambda: _kept(fab) == 6, "CIVICA's 6 placements kept at FAB")
    deployment.wait_until(lambda: _kept(civica) == 4, "FAB's 4 placements kept at CIVICA")
    deployment.wait_until(lambda: _kept(municipal) == 10, "all 10 placements kept at the municipal node")
    propagated = time.monotonic() - started

    with pytest.raises(OverrideRequired) as warned:
        fab.make_offer(
            command_id=cmd(), household_id=household_id, vacancy_id=vacancy_id, at=at(1), by=_consultant(FAB)
        )
    assert warned.value.rule == INFLOW
    assert f"received {LIMIT} rehoused households" in warned.value.message
    assert [w.rule for w in civica.area_warnings(RISING, at=at(1))] == [INFLOW]  # the same sum at CIVICA

    deployment.settle()
    assert (_kept(fab), _kept(civica), _kept(municipal)) == (6, 4, 10)  # each placement once, after settling
    assert deployment.parked() == {CIVICA: 0, FAB: 0, MUNICIPAL: 0}
    print(f"\n10 placements from two housing organisations kept at all three nodes in {propagated:.1f} s")


def _coordinator_get(
    deployment: Deployment, path: str, role: Role = Role.MUNICIPAL_COORDINATOR, **params: Any
) -> httpx.Response:
    env = deployment.processes[MUNICIPAL].env
    keys = deployment.logs / "keys"
    key = load_private_key(private_key_path(keys, MUNICIPAL))
    token = issue_token(key, organisation=MUNICIPAL, person="coord-1", role=role, audience=MUNICIPAL)
    url = f"http://127.0.0.1:{env['COORDINATION_HTTP_PORT']}{path}"
    return httpx.get(url, headers={"Authorization": f"Bearer {token}"}, params=params, timeout=20)


def test_the_coordinator_reads_the_picture_over_the_municipal_nodes_api_with_small_counts_suppressed(
    deployment: Deployment,
) -> None:
    deployment.settle()
    query = {"municipality": "Odense", "from": "2026-01", "to": "2026-06"}

    def rising() -> Any:
        response = _coordinator_get(deployment, "/municipal-picture", **query)
        assert response.status_code == 200, response.text
        return next((a for a in response.json()["areas"] if a["area"] == "Rising"), None)

    deployment.wait_until(lambda: (rising() or {}).get("placements") == 10, "the picture shows 10 in Rising")
    area = rising()
    assert area["by_organisation"] == {CIVICA: 6, FAB: "<5"}
    months = {m["month"]: m["placements"] for m in area["by_month"]}
    assert (months["2026-03"], months["2026-04"], months["2026-05"]) == ("<5", 6, 0)

    exported = _coordinator_get(deployment, "/municipal-picture.csv", **query)
    assert exported.status_code == 200 and "Rising,unmonitored,2026-03,<5" in exported.text
    caseworker = _coordinator_get(
        deployment, "/municipal-picture", role=Role.DEPARTMENT_CASEWORKER, municipality="Odense"
    )
    assert caseworker.status_code == 403
