"""Reporting household facts over HTTP: the reporter's edge lets through only what its relation to the
household entitles it to (by its copy of the household's network), and the reporter reads each fact's state
as the owner answered it — also for a report that bypassed the edge."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from coordination.domain.follow_up import FactKind, HouseholdFact
from coordination.domain.values import Actor, Role
from ops.demo.reference_scenario import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, CIVICA
from tests.api.conftest import Api, Organisations
from tests.api.story import copy_network, family, people, step

ENROLMENT = {"institution_kind": "school", "institution": "Ny Munkegård Skole", "starts_on": "2026-08-10"}
FACTS: dict[str, dict[str, Any]] = {
    "follow_up_visit_done": {"kind": "follow_up_visit_done", "visited_on": "2026-07-24"},
    "contact_person_linked": {
        "kind": "contact_person_linked",
        "link_id": "5b1b3c3e-0000-4000-8000-000000000001",
        "place": {"municipality": "Odense", "area": "Odense C"},
    },
    "contact_person_unlinked": {
        "kind": "contact_person_unlinked",
        "link_id": "5b1b3c3e-0000-4000-8000-000000000001",
    },
    "practical_matters_in_order": {"kind": "practical_matters_in_order", "note": "bills paid"},
    "no_longer_asks_for_help": {"kind": "no_longer_asks_for_help"},
    "settled": {"kind": "settled"},
    "child_enrolled (the referral's child)": {
        "kind": "child_enrolled",
        "enrolment": {"member_id": "C1", **ENROLMENT},
    },
    "child_enrolled (another child)": {
        "kind": "child_enrolled",
        "enrolment": {"member_id": "C4", **ENROLMENT},
    },
}
HOLDING = [k for k in FACTS if not k.startswith("child_enrolled")]
# What each relation may report: the open bridge-building receiver the holding facts, the school
# receiver the enrolment of the child its referral names; an organisation without a copy nothing.
ENTITLED = {
    "open bridge-building receiver": set(HOLDING),
    "school receiver": {"child_enrolled (the referral's child)"},
    "not a member": set(),
}


def _household_with_referrals(orgs: Organisations, *, to_the_bridge_builder: bool = True) -> str:
    """CIVICA's household, referred to the bridge builder (bridge building; unless not) and to the
    municipality's schools (a school change: it names the school children C1-C3, not C4)."""
    p = people(orgs)
    household, _ = step(p.consultant, "/households", family(), status=201)
    if to_the_bridge_builder:
        step(
            p.consultant,
            f"/households/{household}/referrals",
            {"receiver": BRIDGE_BUILDER, "kind": "bridge_building"},
            status=201,
        )
    step(
        p.consultant,
        f"/households/{household}/referrals",
        {"receiver": CHILDREN_AND_YOUTH, "kind": "school_change", "child_id": "C1"},
        status=201,
    )
    orgs.settle()
    return household


def _reporter(orgs: Organisations, relation: str, household: str) -> Api:
    p = people(orgs)
    if relation == "school receiver":
        copy_network(orgs, household, CHILDREN_AND_YOUTH)
        return p.school
    if relation == "open bridge-building receiver":
        copy_network(orgs, household, BRIDGE_BUILDER)
    return p.bridge_builder  # "not a member": the bridge builder, sent nothing about the household


@pytest.mark.parametrize("relation", sorted(ENTITLED))
def test_the_reporters_edge_lets_through_exactly_the_facts_its_relation_entitles_it_to(
    memory_organisations: Organisations, relation: str
) -> None:
    orgs = memory_organisations
    # The owner sends its picture of the network to every organisation a referral went to: the bridge
    # builder is outside the network only if the household was never referred to it.
    household = _household_with_referrals(orgs, to_the_bridge_builder=relation != "not a member")
    api = _reporter(orgs, relation, household)
    for name, fact in FACTS.items():
        response = api.post("/household-facts", {"household_id": household, "owner": CIVICA, "fact": fact})
        if name in ENTITLED[relation]:
            assert response.status_code == 200, f"{relation} / {name}: {response.text}"
        else:
            assert response.status_code == 403, f"{relation} / {name}: {response.text}"
            problem = response.json()
            assert response.headers["content-type"].startswith("application/problem+json")
            assert problem["type"].endswith(":not-entitled")
            if relation == "not a member":
                assert "is not in this household's network" in problem["detail"]
            elif name.startswith("child_enrolled"):
                assert "a daycare or school referral naming that child" in problem["detail"]
            else:
                assert "the receiver of an open bridge-building referral" in problem["detail"]


def test_the_reporter_reads_each_facts_state_as_the_owner_answered_it(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    household = _household_with_referrals(orgs)
    bridge = _reporter(orgs, "open bridge-building receiver", household)
    applied = bridge.ok(
        bridge.post(
            "/household-facts",
            {"household_id": household, "owner": CIVICA, "fact": FACTS["practical_matters_in_order"]},
        )
    )["id"]
    refused = bridge.ok(
        bridge.post(
            "/household-facts",
            {"household_id": household, "owner": CIVICA, "fact": FACTS["follow_up_visit_done"]},
        )
    )["id"]
    assert [f["state"] for f in bridge.ok(bridge.get("/household-facts", household_id=household))] == [
        "reported",
        "reported",
    ]
    orgs.settle()

    facts = {f["fact_id"]: f for f in bridge.ok(bridge.get("/household-facts", household_id=household))}
    assert facts[applied]["state"] == "applied"
    assert facts[refused]["state"].startswith("refused: ")
    assert "has not moved" in facts[refused]["state"]  # the household's own reason: no visit before the move


def test_a_report_that_bypassed_the_edge_is_refused_by_the_owner_and_the_reporter_reads_why(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    p = people(orgs)
    household, _ = step(p.consultant, "/households", family(), status=201)
    orgs.settle()
    desk = orgs.nodes[BRIDGE_BUILDER].app
    fact_id = desk.report_household_fact(  # type: ignore[attr-defined]
        command_id=uuid4(),
        household_id=UUID(household),
        owner=CIVICA,
        fact=HouseholdFact(kind=FactKind.NO_LONGER_ASKS_FOR_HELP),
        at=orgs.nodes[BRIDGE_BUILDER].clock(),
        by=Actor(organisation=BRIDGE_BUILDER, person="bb-anna", role=Role.BRIDGE_BUILDER),
    )
    orgs.settle()

    [fact] = p.bridge_builder.ok(p.bridge_builder.get("/household-facts", household_id=household))
    assert fact["fact_id"] == str(fact_id)
    assert fact["state"] == (
        f"refused: {BRIDGE_BUILDER} is not in this household's network: only its members may report "
        "no longer asks for help"
    )
    gaps = p.consultant.ok(p.consultant.get(f"/households/{household}"))["settlement_gaps"]
    assert "the household still asks for help" in gaps  # not applied at the owner


def test_the_owner_applies_the_enrolment_of_the_child_the_school_receivers_referral_names(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    household = _household_with_referrals(orgs)
    school = _reporter(orgs, "school receiver", household)
    body = {
        "household_id": household,
        "owner": CIVICA,
        "fact": FACTS["child_enrolled (the referral's child)"],
    }
    fact_id = school.ok(school.post("/household-facts", body))["id"]
    orgs.settle()

    [fact] = school.ok(school.get("/household-facts", household_id=household))
    assert (fact["fact_id"], fact["kind"], fact["state"]) == (fact_id, "child_enrolled", "applied")
