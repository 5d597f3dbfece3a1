"""Rebuild shortcuts give the same views: reads of only handled topics, bulk inserts and staged upserts."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.application import Application

from adapters.eventstore.event_decoding import StoredEventDecoder
from coordination.projections.daycare_queue import DaycareQueueProjection
from coordination.projections.rebuild import compare, rebuild
from coordination.projections.runner import ProjectionRunner
from coordination.projections.timeline import TimelineProjection
from coordination.projections.view_store import ViewStore
from ops.bench.fixtures import read_model_support as s
from ops.node.read_models import READ_MODELS
from tests.contract.test_projection_engine import app, open_views  # noqa: F401 (fixtures)


def _history(app: Application, households: int) -> None:  # noqa: F811
    for i in range(households):
        household = s.register(app)
        s.publish(app, available_from=date(2026, 7, 1 + i % 28))
        if i % 2:
            s.offer(app, s.register(app), s.publish(app))
        s.move_and_hand_off(app, household, moved_on=date(2026, 8, 1), days=10 + i)


def test_a_projection_reading_only_its_topics_tracks_to_the_end_of_the_log(
    app: Application,  # noqa: F811
    open_views: Any,  # noqa: F811
) -> None:
    s.send(app, s.register(app).id, days=1)
    for _ in range(5):
        s.publish(app)  # the log ends with events the daycare queue has no handler for
    runner = ProjectionRunner(
        app, DaycareQueueProjection(), open_views(), batch_size=2, decoding=StoredEventDecoder(app.mapper)
    )

    consumed = runner.run_until_caught_up()

    end = app.recorder.max_notification_id()
    assert runner.position() == end
    assert consumed == end
    assert runner.lag() == 0
    assert runner.projection.handled_topics() is not None
    assert runner.run_once() == 0


def test_many_rows_in_one_batch_give_the_same_views_as_one_event_at_a_time(
    app: Application,  # noqa: F811
    open_views: Any,  # noqa: F811
) -> None:
    _history(app, 60)
    views: ViewStore = open_views()
    for name, projection in READ_MODELS.items():
        # Batches of 7 write a few rows each; a batch of 5,000 sends hundreds at once (COPY on PostgreSQL).
        small = rebuild(
            app, projection, views, "small", batch_size=7, decoding=StoredEventDecoder(app.mapper)
        )
        large = rebuild(
            app, projection, views, "large", batch_size=5000, decoding=StoredEventDecoder(app.mapper)
        )
        assert small.parked() == [], name
        assert large.parked() == [], name
        assert compare(small, large) == [], name


def test_a_timeline_entry_written_twice_is_refused_and_parked_not_duplicated(
    app: Application,  # noqa: F811
    open_views: Any,  # noqa: F811
) -> None:
    household = s.register(app)
    views: ViewStore = open_views()
    runner = ProjectionRunner(app, TimelineProjection(), views, decoding=StoredEventDecoder(app.mapper))
    runner.run_until_caught_up()
    # Force the position back, as a broken tracking row would: the insert-only table refuses the row.
    with views.transaction() as tx:
        tx.execute("UPDATE projection_tracking SET position = 0 WHERE projection = ?", (runner.name,))
    runner.run_until_caught_up()

    assert [p.position for p in runner.parked()] == [1]
    rows = views.query(f"SELECT COUNT(*) AS n FROM {runner.projection.table_names['timeline_entries']}")
    assert rows[0]["n"] == 1
    assert household.id
