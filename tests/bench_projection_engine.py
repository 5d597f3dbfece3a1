"""Benchmark (not a test): rebuild rate of the toy projection on SQLite and PostgreSQL, beside raw read rates.

Run as root (it manages PostgreSQL 15 with `su postgres`, like the test setup):
    python -m tests.bench_projection_engine --vacancies 30000
Each vacancy has 7 events. PostgreSQL gets a role and database of its own (dropped at the end), so a
test session running at the same time is not disturbed; the cluster is never stopped here.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import structlog

from adapters.eventstore.event_decoding import StoredEventDecoder
from adapters.sql.view_stores import PostgresViewStore, SQLiteViewStore
from coordination.domain.vacancy import Vacancy
from coordination.projections.rebuild import rebuild
from coordination.projections.view_store import ViewStore
from ops.bench.fixtures import projection_toys as toys
from ops.devservices import pgcluster


class _Deferred:
    """Stands in for the application while commands run, so a chunk of vacancies is saved at once."""

    def save(self, *_: Any) -> None:
        pass


def _history(app: Any, vacancies: int) -> None:
    """Seven events per vacancy: published, then three offers (declined, expired, accepted)."""
    chunk: list[Vacancy] = []
    for i in range(vacancies):
        dwelling = toys.dwelling(f"area-{i % 50}")
        vacancy = Vacancy.publish(id=uuid4(), dwelling=dwelling, at=toys.AT, by=toys.CONSULTANT)
        for answer in (toys.decline, toys.expire, toys.accept):
            toys.reserve(_Deferred(), vacancy)
            answer(_Deferred(), vacancy)
        chunk.append(vacancy)
        if len(chunk) == 500:
            # One insert transaction per chunk: quick to build, the same events as saving one by one.
            app.save(*chunk)
            chunk = []
    if chunk:
        app.save(*chunk)


def _rate(label: str, events: int, seconds: float) -> None:
    print(f"  {label:<48} {events:>9} events in {seconds:6.2f} s = {events / seconds:>9,.0f} events/s")


def _timed(fn: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    count = fn()
    return count, time.perf_counter() - started


def _read_all(app: Any, decode: bool, page: int = 5000) -> int:
    count, after = 0, 0
    while True:
        notes = app.recorder.select_notifications(start=after, limit=page, inclusive_of_start=False)
        if not notes:
            return count
        if decode:
            for note in notes:
                app.mapper.to_domain_event(note)
        count += len(notes)
        after = notes[-1].id


def _measure(name: str, app: Any, views: ViewStore, raw: Callable[[], None] | None = None) -> None:
    print(f"{name}:")
    _rate("select_notifications (no decode)", *_timed(lambda: _read_all(app, decode=False)))
    _rate("select_notifications + mapper decode", *_timed(lambda: _read_all(app, decode=True)))
    if raw is not None:
        raw()
    for batch_size in (1000, 5000):
        started = time.perf_counter()
        runner = rebuild(
            app,
            toys.OpenVacanciesByArea,
            views,
            f"bench_{batch_size}",
            batch_size=batch_size,
            decoding=StoredEventDecoder(app.mapper),
        )
        seconds = time.perf_counter() - started
        _rate(f"rebuild, batch {batch_size}", runner.position(), seconds)


@contextmanager
def _postgres_database() -> Iterator[tuple[pgcluster.Cluster, str, dict[str, str]]]:
    cluster = pgcluster.start()
    role, password = "projection_bench", secrets.token_urlsafe(18)
    dbname = f"projection_bench_{secrets.token_hex(4)}"
    pgcluster.psql(
        cluster.port,
        f"""
        DO $$ BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                ALTER ROLE {role} LOGIN PASSWORD '{password}';
            ELSE
                CREATE ROLE {role} LOGIN PASSWORD '{password}';
            END IF;
        END $$;
        CREATE DATABASE {dbname} OWNER {role};
        """,
    )
    dsn = f"postgresql://{role}:{password}@{pgcluster.HOST}:{cluster.port}/{dbname}"
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": pgcluster.HOST,
        "POSTGRES_PORT": str(cluster.port),
        "POSTGRES_USER": role,
        "POSTGRES_PASSWORD": password,
    }
    try:
        yield cluster, dsn, env
    finally:
        pgcluster.psql(cluster.port, f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


def _raw_postgres(dsn: str, table: str) -> Callable[[], None]:
    def run() -> None:
        with psycopg.connect(dsn) as conn:
            started = time.perf_counter()
            rows = conn.execute(
                f"SELECT notification_id, originator_id, originator_version, topic, state FROM {table}"
            )
            count = len(rows.fetchall())
            _rate("raw psycopg SELECT (one query)", count, time.perf_counter() - started)
            started, count = time.perf_counter(), 0
            with conn.cursor().copy(f"COPY {table} TO STDOUT (FORMAT BINARY)") as copy:
                for _ in copy.rows():
                    count += 1
            _rate("raw psycopg COPY binary", count, time.perf_counter() - started)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vacancies", type=int, default=30000)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as directory:
            env = {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(Path(directory) / "ev.db"),
            }
            app = toys.StoreApp(env=env)
            _, seconds = _timed(lambda: _history(app, args.vacancies) or 0)
            print(f"SQLite history of {args.vacancies * 7} events written in {seconds:.1f} s")
            views = SQLiteViewStore(Path(directory) / "views.db")
            _measure("SQLite events → SQLite views file", app, views)
            views.close()
            memory = SQLiteViewStore(":memory:")
            _measure("SQLite events → in-memory SQLite views", app, memory)
            memory.close()
            app.close()

    if not args.skip_postgres:
        with _postgres_database() as (_, dsn, env):
            app = toys.StoreApp(env=env)
            _, seconds = _timed(lambda: _history(app, args.vacancies) or 0)
            print(f"PostgreSQL history of {args.vacancies * 7} events written in {seconds:.1f} s")
            views = PostgresViewStore(dsn, schema="views")
            _measure(
                "PostgreSQL events → PostgreSQL views",
                app,
                views,
                _raw_postgres(dsn, app.recorder.events_table_name),
            )
            views.close()
            app.close()


if __name__ == "__main__":
    main()
