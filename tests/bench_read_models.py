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
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import orjson
import psycopg
import structlog
from eventsourcing.persistence import JSONTranscoder, Transcoder

from adapters.event_decoding import StoredEventDecoder
from adapters.transcoding import FastJSONTranscoder, register_domain_transcodings
from adapters.views import PostgresViewStore
from coordination.domain.referral import Referral, ReferralKind
from coordination.domain.values import DeclinedBy, Holder, Role
from coordination.projections.rebuild import rebuild
from ops.interpreter import tune_for_a_node
from ops.read_models import READ_MODELS, ReadModels
from tests import projection_toys as toys
from tests import read_model_support as s
from tests.bench_projection_engine import _postgres_database, _rate, _raw_postgres, _read_all, _timed

AREAS = [f"area-{i}" for i in range(50)]


def _vacancy(i: int) -> Any:
    vacancy = s.Vacancy.publish(
        id=uuid4(),
        dwelling=s.dwelling(
            AREAS[i % 50],
            rooms=2 + i % 5,
            rent=str(5000 + (i * 37) % 5000),
            available_from=date(2026, 1, 1) + timedelta(days=i % 365),
        ),
        at=s.at(),
        by=s.CONSULTANT,
    )
    for answer in (toys.decline, toys.expire, toys.accept if i % 2 else toys.decline):
        toys.reserve(_Deferred(), vacancy)
        answer(_Deferred(), vacancy)
    return vacancy


def _household(i: int) -> list[Any]:
    household = s.hb.register(by=s.CONSULTANT)
    household.record_move(
        move=s.hb.a_move(moved_on=date(2025, 1, 1) + timedelta(days=i % 700), place=s.hb.CENTRAL_ODENSE),
        at=s.at(40),
        by=s.CONSULTANT,
    )
    handoff = s.send(_Deferred(), household.id, ReferralKind.HANDOFF, receiver=s.BRIDGE, days=40, save=False)
    household.issue_handoff(
        referral_id=handoff.id,
        to=Holder(organisation=s.BRIDGE, role=Role.BRIDGE_BUILDER),
        at=s.at(40),
        by=s.CONSULTANT,
    )
    handoff.acknowledge(at=s.at(41), by=s.BRIDGE_BUILDER)
    handoff.accept(assignee="bb-1", at=s.at(42), by=s.BRIDGE_BUILDER)
    household.acknowledge_handoff(referral_id=handoff.id, at=s.at(41), by=s.BRIDGE_BUILDER)
    household.record_follow_up_visit(visited_on=date(2026, 12, 31), at=s.at(215), by=s.BRIDGE_BUILDER)
    daycare: Referral = s.send(_Deferred(), household.id, days=20, save=False)
    daycare.acknowledge(at=s.at(21), by=s.ALLOCATOR)
    daycare.accept(assignee="p-3", at=s.at(22), by=s.ALLOCATOR)
    if i % 2:
        daycare.complete(outcome="Place from August", at=s.at(25), by=s.ALLOCATOR)
    else:
        daycare.decline(
            declined_by=DeclinedBy.HOUSEHOLD, reason="Moved elsewhere", at=s.at(25), by=s.CONSULTANT
        )
    return [household, handoff, daycare]


class _NodeLikeApp(toys.StoreApp):
    """The toy store app decoding as a node does (orjson, values rebuilt without re-validation)."""

    name = "StoreApp"

    def construct_transcoder(self) -> Transcoder:
        transcoder = FastJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)


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


class _Deferred:
    def save(self, *_: Any) -> None:
        pass


def _history(app: Any, vacancies: int, households: int) -> list[UUID]:
    chunk: list[Any] = []
    household_ids = []
    for i in range(max(vacancies, households)):
        if i < vacancies:
            chunk.append(_vacancy(i))
        if i < households:
            built = _household(i)
            household_ids.append(built[0].id)
            chunk += built
        if len(chunk) >= 600:
            app.save(*chunk)
            chunk = []
    if chunk:
        app.save(*chunk)
    return household_ids


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
        app = _NodeLikeApp(env=env)
        started = time.perf_counter()
        household_ids = _history(app, args.vacancies, args.households)
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
