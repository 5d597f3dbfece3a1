"""The household's network across organisations, as in production (issue 19, "What must hold", first point).

Each organisation is a node process (`python -m ops.node.serve`) on a PostgreSQL schema of its own, all on one
broker: CIVICA (the owner), the bridge builder, the children and youth department (daycare), the jobcentre,
KVINFO, and FAB, which has nothing to do with the family. The test drives them only over HTTP, with tokens
signed by each organisation's key, as an outside integrator would. The reference family is registered,
referred for daycare, moves and is handed to the bridge builder, who acknowledges it and refers the family
on to the jobcentre; KVINFO links a mentor; the holder reports what it learns; the household settles.

After each step, within a bounded wait, the status at every member's node (and the member's read at the
owner's node) equals the owner's: the same holder, open items, due dates and network version. FAB's reads
are refused at its own node and at the owner's, and so are its writes; a fact from a member not entitled to
it is refused and the refusal is reported back; after settlement no node shows an open item. Run with -s
to see each step's propagation time:

    .venv/bin/python -m pytest tests/integration/test_household_network_across_nodes.py -s
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from adapters.settings import OrganisationRole
from coordination.domain.values import Actor, Role
from ops.demo.reference_family import (
    BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH,
    CIVICA,
    KVINFO,
    ODENSE_C,
    the_dwelling,
    the_family,
    the_move,
)
from ops.demo.reference_scenario import bridge_builder, consultant, daycare_allocator, mentor_coordinator
from ops.devservices.pgcluster import PostgresServer
from tests.integration.conftest import BrokerProcess
from tests.integration.fault_support import Deployment
from tests.integration.network_support import (
    Expected,
    Integrator,
    Network,
    as_json,
    serving_their_apis,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.kafka, pytest.mark.timeout(300)]

JOBCENTRE = "jobcentre-odense"
FAB = "fab"
ROLES = {
    CIVICA: OrganisationRole.HOUSING_ORGANISATION,
    BRIDGE_BUILDER: OrganisationRole.BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH: OrganisationRole.MUNICIPAL_DEPARTMENT,
    JOBCENTRE: OrganisationRole.MUNICIPAL_DEPARTMENT,
    KVINFO: OrganisationRole.CIVIL_ACTOR,
    FAB: OrganisationRole.HOUSING_ORGANISATION,
}
adviser = Actor(organisation=JOBCENTRE, person="jc-raadgiver-4", role=Role.DEPARTMENT_CASEWORKER)
fab_consultant = Actor(organisation=FAB, person="fab-gk-02", role=Role.REHOUSING_CONSULTANT)
fab_coordinator = Actor(organisation=FAB, person="fab-koordinator-1", role=Role.COORDINATOR)
READERS = {
    CIVICA: consultant,
    BRIDGE_BUILDER: bridge_builder,
    CHILDREN_AND_YOUTH: daycare_allocator,
    JOBCENTRE: adviser,
    KVINFO: mentor_coordinator,
    FAB: fab_consultant,
}
SIZE_OVERRIDE = "The mother chose this central dwelling near the schools over a larger one in Bolbro"
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def deployment(
    postgres_server: PostgresServer, kafka_broker: BrokerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    started = time.monotonic()
    with ExitStack() as stack:
        deployment = Deployment(
            postgres_server,
            kafka_broker.bootstrap_servers,
            ROLES,
            tmp_path_factory.mktemp("network-nodes"),
            stack,
        )
        serving_their_apis(deployment, stack)
        deployment.start()
        TIMINGS["six node processes started"] = time.monotonic() - started
        yield deployment
        for process in deployment.processes.values():
            process.stop()


@pytest.fixture
def integrator(deployment: Deployment) -> Iterator[Integrator]:
    integrator = Integrator(deployment)
    yield integrator
    integrator.close()


def _register(integrator: Integrator, case_reference: str) -> UUID:
    family = as_json({**the_family(), "case_reference": case_reference})
    household = integrator.command(consultant, "/households", family)
    assert household is not None
    return household


def _fact(household: UUID, kind: str, **fields: Any) -> dict[str, Any]:
    return {"household_id": str(household), "owner": CIVICA, "fact": {"kind": kind, **as_json(fields)}}


def _refused_fact(integrator: Integrator, reporter: Actor, body: dict[str, Any]) -> str:
    """A fact the reporter may not report: refused at its own node's edge from its copy of the network, or
    accepted there, refused by the owner and reported back (then shown as the fact's state). The refusal
    as the reporter sees it."""
    answer = integrator.call(reporter, "POST", "/household-facts", body=body)
    if answer.status == 403:
        assert answer.headers["content-type"].startswith("application/problem+json"), answer.headers
        return answer.problem()
    assert answer.status == 200, answer.problem()
    state = wait_for(
        lambda: _fact_state(integrator, reporter, UUID(body["household_id"]), UUID(answer.body["id"])),
        lambda state: state not in (None, "reported"),
        f"the owner's answer to {reporter.organisation}'s {body['fact']['kind']} reaching it",
    )
    assert state is not None and state.startswith("refused: "), state
    return state


def _fact_state(integrator: Integrator, reporter: Actor, household: UUID, fact: UUID) -> str | None:
    """The state of a fact the reporter reported, as its own node shows it (`reported`, `applied` or
    `refused: <reason>`)."""
    answer = integrator.get(reporter, f"/household-facts?household_id={household}")
    assert answer.status == 200, answer.problem()
    return next((f["state"] for f in answer.body if f["fact_id"] == str(fact)), None)


def test_a_non_member_can_neither_read_the_household_nor_write_about_it_and_is_told_so(
    deployment: Deployment, integrator: Integrator
) -> None:
    """FAB was sent nothing about the family; the jobcentre nothing yet. FAB's reads are refused at its own
    node and at CIVICA's, and so are its writes (a referral about the family, a fact about it, a step on
    it at the owner's node); the jobcentre's fact (the issue's "anyone may write") is refused too, each
    with a problem the caller reads, and CIVICA's status of the family is as if none of it was tried."""
    started = time.monotonic()
    network = Network(integrator, consultant, READERS)
    network.household = household = _register(integrator, "CIV-2026-NONMEMBER")
    network.agree("registered", Expected(holder=CIVICA, open_items=set(), members={CIVICA}))

    refusals = network.refused_to(fab_consultant)
    referral = {
        "receiver": JOBCENTRE,
        "kind": "jobcentre",
        "household_id": str(household),
        "details": {"needs": ["interpreter"]},
        "consent": {"recipient": JOBCENTRE, "purpose": "jobcentre", "given_on": "2026-06-02"},
    }
    sent = integrator.call(fab_coordinator, "POST", "/referrals", body=referral)
    assert sent.status == 403, f"FAB referred CIVICA's household: {sent.problem()}"
    fact = _fact(household, "no_longer_asks_for_help")
    reported = integrator.call(fab_consultant, "POST", "/household-facts", body=fact)
    assert reported.status == 403, f"FAB reported a fact on CIVICA's household: {reported.problem()}"
    step = integrator.call(
        fab_consultant,
        "POST",
        f"/households/{household}/practical-matters-in-order",
        at=CIVICA,
        body={"note": "Not FAB's to say"},
        if_match="*",
    )
    assert step.status == 403, f"FAB recorded a step at CIVICA's node: {step.problem()}"
    refusals += [sent.problem(), reported.problem(), step.problem()]
    refusals.append(_refused_fact(integrator, adviser, fact))

    status = network.agree(
        "non-members' writes refused",
        Expected(
            holder=CIVICA,
            open_items=set(),
            members={CIVICA},
            gaps_present=("still asks for help", "practical and economic matters"),
        ),
    )
    assert status["network_version"] == network.checkpoints[0].network_version
    TIMINGS["non-member test"] = time.monotonic() - started
    print("\nrefusals as their callers saw them:\n  " + "\n  ".join(refusals))


def test_after_each_step_every_member_node_shows_the_owners_status_until_the_family_settles(
    deployment: Deployment, integrator: Integrator
) -> None:
    """The reference family's story, each step taken at its organisation's own node; after each, the owner's
    status says what the step did and every member reads the same status at its node and at CIVICA's.
    FAB's reads are refused at every step; the jobcentre's follow-up visit and the bridge builder's early
    settlement are refused and their refusals reach them; settled, nothing is open at any node."""
    started = time.monotonic()
    network = Network(integrator, consultant, READERS)

    def agree(step: str, expected: Expected) -> dict[str, Any]:
        status = network.agree(step, expected)
        network.refused_to(fab_consultant)  # and FAB, never a member, reads nothing at any step
        return status

    def report(actor: Actor, kind: str, **fields: Any) -> None:
        integrator.command(actor, "/household-facts", _fact(household, kind, **fields))

    network.household = household = _register(integrator, "CIV-2026-0412")
    agree("registered", Expected(holder=CIVICA, open_items=set(), members={CIVICA}))

    # The five rooms in central Odense, one short of "members + 1": offered with the consultant's reason.
    vacancy = integrator.command(consultant, "/vacancies", as_json(the_dwelling()))
    offer = integrator.command(
        consultant,
        f"/households/{household}/offers",
        {"vacancy_id": str(vacancy), "overrides": [{"rule": "suitable_size", "reason": SIZE_OVERRIDE}]},
        etag_of=f"/households/{household}",
    )
    integrator.command(
        consultant, f"/households/{household}/offers/{offer}/acceptance", etag_of=f"/households/{household}"
    )
    agree("offer accepted", Expected(holder=CIVICA, open_items=set(), members={CIVICA}))

    # The 4-year-old on the daycare list; the department acknowledges, accepts and answers.
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
    in_network = {CIVICA, CHILDREN_AND_YOUTH}
    daycare_item = ("daycare_fast_track", CIVICA, CHILDREN_AND_YOUTH)
    agree("referred for daycare", Expected(CIVICA, {(*daycare_item, "sent")}, in_network))
    integrator.command(
        daycare_allocator, f"/referrals/{daycare}/acknowledgement", etag_of=f"/referrals/{daycare}"
    )
    agree("daycare acknowledged", Expected(CIVICA, {(*daycare_item, "acknowledged")}, in_network))
    integrator.command(
        daycare_allocator,
        f"/referrals/{daycare}/acceptance",
        {"assignee": "pladsanvisning-3"},
        etag_of=f"/referrals/{daycare}",
    )
    integrator.command(
        daycare_allocator,
        f"/referrals/{daycare}/completion",
        {"outcome": "Kindergarten place offered from 2026-08-03 near the new address"},
        etag_of=f"/referrals/{daycare}",
    )
    agree("daycare answered", Expected(CIVICA, set(), in_network))

    # The move, and the handoff to the bridge builder, pending until it acknowledges.
    move = {"move": as_json(the_move()), "hand_off_to": BRIDGE_BUILDER}
    handoff = integrator.command(
        consultant, f"/households/{household}/move", move, etag_of=f"/households/{household}"
    )
    in_network.add(BRIDGE_BUILDER)
    moved = agree(
        "moved, handed to the bridge builder",
        Expected(
            CIVICA,
            {("handoff", CIVICA, BRIDGE_BUILDER, "sent")},
            in_network,
            pending_handoff_to=BRIDGE_BUILDER,
        ),
    )
    assert moved["follow_up_due"] == "2026-07-29" and moved["follow_up_done"] is False, moved
    integrator.command(
        bridge_builder, f"/referrals/{handoff}/acknowledgement", etag_of=f"/referrals/{handoff}"
    )
    # The acknowledgement completes the handoff: the bridge builder holds the family, nothing is pending.
    agree("handoff acknowledged", Expected(BRIDGE_BUILDER, set(), in_network))

    # The bridge builder refers the family on to the jobcentre, which acknowledges.
    jobcentre = integrator.command(
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
    in_network.add(JOBCENTRE)
    job_item = ("jobcentre", BRIDGE_BUILDER, JOBCENTRE)
    agree("referred on to the jobcentre", Expected(BRIDGE_BUILDER, {(*job_item, "sent")}, in_network))
    integrator.command(adviser, f"/referrals/{jobcentre}/acknowledgement", etag_of=f"/referrals/{jobcentre}")
    agree("jobcentre acknowledged", Expected(BRIDGE_BUILDER, {(*job_item, "acknowledged")}, in_network))

    # The jobcentre is a member, but the follow-up visit is the holder's to report: refused, and told so.
    refusal = _refused_fact(
        integrator, adviser, _fact(household, "follow_up_visit_done", visited_on=date(2026, 7, 24))
    )
    agree(
        "jobcentre's follow-up visit refused",
        Expected(BRIDGE_BUILDER, {(*job_item, "acknowledged")}, in_network, follow_up_done=False),
    )
    integrator.command(
        adviser,
        f"/referrals/{jobcentre}/acceptance",
        {"assignee": "jc-raadgiver-4"},
        etag_of=f"/referrals/{jobcentre}",
    )
    integrator.command(
        adviser,
        f"/referrals/{jobcentre}/completion",
        {"outcome": "Job search course with an interpreter from August"},
        etag_of=f"/referrals/{jobcentre}",
    )
    agree("jobcentre completed", Expected(BRIDGE_BUILDER, set(), in_network))

    # KVINFO links a mentor: proposed (open), then active (ongoing support, nothing pending).
    mentor = integrator.command(
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
    in_network.add(KVINFO)
    mentor_item = ("mentor", KVINFO, KVINFO, "proposed")
    agree(
        "mentor proposed", Expected(BRIDGE_BUILDER, {mentor_item}, in_network, gaps_present=("open items",))
    )
    # The holder may report the settlement, but not while something is open: its own node lets the report
    # through, CIVICA refuses it with the gaps (the open mentor link among them) and the answer comes back.
    early = _refused_fact(integrator, bridge_builder, _fact(household, "settled"))
    assert early.startswith("refused: ") and "open items" in early, early
    agree("early settlement refused", Expected(BRIDGE_BUILDER, {mentor_item}, in_network, settled=False))
    integrator.command(
        mentor_coordinator, f"/support-links/{mentor}/activation", etag_of=f"/support-links/{mentor}"
    )
    agree("mentor activated", Expected(BRIDGE_BUILDER, set(), in_network))

    # What the holder learns: the follow-up visit, a new contact person (its activated link is enough),
    # the children's new schools and daycare, matters in order, no longer asking for help.
    report(bridge_builder, "follow_up_visit_done", visited_on=date(2026, 7, 24))
    agree("follow-up visit", Expected(BRIDGE_BUILDER, set(), in_network, follow_up_done=True))
    contact = integrator.command(
        bridge_builder,
        "/support-links",
        {
            "household_id": str(household),
            "household_owner": CIVICA,
            "offer": {
                "provider": BRIDGE_BUILDER,
                "service": "Neighbour as new contact person",
                "kind": "contact_person",
                "place": as_json(ODENSE_C),
            },
            "contact_person": True,
        },
    )
    integrator.command(
        bridge_builder, f"/support-links/{contact}/activation", etag_of=f"/support-links/{contact}"
    )
    agree(
        "contact person linked",
        Expected(BRIDGE_BUILDER, set(), in_network, gaps_absent=("contact person",)),
    )
    report(
        daycare_allocator,
        "child_enrolled",
        enrolment={
            "member_id": "C4",
            "institution_kind": "daycare",
            "institution": "Børnehuset Banegården",
            "starts_on": "2026-08-03",
        },
    )
    for child in ("C1", "C2", "C3"):
        report(
            bridge_builder,
            "child_enrolled",
            enrolment={
                "member_id": child,
                "institution_kind": "school",
                "institution": "Odense C district school",
                "starts_on": "2026-08-10",
            },
        )
    agree("children enrolled", Expected(BRIDGE_BUILDER, set(), in_network, gaps_absent=("not enrolled",)))
    report(bridge_builder, "practical_matters_in_order", note="Deposit loan and housing benefit granted")
    report(bridge_builder, "no_longer_asks_for_help")
    before = agree("matters in order, no longer asks for help", Expected(BRIDGE_BUILDER, set(), in_network))
    assert before["settlement_gaps"] == [], before["settlement_gaps"]

    report(bridge_builder, "settled")
    settled = agree("settled", Expected(BRIDGE_BUILDER, set(), in_network, settled=True))
    # No node shows an open item for the family: not the owner, not any member, at its node or the owner's.
    assert (
        settled["open_referrals"] == []
        and settled["open_support_links"] == []
        and settled["pending_handoff"] is None
    )

    TIMINGS["story test"] = time.monotonic() - started
    print(f"\nstep propagation (owner and every member agree):\n{network.report()}")
    print(f"the jobcentre's follow-up visit, as the jobcentre saw it: {refusal}")
    print(f"the bridge builder's early settlement, as its node shows it: {early}")
    print(f"{integrator.calls} HTTP calls; " + ", ".join(f"{k} {v:.1f} s" for k, v in TIMINGS.items()))
