"""Scenarios c and d on one stored history: rebuild rates beside raw reads, then query latencies.

The history is ops/bench/fixtures/history.py's (7 events per vacancy, 12 per household; the full sizes make
1,000,000 events), written once on PostgreSQL and shared by both scenarios.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import orjson
import psycopg

from ops.bench.infra import Postgres
from ops.bench.report import Results, at_least, at_most
from ops.node.read_models import READ_MODELS, ReadModels


@dataclass(frozen=True)
class Sizes:
    vacancies: int
    households: int
    household_events: int
    query_runs: int


@dataclass
class History:
    app: Any
    dsn: str
    events: int
    household_ids: list[UUID]
    long_household: UUID
    long_household_moments: list[Any]


def write_history(postgres: Postgres, sizes: Sizes) -> History:
    from ops.bench.fixtures.history import NodeLikeApp, write_events

    # Decoding as a node does (orjson, values rebuilt without re-validation), as ops/bench/fixtures/history.py.
    app = NodeLikeApp(env=postgres.env(schema=f"bench_rm_{secrets.token_hex(4)}"))
    started = time.perf_counter()
    household_ids = write_events(app, sizes.vacancies, sizes.households)
    long_household, moments = _long_household(app, sizes.household_events)
    events = app.recorder.max_notification_id() or 0
    print(f"    history of {events:,} events written in {time.perf_counter() - started:.0f} s", flush=True)
    return History(app, postgres.dsn, events, household_ids, long_household, moments)


def _long_household(app: Any, events: int) -> tuple[UUID, list[Any]]:
    """One household with `events` events: registered, then inspiration tours and tasks found, a day apart."""
    from ops.bench.fixtures import household_builders as hb

    household = hb.register()
    moments = []
    for i in range(events - 1):
        moment = hb.at(1 + i)
        if i % 2:
            household.record_tasks_found(tasks=[f"task {i}"], at=moment, by=hb.CONSULTANT)
        else:
            household.record_inspiration_tour(areas=["Odense C", "Bolbro"], at=moment, by=hb.CONSULTANT)
        moments.append(moment)
    app.save(household)
    return household.id, moments


# c. Rebuilds


def _raw_select_decode(dsn: str, table: str) -> tuple[int, float]:
    """Every stored event read with one SELECT and its JSON state decoded (orjson): a rebuild's floor."""
    with psycopg.connect(dsn) as conn:
        started = time.perf_counter()
        count = 0
        with conn.cursor(name=f"raw_{secrets.token_hex(3)}") as cursor:
            cursor.itersize = 10_000
            cursor.execute(
                f"SELECT notification_id, originator_id, originator_version, topic, state FROM {table}"
            )
            for row in cursor:
                orjson.loads(row[4])
                count += 1
        return count, time.perf_counter() - started


def _raw_copy(dsn: str, table: str) -> tuple[int, float]:
    with psycopg.connect(dsn) as conn:
        started = time.perf_counter()
        count = 0
        with conn.cursor().copy(f"COPY {table} TO STDOUT (FORMAT BINARY)") as copy:
            for _ in copy.rows():
                count += 1
        return count, time.perf_counter() - started


