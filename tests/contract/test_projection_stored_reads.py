"""Rebuild shortcuts that read the log as stored give the same views: handlers of stored JSON, the lean log read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from eventsourcing.application import Application

from adapters.eventstore.event_decoding import StoredEventDecoder
from adapters.sql.view_stores import SQLiteViewStore
from coordination.domain.vacancy import Vacancy
from coordination.projections.definition import Projection, handles, handles_stored
from coordination.projections.log_reads import log_reader
from coordination.projections.rebuild import compare, rebuild
from coordination.projections.runner import ProjectionRunner
from coordination.projections.timeline import TimelineProjection
from coordination.projections.transaction import ProjectionTx
from ops.bench.fixtures import read_model_support as s
from ops.bench.fixtures.history import NodeLikeApp
from ops.bench.fixtures.projection_toys import publish, reserve, withdraw
from tests.contract.test_projection_engine import open_views  # noqa: F401 (fixture)


@pytest.fixture
def app(store_env: dict[str, str]) -> Iterator[Application]:
    """An application decoding its log as a node does (orjson, attribute by attribute)."""
    app = NodeLikeApp(env=store_env)
    yield app
    app.close()


def _history(app: Application, households: int) -> None:
    for i in range(households):
        household = s.register(app)
        s.publish(app, available_from=date(2026, 7, 1 + i % 28))
        s.offer(app, s.register(app), s.publish(app))
        s.move_and_hand_off(app, household, moved_on=date(2026, 8, 1), days=10 + i)
        s.link(app, household.id, days=3 + i)


def test_the_timeline_built_from_stored_json_equals_the_one_built_from_decoded_events(
    app: Application,
    open_views: Any,  # noqa: F811
) -> None:
    _history(app, 12)
    views = open_views()
    stored = ProjectionRunner(
        app, s.CountedTimeline("stored"), views, batch_size=50, decoding=StoredEventDecoder(app.mapper)
    )
    decoded = ProjectionRunner(
        app, TimelineProjection("decoded"), views, batch_size=50, decoding=StoredEventDecoder(app.mapper)
    )
    decoded.stored_handlers = False

    stored.run_until_caught_up()
    decoded.run_until_caught_up()

    assert stored.stored_handlers is True
    assert compare(decoded, stored) == []
    assert stored.parked() == []
    entries = views.query(f"SELECT COUNT(*) AS n FROM {stored.projection.table_names['timeline_entries']}")
    assert stored.projection.taken == entries[0]["n"] > 80  # type: ignore[attr-defined]


def test_the_lean_log_read_gives_what_the_library_read_gives(app: Application) -> None:
    _history(app, 3)
    read = log_reader(app.recorder)
    end = app.recorder.max_notification_id() or 0
    topics = TimelineProjection().handled_topics()
    for after, limit, stop, only in [(0, 1000, None, None), (3, 7, end - 2, None), (2, 1000, end, topics)]:
        lean = read(after, limit, stop, only)
        library = app.recorder.select_notifications(
            start=after, limit=limit, stop=stop, topics=only or (), inclusive_of_start=False
        )

        fields = ("id", "originator_id", "originator_version", "topic", "state")
        assert [tuple(getattr(n, f) for f in fields) for n in lean] == [
            tuple(getattr(n, f) for f in fields) for n in library
        ]
        assert lean


class _Notes(Projection):
    """Notes how each vacancy event reached it: a withdrawal is declined as stored, a publication not."""

    name = "stored_notes"
    tables = {"stored_notes": "position BIGINT PRIMARY KEY, vacancy_id TEXT NOT NULL, via TEXT NOT NULL"}
    failing: set[str] = set()

    @handles(Vacancy.Published, Vacancy.Withdrawn)
    def decoded(self, event: Vacancy.Event, tx: ProjectionTx) -> None:
        tx.append("stored_notes", (tx.position, str(event.originator_id), "decoded"))

    @handles_stored(Vacancy.Published, Vacancy.Withdrawn)
    def stored(self, stored: Any, state: dict[str, Any], tx: ProjectionTx) -> bool:
        if stored.topic.endswith("Withdrawn"):
            return False
        tx.append("stored_notes", (tx.position, str(stored.originator_id), "stored"))
        if str(stored.originator_id) in self.failing:
            raise ValueError("a handler's bug")
        return True


def _notes(runner: ProjectionRunner) -> dict[int, tuple[str, str]]:
    rows = runner.view_store.query(f"SELECT * FROM {runner.projection.table_names['stored_notes']}")
    return {row["position"]: (row["vacancy_id"], row["via"]) for row in rows}


def test_an_event_its_stored_handler_declines_goes_to_the_ordinary_handler(
    app: Application,
    open_views: Any,  # noqa: F811
) -> None:
    vacancy = publish(app, "A")
    reserve(app, vacancy)
    withdrawn = publish(app, "B")
    withdraw(app, withdrawn)

    runner = rebuild(app, _Notes, open_views(), "declined", decoding=StoredEventDecoder(app.mapper))

    assert _notes(runner) == {
        1: (str(vacancy.id), "stored"),
        3: (str(withdrawn.id), "stored"),
        4: (str(withdrawn.id), "decoded"),
    }


def test_an_event_whose_stored_handler_fails_is_parked_with_nothing_of_it_written(
    app: Application,
    open_views: Any,  # noqa: F811
) -> None:
    first, failing, last = publish(app, "A"), publish(app, "B"), publish(app, "C")
    _Notes.failing = {str(failing.id)}
    try:
        runner = rebuild(app, _Notes, open_views(), "failing", decoding=StoredEventDecoder(app.mapper))
    finally:
        _Notes.failing = set()

    assert [p.position for p in runner.parked()] == [2]
    assert _notes(runner) == {1: (str(first.id), "stored"), 3: (str(last.id), "stored")}


def test_stored_handlers_are_not_given_compressed_events() -> None:
    app = NodeLikeApp(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.popo",
            "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
        }
    )
    views = SQLiteViewStore()
    try:
        vacancy = publish(app, "A")
        runner = rebuild(app, _Notes, views, "compressed", decoding=StoredEventDecoder(app.mapper))

        assert runner.stored_handlers is False
        assert _notes(runner) == {1: (str(vacancy.id), "decoded")}
    finally:
        views.close()
        app.close()


def _indexes(views: Any, table: str) -> set[str]:
    if isinstance(views, SQLiteViewStore):
        rows = views.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,))
        return {row["name"] for row in rows if not row["name"].startswith("sqlite_autoindex")}
    rows = views.query(
        "SELECT indexname AS name FROM pg_indexes WHERE tablename = ? AND schemaname = current_schema()",
        (table,),
    )
    return {row["name"] for row in rows if not row["name"].endswith("_pkey")}


def test_a_rebuild_creates_its_indexes_once_it_has_caught_up_and_a_failed_one_gets_them_from_its_next_runner(
    app: Application,
    open_views: Any,  # noqa: F811
) -> None:
    _history(app, 2)
    views = open_views()

    runner = rebuild(
        app, TimelineProjection, views, "indexed", batch_size=5, decoding=StoredEventDecoder(app.mapper)
    )

    entries = runner.projection.table_names["timeline_entries"]
    assert _indexes(views, entries) == {"timeline_by_subject__indexed"}
    unfinished = TimelineProjection("unfinished")
    unfinished.indexes_deferred = True
    ProjectionRunner(app, unfinished, views, decoding=StoredEventDecoder(app.mapper))
    assert _indexes(views, unfinished.table_names["timeline_entries"]) == set()
    ProjectionRunner(
        app, TimelineProjection("unfinished"), views, decoding=StoredEventDecoder(app.mapper)
    ).run_until_caught_up()
    assert _indexes(views, unfinished.table_names["timeline_entries"]) == {"timeline_by_subject__unfinished"}
