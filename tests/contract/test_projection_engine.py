"""The projection engine keeps its promises on every view store: in-memory SQLite, SQLite file, PostgreSQL.

Each backend of `store_env` is paired with one view store: the in-memory event store with in-memory
SQLite views, the SQLite event store with a SQLite views file of its own, PostgreSQL with a views schema
of its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import MapperDeserialisationError
from pydantic import ValidationError

from adapters.eventstore.event_decoding import StoredEventDecoder
from adapters.sql.view_stores import PostgresViewStore, SQLiteViewStore
from coordination.domain.vacancy import Vacancy
from coordination.domain.values import Money, Place
from coordination.projections.definition import EventHeader, Projection, handles
from coordination.projections.rebuild import compare, drop, rebuild
from coordination.projections.runner import ProjectionRunner
from coordination.projections.transaction import ProjectionTx
from coordination.projections.view_store import ViewStore
from ops.bench.fixtures.projection_toys import (
    AT,
    CONSULTANT,
    OpenVacanciesByArea,
    StoreApp,
    accept,
    decline,
    dwelling,
    open_counts,
    publish,
    reserve,
    statuses,
    withdraw,
)

OpenViews = Callable[[], ViewStore]


@pytest.fixture
def app(store_env: dict[str, str]) -> Iterator[Application]:
    app = StoreApp(env=store_env)
    yield app
    app.close()


@pytest.fixture
def open_views(
    store_env: dict[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[OpenViews]:
    """Opens view stores on the backend paired with the test's event store; every call is a new client."""
    opened: list[Any] = []
    backend = store_env["PERSISTENCE_MODULE"]
    memory = SQLiteViewStore(":memory:") if backend == "eventsourcing.popo" else None
    schema = f"{store_env.get('POSTGRES_SCHEMA')}_views"

    def open_() -> ViewStore:
        if memory is not None:
            # An in-memory database is private to its connection, so "another client" is the same store.
            return memory
        if backend == "eventsourcing.sqlite":
            store: Any = SQLiteViewStore(tmp_path / "views.db")
        else:
            store = PostgresViewStore(request.getfixturevalue("postgres_server").dsn, schema=schema)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()
    if memory is not None:
        memory.close()
    if backend == "eventsourcing.postgres":
        with psycopg.connect(request.getfixturevalue("postgres_server").dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def runner(
    app: Application, views: ViewStore, projection: Any = None, batch_size: int = 1000
) -> ProjectionRunner:
    return ProjectionRunner(
        app,
        projection or OpenVacanciesByArea(),
        views,
        batch_size=batch_size,
        decoding=StoredEventDecoder(app.mapper),
    )


def test_each_event_is_applied_once_and_the_position_tracked(app: Application, open_views: OpenViews) -> None:
    a1, _, b1, _ = (publish(app, area) for area in "AABB")
    reserve(app, a1)
    reserve(app, b1)
    accept(app, b1)
    live = runner(app, open_views(), batch_size=3)

    applied = live.run_until_caught_up()

    assert applied == 7
    assert open_counts(live) == {"A": 1, "B": 1}
    assert statuses(live)[str(a1.id)] == "reserved"
    assert statuses(live)[str(b1.id)] == "let"
    assert live.position() == app.recorder.max_notification_id()
    assert live.run_once() == 0


def test_a_new_runner_resumes_from_the_tracked_position(app: Application, open_views: OpenViews) -> None:
    publish(app, "A")
    publish(app, "A")
    runner(app, open_views()).run_until_caught_up()
    publish(app, "B")

    restarted = runner(app, open_views())

    assert restarted.run_once() == 1
    assert open_counts(restarted) == {"A": 2, "B": 1}


def test_a_batch_another_runner_applied_first_changes_nothing(
    app: Application, open_views: OpenViews
) -> None:
    vacancy = publish(app, "A")
    reserve(app, vacancy)
    slow, fast = runner(app, open_views()), runner(app, open_views())
    stale = slow.fetch_batch()
    fast.run_until_caught_up()

    assert slow.apply_batch(stale) == 0
    assert slow.run_once() == 0
    assert open_counts(slow) == {}
    assert statuses(slow) == {str(vacancy.id): "reserved"}


def test_runners_racing_on_threads_apply_every_event_exactly_once(
    app: Application, open_views: OpenViews
) -> None:
    vacancies = [publish(app, area) for area in "ABCABCABCA"]
    for vacancy in vacancies[:4]:
        reserve(app, vacancy)
    racers = [runner(app, open_views(), batch_size=2) for _ in range(3)]

    def forty_batches(one: ProjectionRunner) -> None:
        for _ in range(40):
            one.run_once()

    assert _race(racers, forty_batches) == []
    assert racers[0].lag() == 0
    assert open_counts(racers[0]) == {"A": 2, "B": 2, "C": 2}


def _race(racers: list[ProjectionRunner], run: Callable[[ProjectionRunner], Any]) -> list[BaseException]:
    """Runs `run` for every racer on a thread of its own, all started at once; what they raised."""
    start = threading.Barrier(len(racers))
    errors: list[BaseException] = []

    def race(one: ProjectionRunner) -> None:
        start.wait()
        try:
            run(one)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(one,)) for one in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


