"""Benchmark (not a test): read-model rebuild rates on PostgreSQL beside raw psycopg reads; query latency.

Run as root (it manages PostgreSQL 15 with `su postgres`, like the test setup):
    python -m tests.bench_read_models --vacancies 100000 --households 25000
Each vacancy has 7 events (published, three offers; half end let, half back in the pool) and each household
12 (registered, moved, handoff issued and acknowledged, follow-up visit, a handoff referral in 3 steps and
a daycare referral in 4): the defaults make 1,000,000 events. Add --profile NAME to profile one rebuild.
The history is read as a node reads it (FastJSONTranscoder). Rebuild rates count the log's events per second
(a projection reads only the topics it handles, so it skips the rest at the database); each line also says
how many of them the projection handled.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import random
import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import uuid4

import orjson
import psycopg
import structlog

from adapters.eventstore.event_decoding import StoredEventDecoder
from adapters.sql.view_stores import PostgresViewStore
from coordination.projections.rebuild import rebuild
from ops.bench.fixtures import read_model_support as s
from ops.bench.fixtures.history import AREAS, NodeLikeApp, write_events
from ops.node.interpreter import tune_for_a_node
from ops.node.read_models import READ_MODELS, ReadModels
from tests.bench_projection_engine import _postgres_database, _rate, _raw_postgres, _read_all, _timed


def _raw_select_and_json(dsn: str, table: str) -> None:
    with psycopg.connect(dsn) as conn:
        started, count = time.perf_counter(), 0
        for row in conn.execute(f"SELECT notification_id, topic, state FROM {table}").fetchall():
            orjson.loads(row[2])
            count += 1
        _rate("raw psycopg SELECT + orjson.loads of state", count, time.perf_counter() - started)


def _handled(dsn: str, app: Any, projection: Any) -> int:
    topics = projection().handled_topics()
    if topics is None:
        return app.recorder.max_notification_id() or 0
    with psycopg.connect(dsn) as conn:
        table = app.recorder.events_table_name
        found = conn.execute(f"SELECT COUNT(*) FROM {table} WHERE topic = ANY(%s)", [list(topics)]).fetchone()
        return int(found[0]) if found else 0


def _latency(label: str, fn: Callable[[int], Any], runs: int = 2000) -> None:
    for i in range(50):
        fn(i)
    timings = []
    for i in range(runs):
        started = time.perf_counter()
        fn(i)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p99 = timings[int(len(timings) * 0.99) - 1]
    print(f"  {label:<48} p50 {statistics.median(timings):6.2f} ms   p99 {p99:6.2f} ms   ({runs} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vacancies", type=int, default=100_000)
    parser.add_argument("--households", type=int, default=25_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--profile", choices=sorted(READ_MODELS), default=None)
    args = parser.parse_args()
    tune_for_a_node()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    with _postgres_database() as (_, dsn, env):
        app = NodeLikeApp(env=env)
        started = time.perf_counter()
        household_ids = write_events(app, args.vacancies, args.households)
        events = app.recorder.max_notification_id() or 0
        print(f"PostgreSQL history of {events} events written in {time.perf_counter() - started:.1f} s")
        print("Reading the same rows, for comparison:")
        _raw_postgres(dsn, app.recorder.events_table_name)()
        _raw_select_and_json(dsn, app.recorder.events_table_name)
        _rate("select_notifications (library, pages of 5000)", *_timed(lambda: _read_all(app, decode=False)))
        _rate("select_notifications + node's decode", *_timed(lambda: _read_all(app, decode=True)))
        views = PostgresViewStore(dsn, schema="views")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(
                rebuild, app, READ_MODELS[args.profile], views, "live", batch_size=args.batch_size
            )
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
            return
        total = 0.0
        for name, projection in READ_MODELS.items():
            started = time.perf_counter()
            runner = rebuild(
                app,
                projection,
                views,
                "live",
                batch_size=args.batch_size,
                decoding=StoredEventDecoder(app.mapper),
            )
            seconds = time.perf_counter() - started
            total += seconds
            handled = _handled(dsn, app, projection)
            _rate(f"rebuild {name} ({handled / max(events, 1):.0%} handled)", runner.position(), seconds)
        _rate(f"rebuild all {len(READ_MODELS)}, one after another", events * len(READ_MODELS), total)

        models = ReadModels(app, views)
        rng = random.Random(4)
        today = date(2026, 11, 1)
        open_count = args.vacancies // 2
        print(f"Queries over {args.vacancies} vacancies ({open_count} open), {len(household_ids)} households")
        _latency(
            "pool search: municipality + rooms + rent",
            lambda i: models.pool.search(
                "Odense", min_rooms=3 + i % 3, max_rent=7000 + i % 2000, today=today, limit=50
            ),
        )
        _latency(
            "pool search: one area, available by",
            lambda i: models.pool.search(
                "Odense", area=AREAS[i % 50], available_by=date(2026, 6, 1), today=today, limit=50
            ),
        )
        _latency(
            "pool search: second page (cursor)",
            lambda i: models.pool.search(
                "Odense", after=f"2026-0{1 + i % 9}-01/{uuid4()}", today=today, limit=50
            ),
        )
        _latency(
            "handoff status of one household",
            lambda i: models.handoffs.for_household(rng.choice(household_ids), s.at(100)),
        )
        views.close()
        app.close()


if __name__ == "__main__":
    main()
