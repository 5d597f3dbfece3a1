"""Issue 21 (points 5 and 8) over HTTP: a daycare referral's place offered, declined by the family with a
coded reason, offered again, accepted and started on its start date; the reasons returned where a
caseworker reads them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from ops.demo.reference_family import CHILDREN_AND_YOUTH
from tests.api.conftest import Organisations
from tests.api.story import People, dwelling, etag_of, family, people, step, through_bridge_building


def _referred(orgs: Organisations, p: People) -> tuple[str, str, str]:
    """A household that accepted an offer and was referred for a daycare place: (household, offer, referral)."""
    household, h = step(p.consultant, "/households", family(), status=201)
    _, h = through_bridge_building(orgs, p, household, h)
    vacancy, _ = step(p.consultant, "/vacancies", dwelling(), status=201)
    override = {"rule": "suitable_size", "reason": "The mother chose this central dwelling near the schools"}
    offer, h = step(
        p.consultant,
        f"/households/{household}/offers",
        {"vacancy_id": vacancy, "overrides": [override]},
        etag=h,
    )
    _, h = step(p.consultant, f"/households/{household}/offers/{offer}/acceptance", etag=h)
    referral, _ = step(
        p.consultant,
        f"/households/{household}/referrals",
        {
            "receiver": CHILDREN_AND_YOUTH,
            "kind": "daycare_fast_track",
            "child_id": "C4",
            "needed_from": "2026-08-03",
        },
        status=201,
    )
    orgs.settle()
    return household, offer, referral


def _queue(p: People) -> list[dict[str, Any]]:
    return list(p.daycare.ok(p.daycare.get("/daycare-queue"))["items"])


def test_the_daycare_queue_follows_the_place_offered_the_familys_answer_and_the_start_date(
    organisations: Organisations,
) -> None:
    orgs, p = organisations, people(organisations)
    _, _, referral = _referred(orgs, p)
    path = f"/referrals/{referral}"
    e = etag_of(p.daycare, path)
    _, e = step(p.daycare, f"{path}/acknowledgement", etag=e)
    _, e = step(p.daycare, f"{path}/acceptance", {"assignee": "pladsanvisning-3"}, etag=e)
    # Taking the case is not offering a place: the child still waits.
    assert [c["status"] for c in _queue(p)] == ["waiting"]

    first_start = (datetime.now(UTC) + timedelta(days=40)).date()
    place = {"institution": "Børnehuset Solsikken", "starts_on": first_start.isoformat()}
    _, e = step(p.daycare, f"{path}/place", place, etag=e)
    [child] = _queue(p)
    assert (child["status"], child["institution"], child["priority_reason"]) == (
        "place_offered",
        "Børnehuset Solsikken",
        "rehousing",
    )
    orgs.settle()

    # The consultant, who speaks with the family, records its no at its own node; it reaches the department.
    c = etag_of(p.consultant, path)
    no = {"reason_code": "too_far_from_work", "reason": "The mother starts work in Vollsmose"}
    step(p.consultant, f"{path}/place/decline", no, etag=c)
    orgs.settle()
    [child] = _queue(p)
    assert (child["status"], child["declined_reason_code"]) == ("place_declined", "too_far_from_work")
    declined = p.daycare.ok(p.daycare.get(path))["daycare_place"]
    assert (declined["answer"], declined["reason_code"]) == ("declined", "too_far_from_work")

    second_start = first_start + timedelta(days=14)
    place = {"institution": "Vuggestuen Mælkebøtten", "starts_on": second_start.isoformat()}
    e = etag_of(p.daycare, path)
    _, e = step(p.daycare, f"{path}/place", place, etag=e)
    _, e = step(p.daycare, f"{path}/place/acceptance", etag=e)
    step(p.daycare, f"{path}/completion", {"outcome": "A place at Mælkebøtten"}, etag=e)
    # Completed today, the child starts on the start date: accepted until then, started from that day.
    assert [c["status"] for c in _queue(p)] == ["place_accepted"]
    node = orgs.nodes[CHILDREN_AND_YOUTH]
    node.clock = lambda: datetime.combine(second_start - timedelta(days=1), datetime.min.time(), UTC)
    assert [c["status"] for c in _queue(p)] == ["place_accepted"]
    node.clock = lambda: datetime.combine(second_start, datetime.min.time(), UTC) + timedelta(hours=10)
    [child] = _queue(p)
    assert (child["status"], child["institution"], child["starts_on"]) == (
        "started",
        "Vuggestuen Mælkebøtten",
        second_start.isoformat(),
    )


def test_a_place_past_the_26a_share_needs_an_override_with_a_reason(organisations: Organisations) -> None:
    orgs, p = organisations, people(organisations)
    _, _, referral = _referred(orgs, p)
    path = f"/referrals/{referral}"
    e = etag_of(p.daycare, path)
    _, e = step(p.daycare, f"{path}/acknowledgement", etag=e)
    _, e = step(p.daycare, f"{path}/acceptance", {"assignee": "pladsanvisning-3"}, etag=e)
    starts_on = date(datetime.now(UTC).year + 1, 1, 5)
    # The institution plans to admit 3 children next year; this one alone is a third of them.
    place = {
        "institution": "Børnehuset Solsikken",
        "starts_on": starts_on.isoformat(),
        "counts_under_26a": True,
        "planned_intake": 3,
    }

    refused = p.daycare.post(f"{path}/place", place, if_match=e)

    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["rule"] == "daycare_26a_share" and "33 %" in problem["detail"]
    override = {"rule": "daycare_26a_share", "reason": "No other institution within reach takes children now"}
    _, e = step(p.daycare, f"{path}/place", {**place, "overrides": [override]}, etag=e)
    offered = p.daycare.ok(p.daycare.get(path))["daycare_place"]
    assert (offered["institution"], offered["counts_under_26a"]) == ("Børnehuset Solsikken", True)


def test_coded_reasons_are_returned_with_the_referral_the_offers_and_the_timeline(
    organisations: Organisations,
) -> None:
    orgs, p = organisations, people(organisations)
    household, offer, referral = _referred(orgs, p)
    path = f"/referrals/{referral}"
    c = etag_of(p.consultant, path)
    step(p.consultant, f"{path}/withdrawal", {"reason_code": "has_other_housing"}, etag=c)
    orgs.settle()

    for api in (p.consultant, p.daycare):
        [given] = api.ok(api.get(path))["reasons"]
        assert (given["status"], given["code"], given["text"]) == ("withdrawn", "has_other_housing", None)
        assert given["label"] == "The household has found housing elsewhere."
    timeline = p.consultant.ok(p.consultant.get(f"/households/{household}/timeline", limit=200))["items"]
    assert [(t["event"], t["reason_code"]) for t in timeline if t["reason_code"]] == [
        ("Withdrawn", "has_other_housing")
    ]
    accepted = p.consultant.ok(p.consultant.get(f"/households/{household}"))["offers"]
    assert [(o["offer_id"], o["status"]) for o in accepted] == [(offer, "accepted")]


def test_a_reason_code_outside_its_list_or_other_without_words_is_refused(
    organisations: Organisations,
) -> None:
    orgs, p = organisations, people(organisations)
    _, _, referral = _referred(orgs, p)
    path = f"/referrals/{referral}"
    c = etag_of(p.consultant, path)

    wrong_list = p.consultant.post(f"{path}/withdrawal", {"reason_code": "rent_too_high"}, if_match=c)
    wordless = p.consultant.post(f"{path}/withdrawal", {"reason_code": "other"}, if_match=c)

    assert (wrong_list.status_code, wordless.status_code) == (422, 422), (wrong_list.text, wordless.text)
    assert "not a reason code for a withdrawal" in wrong_list.json()["detail"]
