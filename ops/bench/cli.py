"""`coordination bench`: runs the chosen scenarios, prints the table and writes the JSON."""

from __future__ import annotations

import argparse
import logging
import sys
import time
import traceback
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops.bench.report import Results
from ops.logging import configure

SCENARIOS = {
    "a": "command throughput and latency (SQLite, PostgreSQL)",
    "b": "cross-organisation propagation over Tansu",
    "c": "rebuild of every projection",
    "d": "query latency",
    "e": "node memory (RSS)",
}


@dataclass(frozen=True)
class Sizes:
    """How big each scenario is: the full run, or --quick (small, for a test)."""

    commands: int
    clients: int
    propagation_events: int
    rebuild_vacancies: int
    rebuild_households: int
    query_vacancies: int
    query_households: int
    household_events: int
    query_runs: int
    memory_seconds: float

    @classmethod
    def of(cls, quick: bool) -> Sizes:
        if quick:
            return cls(200, 4, 200, 1_500, 500, 2_000, 200, 100, 100, 3.0)
        # 100,000 vacancies x 7 + 25,000 households x 12 = 1,000,000 events (tests/bench_read_models.py).
        return cls(3_000, 8, 2_000, 100_000, 25_000, 100_000, 25_000, 500, 2_000, 20.0)


def add_commands(commands: Any) -> None:
    bench = commands.add_parser("bench", help="the benchmark suite (issue 8); see docs/performance.md")
    bench.add_argument("--quick", action="store_true", help="small sizes and one repeat (a smoke test)")
    bench.add_argument(
        "--repeat", type=int, default=None, help="runs of each scenario (default 3; --quick: 1)"
    )
    bench.add_argument("--only", default="a,b,c,d,e", help="comma-separated scenarios: " +
                       "; ".join(f"{k} {v}" for k, v in SCENARIOS.items()))  # fmt: skip
    bench.add_argument(
        "--json", type=Path, default=Path("var/bench/latest.json"), help="where to write the JSON"
    )
    bench.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    configure(json=False, level=logging.WARNING)
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(only) - set(SCENARIOS))
    if unknown:
        print(
            f"Unknown scenario(s): {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}", file=sys.stderr
        )
        return 2
    repeat = args.repeat or (1 if args.quick else 3)
    sizes = Sizes.of(args.quick)
    results = Results()
    settings = {"quick": args.quick, "repeat": repeat, "only": only, "sizes": vars(sizes)}
    started = time.monotonic()
    from ops.bench import infra

    with ExitStack() as stack:
        postgres = stack.enter_context(infra.postgres()) if set(only) & {"a", "b", "c", "d"} else None
        if postgres is not None:
            settings["postgresql_server"] = postgres.server_version
        for name in only:
            print(f"[{time.monotonic() - started:6.0f} s] {name}. {SCENARIOS[name]} ...", flush=True)
            try:
                _scenario(name)(results, postgres, sizes, repeat, stack)
            except Exception as error:
                traceback.print_exc()
                results.failures[name] = f"{type(error).__name__}: {error}"
    settings["seconds"] = round(time.monotonic() - started, 1)
    print()
    print(results.table())
    results.write(args.json, settings)
    print(f"\nWritten to {args.json} ({settings['seconds']} s)")
    return 1 if results.failures else 0


def _scenario(name: str) -> Callable[..., None]:
    if name == "a":
        from ops.bench import commands

        return lambda results, postgres, sizes, repeat, _: commands.run(
            results, postgres, commands.Sizes(sizes.commands, sizes.clients), repeat
        )
    raise NotImplementedError(name)
