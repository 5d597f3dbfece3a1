"""An offer of another organisation's vacancy over HTTP: 202 with the request's Location, the request's
state as the owner decides (reserved, or refused with its reason), and the household's offers listing it.

CIVICA's consultant offers FAB's vacancy to a CIVICA household; both nodes on SQLite files, on one
in-process exchange (settled by hand, so the owner decides only when the test lets it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from coordination.domain.values import Role
from ops.demo.reference_scenario import CIVICA
from tests.api.conftest import FAB, Api, Organisations, open_organisations
from tests.api.story import dwelling, family, step

PROBLEM = "application/problem+json"


@pytest.fixture
def orgs(tmp_path: Path, signing_keys: dict[str, Ed25519PrivateKey]) -> Iterator[Organisations]:
    found = open_organisations("sqlite", tmp_path, signing_keys, organisations=(CIVICA, FAB))
    yield found
    found.close()


def _fab_vacancy(orgs: Organisations) -> str:
    """A vacancy FAB publishes and CIVICA's node mirrors."""
    vacancy, _ = step(orgs.api(FAB, person="fab-gk-02"), "/vacancies", dwelling(rooms=6), status=201)
    orgs.settle()
    return vacancy


def _civica_household(consultant: Api) -> tuple[str, str]:
    response = consultant.post("/households", family())
    assert response.status_code == 201, response.text
    return response.json()["id"], response.headers["ETag"]


def _offer(consultant: Api, household: str, etag: str, vacancy: str, **sent: Any) -> Any:
    return consultant.post(f"/households/{household}/offers", {"vacancy_id": vacancy}, if_match=etag, **sent)


def test_an_offer_of_another_organisations_vacancy_answers_202_with_the_request_to_follow(
    orgs: Organisations,
) -> None:
    vacancy = _fab_vacancy(orgs)
    consultant = orgs.api(CIVICA, person="civica-gk-07")
    household, etag = _civica_household(consultant)

    first = _offer(consultant, household, etag, vacancy)
    assert first.status_code == 202, first.text
    request = first.json()["id"]
    assert first.json() == {"id": request, "state": "requested"}
    assert first.headers["Location"] == f"/offer-requests/{request}"
    assert first.headers["ETag"] != etag, "the household recorded the request"

    repeat = _offer(consultant, household, etag, vacancy, key=first.request.headers["Idempotency-Key"])
    assert (repeat.status_code, repeat.json(), repeat.headers["Location"]) == (
        202,
        first.json(),
        first.headers["Location"],
    )
    assert repeat.headers["Idempotent-Replayed"] == "true"

    requested = consultant.ok(consultant.get(first.headers["Location"]))
    assert (requested["state"], requested["household_id"], requested["vacancy_id"]) == (
        "requested",
        household,
        vacancy,
    )
    assert (requested["vacancy_owner"], requested["requested_by"]) == (FAB, CIVICA)
    assert [s["state"] for s in requested["history"]] == ["requested"]
    offers = consultant.ok(consultant.get(f"/households/{household}"))["offers"]
    assert [(o["offer_id"], o["status"]) for o in offers] == [(request, "requested")]

    orgs.settle()  # FAB reserves its vacancy for the request
    reserved = consultant.ok(consultant.get(f"/offer-requests/{request}"))
    assert reserved["state"] == "reserved"
    assert reserved["expires_at"] == requested["expires_at"]
    assert [s["state"] for s in reserved["history"]] == ["requested", "reserved"]
    offers = consultant.ok(consultant.get(f"/households/{household}"))["offers"]
    assert [(o["offer_id"], o["status"]) for o in offers] == [(request, "live")]


def test_an_offer_of_the_nodes_own_vacancy_still_answers_200_with_the_offer(orgs: Organisations) -> None:
    consultant = orgs.api(CIVICA, person="civica-gk-07")
    vacancy, _ = step(consultant, "/vacancies", dwelling(rooms=6), status=201)
    household, etag = _civica_household(consultant)

    made = _offer(consultant, household, etag, vacancy)

    assert made.status_code == 200, made.text
    assert list(made.json()) == ["id"] and "Location" not in made.headers


def test_a_request_the_owner_refuses_shows_the_owners_reason_on_the_request_and_the_household(
    orgs: Organisations,
) -> None:
    vacancy = _fab_vacancy(orgs)
    consultant = orgs.api(CIVICA, person="civica-gk-07")
    household, etag = _civica_household(consultant)
    request, _ = step(
        consultant, f"/households/{household}/offers", {"vacancy_id": vacancy}, etag=etag, status=202
    )
    fab = orgs.api(FAB, person="fab-gk-02")
    fab_etag = fab.get(f"/vacancies/{vacancy}").headers["ETag"]
    step(fab, f"/vacancies/{vacancy}/withdrawal", {"reason": "water damage in the kitchen"}, etag=fab_etag)
    orgs.settle()  # FAB receives CIVICA's request after it withdrew the vacancy

    refused = consultant.ok(consultant.get(f"/offer-requests/{request}"))
    assert refused["state"] == "refused"
    assert refused["reason"] == f"Vacancy {vacancy} is withdrawn and cannot be offered"
    assert [s["state"] for s in refused["history"]] == ["requested", "refused"]
    shown = consultant.ok(consultant.get(f"/households/{household}"))
    assert [(o["offer_id"], o["status"], o["reason"]) for o in shown["offers"]] == [
        (request, "refused", refused["reason"])
    ]
    assert shown["live_offer"] is None


def test_a_request_is_read_only_by_its_organisations_staff_with_clear_problems(orgs: Organisations) -> None:
    vacancy = _fab_vacancy(orgs)
    consultant = orgs.api(CIVICA, person="civica-gk-07")
    household, etag = _civica_household(consultant)
    request, _ = step(
        consultant, f"/households/{household}/offers", {"vacancy_id": vacancy}, etag=etag, status=202
    )
    path = f"/offer-requests/{request}"

    unknown = consultant.get("/offer-requests/6f1c8a52-4d0e-4c55-9b43-2d8e8c7e1a01")
    assert (unknown.status_code, unknown.headers["content-type"]) == (404, PROBLEM)
    assert unknown.json()["type"].endswith(":not-found")
    assert "No offer request with id 6f1c8a52-4d0e-4c55-9b43-2d8e8c7e1a01" in unknown.json()["detail"]

    other = orgs.api(CIVICA, org=FAB, person="fab-gk-02").get(path)  # FAB's token at CIVICA's node
    assert (other.status_code, other.headers["content-type"]) == (403, PROBLEM)
    assert other.json()["type"].endswith(":not-permitted")
    assert "not fab" in other.json()["detail"]

    elsewhere = orgs.api(FAB, person="fab-gk-02").get(path)  # the vacancy's owner keeps no such record
    assert elsewhere.status_code == 404, elsewhere.text

    builder = orgs.api(CIVICA, role=Role.BRIDGE_BUILDER, person="bb-1").get(path)
    assert builder.status_code == 403, builder.text
    assert consultant.get(path, purpose=None).status_code == 400, "a read of personal data needs a purpose"
    auditor = orgs.api(CIVICA, role=Role.AUDITOR, person="rev-1").get(path)
    assert auditor.status_code == 200, auditor.text
