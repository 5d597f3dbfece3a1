"""A node's PostgreSQL event store (adapters/eventstore/pg_events.py): one call per save, with the library's guarantees.

Each save is all or nothing, a version already taken fails the whole save, concurrent saves get
notification ids in commit order (one save's ids are never interleaved with another's), listeners are
notified, and a store first created by the library's own recorder carries on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder

from adapters.eventstore.pg_events import NodeEventsRecorder
from adapters.eventstore.storage import ShreddingStorage
from coordination.applications.base import derived_id
from coordination.applications.housing import HousingOrganisationApp
from ops.demo.reference_scenario import consultant, on, the_dwelling
from ops.devservices.pgcluster import PostgresServer
from tests.conftest import _fresh_schema, postgres_env

pytestmark = pytest.mark.postgres

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
STOCK = "eventsourcing.postgres:PostgresApplicationRecorder"


@pytest.fixture
def env(postgres_server: PostgresServer) -> Iterator[dict[str, str]]:
    with _fresh_schema(postgres_server) as schema:
        yield postgres_env(postgres_server, schema)


@pytest.fixture
def app(env: dict[str, str]) -> Iterator[HousingOrganisationApp]:
    app = HousingOrganisationApp(
        storage=ShreddingStorage(), organisation="civica", env=env, cpr_secret=b"k" * 32
    )
    yield app
    app.close()


def _events(originator_id: UUID, versions: range) -> list[StoredEvent]:
    return [StoredEvent(originator_id, v, "bench.Topic", b"state-%d" % v) for v in versions]


def test_a_node_on_postgresql_saves_through_one_call(app: HousingOrganisationApp) -> None:
    assert type(app.recorder) is NodeEventsRecorder
    command_id = uuid4()
    vacancy = app.publish_vacancy(
        command_id=command_id, dwelling=the_dwelling(), at=on(AT.date()), by=consultant
    )
    assert app.repository.get(vacancy).id == vacancy
    # The vacancy's event and the command's receipt, in one save, in that order.
    stored = app.recorder.select_notifications(start=1, limit=10)
    assert [n.originator_id for n in stored] == [vacancy, derived_id("command", command_id)]
    assert [n.id for n in stored] == [stored[0].id, stored[0].id + 1]


def test_an_applications_save_goes_through_the_one_call_too(
    app: HousingOrganisationApp, env: dict[str, str], postgres_server: PostgresServer
) -> None:
    """`Application.save` hands the recorder `tracking=None` on every save: that is not a process
    recorder's tracking, and takes the one call, not the library's five statements. Without the function
    the save cannot be made."""
    table = app.recorder.events_table_name
    with psycopg.connect(postgres_server.dsn, autocommit=True) as conn:
        conn.execute(f'DROP FUNCTION {env["POSTGRES_SCHEMA"]}."{table}_insert"')
    with pytest.raises(Exception, match="does not exist"):
        app.publish_vacancy(command_id=uuid4(), dwelling=the_dwelling(), at=on(AT.date()), by=consultant)
    assert app.recorder.max_notification_id() in (0, None)


def test_a_recorder_the_env_names_is_kept(env: dict[str, str]) -> None:
    app = HousingOrganisationApp(
        storage=ShreddingStorage(),
        organisation="civica",
        env={**env, "APPLICATION_RECORDER_TOPIC": STOCK},
        cpr_secret=b"k" * 32,
    )
    try:
        assert type(app.recorder) is PostgresApplicationRecorder
    finally:
        app.close()


def test_a_save_returns_its_notification_ids_in_order(app: HousingOrganisationApp) -> None:
    first, second = uuid4(), uuid4()
    ids = app.recorder.insert_events([*_events(first, range(1, 4)), *_events(second, range(1, 3))])
    assert ids is not None and len(ids) == 5
    assert list(ids) == list(range(ids[0], ids[0] + 5))
    stored = app.recorder.select_notifications(start=ids[0], limit=10)
    assert [(n.id, n.originator_id, n.originator_version, n.state) for n in stored] == [
        (ids[0], first, 1, b"state-1"),
        (ids[1], first, 2, b"state-2"),
        (ids[2], first, 3, b"state-3"),
        (ids[3], second, 1, b"state-1"),
        (ids[4], second, 2, b"state-2"),
    ]
    assert app.recorder.insert_events([]) == []


def test_a_taken_version_fails_the_whole_save_and_keeps_what_was_stored(app: HousingOrganisationApp) -> None:
    taken, fresh = uuid4(), uuid4()
    app.recorder.insert_events(_events(taken, range(1, 3)))
    before = app.recorder.max_notification_id()
    with pytest.raises(IntegrityError):
        app.recorder.insert_events([*_events(fresh, range(1, 3)), *_events(taken, range(2, 3))])
    assert app.recorder.select_events(fresh) == []
    assert [e.state for e in app.recorder.select_events(taken)] == [b"state-1", b"state-2"]
    # The failed save took no place in the log: the next one follows on.
    (after,) = app.recorder.insert_events(_events(fresh, range(1, 2))) or []
    assert app.recorder.max_notification_id() == after
    assert [n.id for n in app.recorder.select_notifications(start=1, limit=100)][-2] == before


def test_concurrent_saves_take_their_places_one_whole_save_after_another(env: dict[str, str]) -> None:
    app = Application[UUID](
        env={**env, "APPLICATION_RECORDER_TOPIC": "adapters.eventstore.pg_events:NodeEventsRecorder"}
    )
    recorder = app.recorder
    assert isinstance(recorder, NodeEventsRecorder)
    saves: dict[UUID, list[int]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def writer() -> None:
        try:
            start.wait(timeout=30)
            for _ in range(40):
                aggregate = uuid4()
                saves[aggregate] = list(recorder.insert_events(_events(aggregate, range(1, 6))) or [])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(6)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors
        assert len(saves) == 240
        # Each save's five ids are consecutive (no other save's events between them) ...
        for ids in saves.values():
            assert ids == list(range(ids[0], ids[0] + 5))
        # ... and the log holds every event once, without gaps, in the order the ids say.
        log = recorder.select_notifications(start=1, limit=2000)
        assert [n.id for n in log] == sorted(i for ids in saves.values() for i in ids)
        assert len({n.id for n in log}) == 1200
        for notification in log:
            assert saves[notification.originator_id][notification.originator_version - 1] == notification.id
    finally:
        app.close()


@pytest.mark.timeout(30)
def test_listeners_are_notified_of_each_save(app: HousingOrganisationApp) -> None:
    aggregate = uuid4()
    with app.recorder.subscribe(gt=app.recorder.max_notification_id()) as subscription:
        # The library's subscription reads what is stored, then waits for a NOTIFY on a connection its own
        # thread opens: a save between the two is never seen (its race, under load). Save once it listens.
        _listening(app.recorder)
        app.recorder.insert_events(_events(aggregate, range(1, 3)))
        received = []
        for notification in subscription:
            received.append((notification.originator_id, notification.originator_version))
            if len(received) == 2:
                break
    assert received == [(aggregate, 1), (aggregate, 2)]


def _listening(recorder: Any, seconds: float = 10) -> None:
    """Wait until a session of the store's database has LISTENed on the recorder's channel."""
    deadline = time.monotonic() + seconds
    with recorder.datastore.get_connection() as conn:
        while time.monotonic() < deadline:
            found = conn.execute(
                "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE %s",
                (f'LISTEN "{recorder.channel_name}"%',),
            ).fetchone()
            if found:
                return
            time.sleep(0.02)
    raise AssertionError(f"no session LISTENed on {recorder.channel_name} within {seconds} s")


def test_a_store_the_library_created_carries_on(env: dict[str, str]) -> None:
    stock = HousingOrganisationApp(
        storage=ShreddingStorage(),
        organisation="civica",
        env={**env, "APPLICATION_RECORDER_TOPIC": STOCK},
        cpr_secret=b"k" * 32,
    )
    earlier = uuid4()
    try:
        (first,) = stock.recorder.insert_events(_events(earlier, range(1, 2))) or []
    finally:
        stock.close()
    app = HousingOrganisationApp(
        storage=ShreddingStorage(), organisation="civica", env=env, cpr_secret=b"k" * 32
    )
    try:
        later = uuid4()
        assert app.recorder.insert_events(_events(later, range(1, 3))) == [first + 1, first + 2]
        assert len(app.recorder.select_events(earlier)) == 1
        with pytest.raises(IntegrityError):
            app.recorder.insert_events(_events(earlier, range(1, 2)))
    finally:
        app.close()


def test_an_aggregates_events_read_as_the_library_reads_them(app: HousingOrganisationApp) -> None:
    aggregate = uuid4()
    app.recorder.insert_events([*_events(aggregate, range(1, 6)), *_events(uuid4(), range(1, 3))])
    library = PostgresApplicationRecorder.select_events
    shapes = [
        {"gt": gt, "lte": lte, "desc": desc, "limit": limit}
        for gt in (None, 2)
        for lte in (None, 4)
        for desc in (False, True)
        for limit in (None, 2)
    ]
    for shape in shapes:
        assert app.recorder.select_events(aggregate, **shape) == library(app.recorder, aggregate, **shape), (
            shape
        )
    assert [
        e.originator_version for e in app.recorder.select_events(aggregate, gt=1, lte=4, desc=True, limit=2)
    ] == [
        4,
        3,
    ]
    assert app.recorder.select_events(uuid4()) == []


@pytest.mark.timeout(60)
def test_a_vacuum_or_analyze_of_the_events_table_does_not_hold_up_saves(
    app: HousingOrganisationApp, postgres_server: PostgresServer
) -> None:
    # VACUUM and ANALYZE hold SHARE UPDATE EXCLUSIVE on the table while they run; autovacuum starts them
    # whenever enough rows were inserted. The library's table lock waited for them.
    recorder = app.recorder
    assert isinstance(recorder, NodeEventsRecorder)
    table = f"{recorder.datastore.schema}.{recorder.events_table_name}"
    saved: list[Sequence[int] | None] = []
    with psycopg.connect(postgres_server.dsn) as vacuum:
        vacuum.execute(f"LOCK TABLE {table} IN SHARE UPDATE EXCLUSIVE MODE")  # held until rollback
        saving = threading.Thread(
            target=lambda: saved.append(recorder.insert_events(_events(uuid4(), range(1, 3))))
        )
        saving.start()
        saving.join(timeout=5)
        saved_meanwhile = list(saved)
        vacuum.rollback()
    saving.join(timeout=30)

    assert saved_meanwhile and saved_meanwhile[0] and len(saved_meanwhile[0]) == 2, "the save waited"


def test_saves_through_the_library_s_table_lock_and_through_this_recorder_keep_ids_in_commit_order(
    env: dict[str, str],
) -> None:
    # A reader that reads up to the highest id it sees must never find a gap that is filled later.
    ours = Application[UUID](
        env={**env, "APPLICATION_RECORDER_TOPIC": "adapters.eventstore.pg_events:NodeEventsRecorder"}
    )
    stock = Application[UUID](env={**env, "APPLICATION_RECORDER_TOPIC": STOCK})
    writers_done = threading.Event()
    errors: list[BaseException] = []
    gaps: list[tuple[int, list[int]]] = []

    def writer(recorder: Any) -> None:
        try:
            for _ in range(60):
                recorder.insert_events(_events(uuid4(), range(1, 4)))
        except BaseException as error:
            errors.append(error)

    def reader() -> None:
        seen = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = writers_done.is_set()
            top = ours.recorder.max_notification_id() or 0
            ids = [n.id for n in ours.recorder.select_notifications(start=seen + 1, limit=10_000, stop=top)]
            if ids != list(range(seen + 1, top + 1)):
                gaps.append((top, ids))
            seen = top
            if done:
                return

    threads = [threading.Thread(target=writer, args=(app.recorder,)) for app in (ours, ours, stock, stock)]
    reading = threading.Thread(target=reader)
    try:
        reading.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        writers_done.set()
        reading.join(timeout=60)
        assert not errors
        assert not gaps, gaps[:3]
        assert (ours.recorder.max_notification_id() or 0) == 4 * 60 * 3
    finally:
        ours.close()
        stock.close()