class PoisonedByOneVacancy(OpenVacanciesByArea):
    """The toy projection with a bug that bites on one vacancy's reservation."""

    poisoned: str = ""

    @handles(Vacancy.OfferReserved)
    def reserved(self, event: Vacancy.OfferReserved, tx: ProjectionTx) -> None:
        super().reserved(event, tx)
        if str(event.originator_id) == self.poisoned:
            raise KeyError("no such receiving area")


def _poisoned(vacancy: Vacancy) -> PoisonedByOneVacancy:
    projection = PoisonedByOneVacancy()
    projection.poisoned = str(vacancy.id)
    return projection


def test_a_poison_event_is_parked_with_its_reason_and_the_rest_applied(
    app: Application, open_views: OpenViews
) -> None:
    good, bad = publish(app, "A"), publish(app, "B")
    reserve(app, bad)
    reserve(app, good)
    poison_position = 3
    live = runner(app, open_views(), _poisoned(bad))

    assert live.run_until_caught_up() == 4

    [parked] = live.parked()
    assert parked.position == poison_position
    assert parked.topic.endswith("Vacancy.OfferReserved")
    assert parked.originator_id == str(bad.id)
    assert parked.originator_version == 2
    assert parked.error_type == "KeyError"
    assert "no such receiving area" in parked.error_message
    assert parked.attempts == 1
    assert live.lag() == 0
    # The parked event's own writes were rolled back; everything else is in.
    assert statuses(live) == {str(good.id): "reserved", str(bad.id): "open"}
    assert open_counts(live) == {"B": 1}


class RefusedByTheDatabase(OpenVacanciesByArea):
    """A bug the database catches: a write of NULL into a NOT NULL column for expensive dwellings."""

    @handles(Vacancy.Published)
    def published(self, event: Vacancy.Published, tx: ProjectionTx) -> None:
        super().published(event, tx)
        if event.dwelling.rent.dkk > 9000:
            tx.execute(
                "UPDATE {toy_vacancies} SET area = NULL WHERE vacancy_id = ?", (str(event.originator_id),)
            )


def _publish_expensive(app: Application, area: str) -> Vacancy:
    expensive = dwelling(area).model_copy(update={"rent": Money(dkk=Decimal("9500.00"))})
    vacancy = Vacancy.publish(id=uuid4(), dwelling=expensive, at=AT, by=CONSULTANT)
    app.save(vacancy)
    return vacancy


def test_a_write_the_database_refuses_parks_only_its_own_event(
    app: Application, open_views: OpenViews
) -> None:
    publish(app, "A")
    publish(app, "B")
    expensive = _publish_expensive(app, "C")
    publish(app, "A")
    live = runner(app, open_views(), RefusedByTheDatabase())

    live.run_until_caught_up()

    [parked] = live.parked()
    assert parked.position == 3
    assert parked.error_type == "StatementFailed"
    assert str(expensive.id) not in statuses(live)
    assert open_counts(live) == {"A": 2, "B": 1}
    assert live.lag() == 0


