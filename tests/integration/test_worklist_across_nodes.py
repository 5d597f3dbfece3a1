"""The worklist and the caseload across organisations, as in production (issue 21, points 1 and 2).

The owner (CIVICA) and the bridge builder each run as a node process (`python -m ops.node.serve`) on a
PostgreSQL schema of its own, on one broker, driven only over HTTP with tokens signed by each
organisation's key. CIVICA refers a household to the bridge builder: the bridge builder's worklist, at its
own node, shows the acknowledgement it owes for that referral with its due date, and its caseload the
household (from its copy of the network); once it acknowledges, the item leaves its list.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from typing import Any
from uuid import UUID

import pytest

from adapters.settings import OrganisationRole
from ops.demo.reference_family import BRIDGE_BUILDER, CIVICA, the_family
from ops.demo.reference_scenario import bridge_builder, consultant
from ops.devservices.pgcluster import PostgresServer
from tests.integration.conftest import BrokerProcess
from tests.integration.fault_support import Deployment
from tests.integration.network_support import Integrator, as_json, serving_their_apis, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.kafka, pytest.mark.timeout(300)]

ROLES = {CIVICA: OrganisationRole.HOUSING_ORGANISATION, BRIDGE_BUILDER: OrganisationRole.BRIDGE_BUILDER}
CASE_REFERENCE = "CIV-2026-WORKLIST"


@pytest.fixture(scope="module")
def integrator(
    postgres_server: PostgresServer, kafka_broker: BrokerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Integrator]:
    with ExitStack() as stack:
        deployment = Deployment(
            postgres_server,
            kafka_broker.bootstrap_servers,
            ROLES,
            tmp_path_factory.mktemp("worklist-nodes"),
            stack,
        )
        serving_their_apis(deployment, stack)
        deployment.start()
        integrator = Integrator(deployment)
        yield integrator
        integrator.close()
        for process in deployment.processes.values():
            process.stop()


def _items(integrator: Integrator, path: str) -> list[dict[str, Any]]:
    answer = integrator.get(bridge_builder, path)
    assert answer.status == 200, answer.problem()
    return list(answer.body["items"])


def test_the_bridge_builders_worklist_at_its_own_node_shows_the_acknowledgement_owed_for_a_referral_sent_to_it(
    integrator: Integrator,
) -> None:
    started = time.monotonic()
    household = integrator.command(
        consultant, "/households", as_json({**the_family(), "case_reference": CASE_REFERENCE})
    )
    assert household is not None
    found = integrator.get(consultant, f"/households?case_reference={CASE_REFERENCE}")
    assert [e["household_id"] for e in found.body["items"]] == [str(household)], found.body
    referral = integrator.command(
        consultant,
        f"/households/{household}/referrals",
        {"receiver": BRIDGE_BUILDER, "kind": "bridge_building"},
    )
    assert referral is not None

    def owed(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [i for i in items if i["kind"] == "acknowledgement_owed" and i["referral_id"] == str(referral)]

    items = wait_for(
        lambda: _items(integrator, "/worklist"),
        lambda items: bool(owed(items)),
        "the acknowledgement owed on the bridge builder's worklist",
    )
    [item] = owed(items)
    assert (item["household_id"], item["for_organisation"], item["overdue"]) == (
        str(household),
        BRIDGE_BUILDER,
        False,
    )
    sent = integrator.get(bridge_builder, f"/referrals/{referral}")
    due_at, acknowledge_by = (
        datetime.fromisoformat(t) for t in (item["due_at"], sent.body["acknowledge_by"])
    )
    assert due_at == acknowledge_by, (item, sent.body)
    arrived = time.monotonic() - started
    # Its caseload lists the household once the owner's picture of the network has reached it.
    wait_for(
        lambda: _items(integrator, "/households"),
        lambda entries: [e["household_id"] for e in entries] == [str(household)],
        "the household in the bridge builder's caseload",
    )

    integrator.command(
        bridge_builder, f"/referrals/{referral}/acknowledgement", etag_of=f"/referrals/{referral}"
    )
    wait_for(
        lambda: _items(integrator, "/worklist"),
        lambda items: not owed(items),
        "the acknowledgement off the bridge builder's worklist",
    )
    print(f"\nreferral on the receiver's worklist {arrived:.2f} s after registration began")
    assert UUID(item["referral_id"]) == referral