def rebuilds(results: Results, history: History, repeat: int, batch_size: int = 5000) -> None:
    from adapters.eventstore.event_decoding import StoredEventDecoder
    from adapters.sql.view_stores import PostgresViewStore
    from coordination.projections.rebuild import rebuild

    table = history.app.recorder.events_table_name
    if "." not in table and history.app.env.get("POSTGRES_SCHEMA"):
        table = f"{history.app.env['POSTGRES_SCHEMA']}.{table}"
    views = PostgresViewStore(history.dsn, schema=f"bench_views_{secrets.token_hex(4)}")
    try:
        for run in range(repeat):
            count, seconds = _raw_select_decode(history.dsn, table)
            results.add("c", "raw_select", "raw SELECT + JSON decode (orjson)", "events/s", count / seconds)
            count, seconds = _raw_copy(history.dsn, table)
            results.add("c", "raw_copy", "raw COPY binary", "events/s", count / seconds)
            total = 0.0
            for name, projection in READ_MODELS.items():
                started = time.perf_counter()
                runner = rebuild(
                    history.app,
                    projection,
                    views,
                    f"r{run}",
                    batch_size=batch_size,
                    decoding=StoredEventDecoder(history.app.mapper),
                )
                seconds = time.perf_counter() - started
                total += seconds
                results.add(
                    "c",
                    f"rebuild_{name}",
                    f"rebuild {name} from {runner.position():,} events",
                    "events/s",
                    runner.position() / seconds,
                    limit="raw_select",
                    target=at_least(50_000),
                )
            results.add(
                "c",
                "rebuild_all",
                f"rebuild all {len(READ_MODELS)}, one after another (events read / s)",
                "events/s",
                history.events * len(READ_MODELS) / total,
                limit="raw_select",
            )
            results.add("c", "rebuild_all_seconds", f"rebuild all {len(READ_MODELS)}: wall time", "s", total)
    finally:
        views.close()


# d. Queries


def _latencies(fn: Callable[[int], Any], runs: int) -> list[float]:
    for i in range(min(50, runs)):
        fn(i)
    timings = []
    for i in range(runs):
        started = time.perf_counter()
        fn(i)
        timings.append((time.perf_counter() - started) * 1000)
    return sorted(timings)


def queries(results: Results, history: History, sizes: Sizes, repeat: int) -> None:
    from adapters.sql.view_stores import PostgresViewStore
    from coordination.audit.as_of import aggregate_as_of
    from coordination.percentiles import percentile
    from ops.bench.fixtures import read_model_support as s
    from ops.bench.fixtures.history import AREAS

    views = PostgresViewStore(history.dsn, schema=f"bench_q_{secrets.token_hex(4)}")
    try:
        models = ReadModels(history.app, views)
        models.catch_up(max_seconds=3600)
        today = date(2026, 11, 1)
        rng = random.Random(4)
        checks: list[tuple[str, str, Callable[[int], Any], float | None]] = [
            (
                "pool_search",
                f"pool search over {sizes.vacancies:,} vacancies (rooms + rent)",
                lambda i: models.pool.search(
                    "Odense", min_rooms=3 + i % 3, max_rent=7000 + i % 2000, today=today, limit=50
                ),
                20,
            ),
            (
                "pool_search_area",
                "pool search: one area, available by",
                lambda i: models.pool.search(
                    "Odense", area=AREAS[i % 50], available_by=date(2026, 6, 1), today=today, limit=50
                ),
                20,
            ),
            (
                "pool_search_page",
                "pool search: a later page (cursor)",
                lambda i: models.pool.search(
                    "Odense", after=f"2026-0{1 + i % 9}-01/{uuid4()}", today=today, limit=50
                ),
                20,
            ),
            (
                "handoff",
                f"handoff status of one of {len(history.household_ids):,} households",
                lambda i: models.handoffs.for_household(rng.choice(history.household_ids), s.at(100)),
                5,
            ),
        ]
        moments = history.long_household_moments
        as_of = (
            "as_of",
            f"as-of reconstruction of a household with {sizes.household_events} events",
            lambda i: aggregate_as_of(
                history.app, history.long_household, moment=moments[-1 - i % 50] + timedelta(hours=1)
            ),
            20,
        )
        for _ in range(repeat):
            for key, label, fn, target in [*checks, as_of]:
                runs = sizes.query_runs if key != "as_of" else max(20, sizes.query_runs // 10)
                timings = _latencies(fn, runs)
                results.add("d", f"{key}_p50", f"{label}: p50", "ms", percentile(timings, 50))
                results.add(
                    "d",
                    f"{key}_p99",
                    f"{label}: p99",
                    "ms",
                    percentile(timings, 99),
                    target=None if target is None else at_most(target),
                )
    finally:
        views.close()
