"""Nonsense refused at the edge before anything is stored (issue 17, findings 1 and 2): each answer is a
422 problem+json naming the field, and the household's version does not move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import Api, Organisations
from tests.api.story import MOVE, dwelling, etag_of, family, people, step

ARABIC_INDIC_5000 = "\u0665\u0660\u0660\u0660"  # what int(), Decimal() and str.isdigit() all take for 5000


def _refused(response: Any, field: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert field in [e["field"] for e in problem.get("errors", [])], problem
    assert field.removeprefix("body.") in problem["detail"], problem["detail"]
    return problem


def _registered(consultant: Api) -> tuple[str, str]:
    return step(consultant, "/households", family(), status=201)


def test_a_move_in_9999_is_422_naming_the_field_and_the_household_keeps_its_version(
    organisations: Organisations,
) -> None:
    consultant = people(organisations).consultant
    household, h = _registered(consultant)
    for moved_on in ("9999-12-31", "9999-12-20"):
        response = consultant.post(
            f"/households/{household}/move", {"move": {**MOVE, "moved_on": moved_on}}, if_match=h
        )
        problem = _refused(response, "move.moved_on")
        assert problem["type"].endswith("implausible-value")
        assert etag_of(consultant, f"/households/{household}") == h
    # The household still loads and takes a plausible move.
    step(consultant, f"/households/{household}/move", {"move": MOVE}, etag=h)


@pytest.fixture
def consultant(memory_organisations: Organisations) -> Api:
    return people(memory_organisations).consultant


def test_a_follow_up_visit_dated_9999_12_31_is_422(consultant: Api) -> None:
    household, h = _registered(consultant)
    _, h = step(consultant, f"/households/{household}/move", {"move": MOVE}, etag=h)
    response = consultant.post(
        f"/households/{household}/follow-up-visit", {"visited_on": "9999-12-31"}, if_match=h
    )
    _refused(response, "visited_on")
    assert etag_of(consultant, f"/households/{household}") == h


def test_a_consent_dated_a_year_after_the_command_is_422(consultant: Api) -> None:
    household, h = _registered(consultant)
    next_year = (datetime.now(UTC) + timedelta(days=366)).date().isoformat()
    consent = {"recipient": "jobcenter-odense", "purpose": "jobcentre", "given_on": next_year}
    _refused(consultant.post(f"/households/{household}/consents", consent, if_match=h), "consent.given_on")
    assert etag_of(consultant, f"/households/{household}") == h


def test_a_consent_for_a_purpose_that_is_no_referral_kind_is_422(consultant: Api) -> None:
    household, h = _registered(consultant)
    consent = {"recipient": "jobcenter-odense", "purpose": "anything at all", "given_on": "2026-06-01"}
    _refused(consultant.post(f"/households/{household}/consents", consent, if_match=h), "body.purpose")


def test_a_child_born_in_2199_is_422(consultant: Api) -> None:
    body = family()
    body["members"][-1]["birth_month"] = {"year": 2199, "month": 1}
    last = len(body["members"]) - 1
    _refused(consultant.post("/households", body), f"members[{last}].birth_month")


def test_a_vacancy_available_from_year_one_is_422(consultant: Api) -> None:
    _refused(consultant.post("/vacancies", dwelling(available_from="0001-01-01")), "dwelling.available_from")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rooms": True}, "body.rooms"),
        ({"rooms": "5"}, "body.rooms"),
        ({"rent": {"dkk": "5_000"}}, "body.rent.dkk"),
        ({"rent": {"dkk": ARABIC_INDIC_5000}}, "body.rent.dkk"),
        (
            {"address": {"street": "Kochsgade 31", "postcode": ARABIC_INDIC_5000, "city": "Odense C"}},
            "body.address.postcode",
        ),
    ],
)
def test_numbers_amounts_and_postcodes_in_any_other_form_are_422(
    consultant: Api, changes: dict[str, Any], field: str
) -> None:
    problem = _refused(consultant.post("/vacancies", dwelling(**changes)), field)
    assert problem["type"].endswith("invalid-request")


def test_rooms_and_rent_as_plain_json_numbers_are_taken(consultant: Api) -> None:
    step(consultant, "/vacancies", dwelling(rooms=5, rent={"dkk": 7650}), status=201)
