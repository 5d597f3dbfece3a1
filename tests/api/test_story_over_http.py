"""Every command and query of the API through HTTP, on SQLite and PostgreSQL: the reference story first."""

from __future__ import annotations

from coordination.domain.values import Role
from ops.demo.reference_scenario import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, CIVICA, KVINFO
from tests.api.conftest import Organisations
from tests.api.story import ODENSE_C, dwelling, etag_of, family, people, play_over_http, step


def test_the_reference_story_plays_through_the_organisations_apis(organisations: Organisations) -> None:
    ids = play_over_http(organisations)
    assert ids.household and ids.handoff


def test_every_query_answers_over_http_after_the_story(organisations: Organisations) -> None:
    ids = play_over_http(organisations)
    p = people(organisations)
    consultant, auditor = p.consultant, organisations.api(CIVICA, role=Role.AUDITOR, person="audit-1")
    view = consultant.ok(consultant.get(f"/households/{ids.household}"))
    assert view["holder"] == {"organisation": BRIDGE_BUILDER, "role": "bridge_builder"}
    assert view["follow_up_visited"] and "C4" not in view["settlement_gaps"]
    assert consultant.ok(consultant.get(f"/vacancies/{ids.vacancy}"))["status"] == "let"
    status = consultant.ok(consultant.get(f"/households/{ids.household}/status"))
    assert status["holder"]["organisation"] == BRIDGE_BUILDER and status["pending_handoff"] is None
    # At the owner's node, from the household's network: the acknowledged handoff is complete.
    assert (status["owner"], status["network_version"] > 0) == (CIVICA, True)
    assert [r["referral_id"] for r in status["open_referrals"]] == [ids.bridge_referral]
    assert any(m["organisation"] == BRIDGE_BUILDER and m["relation"] == "holder" for m in status["members"])
    timeline = consultant.ok(consultant.get(f"/households/{ids.household}/timeline", limit=5))
    assert len(timeline["items"]) == 5 and timeline["next_cursor"]
    rest = consultant.ok(
        consultant.get(f"/households/{ids.household}/timeline", cursor=timeline["next_cursor"])
    )
    assert rest["items"][0]["position"] > timeline["items"][-1]["position"]
    assert consultant.ok(consultant.get("/vacancy-pool", municipality="Odense"))["items"] == []  # let
    assert consultant.ok(consultant.get(f"/households/{ids.household}/suitable-vacancies"))["items"] == []
    areas = consultant.ok(consultant.get("/receiving-areas", municipality="Odense"))
    assert [(a["area"], a["moved_in"]) for a in areas["items"]] == [("Odense C", 1)]
    queue = p.daycare.ok(p.daycare.get("/daycare-queue"))
    # Completed by the department without a place recorded here: it says nothing of when the child starts.
    assert [(c["member_id"], c["status"]) for c in queue["items"]] == [("C4", "completed")]
    referral = p.daycare.ok(p.daycare.get(f"/referrals/{ids.daycare_referral}"))
    assert "history" not in referral and referral["details"]["children"][0]["member_id"] == "C4"
    full = consultant.ok(consultant.get(f"/referrals/{ids.daycare_referral}"))
    assert full["history"] and full["status"] == "completed"
    owed = p.bridge_builder.ok(p.bridge_builder.get("/referrals"))
    assert {r["referral_id"] for r in owed["items"]} == {ids.bridge_referral}  # the handoff is complete
    handoff = f"/referrals/{ids.handoff}"
    again = p.bridge_builder.post(
        f"{handoff}/completion", {"outcome": "again"}, if_match=etag_of(p.bridge_builder, handoff)
    )
    assert again.status_code == 409 and again.json()["type"].endswith(":referral-not-open"), again.text
    link = p.bridge_builder.ok(p.bridge_builder.get(f"/support-links/{ids.support_links[0]}"))
    assert link["status"] == "active" and link["contact_person"]
    operator = organisations.api(CIVICA, role=Role.OPERATOR, person="ops-1")
    figures = operator.ok(operator.get("/operations", purpose=None))
    assert figures["projections"]["timeline"]["lag"] == 0 and figures["handoff_latency"]
    log = auditor.ok(auditor.get("/access-log", purpose=None, subject=f"household:{ids.household}"))
    assert {e["operation"] for e in log["items"]} >= {
        "get_household",
        "household_status",
        "household_timeline",
    }
    assert all(e["purpose"] == "case work" and e["person"] == "civica-gk-07" for e in log["items"])


