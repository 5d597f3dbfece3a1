"""The authorisation matrix: every node x operation x organisation x role; what must be denied is denied.

The expectations below restate the rules of issue 5 in their own words (independently of the policy
table in adapters/http/authorisation.py): an organisation changes only its own aggregates, a department
sees only referrals addressed to it, auditors only read, operators see operations figures only.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi.routing import APIRoute

from adapters.http.auth import PERSON_ROLES
from adapters.http.routers import (
    households,
    offer_requests,
    offers,
    queries,
    referrals,
    support_links,
    vacancies,
)
from coordination.domain.values import Role
from ops.demo.reference_scenario import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, CIVICA, KVINFO
from tests.api.conftest import FAB, ROLES, Organisations
from tests.api.story import dwelling, family, play_over_http, step

R = Role
HOUSING = {R.REHOUSING_CONSULTANT, R.COORDINATOR}
SUPPORT = {R.BRIDGE_BUILDER, R.CIVIL_ACTOR}
DEPT = {R.DAYCARE_ALLOCATOR, R.DEPARTMENT_CASEWORKER}
PARTIES = HOUSING | SUPPORT | DEPT
HOUSEHOLD_STEPS = [
    "record_first_contact",
    "record_inspiration_tour",
    "record_tasks_found",
    "start_bridge_building",
    "give_consent",
    "withdraw_consent",
    "record_enrolment",
    "record_contact_person",
    "end_contact_person",
    "record_practical_matters_in_order",
    "record_no_longer_asks_for_help",
    "record_follow_up_visit",
    "settle_household",
    "record_move",
    "make_offer",
    "accept_offer",
    "decline_offer",
    "refer_household",
    "amend_members",
    "amend_needs",
    "amend_preferences",
    "record_contact_details",
    "make_rehousing_permanent",
    "reopen_household",
    "record_follow_up_visit_declined",
]
RECEIVER_STEPS = [
    "acknowledge_referral",
    "accept_referral",
    "start_referral",
    "put_referral_on_hold",
    "redirect_referral",
    "complete_referral",
]

# operation -> (roles that may, whose the subject must be)
EXPECTED: dict[str, tuple[set[Role], str]] = {
    "register_household": (HOUSING, "own node"),
    "get_household": (HOUSING | {R.AUDITOR}, "owner"),
    "household_timeline": (HOUSING | {R.AUDITOR}, "owner"),
    # Any staff of an organisation in the household's network, at its own node or at the owner's.
    "household_status": (PARTIES | {R.AUDITOR}, "member"),
    "refused_reports": (PARTIES | {R.AUDITOR}, "own node"),
    "suitable_vacancies": (HOUSING, "owner"),
    **dict.fromkeys(HOUSEHOLD_STEPS, (HOUSING, "owner")),
    "publish_vacancy": (HOUSING, "own node"),
    "withdraw_vacancy": (HOUSING, "owner"),
    "get_vacancy": (HOUSING | {R.AUDITOR}, "anyone"),
    "search_vacancy_pool": (HOUSING | {R.AUDITOR}, "anyone"),
    "send_referral": (SUPPORT | DEPT | {R.COORDINATOR}, "own node"),
    "get_referral": (PARTIES | {R.AUDITOR}, "party anywhere"),
    "referrals_owed": (PARTIES | {R.AUDITOR}, "anyone"),
    **dict.fromkeys(RECEIVER_STEPS, (PARTIES, "receiver")),
    "decline_referral": (PARTIES, "party"),
    "withdraw_referral": (PARTIES, "referrer"),
    "mark_referral_entered_in_error": (PARTIES, "referrer"),
    "override_referral_decline": ({R.COORDINATOR}, "party"),
    "propose_support_link": (SUPPORT, "own node"),
    "activate_support_link": (SUPPORT, "owner"),
    "end_support_link": (SUPPORT, "owner"),
    "get_support_link": (SUPPORT | {R.AUDITOR}, "owner"),
    "report_household_fact": ({R.BRIDGE_BUILDER} | DEPT, "own node"),
    "reported_household_facts": ({R.BRIDGE_BUILDER, R.AUDITOR} | DEPT, "own node"),
    "daycare_queue": ({R.DAYCARE_ALLOCATOR, R.AUDITOR} | HOUSING, "anyone"),
    "receiving_areas": (HOUSING | {R.AUDITOR, R.BRIDGE_BUILDER}, "anyone"),
    "operations": ({R.OPERATOR, R.AUDITOR}, "own node"),
    "access_log": ({R.AUDITOR}, "own node"),
    # Read by the organisation that asked, at its node (the request's owner), as it reads the household.
    "get_offer_request": (HOUSING | {R.AUDITOR}, "owner"),
}


def allowed(operation: str, node: str, org: str, role: Role, subject: dict[str, str]) -> bool:
    roles, whose = EXPECTED[operation]
    if role not in roles:
        return False
    parties = {subject.get("referrer"), subject.get("receiver")}
    if whose == "anyone":
        return True
    if whose == "party anywhere":
        return org in parties
    if whose == "member":
        return org in subject["members"].split(",") and node in (org, subject["owner"])
    if org != node:  # every change, and every other read, only by the node's own organisation
        return False
    return {
        "own node": True,
        "owner": subject.get("owner") == org,
        "receiver": subject.get("receiver") == org,
        "referrer": subject.get("referrer") == org,
        "party": org in parties,
    }[whose]


def _subjects(orgs: Organisations) -> dict[str, dict[str, dict[str, str]]]:
    """Per node, per path parameter: the id used and whose it is."""
    ids = play_over_http(orgs)
    fab = orgs.api(FAB, role=R.REHOUSING_CONSULTANT)
    fab_household, _ = step(fab, "/households", {**family(), "case_reference": "FAB-1"}, status=201)
    fab_vacancy, _ = step(fab, "/vacancies", dwelling(rooms=6), status=201)
    orgs.settle()
    # CIVICA asks FAB to reserve FAB's vacancy for a CIVICA household: the request is kept at CIVICA only.
    civica = orgs.api(CIVICA, role=R.REHOUSING_CONSULTANT)
    asking, etag = step(civica, "/households", {**family(), "case_reference": "CIV-9"}, status=201)
    request, _ = step(
        civica, f"/households/{asking}/offers", {"vacancy_id": fab_vacancy}, etag=etag, status=202
    )
    orgs.settle()
    # The reference family's network: the bridge builder (bridge building, the handoff), the department
    # (the daycare referral) and KVINFO (its mentor link, reported to CIVICA).
    members = ",".join((CIVICA, BRIDGE_BUILDER, CHILDREN_AND_YOUTH, KVINFO))
    household = {"id": ids.household, "owner": CIVICA, "members": members}
    vacancy = {"id": ids.vacancy, "owner": CIVICA}  # FAB and the department keep mirrors of it
    referral = {"id": ids.bridge_referral, "referrer": CIVICA, "receiver": BRIDGE_BUILDER}
    return {
        CIVICA: {
            "household_id": household,
            "vacancy_id": vacancy,
            "referral_id": referral,
            "offer_id": {"id": ids.offer},
            "request_id": {"id": request, "owner": CIVICA},
        },
        FAB: {
            "household_id": {"id": fab_household, "owner": FAB, "members": FAB},
            "vacancy_id": vacancy,
            "offer_id": {"id": ids.offer},
        },
        BRIDGE_BUILDER: {
            "household_id": household,
            "referral_id": referral,
            "link_id": {"id": ids.support_links[0], "owner": BRIDGE_BUILDER},
        },
        CHILDREN_AND_YOUTH: {
            "household_id": household,
            "vacancy_id": vacancy,
            "referral_id": {"id": ids.daycare_referral, "referrer": CIVICA, "receiver": CHILDREN_AND_YOUTH},
        },
        KVINFO: {"household_id": household, "link_id": {"id": ids.support_links[1], "owner": KVINFO}},
    }


SERVES = {  # which operations each kind of node keeps (others answer 404 whoever asks)
    "households": {CIVICA, FAB},
    "vacancies": {CIVICA, FAB, CHILDREN_AND_YOUTH},
    "support": {BRIDGE_BUILDER, KVINFO},
    "facts": {BRIDGE_BUILDER, CHILDREN_AND_YOUTH},
}


def _served(operation: str, path: str, node: str) -> bool:
    if operation in ("household_status", "refused_reports"):
        return True  # every member's node answers these from its copy of the network and its records
    if operation in ("publish_vacancy", "withdraw_vacancy") or path.startswith("/households"):
        return node in SERVES["households"]
    if path.startswith("/vacancies"):
        return node in SERVES["vacancies"]
    if path.startswith("/support-links"):
        return node in SERVES["support"]
    if path.startswith("/household-facts"):
        return node in SERVES["facts"]
    return True


def test_every_combination_that_must_be_denied_is_denied(
    memory_organisations: Organisations, capsys: Any
) -> None:
    orgs = memory_organisations
    subjects = _subjects(orgs)
    modules = (households, offers, offer_requests, vacancies, referrals, support_links, queries)
    routes = [r for m in modules for r in m.router.routes if isinstance(r, APIRoute)]
    assert {r.operation_id for r in routes} == set(EXPECTED), "every operation is in the matrix"
    tokens = {
        (org, role, node): orgs.token(org, "p-1", role, audience=node)
        for org in ROLES
        for role in PERSON_ROLES
        for node in ROLES
    }
    outcome = asyncio.run(_ask_every_combination(orgs, subjects, routes, tokens))
    denied, allowed_count, wrong = outcome
    with capsys.disabled():
        print(f"\nauthorisation matrix: {denied} denied combinations denied, {allowed_count} allowed")
    assert not wrong, "\n".join(wrong[:20]) + f"\n... {len(wrong)} in all"
    assert denied > 4000


async def _ask_every_combination(
    orgs: Organisations,
    subjects: dict[str, dict[str, dict[str, str]]],
    routes: list[APIRoute],
    tokens: dict[tuple[str, Role, str], str],
) -> tuple[int, int, list[str]]:
    """Each request straight into the node's ASGI app (no server, no thread per request)."""
    denied = allowed_count = 0
    wrong: list[str] = []
    for node in ROLES:
        transport = httpx.ASGITransport(app=orgs.clients[node].app)
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
            for route in routes:
                operation, method = route.operation_id, next(iter(route.methods))
                params = list(route.param_convertors)
                if not _served(operation, route.path, node) or any(p not in subjects[node] for p in params):
                    continue
                path = route.path.format(**{p: subjects[node][p]["id"] for p in params})
                subject = next((subjects[node][p] for p in params if p != "offer_id"), {})
                for org in ROLES:
                    for role in PERSON_ROLES:
                        headers = {
                            "Authorization": f"Bearer {tokens[(org, role, node)]}",
                            "X-Purpose": "matrix",
                        }
                        # No Idempotency-Key: an allowed POST stops at 400 after authorisation.
                        response = await client.request(
                            method,
                            path,
                            json={} if method == "POST" else None,
                            headers=headers,
                            params={"municipality": "Odense"},
                        )
                        if allowed(operation, node, org, role, subject):
                            allowed_count += 1
                            ok = response.status_code not in (401, 403)
                        else:
                            denied += 1
                            ok = response.status_code == 403 and bool(response.json()["detail"])
                        if not ok:
                            wrong.append(
                                f"{node} {operation} {org}/{role}: {response.status_code} {response.text[:80]}"
                            )
    return denied, allowed_count, wrong
