"""A caseworker reads Danish by default and English on `Accept-Language: en`: a sample of every kind of
problem the API answers, asked in Danish, without the header and in English, carries no word of the other
language; every response says its language in `Content-Language`."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from adapters.http.i18n import DANISH, ENGLISH, format_date, format_datetime
from coordination.domain.values import Actor, Role
from ops.demo.reference_scenario import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, CIVICA
from tests.api.conftest import Api, Organisations
from tests.api.story import MOVE, dwelling, etag_of, family, people, step

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
    r"|\bodense-[\w-]+"  # an organisation's id (odense-boern-og-unge)
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
        "a daycare referral without its child (422)": client.post(
            f"/households/{household}/referrals",
            json={"receiver": CHILDREN_AND_YOUTH, "kind": "daycare_fast_track"},
            headers=headers(consultant),
        ),
        "a daycare referral without its date and area (422)": client.post(
            f"/households/{household}/referrals",
            json={"receiver": CHILDREN_AND_YOUTH, "kind": "daycare_fast_track", "child_id": "C4"},
            headers=headers(consultant),
        ),
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


def new_route_problems(orgs: Organisations, language: str | None) -> dict[str, Any]:
    """One problem of each route the caseworker's day added (caseload, worklist, record, inbox, webhooks,
    daycare places), asked in `language`."""
    p = people(orgs)
    consultant, bridge_builder = p.consultant, p.bridge_builder

    def ask(api: Api, method: str, path: str, **options: Any) -> Any:
        sent = {k: v for k, v in api.headers.items() if k != "Accept-Language"}
        if language is not None:
            sent["Accept-Language"] = language
        extra = options.pop("headers", {})
        headers = {**sent, "Idempotency-Key": str(uuid4()), "X-Purpose": "case work", **extra}
        return api.client.request(method, path, headers=headers, **options)

    household, h = step(consultant, "/households", family(), status=201)
    record = f"/households/{household}"
    return {
        "caseload: a cursor of nothing (400)": ask(consultant, "GET", "/households", params={"cursor": "x"}),
        "worklist: another person (422)": ask(consultant, "GET", "/worklist", params={"person": "bb-ole"}),
        "record: reopening a household not settled (409)": ask(
            consultant,
            "POST",
            f"{record}/reopening",
            json={"reason": "Familien ringede"},
            headers={"If-Match": h},
        ),
        "record: amended by a stranger's role (403)": ask(
            bridge_builder, "POST", f"{record}/needs", json={"needs": []}, headers={"If-Match": h}
        ),
        "inbox: a cursor of nothing (400)": ask(bridge_builder, "GET", "/inbox", params={"cursor": "x"}),
        "inbox: no such notification (404)": ask(bridge_builder, "POST", f"/inbox/{uuid4()}/read"),
        "webhooks: no such webhook (404)": ask(consultant, "GET", f"/webhooks/{uuid4()}/deliveries"),
        "daycare places: no such referral (404)": ask(
            p.daycare, "POST", f"/referrals/{uuid4()}/place", json={}
        ),
    }


@pytest.mark.parametrize("language", ["da", None])
def test_the_new_routes_problems_reach_a_danish_reader_without_english(
    memory_organisations: Organisations, language: str | None
) -> None:
    for kind, response in new_route_problems(memory_organisations, language).items():
        assert 400 <= response.status_code < 500, (kind, response.text)
        assert response.headers["content-language"] == "da", kind
        for text in texts(response):
            assert words(text), (kind, text)
            assert words(text) & ENGLISH_WORDS == set(), (kind, text)


def test_the_new_routes_problems_reach_an_english_reader_without_danish(
    memory_organisations: Organisations,
) -> None:
    for kind, response in new_route_problems(memory_organisations, "en").items():
        assert 400 <= response.status_code < 500, (kind, response.text)
        assert response.headers["content-language"] == "en", kind
        for text in texts(response):
            assert words(text) & DANISH_WORDS == set(), (kind, text)
            assert not re.search("[æøåÆØÅ]", text), (kind, text)


def _read(api: Api, path: str, language: str, **params: Any) -> Any:
    headers = {**api.headers, "Accept-Language": language, "X-Purpose": "case work"}
    answer = api.client.get(path, headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_worklist_and_the_inbox_say_what_is_due_in_the_readers_language_with_its_date(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    p = people(orgs)
    ends = (datetime.now(UTC) + timedelta(days=25)).date()
    household, h = step(
        p.consultant, "/households", {**family(), "termination_date": ends.isoformat()}, status=201
    )

    [danish] = [i for i in _read(p.consultant, "/worklist", "da")["items"] if i["household_id"] == household]
    [english] = [i for i in _read(p.consultant, "/worklist", "en")["items"] if i["household_id"] == household]
    assert danish["label"] == "Lejemål ophører uden accepteret tilbud"
    assert danish["text"] == (
        f"Lejemålet for husstand {household} ophører den {format_date(ends, DANISH)}, og intet tilbud er accepteret"
    )
    assert english["label"] == "Lease ending without an accepted offer"
    assert english["text"] == (
        f"The lease of household {household} ends on {format_date(ends, ENGLISH)} and no offer is accepted"
    )

    handoff, _ = step(
        p.consultant, f"/households/{household}/move", {"move": MOVE, "hand_off_to": BRIDGE_BUILDER}, etag=h
    )
    orgs.settle()
    [received] = _read(p.bridge_builder, "/inbox", "da")["items"]
    [told] = _read(p.bridge_builder, "/inbox", "en")["items"]
    due = format_datetime(datetime.fromisoformat(received["due"]), DANISH)
    assert (received["label"], received["text"]) == (
        "Henvisning modtaget",
        f"Henvisning {handoff} er modtaget; kvittér for den senest {due}",
    )
    assert " kl. " in due
    assert told["label"] == "Referral received"
    assert told["text"].startswith(f"Referral {handoff} was received; acknowledge it by ")
    owed = [i for i in _read(p.bridge_builder, "/worklist", "da")["items"] if i["referral_id"] == handoff]
    assert [
        (i["label"], i["text"].startswith(f"Kvittér for henvisning {handoff} senest ")) for i in owed
    ] == [("Kvittering mangler", True)]


def test_a_reason_code_is_labelled_in_the_readers_language_in_the_referral(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    p = people(orgs)
    household, h = step(p.consultant, "/households", family(), status=201)
    _, h = step(p.consultant, f"/households/{household}/first-contact", etag=h)
    _, h = step(p.consultant, f"/households/{household}/inspiration-tours", {"areas": ["Odense C"]}, etag=h)
    _, h = step(p.consultant, f"/households/{household}/tasks-found", {"tasks": ["job search"]}, etag=h)
    referral, _ = step(
        p.consultant,
        f"/households/{household}/referrals",
        {"receiver": BRIDGE_BUILDER, "kind": "bridge_building"},
        status=201,
    )
    path = f"/referrals/{referral}"
    step(
        p.consultant,
        f"{path}/withdrawal",
        {"reason_code": "has_other_housing"},
        etag=etag_of(p.consultant, path),
    )

    [danish] = _read(p.consultant, path, "da")["reasons"]
    [english] = _read(p.consultant, path, "en")["reasons"]
    assert (danish["code"], danish["label"]) == (
        "has_other_housing",
        "Husstanden har fundet bolig andetsteds.",
    )
    assert english["label"] == "The household has found housing elsewhere."


def test_an_erased_households_gone_problem_is_a_whole_sentence_in_each_language(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    consultant = people(orgs).consultant
    household, _ = step(consultant, "/households", family(), status=201)
    orgs.nodes[CIVICA].app.erase_household(  # type: ignore[attr-defined]
        command_id=uuid4(),
        household_id=UUID(household),
        legal_ground="GDPR art. 17",
        at=datetime.now(UTC),
        by=Actor(organisation=CIVICA, person="p-1", role=Role.REHOUSING_CONSULTANT),
    )
    orgs.settle()
    asked = {
        language: consultant.client.get(
            f"/households/{household}/status",
            headers={**consultant.headers, "Accept-Language": language, "X-Purpose": "case work"},
        )
        for language in ("da", "en")
    }
    assert {language: answer.status_code for language, answer in asked.items()} == {"da": 410, "en": 410}
    assert asked["da"].json()["detail"] == (
        f"Husstand {household} blev slettet hos {CIVICA} (ejeren har registreringen på /erasures/{household})"
    )
    assert words(asked["da"].json()["detail"]) & ENGLISH_WORDS == set()
    assert words(asked["en"].json()["detail"]) & DANISH_WORDS == set()


def test_a_households_settlement_gaps_read_in_the_readers_language(
    memory_organisations: Organisations,
) -> None:
    consultant = people(memory_organisations).consultant
    household, _ = step(consultant, "/households", family(), status=201)
    danish = _read(consultant, f"/households/{household}", "da")["settlement_gaps"]
    english = _read(consultant, f"/households/{household}", "en")["settlement_gaps"]
    assert "husstanden er ikke flyttet endnu" in danish
    assert "the household has not moved yet" in english
    assert all(words(gap) & ENGLISH_WORDS == set() for gap in danish), danish
