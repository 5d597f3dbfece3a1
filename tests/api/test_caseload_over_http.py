"""The caseworker's day over HTTP (issue 21, points 1 and 2): each role finds its households and sees what
is due, and an organisation outside a household's network sees nothing of it, at any node it asks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from coordination.domain.values import Role
from ops.demo.reference_scenario import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, CIVICA, KVINFO
from tests.api.conftest import FAB, ROLES, Api, Organisations
from tests.api.story import dwelling, family, people, step

CASE_REFERENCE = "CIV-2026-7001"
OVERRIDE = {"rule": "suitable_size", "reason": "The mother chose this central dwelling near the schools"}
ANY_ROLE = {
    CIVICA: Role.REHOUSING_CONSULTANT,
    FAB: Role.REHOUSING_CONSULTANT,
    BRIDGE_BUILDER: Role.BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH: Role.DAYCARE_ALLOCATOR,
    KVINFO: Role.CIVIL_ACTOR,
}


def register(consultant: Api, *, ends_in_days: int) -> str:
    """A household whose lease ends in `ends_in_days` days from today."""
    ends = (datetime.now(UTC) + timedelta(days=ends_in_days)).date()
    body = {**family(), "case_reference": CASE_REFERENCE, "termination_date": ends.isoformat()}
    household, _ = step(consultant, "/households", body, status=201)
    return household


def kinds(api: Api, **params: Any) -> dict[str, dict[str, Any]]:
    items = api.ok(api.get("/worklist", **params))["items"]
    return {item["kind"]: item for item in items}


def test_the_consultant_finds_the_household_by_case_reference_and_sees_the_offer_expiring_and_the_lease_ending(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    consultant = people(orgs).consultant
    household = register(consultant, ends_in_days=25)
    found = consultant.ok(consultant.get("/households", case_reference=CASE_REFERENCE))["items"]
    assert [entry["household_id"] for entry in found] == [household]
    assert found[0]["responsible_person"] == "civica-gk-07"
    assert consultant.ok(consultant.get("/households", case_reference="CIV-2026-7002"))["items"] == []

    vacancy, _ = step(consultant, "/vacancies", dwelling(), status=201)
    expires = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    etag = consultant.get(f"/households/{household}").headers["ETag"]
    offer, _ = step(
        consultant,
        f"/households/{household}/offers",
        {"vacancy_id": vacancy, "expires_at": expires.isoformat(), "overrides": [OVERRIDE]},
        etag=etag,
    )
    due = kinds(consultant)
    assert due["offer_expiring_soon"]["offer_id"] == offer
    assert datetime.fromisoformat(due["offer_expiring_soon"]["due_at"]) == expires
    assert due["offer_expiring_soon"]["overdue"] is False
    ending = due["termination_without_accepted_offer"]
    assert (ending["household_id"], ending["for_organisation"]) == (household, CIVICA)
    assert ending["due_on"] == (datetime.now(UTC) + timedelta(days=25)).date().isoformat()
    # Both are the registering consultant's own; a colleague's list of their own has neither.
    assert set(kinds(consultant, mine="true")) == {
        "offer_expiring_soon",
        "termination_without_accepted_offer",
    }
    colleague = orgs.api(CIVICA, role=Role.REHOUSING_CONSULTANT, person="civica-gk-08")
    assert kinds(colleague, person="me") == {}
    assert set(kinds(colleague)) == {"offer_expiring_soon", "termination_without_accepted_offer"}
    # What is due this week: the offer, not yet the lease.
    week = (datetime.now(UTC) + timedelta(days=6)).date().isoformat()
    assert set(kinds(consultant, due_by=week)) == {"offer_expiring_soon"}
    # The caseload lists it among the leases ending within the month, and mine.
    month = {"termination_to": (datetime.now(UTC) + timedelta(days=31)).date().isoformat()}
    listed = consultant.ok(consultant.get("/households", mine="true", **month))["items"]
    assert [entry["household_id"] for entry in listed] == [household]


def test_the_bridge_builder_sees_the_acknowledgement_it_owes_with_its_due_date_at_its_own_node_and_the_owners(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    p = people(orgs)
    household = register(p.consultant, ends_in_days=200)
    referral, _ = step(
        p.consultant,
        f"/households/{household}/referrals",
        {"receiver": BRIDGE_BUILDER, "kind": "bridge_building"},
        status=201,
    )
    orgs.settle()
    for api in (p.bridge_builder, orgs.api(CIVICA, BRIDGE_BUILDER, role=Role.BRIDGE_BUILDER)):
        owed = kinds(api)["acknowledgement_owed"]
        assert (owed["referral_id"], owed["household_id"], owed["for_organisation"]) == (
            referral,
            household,
            BRIDGE_BUILDER,
        )
        assert owed["overdue"] is False
        assert owed["due_on"] >= datetime.now(UTC).date().isoformat()
        assert [e["household_id"] for e in api.ok(api.get("/households"))["items"]] == [household]
    # The consultant who sent it is owed nothing; acknowledging it takes it off the bridge builder's list.
    assert "acknowledgement_owed" not in kinds(p.consultant)
    etag = p.bridge_builder.get(f"/referrals/{referral}").headers["ETag"]
    step(p.bridge_builder, f"/referrals/{referral}/acknowledgement", etag=etag)
    assert "acknowledgement_owed" not in kinds(p.bridge_builder)


def test_an_organisation_outside_the_households_network_sees_nothing_of_it_at_any_node(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    p = people(orgs)
    household = register(p.consultant, ends_in_days=20)
    step(
        p.consultant,
        f"/households/{household}/referrals",
        {"receiver": BRIDGE_BUILDER, "kind": "bridge_building"},
        status=201,
    )
    orgs.settle()
    outsiders = [org for org in ROLES if org not in (CIVICA, BRIDGE_BUILDER)]
    assert outsiders == [FAB, CHILDREN_AND_YOUTH, KVINFO]
    for org in outsiders:
        for node in (CIVICA, org, BRIDGE_BUILDER):
            api = orgs.api(node, org, role=ANY_ROLE[org])
            caseload = api.ok(api.get("/households"))["items"]
            assert household not in {e["household_id"] for e in caseload}, (org, node)
            assert api.ok(api.get("/households", case_reference=CASE_REFERENCE))["items"] == [], (org, node)
            worklist = api.ok(api.get("/worklist"))["items"]
            assert household not in {i["household_id"] for i in worklist}, (org, node)
    # A member asking at a third organisation's node is not answered there about it either.
    elsewhere = orgs.api(KVINFO, BRIDGE_BUILDER, role=Role.BRIDGE_BUILDER)
    assert elsewhere.ok(elsewhere.get("/households"))["items"] == []


def test_the_data_protection_role_sees_the_erasure_proposed_and_no_case_work(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    household = register(people(orgs).consultant, ends_in_days=20)
    proposer = orgs.api(CIVICA, role=Role.DATA_PROTECTION, person="dpo-1")
    step(proposer, f"/erasures/{household}", {"legal_ground": "GDPR art. 17(1)(a)"})
    colleague = orgs.api(CIVICA, role=Role.DATA_PROTECTION, person="dpo-2")
    items = colleague.ok(colleague.get("/worklist"))["items"]
    assert [(i["kind"], i["household_id"], i["for_role"]) for i in items] == [
        ("erasure_proposed", household, "data_protection")
    ]
    assert "erasure_proposed" not in kinds(people(orgs).consultant)


def test_reading_the_caseload_or_the_worklist_needs_a_purpose_and_is_logged(
    memory_organisations: Organisations,
) -> None:
    consultant = people(memory_organisations).consultant
    for path in ("/households", "/worklist"):
        refused = consultant.get(path, purpose=None)
        assert refused.status_code == 400
        assert refused.json()["type"].endswith("purpose-required")


def test_a_malformed_search_is_a_problem_naming_the_parameter(memory_organisations: Organisations) -> None:
    consultant = people(memory_organisations).consultant
    for params, named in (
        ({"holder": "x" * 101}, "holder"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"phase": "asleep"}, "phase"),
        ({"termination_from": "2026-12-01", "termination_to": "2026-11-01"}, "termination_from"),
    ):
        refused = consultant.get("/households", **params)
        assert refused.status_code == 400, (params, refused.text)
        assert named in refused.json()["detail"], (params, refused.json())
    assert consultant.get("/worklist", person="someone-else").status_code == 400
