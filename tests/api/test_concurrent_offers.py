"""50 concurrent requests on one vacancy through a real uvicorn server: exactly one offer, one acceptance."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import uvicorn

from adapters.http.app import create_app
from coordination.domain.household import Household
from coordination.domain.vacancy import Vacancy
from ops.demo.reference_scenario import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, CIVICA
from tests.api.conftest import Organisations, config_for
from tests.api.story import dwelling, family

RACERS = 50


@pytest.fixture
def served(organisations: Organisations) -> Iterator[tuple[Organisations, str]]:
    """CIVICA's node behind a real uvicorn on 127.0.0.1 (a free port), stopped after the test."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(organisations.nodes[CIVICA], config_for(CIVICA, organisations.keys))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield organisations, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _race(base: str, token: str, requests: list[tuple[str, Any, str | None]]) -> Counter[int]:
    """Send every (path, body, If-Match or None) at once, each with its own idempotency key."""
    barrier = threading.Barrier(len(requests))

    def send(request: tuple[str, Any, str | None]) -> int:
        path, body, etag = request
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid4())}
        if etag is not None:
            headers["If-Match"] = etag
        with httpx.Client(base_url=base, timeout=60) as client:
            barrier.wait()
            return client.post(path, json=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return Counter(pool.map(send, requests))


def _post(client: httpx.Client, token: str, path: str, body: Any, etag: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid4())}
    if etag:
        headers["If-Match"] = etag
    response = client.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response


def test_fifty_concurrent_accepts_of_the_offer_make_one_acceptance(served: tuple[Organisations, str]) -> None:
    orgs, base = served
    token = orgs.token(CIVICA, "civica-gk-07", "rehousing_consultant")
    with httpx.Client(base_url=base, timeout=30) as client:
        household = _post(client, token, "/households", family())
        vacancy = _post(client, token, "/vacancies", dwelling(rooms=6)).json()["id"]
        hid = household.json()["id"]
        offered = _post(
            client, token, f"/households/{hid}/offers", {"vacancy_id": vacancy}, household.headers["ETag"]
        )
    offer, etag = offered.json()["id"], offered.headers["ETag"]
    statuses = _race(base, token, [(f"/households/{hid}/offers/{offer}/acceptance", None, etag)] * RACERS)
    assert statuses[200] == 1, statuses
    assert statuses[409] + statuses[412] == RACERS - 1, statuses
    assert sum(isinstance(e, Vacancy.OfferAccepted) for e in _recorded(orgs, vacancy)) == 1
    assert sum(isinstance(e, Household.OfferAccepted) for e in _recorded(orgs, hid)) == 1


def test_fifty_concurrent_offers_of_one_vacancy_to_fifty_households_make_one_offer(
    served: tuple[Organisations, str],
) -> None:
    orgs, base = served
    token = orgs.token(CIVICA, "civica-gk-07", "rehousing_consultant")
    with httpx.Client(base_url=base, timeout=30) as client:
        vacancy = _post(client, token, "/vacancies", dwelling(rooms=6)).json()["id"]
        households = [
            _post(client, token, "/households", {**family(), "case_reference": f"CIV-RACE-{n}"})
            for n in range(RACERS)
        ]
    requests = [
        (f"/households/{h.json()['id']}/offers", {"vacancy_id": vacancy}, h.headers["ETag"])
        for h in households
    ]
    statuses = _race(base, token, requests)
    assert statuses[200] == 1, statuses
    assert statuses[409] + statuses[412] == RACERS - 1, statuses
    assert sum(isinstance(e, Vacancy.OfferReserved) for e in _recorded(orgs, vacancy)) == 1


def test_concurrent_referrals_of_one_household_sent_without_if_match_are_all_made(
    served: tuple[Organisations, str],
) -> None:
    """A referral is decided on the household as it is when it lands, not on a version the consultant read:
    colleagues referring one family at once each get their referral, none a conflict to resend by hand
    (each changes the household's network, so their saves collide in the store and are decided again)."""
    orgs, base = served
    token = orgs.token(CIVICA, "civica-gk-07", "rehousing_consultant")
    with httpx.Client(base_url=base, timeout=30) as client:
        hid = _post(client, token, "/households", family()).json()["id"]
    referrals = [(f"/households/{hid}/referrals", body, None) for body in _the_familys_referrals()]
    statuses = _race(base, token, referrals)
    assert statuses == Counter({201: len(referrals)}), statuses
    with httpx.Client(base_url=base, timeout=30) as client:
        status = client.get(
            f"/households/{hid}/status",
            headers={"Authorization": f"Bearer {token}", "X-Purpose": "case work"},
        )
    assert status.status_code == 200, status.text
    made = {(r["kind"], r["receiver"]) for r in status.json()["open_referrals"]}
    assert made == {("bridge_building", BRIDGE_BUILDER), ("school_change", CHILDREN_AND_YOUTH)}, made
    assert len(status.json()["open_referrals"]) == len(referrals), status.json()


def _the_familys_referrals() -> list[dict[str, Any]]:
    """Four referrals of the reference family: bridge building and a school change for each school child."""
    school = [
        {"receiver": CHILDREN_AND_YOUTH, "kind": "school_change", "child_id": child}
        for child in ("C1", "C2", "C3")
    ]
    return [{"receiver": BRIDGE_BUILDER, "kind": "bridge_building"}, *school]


def _recorded(orgs: Organisations, aggregate_id: str) -> list[Any]:
    """The aggregate's stored events, read back from the node's store."""
    app = orgs.nodes[CIVICA].app
    return [app.mapper.to_domain_event(item) for item in app.recorder.select_events(UUID(aggregate_id))]
