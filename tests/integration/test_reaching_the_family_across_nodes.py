"""Reaching the family, as in production (issue 21, point 6): CIVICA, the bridge builder, the children and
youth department and the jobcentre each a node process on a PostgreSQL schema of its own, all on one
broker, driven over HTTP. The family consents to its contact going to the bridge builder and the
department, and its child's CPR number to the department; the jobcentre gets a referral with no such
consent. Each receiver reads what it was given and nothing more; no node's log holds the phone number or
the CPR number; after the erasure the contact is gone at every node.

    .venv/bin/python -m pytest tests/integration/test_reaching_the_family_across_nodes.py -s
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any
from uuid import UUID

import pytest

from adapters.settings import OrganisationRole
from coordination.domain.values import Actor, Role
from ops.demo.reference_family import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, CIVICA, the_family, the_move
from ops.demo.reference_scenario import bridge_builder, consultant, daycare_allocator
from ops.devservices.pgcluster import PostgresServer
from tests.api.story import CONTACT as FAMILY_CONTACT
from tests.api.story import PHONE
from tests.integration.conftest import BrokerProcess
from tests.integration.fault_support import Deployment
from tests.integration.network_support import Integrator, as_json, serving_their_apis, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.kafka, pytest.mark.timeout(300)]

JOBCENTRE = "jobcentre-odense"
ROLES = {
    CIVICA: OrganisationRole.HOUSING_ORGANISATION,
    BRIDGE_BUILDER: OrganisationRole.BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH: OrganisationRole.MUNICIPAL_DEPARTMENT,
    JOBCENTRE: OrganisationRole.MUNICIPAL_DEPARTMENT,
}
adviser = Actor(organisation=JOBCENTRE, person="jc-raadgiver-4", role=Role.DEPARTMENT_CASEWORKER)
proposer = Actor(organisation=CIVICA, person="civica-dpo-1", role=Role.DATA_PROTECTION)
confirmer = Actor(organisation=CIVICA, person="civica-dpo-2", role=Role.DATA_PROTECTION)
CHILD_CPR = "0102224006"  # valid in form and date; a made-up child
CONTACT = {**FAMILY_CONTACT, "children_cpr": [{"member_id": "C4", "cpr": "010222-4006"}]}


@pytest.fixture(scope="module")
def deployment(
    postgres_server: PostgresServer, kafka_broker: BrokerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    with ExitStack() as stack:
        deployment = Deployment(
            postgres_server,
            kafka_broker.bootstrap_servers,
            ROLES,
            tmp_path_factory.mktemp("contact-nodes"),
            stack,
        )
        serving_their_apis(deployment, stack)
        deployment.start()
        yield deployment
        for process in deployment.processes.values():
            process.stop()


@pytest.fixture
def integrator(deployment: Deployment) -> Iterator[Integrator]:
    integrator = Integrator(deployment)
    yield integrator
    integrator.close()


def _referred(integrator: Integrator) -> tuple[UUID, UUID, UUID, UUID]:
    """The household with its contact and consents, handed to the bridge builder at the move, referred for
    daycare and to the jobcentre: (household, handoff, daycare, jobcentre)."""
    household = integrator.command(
        consultant, "/households", as_json({**the_family(), "case_reference": "CIV-2026-CONTACT"})
    )
    assert household is not None
    here = f"/households/{household}"
    integrator.command(consultant, f"{here}/contact-details", CONTACT, etag_of=here)
    for recipient, purpose in (
        (BRIDGE_BUILDER, "contact_details"),
        (CHILDREN_AND_YOUTH, "contact_details"),
        (CHILDREN_AND_YOUTH, "child_cpr"),
        (JOBCENTRE, "jobcentre"),
    ):
        consent = {"recipient": recipient, "purpose": purpose, "given_on": "2026-06-02"}
        integrator.command(consultant, f"{here}/consents", consent, etag_of=here)
    move = {"move": as_json(the_move()), "hand_off_to": BRIDGE_BUILDER}
    handoff = integrator.command(consultant, f"{here}/move", move, etag_of=here)
    daycare = integrator.command(
        consultant,
        f"{here}/referrals",
        {
            "receiver": CHILDREN_AND_YOUTH,
            "kind": "daycare_fast_track",
            "child_id": "C4",
            "needed_from": "2026-08-03",
        },
    )
    jobcentre = integrator.command(
        consultant, f"{here}/referrals", {"receiver": JOBCENTRE, "kind": "jobcentre"}
    )
    assert handoff is not None and daycare is not None and jobcentre is not None
    return household, handoff, daycare, jobcentre


def _contact(integrator: Integrator, actor: Actor, referral: UUID) -> Any:
    """The contact block of the referral as `actor` reads it at its own node, once the referral is there."""
    answer = wait_for(
        lambda: integrator.get(actor, f"/referrals/{referral}"),
        lambda answer: answer.status == 200,
        f"referral {referral} at {actor.organisation}'s node",
    )
    return answer.body.get("contact")


def _erase(integrator: Integrator, household: UUID) -> None:
    for actor, verb in ((proposer, "propose"), (confirmer, "confirm")):
        more = ["--legal-ground", "GDPR art. 17(1)(a)"] if verb == "propose" else []
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "ops.cli.main",
                "erasure",
                verb,
                str(household),
                *more,
                "--url",
                integrator.urls[CIVICA],
                "--token",
                integrator.token(actor, CIVICA),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr


def test_each_receiver_reads_what_it_was_given_under_consent_and_after_the_erasure_nothing(
    deployment: Deployment, integrator: Integrator
) -> None:
    household, handoff, daycare, jobcentre = _referred(integrator)

    at_bridge = wait_for(
        lambda: _contact(integrator, bridge_builder, handoff),
        lambda contact: contact is not None,
        "the family's contact at the bridge builder",
    )
    assert (at_bridge["adult_phone"], at_bridge["case_reference"], at_bridge["child_cpr"]) == (
        PHONE,
        "CIV-2026-CONTACT",
        [],
    )
    at_department = wait_for(
        lambda: _contact(integrator, daycare_allocator, daycare),
        lambda contact: contact is not None,
        "the family's contact at the department",
    )
    assert at_department["child_cpr"] == [{"member_id": "C4", "cpr": CHILD_CPR}]
    # The jobcentre's referral has arrived, and with it nothing to reach the family by (no consent).
    assert _contact(integrator, adviser, jobcentre) is None
    # The referrer reads the handoff at the bridge builder's node: the contact was shared with the bridge
    # builder, not shown to another party there.
    there = integrator.get(consultant, f"/referrals/{handoff}", at=BRIDGE_BUILDER)
    assert there.status == 200 and there.body["contact"] is None, there.problem()

    _erase(integrator, household)
    wait_for(
        lambda: integrator.get(confirmer, f"/erasures/{household}").body,
        lambda body: body.get("state") == "complete",
        "every member confirmed the erasure",
    )
    for actor, referral in ((bridge_builder, handoff), (daycare_allocator, daycare), (consultant, daycare)):
        assert _contact(integrator, actor, referral) is None, actor.organisation

    # Never logged: not the phone number, not the CPR number, at any node.
    logs = [path for path in deployment.logs.rglob("*.log") if path.is_file()]
    assert logs
    for path in logs:
        text = path.read_text(errors="replace")
        assert PHONE not in text and CHILD_CPR not in text and "010222-4006" not in text, path
