"""The handoff notification as in production: CIVICA and the bridge builder each a node process (`coordination
serve --org ...`: a PostgreSQL schema each, one broker, its API on a port of its own). CIVICA's consultant
records the move handing the family to the bridge builder; the bridge builder's node, on receipt, puts it in
its people's inbox and its webhook worker delivers it, signed, to the organisation's own system (an HTTP
server in this test).

    .venv/bin/python -m pytest tests/integration/test_notifications_across_processes.py -s
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.http.auth import issue_token, load_private_key, private_key_path
from adapters.settings import OrganisationRole
from coordination.domain.values import Role
from ops.demo.reference_scenario import BRIDGE_BUILDER, CIVICA
from ops.devservices.pgcluster import PostgresServer
from ops.devservices.tansu import BrokerProcess
from tests.api.story import MOVE, family
from tests.api.webhook_receiver import Receiver, verified
from tests.integration.fault_support import Deployment
from tests.integration.test_offer_requests_across_processes import Person, ServedNode

pytestmark = [pytest.mark.postgres, pytest.mark.kafka, pytest.mark.timeout(300)]

ROLES = {CIVICA: OrganisationRole.HOUSING_ORGANISATION, BRIDGE_BUILDER: OrganisationRole.BRIDGE_BUILDER}


def _person(deployment: Deployment, organisation: str, role: Role, person: str, stack: ExitStack) -> Person:
    token = issue_token(
        load_private_key(private_key_path(deployment.logs / "keys", organisation)),
        organisation=organisation,
        person=person,
        role=role,
        audience=organisation,
    )
    node = deployment.processes[organisation]
    assert isinstance(node, ServedNode)
    return Person(stack.enter_context(httpx.Client(base_url=node.url, timeout=30)), token)


def _wait_until(condition: Callable[[], bool], what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        time.sleep(0.2)


def test_the_bridge_builders_node_process_notifies_its_people_and_its_own_system_of_the_handoff(
    postgres_server: PostgresServer, kafka_broker: BrokerProcess, tmp_path: Path
) -> None:
    receiver = Receiver()
    receiver.up()
    with ExitStack() as stack:
        stack.callback(receiver.down)
        deployment = Deployment(postgres_server, kafka_broker.bootstrap_servers, ROLES, tmp_path, stack)
        for organisation, process in list(deployment.processes.items()):
            node = ServedNode(organisation, {**process.env, "COORDINATION_WEBHOOK_IDLE_S": "0.2"}, tmp_path)
            stack.callback(node.kill)
            deployment.processes[organisation] = node
        deployment.start()
        consultant = _person(deployment, CIVICA, Role.REHOUSING_CONSULTANT, "civica-gk-07", stack)
        anna = _person(deployment, BRIDGE_BUILDER, Role.BRIDGE_BUILDER, "bb-anna", stack)
        operator = _person(deployment, BRIDGE_BUILDER, Role.OPERATOR, "it-1", stack)
        subscribed = operator.post(
            "/webhooks", {"url": f"http://127.0.0.1:{receiver.port}/hook", "types": ["dk.rehousing.*"]}
        )
        secret = operator.ok(subscribed, 201)["secret"]

        registered = consultant.post("/households", {**family(), "case_reference": "CIV-2026-0777"})
        household = consultant.ok(registered, 201)["id"]
        moved = consultant.post(
            f"/households/{household}/move",
            {"move": MOVE, "hand_off_to": BRIDGE_BUILDER},
            registered.headers["ETag"],
        )
        handoff = consultant.ok(moved)["id"]

        def inbox() -> list[dict[str, Any]]:
            answer = anna.client.get("/inbox", headers={"Authorization": f"Bearer {anna.token}"})
            return list(anna.ok(answer)["items"])

        _wait_until(lambda: bool(inbox()), "the handoff in the bridge builder's inbox")
        assert [(item["kind"], item["subject_id"]) for item in inbox()] == [("referral_received", handoff)]
        _wait_until(lambda: len(receiver.processed) == 2, "both events at the organisation's own system")
        for process in deployment.processes.values():
            process.stop()

    assert all(verified(secret, headers, body) for headers, body in receiver.requests)
    events = {event["type"]: event for event in receiver.processed.values()}
    assert events["dk.rehousing.referral.sent"]["data"]["referral_id"] == handoff
    assert events["dk.rehousing.notification.raised"]["data"]["subject_id"] == handoff
    assert "CIV-2026-0777" not in json.dumps(list(events.values()))  # no case reference leaves in a webhook