def test_an_event_that_cannot_be_decoded_is_parked_without_its_data(
    app: Application, open_views: OpenViews, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, unreadable = publish(app, "A"), publish(app, "Korsløkke")
    decode = app.mapper.to_domain_event

    def broken_decoder(stored: Any) -> Any:
        if stored.originator_id == unreadable.id:
            try:
                Place.model_validate({"municipality": "Odense", "area": 42})
            except ValidationError as exc:
                raise MapperDeserialisationError("Failed to deserialise: " + str(exc)) from exc
        return decode(stored)

    monkeypatch.setattr(app.mapper, "to_domain_event", broken_decoder)
    live = runner(app, open_views())

    live.run_until_caught_up()

    [parked] = live.parked()
    assert parked.originator_id == str(unreadable.id)
    assert parked.error_type == "MapperDeserialisationError"
    assert "area" in parked.error_message
    assert "42" not in parked.error_message
    assert statuses(live) == {str(good.id): "open"}


def test_a_parked_event_is_applied_by_a_retry_after_the_fix(app: Application, open_views: OpenViews) -> None:
    good, bad = publish(app, "A"), publish(app, "B")
    reserve(app, bad)
    views = open_views()
    broken = runner(app, views, _poisoned(bad))
    broken.run_until_caught_up()

    assert [p.attempts for p in broken.retry_parked()] == [2]  # still broken: parked again

    fixed = runner(app, views)  # the same projection instance, with the bug fixed
    assert fixed.retry_parked() == []
    assert fixed.parked() == []
    assert statuses(fixed) == {str(good.id): "open", str(bad.id): "reserved"}
    assert open_counts(fixed) == {"A": 1}
    assert fixed.retry_parked() == []


def test_a_rebuild_under_a_new_suffix_equals_the_live_one(app: Application, open_views: OpenViews) -> None:
    vacancies = [publish(app, area) for area in "ABCAB"]
    live = runner(app, open_views(), batch_size=2)
    live.run_until_caught_up()
    reserve(app, vacancies[0])
    decline(app, vacancies[0])
    reserve(app, vacancies[1])
    accept(app, vacancies[1])
    withdraw(app, vacancies[2])
    live.run_until_caught_up()

    rebuilt = rebuild(
        app, OpenVacanciesByArea, open_views(), "rebuild_1", decoding=StoredEventDecoder(app.mapper)
    )

    assert rebuilt.projection.table_names["toy_vacancies"] == "toy_vacancies__rebuild_1"
    assert rebuilt.position() == live.position()
    assert compare(live, rebuilt) == []
    assert open_counts(rebuilt) == {"A": 2, "B": 1}
    drop(rebuilt)
    assert runner(app, open_views(), OpenVacanciesByArea("rebuild_1")).lag() == live.position()


def test_compare_names_every_corrupted_row(app: Application, open_views: OpenViews) -> None:
    reserved, lost, _ = (publish(app, area) for area in "ABC")
    reserve(app, reserved)
    views = open_views()
    live = runner(app, views)
    live.run_until_caught_up()
    rebuilt = rebuild(app, OpenVacanciesByArea, views, "rebuild_2", decoding=StoredEventDecoder(app.mapper))
    vacancies, counts = (
        live.projection.table_names["toy_vacancies"],
        live.projection.table_names["toy_open_by_area"],
    )
    with views.transaction() as tx:
        tx.execute(f"UPDATE {vacancies} SET status = 'open' WHERE vacancy_id = ?", (str(reserved.id),))
        tx.execute(f"DELETE FROM {vacancies} WHERE vacancy_id = ?", (str(lost.id),))
        tx.execute(f"INSERT INTO {counts} VALUES ('Odense', 'Nowhere', 3)")

    found = {(d.table, d.kind, tuple(d.key.values())) for d in compare(live, rebuilt)}

    assert found == {
        ("toy_vacancies", "different", (str(reserved.id),)),
        ("toy_vacancies", "missing", (str(lost.id),)),
        ("toy_open_by_area", "extra", ("Odense", "Nowhere")),
    }
    different = next(d for d in compare(live, rebuilt) if d.kind == "different")
    assert str(different) == f"toy_vacancies {{'vacancy_id': '{reserved.id}'}}: different in status"


def test_lag_counts_the_events_not_yet_applied(app: Application, open_views: OpenViews) -> None:
    live = runner(app, open_views(), batch_size=2)
    assert live.lag() == 0
    for area in "ABCDE":
        publish(app, area)

    assert live.lag() == 5
    live.run_once()
    assert live.lag() == 3
    live.run_until_caught_up()
    assert live.lag() == 0


def test_a_runner_on_its_own_thread_follows_the_log(app: Application, open_views: OpenViews) -> None:
    live = runner(app, open_views(), batch_size=2)
    live.start(max_sleep=0.05)
    try:
        for area in "ABA":
            publish(app, area)
        deadline = time.monotonic() + 10
        while live.lag() and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        live.stop()

    assert live.lag() == 0
    assert open_counts(live) == {"A": 2, "B": 1}


@pytest.mark.postgres
def test_a_runner_carries_on_after_its_postgres_connection_is_killed(postgres_server: Any) -> None:
    app = StoreApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    schema = f"views_{uuid4().hex[:8]}"
    views = PostgresViewStore(postgres_server.dsn, schema=schema)
    try:
        live = runner(app, views)
        publish(app, "A")
        live.run_once()
        publish(app, "B")
        pids = [views._reader.info.backend_pid, views._writer.info.backend_pid]
        with psycopg.connect(postgres_server.dsn, autocommit=True) as admin:
            # Waiting until each backend has gone, as after a server restart.
            admin.execute("SELECT pg_terminate_backend(pid, 5000) FROM unnest(%s::int[]) AS pid", (pids,))
        # The server hung up on both: each is found gone before it is used, and replaced.
        assert live.run_until_caught_up() == 1
        assert open_counts(live) == {"A": 1, "B": 1}
        assert views._reader.info.backend_pid not in pids
        assert views._writer.info.backend_pid not in pids
    finally:
        views.close()
        app.close()
        with psycopg.connect(postgres_server.dsn, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


class LatestVersions(Projection):
    """Reads every vacancy's area from its Published event but only the header of the others."""

    name = "latest_versions"
    tables = {"latest_versions": "vacancy_id TEXT PRIMARY KEY, area TEXT NOT NULL, version INTEGER NOT NULL"}

    @handles(Vacancy.Published)
    def published(self, event: Vacancy.Published, tx: ProjectionTx) -> None:
        row = {"vacancy_id": str(event.originator_id), "area": event.dwelling.place.area, "version": 1}
        tx.upsert("latest_versions", row)

    @handles(Vacancy.OfferReserved, Vacancy.OfferDeclined, header_only=True)
    def stepped(self, event: EventHeader, tx: ProjectionTx) -> None:
        assert not isinstance(event, Vacancy.Event)
        tx.update("latest_versions", (str(event.originator_id),), version=event.originator_version)


def test_a_header_only_handler_is_not_given_the_decoded_event_nor_parked_when_it_cannot_be_decoded(
    app: Application, open_views: OpenViews, monkeypatch: pytest.MonkeyPatch
) -> None:
    vacancy = publish(app, "A")
    reserve(app, vacancy)
    decline(app, vacancy)
    unreadable = publish(app, "B")
    decode = app.mapper.to_domain_event

    def broken_decoder(stored: Any) -> Any:
        if stored.originator_id in (vacancy.id, unreadable.id) and stored.originator_version > 1:
            raise AssertionError("a header-only event was decoded")
        if stored.originator_id == unreadable.id:
            raise MapperDeserialisationError("Failed to deserialise")
        return decode(stored)

    monkeypatch.setattr(app.mapper, "to_domain_event", broken_decoder)
    live = ProjectionRunner(app, LatestVersions(), open_views(), decoding=StoredEventDecoder(app.mapper))

    live.run_until_caught_up()

    [parked] = live.parked()
    assert parked.originator_id == str(unreadable.id)
    rows = live.view_store.query("SELECT * FROM latest_versions__live")
    assert rows == [{"vacancy_id": str(vacancy.id), "area": "A", "version": 3}]


def test_a_filtered_read_in_windows_smaller_than_the_log_applies_every_handled_event_once(
    app: Application, open_views: OpenViews
) -> None:
    vacancies = [publish(app, "A") for _ in range(5)]
    for vacancy in vacancies:
        for _ in range(3):
            reserve(app, vacancy)
            decline(app, vacancy)
        reserve(app, vacancy)
        accept(app, vacancy)  # not handled: the reads skip it
    live = ProjectionRunner(
        app, LatestVersions(), open_views(), batch_size=2, decoding=StoredEventDecoder(app.mapper)
    )

    live.run_until_caught_up()

    rows = live.view_store.query("SELECT vacancy_id, version FROM latest_versions__live ORDER BY vacancy_id")
    assert rows == sorted(
        ({"vacancy_id": str(v.id), "version": 8} for v in vacancies), key=lambda r: r["vacancy_id"]
    )
    assert live.position() == app.recorder.max_notification_id()
    assert live.parked() == []


# Catching up in many batches: each is handled while the one before it is written.


def test_a_catch_up_in_one_event_batches_parks_a_poison_event_and_a_refused_write_and_applies_the_rest(
    app: Application, open_views: OpenViews
) -> None:
    good, bad = publish(app, "A"), publish(app, "B")
    reserve(app, bad)
    expensive = _publish_expensive(app, "C")
    reserve(app, good)
    publish(app, "A")

    class PoisonedAndRefused(RefusedByTheDatabase, PoisonedByOneVacancy):
        poisoned = str(bad.id)

    live = runner(app, open_views(), PoisonedAndRefused(), batch_size=1)

    assert live.run_until_caught_up() == 6
    assert [(p.position, p.error_type) for p in live.parked()] == [(3, "KeyError"), (4, "StatementFailed")]
    assert str(expensive.id) not in statuses(live)
    assert open_counts(live) == {"A": 1, "B": 1}
    assert live.lag() == 0


class OpenCountsReadBack(OpenVacanciesByArea):
    """The toy with a handler that reads its views: each publication writes the count it read plus one."""

    name = "open_counts_read_back"

    @handles(Vacancy.Published)
    def published(self, event: Vacancy.Published, tx: ProjectionTx) -> None:
        place = event.dwelling.place
        found = tx.query(
            "SELECT open_count FROM {toy_open_by_area} WHERE municipality = ? AND area = ?",
            (place.municipality, place.area),
        )
        count = found[0]["open_count"] + 1 if found else 1
        tx.execute(
            "INSERT INTO {toy_vacancies} VALUES (?, ?, ?, ?, ?, 'open')",
            (str(event.originator_id), place.municipality, place.area, event.dwelling.rooms, 1.0),
        )
        tx.execute(
            "INSERT INTO {toy_open_by_area} VALUES (?, ?, ?) "
            "ON CONFLICT (municipality, area) DO UPDATE SET open_count = excluded.open_count",
            (place.municipality, place.area, count),
        )


def test_a_handler_that_reads_its_views_sees_every_earlier_batch_committed(
    app: Application, open_views: OpenViews
) -> None:
    for area in "ABAABAAA":
        publish(app, area)

    live = runner(app, open_views(), OpenCountsReadBack(), batch_size=1)

    assert live.run_until_caught_up() == 8
    assert open_counts(live) == {"A": 6, "B": 2}
    assert live.parked() == []


def test_runners_catching_up_on_threads_in_small_batches_apply_every_event_exactly_once(
    app: Application, open_views: OpenViews
) -> None:
    vacancies = [publish(app, area) for area in "ABCABCABCABCABCA"]
    for vacancy in vacancies[:7]:
        reserve(app, vacancy)
    racers = [runner(app, open_views(), batch_size=2) for _ in range(3)]

    assert _race(racers, lambda one: one.run_until_caught_up(max_seconds=20)) == []
    assert racers[0].lag() == 0
    assert open_counts(racers[0]) == {"A": 3, "B": 3, "C": 3}
