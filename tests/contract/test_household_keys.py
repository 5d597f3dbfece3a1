"""A node's household keys on SQLite and PostgreSQL: made once, shared by every reader of the database,
and gone for good after erasure, even for a process that never saw the key."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from adapters.eventstore.household_keys import HouseholdKeys
from adapters.sql.node_db import SqlDatabase, Tx, database_for
from coordination.domain.errors import HouseholdErased

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def env(shared_store_env: dict[str, str]) -> dict[str, str]:
    return shared_store_env


class CountedTransactions:
    """The node's database, counting the transactions asked of it."""

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        self.dialect = db.dialect
        self.count = 0

    def transaction(self) -> AbstractContextManager[Tx]:
        self.count += 1
        return self.db.transaction()

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.count += 1  # a statement in a transaction of its own
        return self.db.run(sql, params)


@pytest.fixture
def databases(env: dict[str, str]) -> Iterator[list[Any]]:
    """The node databases a test opened (each `_keys` call is another process's connection), closed after."""
    opened: list[Any] = []
    yield opened
    for db in opened:
        db.close()


def _keys(env: dict[str, str], opened: list[Any]) -> tuple[HouseholdKeys, CountedTransactions]:
    db = database_for(env)
    opened.append(db)
    counted = CountedTransactions(db)
    return HouseholdKeys(counted), counted


def test_a_new_households_key_is_made_in_one_transaction_and_read_alike_elsewhere(
    env: dict[str, str], databases: list[Any]
) -> None:
    here, counted = _keys(env, databases)
    elsewhere, _ = _keys(env, databases)
    household = uuid4()
    before = counted.count

    key = here.for_writing(household)

    assert counted.count - before == 1
    assert len(key) == 32
    assert here.for_writing(household) == key  # kept: no second key, no further transaction
    assert counted.count - before == 1
    assert elsewhere.for_reading(household) == key
    assert elsewhere.for_writing(household) == key
    assert here.for_writing(uuid4()) != key


def test_after_erasure_no_process_can_write_under_the_household_again(
    env: dict[str, str], databases: list[Any]
) -> None:
    here, _ = _keys(env, databases)
    household = uuid4()
    here.for_writing(household)

    assert here.erase(household, AT)

    never_saw_it, _ = _keys(env, databases)
    with pytest.raises(HouseholdErased, match=str(household)):
        never_saw_it.for_writing(household)
    assert never_saw_it.for_reading(household) is None
    with pytest.raises(HouseholdErased):
        here.for_writing(household)
    assert never_saw_it.is_erased(household)


def test_a_household_erased_before_it_had_a_key_never_gets_one(
    env: dict[str, str], databases: list[Any]
) -> None:
    here, _ = _keys(env, databases)
    household = uuid4()

    assert not here.erase(household, AT)  # a tombstone: there was no key to wipe

    with pytest.raises(HouseholdErased):
        _keys(env, databases)[0].for_writing(household)


def _here_and_elsewhere(
    env: dict[str, str], databases: list[Any], *, check_every: float
) -> tuple[HouseholdKeys, HouseholdKeys, list[Any]]:
    """Two processes' keys on one database; the households `here` notices erased elsewhere."""
    here = HouseholdKeys(database_for(env), check_erasures_every=check_every)
    databases.append(here._db)
    elsewhere, _ = _keys(env, databases)
    noticed: list[Any] = []
    here.on_erased_elsewhere(noticed.append)
    return here, elsewhere, noticed


def test_a_key_cached_here_is_forgotten_soon_after_another_process_erases_the_household(
    env: dict[str, str], databases: list[Any]
) -> None:
    # E.g. `coordination parked retry` applying an erasure notice while the node serves.
    here, elsewhere, noticed = _here_and_elsewhere(env, databases, check_every=0.2)
    household, other = uuid4(), uuid4()
    here.for_writing(household)
    here.for_writing(other)

    assert elsewhere.erase(household, AT)

    deadline = time.monotonic() + 5
    while here.for_reading(household) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert here.for_reading(household) is None
    with pytest.raises(HouseholdErased):
        here.for_writing(household)
    assert noticed == [household]
    assert here.for_reading(other) is not None  # only the erased household's key is forgotten


def test_a_process_does_not_notice_its_own_erasure_as_another_processs(
    env: dict[str, str], databases: list[Any]
) -> None:
    here, elsewhere, noticed = _here_and_elsewhere(env, databases, check_every=0.0)
    mine, theirs = uuid4(), uuid4()

    here.erase(mine, AT)  # its hooks ran here already (NodeApplication.shred_household)
    elsewhere.erase(theirs, AT)
    here.notice_erasures()

    assert noticed == [theirs]


def test_a_subject_stays_about_the_household_first_remembered_in_every_process(
    env: dict[str, str], databases: list[Any]
) -> None:
    here, _ = _keys(env, databases)
    elsewhere, _ = _keys(env, databases)
    offer, household, stand_in = uuid4(), uuid4(), uuid4()

    assert here.remember(offer, household) == household
    # Named with another household later (the mirror of a reservation names only a stand-in): still the
    # first, here as elsewhere, so what is encrypted under it opens in every process.
    assert here.remember(offer, stand_in) == household
    assert elsewhere.remember(offer, stand_in) == household
    assert here.household_of(offer) == elsewhere.household_of(offer) == household
