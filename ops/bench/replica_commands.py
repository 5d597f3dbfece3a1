"""Scenario a2 (the issue's a-prime): commands at two replicas of one node, beside scenario a's raw limits.

Two processes, each CIVICA's application (group commit) on the same PostgreSQL store, as two replicas of
its node are behind a load balancer: the commands offered at 1,000/s split between them (an open loop,
latency counted from each command's due time), and the most they do together with clients that start their
next command when the last returned (a closed loop). One interpreter at 85-90 % of its capacity was what
held bench a's p99 at 1,000/s; here each carries half.

    .venv/bin/python -m ops.bench.replica_commands [--commands 4000] [--clients 16]
"""

from __future__ import annotations

import argparse
import multiprocessing
import secrets
import sys
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from coordination.percentiles import percentile
from ops.bench.commands import (
    COMMANDS_PER_CASE,
    TARGET_RATE,
    _app,
    _case,
    _timed_from_start,
    raw_postgres_rate,
)
from ops.bench.infra import Postgres
from ops.bench.report import Results, at_least, at_most

REPLICAS = 2


def _worker(
    env: dict[str, str], commands: int, rate: float | None, clients: int, start_at: float, out: Any
) -> None:
    """One replica: `commands` commands from `clients` threads, offered at `rate` per second from the
    wall-clock `start_at` (None: a closed loop); sends its latencies (ms) and when it finished."""
    import threading

    latencies: list[list[float]] = [[] for _ in range(clients)]
    lock = threading.Lock()
    taken = [0]
    errors: list[BaseException] = []

    class Done(Exception):
        pass

    def open_loop(mine: list[float]) -> Callable[[Callable[[], UUID | None]], UUID | None]:
        def timed(command: Callable[[], UUID | None]) -> UUID | None:
            with lock:
                if taken[0] == commands:
                    raise Done
                assert rate is not None
                due = start_at + taken[0] / rate
                taken[0] += 1
            time.sleep(max(0.0, due - time.time()))
            result = command()
            mine.append((time.time() - due) * 1000)
            return result

        return timed

    def client(mine: list[float]) -> None:
        timed = open_loop(mine) if rate is not None else _timed_from_start(mine)
        try:
            if rate is None:
                for _ in range(max(1, commands // COMMANDS_PER_CASE // clients)):
                    _case(app, timed)
            else:
                while True:
                    _case(app, timed)
        except Done:
            pass
        except BaseException as error:
            errors.append(error)

    with _app(env, grouped=True) as app:
        if rate is not None:  # warmed up: the pool's connections opened, statements prepared
            warm: list[float] = []
            for _ in range(2):
                _case(app, _timed_from_start(warm))
        time.sleep(max(0.0, start_at - time.time()))
        threads = [threading.Thread(target=client, args=(mine,), daemon=True) for mine in latencies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
    out.put((sorted(t for mine in latencies for t in mine), time.time(), repr(errors[0]) if errors else None))


def _run_replicas(
    postgres: Postgres, commands: int, rate: float | None, clients: int
) -> tuple[float, list[float]]:
    """Both replicas at once on a fresh store: commands per second together, and every latency (ms)."""
    env = postgres.env(schema=f"bench_a2_{secrets.token_hex(4)}", pool_size=clients + 2)
    with _app(env, grouped=True):  # the store's tables made once: two replicas making them at once collide
        pass
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    start_at = time.time() + 8.0  # both interpreters up and warmed before it
    share = None if rate is None else rate / REPLICAS
    workers = [
        context.Process(target=_worker, args=(env, commands // REPLICAS, share, clients, start_at, out))
        for _ in range(REPLICAS)
    ]
    for worker in workers:
        worker.start()
    answers = [out.get(timeout=900) for _ in workers]
    for worker in workers:
        worker.join(60)
    failed = [error for _, _, error in answers if error]
    if failed:
        raise RuntimeError(f"a replica's client failed: {failed[0]}")
    latencies = sorted(t for found, _, _ in answers for t in found)
    seconds = max(finished for _, finished, _ in answers) - start_at
    return len(latencies) / seconds, latencies


def run(results: Results, postgres: Postgres, commands: int, clients: int, repeat: int) -> None:
    for _ in range(repeat):
        raw = raw_postgres_rate(postgres.dsn, commands, 2 * clients)
        label = f"PostgreSQL raw: writers' lock + insert + commit, {2 * clients} clients"
        results.add("a2", "raw", label, "tx/s", raw)
        rate, latencies = _run_replicas(postgres, 2 * commands, TARGET_RATE, clients)
        how = f"PostgreSQL, two replicas, {TARGET_RATE:,} commands/s offered, group commit"
        results.add("a2", "offered_rate", f"{how}: achieved", "commands/s", rate, limit="raw")
        results.add("a2", "offered_p50", f"{how}: p50", "ms", percentile(latencies, 50))
        results.add("a2", "offered_p99", f"{how}: p99", "ms", percentile(latencies, 99), target=at_most(10))
        rate, latencies = _run_replicas(postgres, commands, None, clients)
        how = f"PostgreSQL, two replicas, {clients} clients each, group commit"
        results.add(
            "a2",
            "closed_rate",
            f"{how}: closed loop",
            "commands/s",
            rate,
            target=at_least(TARGET_RATE),
            limit="raw",
        )
        results.add("a2", "closed_p99", f"{how}: p99", "ms", percentile(latencies, 99))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ops.bench.replica_commands", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--commands", type=int, default=2000, help="per run (the open loop offers twice this)"
    )
    parser.add_argument("--clients", type=int, default=8, help="client threads per replica")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    from ops.bench import infra

    results = Results()
    with infra.postgres() as postgres:
        run(results, postgres, args.commands, args.clients, args.repeat)
    print(results.table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
