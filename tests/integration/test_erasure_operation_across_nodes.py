"""Erasure as an operation, as in production (issue 20, item 3): each organisation is a node process on a
PostgreSQL schema of its own, all on one broker, driven over HTTP. The reference family is referred for
daycare, handed to the bridge builder, referred on to the jobcentre and given a KVINFO mentor; then CIVICA's
data-protection role erases it with the `coordination erasure` command (one person proposes, another
confirms, through CIVICA's API), and every organisation in the household's network confirms back: the
owner's erasure resource shows `complete` with nobody left unconfirmed. Reads of the erased records at the
owner and the members then answer with the erased marker, never a 5xx.

    .venv/bin/python -m pytest tests/integration/test_erasure_operation_across_nodes.py -s
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any
from uuid import UUID

import pytest

from adapters.settings import OrganisationRole
from coordination.domain.values import ERASED, Actor, Role
from ops.demo.reference_family import (
    BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH,
    CIVICA,
    KVINFO,
    ODENSE_C,
    the_family,
    the_move,
)
from ops.demo.reference_scenario import bridge_builder, consultant, daycare_allocator, mentor_coordinator
from ops.devservices.pgcluster import PostgresServer
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
    KVINFO: OrganisationRole.CIVIL_ACTOR,
}
MEMBERS = {BRIDGE_BUILDER, CHILDREN_AND_YOUTH, JOBCENTRE, KVINFO}
adviser = Actor(organisation=JOBCENTRE, person="jc-raadgiver-4", role=Role.DEPARTMENT_CASEWORKER)
proposer = Actor(organisation=CIVICA, person="civica-dpo-1", role=Role.DATA_PROTECTION)
confirmer = Actor(organisation=CIVICA, person="civica-dpo-2", role=Role.DATA_PROTECTION)
auditor = Actor(organisation=CIVICA, person="civica-revisor-1", role=Role.AUDITOR)


@pytest.fixture(scope="module")
def deployment(
    postgres_server: PostgresServer, kafka_broker: BrokerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    with ExitStack() as stack:
        deployment = Deployment(
            postgres_server,
            kafka_broker.bootstrap_servers,
            ROLES,
            tmp_path_factory.mktemp("erasure-nodes"),
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


def _family_with_its_network(integrator: Integrator) -> tuple[UUID, UUID]:
    """The household and its daycare referral, once CIVICA's picture names every member."""
    household = integrator.command(
        consultant, "/households", as_json({**the_family(), "case_reference": "CIV-2026-ERASE"})
    )
    assert household is not None
    move = {"move": as_json(the_move()), "hand_off_to": BRIDGE_BUILDER}
    handoff = integrator.command(
        consultant, f"/households/{household}/move", move, etag_of=f"/households/{household}"
    )
    integrator.command(
        bridge_builder, f"/referrals/{handoff}/acknowledgement", etag_of=f"/referrals/{handoff}"
    )
    daycare = integrator.command(
        consultant,
        f"/households/{household}/referrals",
        {
            "receiver": CHILDREN_AND_YOUTH,
            "kind": "daycare_fast_track",
            "child_id": "C4",
            "needed_from": "2026-08-03",
        },
    )
    assert daycare is not None
    integrator.command(
        daycare_allocator, f"/referrals/{daycare}/acknowledgement", etag_of=f"/referrals/{daycare}"
    )
    wait_for(
        lambda: integrator.status(bridge_builder, household),
        lambda answer: answer.status == 200 and answer.body["holder"]["organisation"] == BRIDGE_BUILDER,
        "the bridge builder holds the family at its own node",
    )
    integrator.command(
        bridge_builder,
        "/referrals",
        {
            "receiver": JOBCENTRE,
            "kind": "jobcentre",
            "household_id": str(household),
            "details": {"needs": ["interpreter"], "place": as_json(ODENSE_C)},
            "consent": {"recipient": JOBCENTRE, "purpose": "jobcentre", "given_on": "2026-07-16"},
        },
    )
    integrator.command(
        mentor_coordinator,
        "/support-links",
        {
            "household_id": str(household),
            "household_owner": CIVICA,
            "offer": {
                "provider": KVINFO,
                "service": "Mentor for job search and Danish",
                "kind": "mentor",
                "place": as_json(ODENSE_C),
            },
        },
    )
    wait_for(
        lambda: integrator.status(consultant, household),
        lambda answer: {m["organisation"] for m in answer.body["members"]} >= MEMBERS | {CIVICA},
        "every organisation in the household's network at the owner",
    )
    for member, reader in ((JOBCENTRE, adviser), (KVINFO, mentor_coordinator)):
        wait_for(
            lambda reader=reader: integrator.status(reader, household),
            lambda answer: answer.status == 200,
            f"{member} holds its copy of the network",
        )
    return household, daycare


def _cli(integrator: Integrator, actor: Actor, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "ops.cli.main",
            "erasure",
            *arguments,
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


def test_the_erasure_proposed_and_confirmed_with_the_cli_is_complete_once_every_member_confirmed(
    deployment: Deployment, integrator: Integrator
) -> None:
    household, daycare = _family_with_its_network(integrator)

    proposed = _cli(integrator, proposer, "propose", str(household), "--legal-ground", "GDPR art. 17(1)(a)")
    assert proposed.returncode == 0, proposed.stderr
    own = _cli(integrator, proposer, "confirm", str(household))
    assert own.returncode == 1 and "en anden person" in own.stderr, own  # the problem, in Danish by default
    started = time.monotonic()
    confirmed = _cli(integrator, confirmer, "confirm", str(household))
    assert confirmed.returncode == 0, confirmed.stderr

    def erasure() -> dict[str, Any]:
        answer = integrator.get(confirmer, f"/erasures/{household}")
        assert answer.status == 200, answer.problem()
        return dict(answer.body)

    done = wait_for(erasure, lambda body: body["state"] == "complete", "every member confirmed the erasure")
    took = time.monotonic() - started
    assert set(done["confirmed"]) == MEMBERS and done["not_confirmed"] == []
    listed = _cli(integrator, confirmer, "list")
    assert listed.returncode == 0 and str(household) in listed.stdout

    log = integrator.get(auditor, f"/access-log?subject=household:{household}")
    steps = {(entry["person"], entry["operation"]) for entry in log.body["items"]}
    assert {
        (proposer.person, "propose_household_erasure"),
        (confirmer.person, "confirm_household_erasure"),
    } <= steps

    # Reads of the erased records: the erased marker, never a 5xx (E6).
    at_department = integrator.get(daycare_allocator, f"/referrals/{daycare}")
    assert at_department.status == 200, at_department.problem()
    assert ERASED in str(at_department.body)
    at_owner = integrator.get(consultant, f"/households/{household}")
    assert at_owner.status == 200 and at_owner.body["case_reference"] == ERASED
    # The household's status: gone, naming the erasure, at the owner and at every member's own node.
    readers = {CIVICA: consultant, BRIDGE_BUILDER: bridge_builder, CHILDREN_AND_YOUTH: daycare_allocator}
    readers |= {JOBCENTRE: adviser, KVINFO: mentor_coordinator}
    for organisation, reader in readers.items():
        status = integrator.status(reader, household)
        assert status.status == 410, f"{organisation}: {status.problem()}"
        assert str(status.body["type"]).endswith("household-erased"), status.body
        assert f"/erasures/{household}" in status.body["detail"], status.body
    print(f"\nerasure confirmed by every member {took:.2f} s after the second person confirmed it")
