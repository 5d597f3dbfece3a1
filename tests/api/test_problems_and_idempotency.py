"""Errors as problem+json naming the problem and the field; Idempotency-Key, If-Match and cursors."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import OperationalError

from ops.demo.reference_scenario import CIVICA
from tests.api.conftest import Api, Organisations
from tests.api.story import dwelling, family, people, step


def _problem(response: Any, status: int, *words: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= problem.keys() and problem["status"] == status
    for word in words:
        assert word in problem["detail"], problem["detail"]
    return problem


@pytest.fixture
def consultant(memory_organisations: Organisations) -> Api:
    return people(memory_organisations).consultant


def test_invalid_input_is_422_naming_each_field(consultant: Api) -> None:
    bad = {**family(), "members": [{"member_id": "C1", "kind": "child"}], "termination_date": "soon"}
    problem = _problem(consultant.post("/households", bad), 422, "body.members.0", "body.termination_date")
    assert {e["field"] for e in problem["errors"]} >= {"body.termination_date"}
    _problem(consultant.post("/vacancies", dwelling(rooms=0)), 422, "body.rooms")


def test_malformed_json_and_headers_are_400(consultant: Api) -> None:
    response = consultant.client.post(
        "/vacancies",
        content=b"{not json",
        headers={**consultant.headers, "Idempotency-Key": str(uuid4()), "Content-Type": "application/json"},
    )
    _problem(response, 400, "body")
    _problem(
        consultant.client.post("/vacancies", json=dwelling(), headers=consultant.headers),
        400,
        "header.Idempotency-Key",
    )
    _problem(
        consultant.post("/vacancies", dwelling(), headers={"Idempotency-Key": "not-a-uuid"}),
        400,
        "header.Idempotency-Key",
    )
    _problem(consultant.get("/households/not-a-uuid"), 400, "path.household_id")


def test_an_unknown_aggregate_is_404_and_a_rule_violation_409(consultant: Api) -> None:
    _problem(consultant.get(f"/households/{uuid4()}"), 404, "No household")
    household, h = step(consultant, "/households", family(), status=201)
    _, h = step(consultant, f"/households/{household}/first-contact", etag=h)
    problem = _problem(
        consultant.post(f"/households/{household}/first-contact", if_match=h), 409, "already recorded"
    )
    assert problem["type"].endswith("rule-violated")


def test_an_offer_breaking_an_overridable_rule_names_the_rule(consultant: Api) -> None:
    household, h = step(consultant, "/households", family(), status=201)
    vacancy, _ = step(consultant, "/vacancies", dwelling(), status=201)  # five rooms for five people
    problem = _problem(
        consultant.post(f"/households/{household}/offers", {"vacancy_id": vacancy}, if_match=h), 409
    )
    assert problem["rule"] == "suitable_size" and "override" in problem["detail"]


def test_a_vacancy_already_offered_is_409(memory_organisations: Organisations, consultant: Api) -> None:
    vacancy, _ = step(consultant, "/vacancies", dwelling(rooms=6), status=201)
    first, h1 = step(consultant, "/households", family(), status=201)
    second, h2 = step(consultant, "/households", {**family(), "case_reference": "CIV-2"}, status=201)
    step(consultant, f"/households/{first}/offers", {"vacancy_id": vacancy}, etag=h1)
    response = consultant.post(f"/households/{second}/offers", {"vacancy_id": vacancy}, if_match=h2)
    assert _problem(response, 409)["type"].endswith("vacancy-already-offered")


def test_if_match_is_required_and_checked_against_the_aggregates_version(consultant: Api) -> None:
    household, h = step(consultant, "/households", family(), status=201)
    path = f"/households/{household}/first-contact"
    _problem(consultant.post(path), 428, "header.If-Match", '"1"')
    _problem(consultant.post(path, if_match='"7"'), 412, "version 1, not 7")
    _problem(consultant.post(path, if_match="yesterday"), 400, "header.If-Match")
    response = consultant.post(path, if_match=h)
    assert response.status_code == 200 and response.headers["ETag"] == '"2"'
    _problem(
        consultant.post(f"/households/{household}/inspiration-tours", {"areas": ["Bolbro"]}, if_match=h), 412
    )


def test_a_repeated_request_returns_the_first_response_and_has_no_second_effect(
    memory_organisations: Organisations, consultant: Api
) -> None:
    key = uuid4()
    first = consultant.post("/vacancies", dwelling(rooms=6), key=key)
    again = consultant.post("/vacancies", dwelling(rooms=6), key=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    pool = consultant.ok(consultant.get("/vacancy-pool", municipality="Odense"))
    assert len(pool["items"]) == 1
    # A changed aggregate since: the repeat of a step still answers as the first time (ETag then).
    household, h = step(consultant, "/households", family(), status=201)
    step_key = uuid4()
    done = consultant.post(f"/households/{household}/first-contact", if_match=h, key=step_key)
    step(
        consultant,
        f"/households/{household}/inspiration-tours",
        {"areas": ["Bolbro"]},
        etag=done.headers["ETag"],
    )
    repeat = consultant.post(f"/households/{household}/first-contact", if_match=h, key=step_key)
    assert repeat.status_code == 200 and repeat.headers["ETag"] == done.headers["ETag"] == '"2"'
    assert consultant.ok(consultant.get(f"/households/{household}"))["version"] == 3


def test_a_key_reused_for_a_different_request_is_422(consultant: Api) -> None:
    key = uuid4()
    step_response = consultant.post("/vacancies", dwelling(rooms=6), key=key)
    assert step_response.status_code == 201
    _problem(consultant.post("/vacancies", dwelling(rooms=7), key=key), 422, "Idempotency-Key")


def test_the_store_being_unavailable_is_503(
    memory_organisations: Organisations, consultant: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = memory_organisations.nodes[CIVICA].app

    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr(app.repository, "get", unavailable)
    monkeypatch.setattr(app, "save", unavailable)
    monkeypatch.setattr(app.recorder, "insert_events", unavailable)  # group commit inserts directly
    response = consultant.post("/vacancies", dwelling())
    problem = _problem(response, 503, "unavailable")
    assert response.headers["Retry-After"] and "refused" not in problem["detail"]
    _problem(consultant.get(f"/households/{uuid4()}"), 503)


def test_lists_are_paged_with_a_cursor(consultant: Api) -> None:
    made = [
        step(consultant, "/vacancies", dwelling(estate=f"Estate {n}", rooms=6), status=201)[0]
        for n in range(5)
    ]
    seen, cursor = [], None
    while True:
        page = consultant.ok(
            consultant.get(
                "/vacancy-pool", municipality="Odense", limit=2, **({"cursor": cursor} if cursor else {})
            )
        )
        seen += [v["vacancy_id"] for v in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 5
    _problem(consultant.get("/vacancy-pool", municipality="Odense", cursor="garbage"), 400, "query.cursor")


def test_every_read_of_personal_data_needs_a_purpose_and_is_logged(
    memory_organisations: Organisations,
) -> None:
    consultant = people(memory_organisations).consultant
    household, _ = step(consultant, "/households", family(), status=201)
    _problem(consultant.get(f"/households/{household}", purpose=None), 400, "X-Purpose")
    consultant.ok(consultant.get(f"/households/{household}", purpose="preparing the offer"))
    consultant.ok(consultant.get("/vacancy-pool", municipality="Odense", purpose=None))  # no personal data
    auditor = memory_organisations.api(CIVICA, role="auditor", person="audit-1")
    log = auditor.ok(auditor.get("/access-log", purpose=None))["items"]
    assert [(e["operation"], e["subject"], e["purpose"], e["person"]) for e in log] == [
        ("get_household", f"household:{household}", "preparing the offer", "civica-gk-07")
    ]
