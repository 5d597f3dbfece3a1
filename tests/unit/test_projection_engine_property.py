"""Property: a projection fed bit by bit, with restarts and duplicate runs, equals one rebuilt afresh."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.eventstore.event_decoding import StoredEventDecoder
from adapters.sql.view_stores import SQLiteViewStore
from coordination.domain.errors import DomainError
from coordination.domain.vacancy import Vacancy
from coordination.projections.rebuild import compare, rebuild
from coordination.projections.runner import ProjectionRunner
from ops.bench.fixtures import projection_toys as toys

COMMANDS = {
    "reserve": toys.reserve,
    "accept": toys.accept,
    "decline": toys.decline,
    "expire": toys.expire,
    "withdraw": toys.withdraw,
}

steps = st.lists(
    st.one_of(
        st.tuples(st.just("publish"), st.sampled_from("ABC")),
        st.tuples(st.sampled_from(sorted(COMMANDS)), st.integers(0, 7)),
        st.tuples(st.just("run"), st.integers(1, 6)),
        st.tuples(st.just("restart"), st.integers(1, 6)),
        st.tuples(st.just("duplicate"), st.integers(1, 6)),
    ),
    max_size=40,
)


@settings(max_examples=30, deadline=None)
@given(steps=steps)
def test_a_live_projection_fed_in_random_batches_equals_a_rebuild(steps: list[tuple[str, Any]]) -> None:
    app = toys.StoreApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "views.db"
        stores = [SQLiteViewStore(path)]

        def new_runner(batch_size: int) -> ProjectionRunner:
            # A restart is a new process: new store connections and a new runner, same tables.
            stores.append(SQLiteViewStore(path))
            return ProjectionRunner(
                app,
                toys.OpenVacanciesByArea(),
                stores[-1],
                batch_size=batch_size,
                decoding=StoredEventDecoder(app.mapper),
            )

        try:
            vacancies: list[Vacancy] = []
            live = new_runner(3)
            for step, arg in steps:
                if step == "publish":
                    vacancies.append(toys.publish(app, arg))
                elif step in COMMANDS:
                    _try(COMMANDS[step], app, vacancies, arg)
                elif step == "run":
                    live.batch_size = arg
                    live.run_once()
                elif step == "restart":
                    live = new_runner(arg)
                else:
                    _duplicate_run(live, new_runner(arg))

            live.run_until_caught_up()
            rebuilt = rebuild(
                app, toys.OpenVacanciesByArea, stores[0], "rebuild_1", decoding=StoredEventDecoder(app.mapper)
            )

            assert compare(live, rebuilt) == []
            assert toys.statuses(live) == {str(v.id): str(v.status) for v in vacancies}
            assert live.parked() == []
        finally:
            for store in stores:
                store.close()
            app.close()


def _try(command: Any, app: Any, vacancies: list[Vacancy], index: int) -> None:
    if not vacancies:
        return
    # A command the vacancy's state does not allow is refused by the aggregate and records nothing.
    with contextlib.suppress(DomainError, AssertionError):
        command(app, vacancies[index % len(vacancies)])


def _duplicate_run(live: ProjectionRunner, other: ProjectionRunner) -> None:
    """Another runner applies a batch this one has read but not committed; this one's commit is a no-op."""
    stale = live.fetch_batch()
    applied = other.run_once()
    again = live.apply_batch(stale)
    assert again == 0 or applied == 0
    assert other.apply_batch(stale) == 0
