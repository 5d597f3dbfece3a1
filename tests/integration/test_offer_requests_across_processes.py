"""CIVICA offers FAB's vacancies with each organisation a node process as in production (`coordination serve
--org ...`: PostgreSQL schema each, one broker, its API on a port of its own): the offer answers 202 with
the request's Location, and the request is followed over HTTP until FAB reserves its vacancy, or refuses
because it withdrew the vacancy before CIVICA's request reached it.

    .venv/bin/python -m pytest tests/integration/test_offer_requests_across_processes.py -s
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from adapters.http.auth import issue_token, load_private_key, private_key_path
from adapters.settings import OrganisationRole
from coordination.domain.values import Role
from ops.demo.reference_scenario import CIVICA
from ops.devservices.pgcluster import PostgresServer
from ops.devservices.tansu import BrokerProcess
from tests.api.story import dwelling, family
from tests.integration.fault_support import ROOT, Deployment, NodeProcess

pytestmark = [pytest.mark.postgres, pytest.mark.kafka, pytest.mark.timeout(240)]

FAB = "fab"
ROLES = {CIVICA: OrganisationRole.HOUSING_ORGANISATION, FAB: OrganisationRole.HOUSING_ORGANISATION}
WITHDRAWN = "Vacancy {} is withdrawn and cannot be offered"


class ServedNode(NodeProcess):
    """The production command, `coordination serve --org ORG`: the node with its whole API."""

    def start(self) -> None:
        assert not self.alive, f"{self.organisation} is running"
        self.starts += 1
        with (self.logs / f"{self.organisation}-{self.starts:02d}.log").open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ops.cli.main", "serve", "--org", self.organisation],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_started(self, max_seconds: float = 60.0) -> None:
        """Until its API answers /livez."""
        deadline = time.monotonic() + max_seconds
        while True:
            assert self.alive, f"{self.organisation}'s node exited; see {self.logs}"
            try:
                if httpx.get(f"{self.url}/livez", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{self.organisation}'s API did not answer in {max_seconds} s"
            time.sleep(0.2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['COORDINATION_HTTP_PORT']}"


@dataclass
class Person:
    """A consultant calling their own organisation's node over HTTP."""

    client: httpx.Client
    token: str

    def post(self, path: str, body: Any, etag: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": str(uuid4())}
        if etag is not None:
            headers["If-Match"] = etag
        return self.client.post(path, json=body, headers=headers)

    def get(self, path: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", "X-Purpose": "rehousing case work"}
        return self.client.get(path, headers=headers)

    def ok(self, response: httpx.Response, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()


@dataclass
class Served:
    deployment: Deployment
    broker: BrokerProcess
    civica: Person
    fab: Person

    def wait_for_state(self, location: str, states: set[str], max_seconds: float = 60.0) -> dict[str, Any]:
        """The request at `location` once it is in one of `states` (polled at CIVICA's API)."""
        deadline = time.monotonic() + max_seconds
        while True:
            request = self.civica.ok(self.civica.get(location))
            if request["state"] in states:
                return dict(request)
            assert time.monotonic() < deadline, f"{location} still {request['state']} after {max_seconds} s"
            time.sleep(0.1)


def _person(deployment: Deployment, organisation: str, node: ServedNode, stack: ExitStack) -> Person:
    keys = deployment.logs / "keys"
    token = issue_token(
        load_private_key(private_key_path(keys, organisation)),
        organisation=organisation,
        person=f"{organisation}-gk-07",
        role=Role.REHOUSING_CONSULTANT,
        audience=organisation,
    )
    client = stack.enter_context(httpx.Client(base_url=node.url, timeout=30))
    return Person(client, token)


@pytest.fixture(scope="module")
def served(
    postgres_server: PostgresServer, kafka_broker: BrokerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    with ExitStack() as stack:
        # Whatever happens, the broker runs again afterwards (the refusal pauses it).
        stack.callback(lambda: os.kill(kafka_broker.process.pid, signal.SIGCONT))
        logs: Path = tmp_path_factory.mktemp("offer-request-nodes")
        deployment = Deployment(postgres_server, kafka_broker.bootstrap_servers, ROLES, logs, stack)
        for organisation, process in list(deployment.processes.items()):
            node = ServedNode(organisation, process.env, logs)
            stack.callback(node.kill)
            deployment.processes[organisation] = node
        deployment.start()
        civica, fab = (
            _person(deployment, org, deployment.processes[org], stack)  # type: ignore[arg-type]
            for org in (CIVICA, FAB)
        )
        yield Served(deployment, kafka_broker, civica, fab)
        for process in deployment.processes.values():
            process.stop()


def _fab_vacancy_mirrored_at_civica(served: Served) -> tuple[str, str]:
    """A vacancy FAB publishes over its API, once CIVICA's node mirrors it; (id, FAB's ETag)."""
    published = served.fab.post("/vacancies", dwelling(rooms=6))
    vacancy = served.fab.ok(published, 201)["id"]
    served.deployment.wait_until(
        lambda: served.civica.get(f"/vacancies/{vacancy}").status_code == 200, "CIVICA mirrors FAB's vacancy"
    )
    return vacancy, published.headers["ETag"]


def _civica_household(served: Served, case_reference: str) -> tuple[str, str]:
    registered = served.civica.post("/households", {**family(), "case_reference": case_reference})
    return served.civica.ok(registered, 201)["id"], registered.headers["ETag"]


def test_civicas_offer_of_fabs_vacancy_is_a_request_that_fabs_process_reserves(served: Served) -> None:
    vacancy, _ = _fab_vacancy_mirrored_at_civica(served)
    household, etag = _civica_household(served, "CIV-2026-0501")

    made = served.civica.post(f"/households/{household}/offers", {"vacancy_id": vacancy}, etag)
    asked = served.civica.ok(made, 202)
    location = made.headers["Location"]
    assert location == f"/offer-requests/{asked['id']}" and asked["state"] == "requested"

    reserved = served.wait_for_state(location, {"reserved", "refused"})
    assert reserved["state"] == "reserved"
    assert (reserved["vacancy_owner"], reserved["requested_by"]) == (FAB, CIVICA)
    assert [step["state"] for step in reserved["history"]] == ["requested", "reserved"]
    offers = served.civica.ok(served.civica.get(f"/households/{household}"))["offers"]
    assert [(o["offer_id"], o["status"], o["expires_at"]) for o in offers] == [
        (asked["id"], "live", reserved["expires_at"])
    ]
    assert served.fab.ok(served.fab.get(f"/vacancies/{vacancy}"))["status"] == "reserved"


def test_civicas_offer_of_a_vacancy_fab_withdrew_meanwhile_is_refused_with_fabs_reason(
    served: Served,
) -> None:
    vacancy, fab_etag = _fab_vacancy_mirrored_at_civica(served)
    household, etag = _civica_household(served, "CIV-2026-0502")

    # The broker paused: CIVICA's request and FAB's withdrawal are each stored at their node, and neither
    # node hears of the other's until it runs again; FAB then finds its vacancy withdrawn.
    os.kill(served.broker.process.pid, signal.SIGSTOP)
    try:
        made = served.civica.post(f"/households/{household}/offers", {"vacancy_id": vacancy}, etag)
        withdrawn = served.fab.post(
            f"/vacancies/{vacancy}/withdrawal", {"reason": "water damage in the kitchen"}, fab_etag
        )
        requested = served.civica.ok(served.civica.get(made.headers["Location"]))
    finally:
        os.kill(served.broker.process.pid, signal.SIGCONT)
    asked = served.civica.ok(made, 202)
    served.fab.ok(withdrawn)
    assert requested["state"] == "requested"

    refused = served.wait_for_state(made.headers["Location"], {"reserved", "refused"})
    assert refused["state"] == "refused"
    assert refused["reason"] == WITHDRAWN.format(vacancy)
    assert [step["state"] for step in refused["history"]] == ["requested", "refused"]
    shown = served.civica.ok(served.civica.get(f"/households/{household}"))
    assert [(o["offer_id"], o["status"], o["reason"]) for o in shown["offers"]] == [
        (asked["id"], "refused", WITHDRAWN.format(vacancy))
    ]
    assert shown["live_offer"] is None
    served.deployment.settle()
    assert sum(served.deployment.parked().values()) == 0
