"""A caseworker reads Danish by default and English on `Accept-Language: en`: a sample of every kind of
problem the API answers, asked in Danish, without the header and in English, carries no word of the other
language; every response says its language in `Content-Language`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest

from coordination.domain.values import Role
from ops.demo.reference_scenario import CIVICA
from tests.api.conftest import Api, Organisations
from tests.api.story import dwelling, family, people, step

# Words only English has (ids, field paths and codes are taken out of the text first).
ENGLISH_WORDS = {
    "the", "is", "not", "must", "has", "was", "may", "an", "of", "with", "already", "cannot", "needs",
    "only", "should", "required", "invalid", "field", "input", "household", "offer", "found", "method",
    "allowed", "conflict", "permitted", "precondition", "failed", "request", "bad", "expired",
}  # fmt: skip
DANISH_WORDS = {
    "er", "ikke", "og", "skal", "kan", "må", "af", "den", "det", "allerede", "husstand", "kræver",
    "værdien", "feltet", "tilbud", "ugyldig", "fundet", "tilladt", "forespørgsel", "udfyldes",
}  # fmt: skip
CODES = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # ids
    r"|\b(?:body|query|path|header)\.[\w.\-]+"  # the field a problem names
    r"|'[a-z_]+'"  # a rule's name
    r"|\"\d+\"|CIV-\w+"  # an ETag, a case reference
)


def words(text: str) -> set[str]:
    return {word.lower() for word in re.findall(r"[^\W\d_]+", CODES.sub(" ", text))}


Ask = Callable[[str, str, Any], Any]


def problems(consultant: Api, bridge_builder: Api, language: str | None) -> dict[str, Any]:
    """One response of each kind of problem, asked in `language` (None: without the header)."""

    def headers(api: Api, **extra: str) -> dict[str, str]:
        sent = {k: v for k, v in api.headers.items() if k != "Accept-Language"}
        if language is not None:
            sent["Accept-Language"] = language
        return {**sent, "Idempotency-Key": str(uuid4()), "X-Purpose": "case work", **extra}

    client = consultant.client
    household, h = step(consultant, "/households", family(), status=201)
    step(consultant, f"/households/{household}/first-contact", etag=h)
    small, _ = step(consultant, "/vacancies", dwelling(), status=201)  # five rooms for five people
    fresh, fresh_etag = step(consultant, "/households", {**family(), "case_reference": "CIV-9"}, status=201)
    bad_family = {**family(), "members": [{"member_id": "C1", "kind": "child"}], "termination_date": "soon"}
    return {
        "invalid body (422)": client.post("/households", json=bad_family, headers=headers(consultant)),
        "fewer rooms than people (422)": client.post(
            "/vacancies", json=dwelling(rooms=0), headers=headers(consultant)
        ),
        "malformed JSON (400)": client.post(
            "/vacancies",
            content=b"{not json",
            headers=headers(consultant, **{"Content-Type": "application/json"}),
        ),
        "not a UUID (400)": client.get("/households/not-a-uuid", headers=headers(consultant)),
        "no such household (404)": client.get(f"/households/{uuid4()}", headers=headers(consultant)),
        "no such route (404)": client.get("/nowhere", headers=headers(consultant)),
        "method not allowed (405)": client.put("/vacancies", json={}, headers=headers(consultant)),
        "a rule (409)": client.post(
            f"/households/{household}/first-contact", headers=headers(consultant, **{"If-Match": '"2"'})
        ),
        "an overridable rule (409)": client.post(
            f"/households/{fresh}/offers",
            json={"vacancy_id": small},
            headers=headers(consultant, **{"If-Match": fresh_etag}),
        ),
        "stale version (412)": client.post(
            f"/households/{fresh}/first-contact", headers=headers(consultant, **{"If-Match": '"7"'})
        ),
        "no If-Match (428)": client.post(f"/households/{fresh}/first-contact", headers=headers(consultant)),
        "no token (401)": client.get(f"/households/{household}", headers={"Accept-Language": language or ""}),
        "wrong role (403)": client.post("/vacancies", json=dwelling(), headers=headers(bridge_builder)),
    }


def texts(response: Any) -> list[str]:
    problem = response.json()
    return [problem["title"], problem["detail"], *(error["message"] for error in problem.get("errors") or [])]


@pytest.fixture
def staff(memory_organisations: Organisations) -> tuple[Api, Api]:
    cast = people(memory_organisations)
    # An auditor at the consultant's own organisation: a role that may not record vacancies.
    auditor = memory_organisations.api(CIVICA, role=Role.AUDITOR)
    return cast.consultant, auditor


@pytest.mark.parametrize("language", ["da", None, "da-DK,en;q=0.5"])
def test_in_danish_and_without_the_header_no_english_reaches_the_caller(
    staff: tuple[Api, Api], language: str | None
) -> None:
    answered = problems(*staff, language)
    statuses = {kind: response.status_code for kind, response in answered.items()}
    assert set(statuses.values()) >= {400, 401, 403, 404, 405, 409, 412, 422, 428}, statuses
    for kind, response in answered.items():
        assert response.headers["content-language"] == "da", kind
        for text in texts(response):
            assert words(text) & ENGLISH_WORDS == set(), (kind, text)
            assert words(text), (kind, text)


def test_in_english_no_danish_reaches_the_caller(staff: tuple[Api, Api]) -> None:
    for kind, response in problems(*staff, "en").items():
        assert response.headers["content-language"] == "en", kind
        for text in texts(response):
            assert words(text) & DANISH_WORDS == set(), (kind, text)
            assert not re.search("[æøåÆØÅ]", text), (kind, text)


def test_a_problem_reads_as_a_danish_sentence_with_the_date_written_the_danish_way(
    staff: tuple[Api, Api],
) -> None:
    consultant, _ = staff
    household, h = step(consultant, "/households", family(), status=201)
    step(consultant, f"/households/{household}/first-contact", etag=h)
    again = consultant.client.post(
        f"/households/{household}/first-contact",
        headers={
            **consultant.headers,
            "Accept-Language": "da",
            "Idempotency-Key": str(uuid4()),
            "If-Match": '"2"',
        },
    )
    assert again.json()["detail"] == "Første kontakt med husstand CIV-2025-0042 er allerede registreret" or (
        again.json()["detail"].startswith("Første kontakt med husstand ")
    )
    assert again.json()["title"] == "I strid med den aktuelle tilstand"


def test_a_successful_response_says_its_language_too(staff: tuple[Api, Api]) -> None:
    consultant, _ = staff
    household, _ = step(consultant, "/households", family(), status=201)
    read = consultant.client.get(
        f"/households/{household}",
        headers={**consultant.headers, "X-Purpose": "case work", "Accept-Language": "da"},
    )
    assert read.status_code == 200
    assert read.headers["content-language"] == "da"
    assert "accept-language" in read.headers["vary"].lower()


def test_the_dashboards_scripts_carry_the_pages_words_in_the_browsers_language(
    memory_organisations: Organisations,
) -> None:
    client = memory_organisations.clients[CIVICA]
    danish = client.get("/dashboard.js", headers={"Accept-Language": "da-DK,da;q=0.9,en;q=0.5"})
    english = client.get("/dashboard.js", headers={"Accept-Language": "en-GB"})
    municipal = client.get("/municipal-dashboard.js")
    assert danish.text.startswith('self.I18N = {"lang": "da"') and "kvitteringer forsinket" in danish.text
    assert "Overdragelser og genhusning: drift" in danish.text  # the page's heading
    assert danish.headers["content-language"] == "da"
    assert english.text.startswith('self.I18N = {"lang": "en", "messages": {}}')
    assert english.headers["content-language"] == "en"
    assert "Kommunens overblik" in municipal.text  # no header: Danish
