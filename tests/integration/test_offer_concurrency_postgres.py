"""Twenty caseworkers offer one vacancy at once, each through a node application of its own on one store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from uuid import UUID, uuid4

import pytest

from adapters.eventstore.storage import ShreddingStorage
from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.errors import ConcurrencyConflict, VacancyAlreadyOffered
from coordination.domain.vacancy import Vacancy
from tests.application.builders import CIVICA, CONSULTANT, at, publish, register_family

WRITERS = 20


@pytest.fixture
def apps(store_env: dict[str, str]) -> Iterator[list[HousingOrganisationApp]]:
    """One application for the set-up and one per writer, all on the same events table."""
    # Small pools: 21 applications with the default pool of 5 would come near PostgreSQL's 100 connections.
    env = {**store_env, "POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "1", "SQLITE_LOCK_TIMEOUT": "30"}
    opened = [
        HousingOrganisationApp(storage=ShreddingStorage(), organisation=CIVICA, env=env, cpr_secret=b"k" * 32)
        for _ in range(WRITERS + 1)
    ]
    yield opened
    for app in opened:
        app.close()


@pytest.mark.parametrize(
    "store_env",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        # Separate applications on one SQLite file: its single writer lock serialises the transactions,
        # and each loser's insert then collides on the vacancy's version like on PostgreSQL.
        "sqlite",
    ],
    indirect=True,
)
def test_one_vacancy_offered_by_twenty_writers_at_once_gets_exactly_one_offer(
    apps: list[HousingOrganisationApp],
) -> None:
    setup, writers = apps[0], apps[1:]
    households = [register_family(setup, case_reference=f"CIVICA-2026-{n:04d}") for n in range(WRITERS)]
    vacancy_id = publish(setup)
    start = threading.Barrier(WRITERS)
    outcomes: list[UUID | Exception | None] = [None] * WRITERS

    def offer(n: int) -> None:
        start.wait()
        try:
            outcomes[n] = writers[n].make_offer(
                command_id=uuid4(), household_id=households[n], vacancy_id=vacancy_id, at=at(1), by=CONSULTANT
            )
        except Exception as refused:  # every outcome is checked below
            outcomes[n] = refused

    threads = [threading.Thread(target=offer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    offers = [outcome for outcome in outcomes if isinstance(outcome, UUID)]
    refusals = [outcome for outcome in outcomes if not isinstance(outcome, UUID)]
    assert len(offers) == 1, outcomes
    assert all(isinstance(r, (ConcurrencyConflict, VacancyAlreadyOffered)) for r in refusals), refusals
    reserved = [e for e in setup.events.get(vacancy_id) if isinstance(e, Vacancy.OfferReserved)]
    assert len(reserved) == 1
    assert reserved[0].offer_id == offers[0]
    assert setup.vacancy(vacancy_id).live_offer_id == offers[0]
    winner = households[outcomes.index(offers[0])]
    for household_id in households:
        offered = setup.household(household_id, today=at().date()).offers
        assert [o.offer_id for o in offered] == ([offers[0]] if household_id == winner else [])
