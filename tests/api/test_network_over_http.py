"""The household's network over HTTP: reads and writes by relationship, not only by role (OWASP API1).

After the reference family's story, the bridge builder (holder), the department (its daycare referral)
and KVINFO (its mentor link) are in the household's network; FAB is not. Each member reads the status at
its own node, from its copy, and it is the owner's answer; an organisation outside the network is refused
with the reason, at the owner's node and at its own, and may not refer the household on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.network import Item, ItemKind
from coordination.domain.values import Actor, Role
from ops.demo.reference_scenario import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, CIVICA, KVINFO
from tests.api.conftest import FAB, Organisations
from tests.api.story import ODENSE_C, people, play_over_http

NETWORK_FIELDS = ("holder", "open_referrals", "open_support_links", "members", "owner", "network_version")


def _network_part(status: dict[str, Any]) -> dict[str, Any]:
    """The answer without the open items' ages (each node's clock reads its own moment)."""
    part = {name: status[name] for name in NETWORK_FIELDS} | {"follow_up_due": status["follow_up_due"]}
    part["open_referrals"] = [{k: v for k, v in r.items() if k != "age"} for r in part["open_referrals"]]
    return part


def test_every_member_reads_the_owners_status_of_the_household_at_its_own_node_and_outsiders_are_refused(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    ids = play_over_http(orgs)
    path = f"/households/{ids.household}/status"
    owners = orgs.api(CIVICA, role=Role.REHOUSING_CONSULTANT, person="gk-1")
    at_the_owner = owners.ok(owners.get(path))
    assert at_the_owner["holder"]["organisation"] == BRIDGE_BUILDER
    assert {m["organisation"] for m in at_the_owner["members"]} == {
        CIVICA,
        BRIDGE_BUILDER,
        CHILDREN_AND_YOUTH,
        KVINFO,
    }

    for org, role in (
        (BRIDGE_BUILDER, Role.BRIDGE_BUILDER),
        (CHILDREN_AND_YOUTH, Role.DAYCARE_ALLOCATOR),
        (KVINFO, Role.CIVIL_ACTOR),
    ):
        at_its_node = orgs.api(org, role=role)
        assert _network_part(at_its_node.ok(at_its_node.get(path))) == _network_part(at_the_owner), org
        # ... and at the owner's node, with its own token for it.
        there = orgs.api(CIVICA, org, role=role)
        assert _network_part(there.ok(there.get(path))) == _network_part(at_the_owner), org

    # FAB is in no relation to the household: refused at the owner's node and at its own, saying why.
    for audience in (CIVICA, FAB):
        outsider = orgs.api(audience, FAB, role=Role.COORDINATOR)
        refused = outsider.get(path)
        assert refused.status_code == 403, audience
    outsider = orgs.api(CIVICA, FAB, role=Role.COORDINATOR)
    assert f"fab is not in the network of household {ids.household}" in outsider.get(path).json()["detail"]
    # A member reads at its own node or the owner's, not at a third member's.
    elsewhere = orgs.api(BRIDGE_BUILDER, KVINFO, role=Role.CIVIL_ACTOR)
    assert elsewhere.get(path).status_code == 403


def test_an_organisation_outside_the_households_network_may_not_refer_it_on(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    ids = play_over_http(orgs)
    body = {
        "receiver": CHILDREN_AND_YOUTH,
        "kind": "jobcentre",
        "household_id": str(ids.household),
        "details": {"household_size": 5},
        "legal_basis": "Serviceloven § 11",
    }
    # FAB's coordinator, at FAB's node, which holds no copy of the household's network.
    fab = orgs.api(FAB, role=Role.COORDINATOR)
    refused = fab.post("/referrals", body)
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        f"fab is not in the network of household {ids.household} (its node has no copy)"
    )
    # The bridge builder, a member, refers it; a household it has never worked with it may not.
    bridge = people(orgs).bridge_builder
    assert bridge.post("/referrals", body).status_code == 201
    assert bridge.post("/referrals", {**body, "household_id": str(uuid4())}).status_code == 403


def test_a_report_the_owner_refused_shows_with_its_reason_in_the_reporters_api(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    ids = play_over_http(orgs)
    civica: HousingOrganisationApp = orgs.clients[CIVICA].app.state.node.app
    # A report as FAB's node would send it had it referred the household to the jobcentre (FAB's own edge
    # refuses that; a node of another make might not): the owner applies it as it arrives.
    forged = Item(
        item_id=uuid4(),
        kind=ItemKind.REFERRAL,
        subtype="jobcentre",
        from_org=FAB,
        to_org=CHILDREN_AND_YOUTH,
        state="sent",
        open=True,
        opened_at=datetime(2026, 9, 1, tzinfo=UTC),
        last_step_at=datetime(2026, 9, 1, tzinfo=UTC),
    )
    civica.apply_network_report(
        command_id=uuid4(),
        household_id=ids.household,
        item=forged,
        at=datetime(2026, 9, 1, tzinfo=UTC),
        by=Actor(organisation=FAB, person="fab-9", role=Role.COORDINATOR),
    )
    orgs.settle()

    path = f"/households/{ids.household}/refused-reports"
    fab = orgs.api(FAB, role=Role.COORDINATOR)
    (refused,) = fab.ok(fab.get(path, purpose=None))["items"]
    assert (refused["reporter"], refused["fact_kind"]) == (FAB, "referral")
    assert refused["reason"] == f"fab is not in the network of household {ids.household}"
    bridge = people(orgs).bridge_builder
    assert bridge.ok(bridge.get(path, purpose=None))["items"] == []


def test_a_support_link_is_proposed_only_to_a_households_owner_the_node_knows_or_names(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    ids = play_over_http(orgs)
    offer = {"provider": KVINFO, "service": "Mentor", "kind": "mentor", "place": ODENSE_C}
    stranger = uuid4()
    mentor = orgs.api(KVINFO, role=Role.CIVIL_ACTOR)
    refused = mentor.post("/support-links", {"household_id": str(stranger), "offer": offer})
    assert refused.status_code == 403
    assert "name the household's owner" in refused.json()["detail"]
    # The bridge builder's copy says whose the family is: another owner named is refused.
    bridge = people(orgs).bridge_builder
    wrong = bridge.post(
        "/support-links", {"household_id": str(ids.household), "offer": offer, "household_owner": FAB}
    )
    assert (
        wrong.status_code == 403
        and wrong.json()["detail"] == f"Household {ids.household} is civica's, not fab's"
    )
    assert (
        bridge.post("/support-links", {"household_id": str(ids.household), "offer": offer}).status_code == 201
    )
