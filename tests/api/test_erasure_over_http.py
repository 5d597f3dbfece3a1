"""Erasure as an operation over HTTP (issue 20, item 3 and E6): the owner's data-protection role proposes
and a second person confirms; everyone else is refused (by role and by relationship); both people are in
the access log; every member confirms back and the owner shows the erasure complete. Reads of the erased
household's records then answer with the erased marker at the owner and at every member, never a 5xx.
"""

from __future__ import annotations

from typing import Any

import pytest

from coordination.domain.values import ERASED, Role
from ops.demo.reference_scenario import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, CIVICA, KVINFO
from tests.api.conftest import FAB, Organisations
from tests.api.story import StoryIds, play_over_http

GROUND = {"legal_ground": "GDPR art. 17(1)(a): the household asked"}


def _dpo(orgs: Organisations, person: str) -> Any:
    return orgs.api(CIVICA, role=Role.DATA_PROTECTION, person=person)


def _erased(orgs: Organisations) -> StoryIds:
    ids = play_over_http(orgs)
    first, second = _dpo(orgs, "dpo-1"), _dpo(orgs, "dpo-2")
    first.ok(first.post(f"/erasures/{ids.household}", GROUND))
    second.ok(second.post(f"/erasures/{ids.household}/confirmation"))
    orgs.settle()
    return ids