def test_the_remaining_commands_answer_over_http(organisations: Organisations) -> None:
    ids = play_over_http(organisations)
    p = people(organisations)
    c, hh = p.consultant, f"/households/{ids.household}"
    h = etag_of(c, hh)
    consent = {"recipient": "jobcentre-odense", "purpose": "jobcentre", "given_on": "2026-08-01"}
    _, h = step(c, f"{hh}/consents", consent, etag=h)
    _, h = step(
        c, f"{hh}/consent-withdrawals", {"recipient": "jobcentre-odense", "purpose": "jobcentre"}, etag=h
    )
    enrolment = {
        "member_id": "C1",
        "institution_kind": "school",
        "institution": "District school",
        "starts_on": "2026-08-10",
    }
    _, h = step(c, f"{hh}/enrolments", enrolment, etag=h)
    link = "7d1f0f9e-3c44-4c59-9b0e-2d7f3f3d0001"
    _, h = step(c, f"{hh}/contact-persons", {"link_id": link, "place": ODENSE_C}, etag=h)
    _, h = step(c, f"{hh}/contact-person-ends", {"link_id": link}, etag=h)
    # The bridge builder's activated contact-person link is the household's contact person already (its
    # step reached CIVICA over the household's network): no second entry.
    assert not [gap for gap in c.ok(c.get(hh))["settlement_gaps"] if "contact person" in gap]
    _, h = step(
        c, f"{hh}/practical-matters-in-order", {"note": "Deposit loan and housing benefit granted"}, etag=h
    )
    _, h = step(c, f"{hh}/no-longer-asks-for-help", etag=h)
    _, h = step(c, f"{hh}/follow-up-visit", {"visited_on": "2026-07-24"}, etag=h)
    for child in ("C1", "C2", "C3"):
        school = {**enrolment, "member_id": child}
        _, h = step(c, f"{hh}/enrolments", school, etag=h)
    # Settling waits for every open item of the household's network: the bridge builder closes its
    # referral first.
    refused = c.post(f"{hh}/settlement", None, if_match=h)
    assert refused.status_code == 409, refused.text
    assert "open items: bridge building" in refused.json()["detail"]
    bb = p.bridge_builder
    bridge_referral = f"/referrals/{ids.bridge_referral}"
    step(
        bb,
        f"{bridge_referral}/completion",
        {"outcome": "The bridge holds"},
        etag=etag_of(bb, bridge_referral),
    )
    organisations.settle()
    _, h = step(c, f"{hh}/settlement", etag=h)
    assert c.ok(c.get(hh))["settled_at"] is not None

    # A second vacancy: offered to nobody, withdrawn by its owner.
    other, v = step(c, "/vacancies", dwelling(estate="Rosengården"), status=201)
    assert c.ok(c.get("/vacancy-pool", municipality="Odense"))["items"][0]["vacancy_id"] == other
    step(c, f"/vacancies/{other}/withdrawal", {"reason": "Needed for a tenant of the estate"}, etag=v)

    # The bridge builder's referral to the jobcentre route: sent, declined, the decline overridden,
    # redirected, withdrawn; another marked entered in error.
    bb = p.bridge_builder
    details = {"household_size": 5, "language": "arabic"}
    sent, r = step(
        bb,
        "/referrals",
        {
            "receiver": CHILDREN_AND_YOUTH,
            "kind": "jobcentre",
            "household_id": ids.household,
            "details": details,
            "legal_basis": "Serviceloven § 11",
        },
        status=201,
    )
    organisations.settle()
    dept = f"/referrals/{sent}"
    _, d = step(p.school, f"{dept}/acknowledgement", etag=etag_of(p.school, dept))
    step(
        p.school,
        f"{dept}/decline",
        {"declined_by": "provider", "reason": "Not this department's task"},
        etag=d,
    )
    organisations.settle()
    coordinator = organisations.api(BRIDGE_BUILDER, role=Role.COORDINATOR, person="coord-1")
    _, r = step(
        coordinator,
        f"{dept}/decline-override",
        {"reason": "The jobcentre route goes through you"},
        etag=etag_of(bb, dept),
    )
    organisations.settle()
    _, d = step(p.school, f"{dept}/acknowledgement", etag=etag_of(p.school, dept))
    _, d = step(p.school, f"{dept}/acceptance", {"assignee": "skole-12"}, etag=d)
    step(p.school, f"{dept}/hold", {"reason": "Waiting for the caseworker's return"}, etag=d)
    organisations.settle()
    step(bb, f"{dept}/withdrawal", {"reason": "The family found a job itself"}, etag=etag_of(bb, dept))
    # To the mentor network, which sends it on to a third organisation.
    mentoring, r = step(
        bb,
        "/referrals",
        {
            "receiver": KVINFO,
            "kind": "jobcentre",
            "household_id": ids.household,
            "details": details,
            "legal_basis": "Serviceloven § 11",
        },
        status=201,
    )
    organisations.settle()
    kv = f"/referrals/{mentoring}"
    _, k = step(p.mentor, f"{kv}/acknowledgement", etag=etag_of(p.mentor, kv))
    step(
        p.mentor,
        f"{kv}/redirection",
        {"to": "red-cross-odense", "reason": "The homework café fits better"},
        etag=k,
    )
    wrong, r = step(
        bb,
        "/referrals",
        {
            "receiver": KVINFO,
            "kind": "financial_counselling",
            "household_id": ids.household,
            "details": details,
            "legal_basis": "Serviceloven § 11",
        },
        status=201,
    )
    step(bb, f"/referrals/{wrong}/entered-in-error", {"reason": "Sent to the wrong organisation"}, etag=r)
    step(
        p.bridge_builder,
        f"/support-links/{ids.support_links[0]}/end",
        {"reason": "The family moved on"},
        etag=etag_of(bb, f"/support-links/{ids.support_links[0]}"),
    )


def test_an_offer_is_declined_with_the_households_reason_over_http(organisations: Organisations) -> None:
    c = people(organisations).consultant
    household, h = step(c, "/households", family(), status=201)
    vacancy, _ = step(c, "/vacancies", dwelling(rooms=6), status=201)
    offer, h = step(c, f"/households/{household}/offers", {"vacancy_id": vacancy}, etag=h)
    step(
        c,
        f"/households/{household}/offers/{offer}/decline",
        {"declined_by": "household", "reason": "Too far from the children's schools"},
        etag=h,
    )
    assert c.ok(c.get(f"/vacancies/{vacancy}"))["status"] == "open"
    offers = c.ok(c.get(f"/households/{household}"))["offers"]
    assert offers[0]["status"] == "declined_by_household" and "schools" in offers[0]["reason"]