def test_two_people_of_the_owners_data_protection_role_erase_and_every_member_confirms(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    ids = play_over_http(orgs)
    first, second = _dpo(orgs, "dpo-1"), _dpo(orgs, "dpo-2")
    first.ok(first.post(f"/erasures/{ids.household}", GROUND))
    (listed,) = first.ok(first.get("/erasures"))
    assert (listed["state"], listed["proposed_by"]["person"]) == ("proposed", "dpo-1")

    refused = first.post(f"/erasures/{ids.household}/confirmation")
    assert refused.status_code == 403, refused.text
    assert "another person confirms it" in refused.json()["detail"]

    second.ok(second.post(f"/erasures/{ids.household}/confirmation"))
    erasing = second.ok(second.get(f"/erasures/{ids.household}"))
    assert erasing["state"] == "erasing"
    assert set(erasing["not_confirmed"]) == {BRIDGE_BUILDER, CHILDREN_AND_YOUTH, KVINFO}

    orgs.settle()

    done = second.ok(second.get(f"/erasures/{ids.household}"))
    assert (done["state"], done["not_confirmed"]) == ("complete", [])
    assert set(done["confirmed"]) == {BRIDGE_BUILDER, CHILDREN_AND_YOUTH, KVINFO}
    auditor = orgs.api(CIVICA, role=Role.AUDITOR, person="audit-1")
    log = auditor.ok(auditor.get("/access-log", purpose=None, subject=f"household:{ids.household}"))["items"]
    steps = {(entry["person"], entry["operation"]) for entry in log}
    assert {("dpo-1", "propose_household_erasure"), ("dpo-2", "confirm_household_erasure")} <= steps


@pytest.mark.parametrize(
    ("org", "role"),
    [
        (CIVICA, Role.REHOUSING_CONSULTANT),
        (CIVICA, Role.COORDINATOR),
        (CIVICA, Role.AUDITOR),
        (CIVICA, Role.OPERATOR),
        (FAB, Role.DATA_PROTECTION),  # another housing organisation's data-protection role
        (BRIDGE_BUILDER, Role.DATA_PROTECTION),  # a member of the household's network
        (CHILDREN_AND_YOUTH, Role.DATA_PROTECTION),
        (KVINFO, Role.DATA_PROTECTION),
    ],
)
def test_nobody_but_the_owners_data_protection_role_proposes_confirms_or_reads_erasures(
    memory_organisations: Organisations, org: str, role: Role
) -> None:
    orgs = memory_organisations
    ids = play_over_http(orgs)
    caller = orgs.api(CIVICA, org, role=role, person="x-1")
    assert caller.post(f"/erasures/{ids.household}", GROUND).status_code == 403
    _dpo(orgs, "dpo-1").ok(_dpo(orgs, "dpo-1").post(f"/erasures/{ids.household}", GROUND))
    assert caller.post(f"/erasures/{ids.household}/confirmation").status_code == 403
    assert caller.get("/erasures").status_code == 403
    assert caller.get(f"/erasures/{ids.household}").status_code == 403
    # ... nor at its own node, for a household it does not own.
    if org != CIVICA:
        own = orgs.api(org, role=role, person="x-1")
        assert own.post(f"/erasures/{ids.household}", GROUND).status_code in (403, 404)


def _reads(ids: StoryIds) -> dict[str, list[str]]:
    """Every read route about the household, at the node that answers it."""
    household = ids.household
    links = [f"/support-links/{link}" for link in ids.support_links]
    return {
        CIVICA: [
            f"/households/{household}",
            f"/households/{household}/timeline",
            f"/households/{household}/status",
            f"/households/{household}/suitable-vacancies",
            f"/referrals/{ids.bridge_referral}",
            f"/referrals/{ids.daycare_referral}",
            f"/referrals/{ids.handoff}",
            f"/vacancies/{ids.vacancy}",
            "/referrals",
            "/daycare-queue",
        ],
        BRIDGE_BUILDER: [
            f"/households/{household}/status",
            f"/households/{household}/refused-reports",
            f"/household-facts?household_id={household}",
            f"/referrals/{ids.bridge_referral}",
            f"/referrals/{ids.handoff}",
            "/referrals",
            *links,
        ],
        CHILDREN_AND_YOUTH: [
            f"/households/{household}/status",
            f"/referrals/{ids.daycare_referral}",
            f"/household-facts?household_id={household}",
            "/referrals",
            "/daycare-queue",
        ],
        KVINFO: [f"/households/{household}/status", "/referrals", *links],
    }


READERS = {
    CIVICA: Role.COORDINATOR,
    BRIDGE_BUILDER: Role.BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH: Role.DAYCARE_ALLOCATOR,
    KVINFO: Role.CIVIL_ACTOR,
}


def test_every_read_of_the_erased_household_at_the_owner_and_each_member_answers_without_a_5xx(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    ids = _erased(orgs)
    for org, paths in _reads(ids).items():
        reader = orgs.api(org, role=READERS[org], person="r-1")
        for path in paths:
            response = reader.get(path)
            assert response.status_code < 500, (org, path, response.text)
            assert response.headers["content-type"].startswith(
                ("application/json", "application/problem+json")
            )
    owner = orgs.api(CIVICA, role=Role.COORDINATOR)
    assert owner.ok(owner.get(f"/households/{ids.household}"))["case_reference"] == ERASED
    department = orgs.api(CHILDREN_AND_YOUTH, role=Role.DAYCARE_ALLOCATOR)
    referral = department.ok(department.get(f"/referrals/{ids.daycare_referral}"))
    assert ERASED in str(referral)


def test_the_let_dwelling_keeps_its_address_but_not_who_got_it_and_its_address_is_read_for_a_purpose(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    ids = play_over_http(orgs)
    owner = orgs.api(CIVICA, role=Role.COORDINATOR, person="gk-2")
    path = f"/vacancies/{ids.vacancy}"
    let = owner.ok(owner.get(path, purpose="check the letting"))
    assert (let["status"], let["let_to"]) == ("let", ids.household)

    refused = owner.get(path, purpose=None)
    assert refused.status_code == 400
    assert refused.json()["type"].endswith("purpose-required")

    first, second = _dpo(orgs, "dpo-1"), _dpo(orgs, "dpo-2")
    first.ok(first.post(f"/erasures/{ids.household}", GROUND))
    second.ok(second.post(f"/erasures/{ids.household}/confirmation"))
    orgs.settle()

    after = owner.ok(owner.get(path, purpose="check the letting"))
    assert after["status"] == "let" and after["let_to"] is None
    assert after["dwelling"] == let["dwelling"]
    auditor = orgs.api(CIVICA, role=Role.AUDITOR, person="audit-1")
    log = auditor.ok(auditor.get("/access-log", purpose=None, subject=f"vacancy:{ids.vacancy}"))["items"]
    assert [(entry["person"], entry["purpose"]) for entry in log] == [("gk-2", "check the letting")] * 2
