"""`coordination bench`: runs the chosen scenarios, prints the table and writes the JSON."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import traceback
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops.bench import commands, failover, infra, memory, propagation, read_models, replica_commands
from ops.bench.infra import Broker, Postgres
from ops.bench.read_models import History
from ops.bench.report import Results, python_speed
from ops.logging import configure

SCENARIOS = {
    "a": "command throughput and latency (SQLite, PostgreSQL)",
    "b": "cross-organisation propagation over Tansu",
    "c": "rebuild of every projection",
    "d": "query latency",
    "e": "node memory (RSS)",
    "a2": "commands at two replicas of a node on one PostgreSQL store (the issue's a-prime)",
    "g": "failover: the leader of two replicas SIGKILLed under load",
}


@dataclass(frozen=True)
class Sizes:
    """How big each scenario is: the full run, or --quick (small, for a test)."""

    commands: int
    clients: int
    propagation_events: int
    rebuild_vacancies: int
    rebuild_households: int
    household_events: int
    query_runs: int
    memory_seconds: float
    failover_kills: int = 3

    @classmethod
    def of(cls, quick: bool) -> Sizes:
        if quick:
            return cls(100, 4, 200, 1_000, 200, 100, 100, 3.0, 1)
        # 100,000 vacancies x 7 + 25,000 households x 12 = 1,000,000 events (ops/bench/fixtures/history.py).
        return cls(2_000, 8, 1_000, 100_000, 25_000, 500, 2_000, 10.0)


def add_commands(commands: Any) -> None:
    bench = commands.add_parser("bench", help="the benchmark suite (issue 8); see docs/performance.md")
    bench.add_argument("--quick", action="store_true", help="small sizes and one repeat (a smoke test)")
    bench.add_argument(
        "--repeat", type=int, default=None, help="runs of each scenario (default 3; --quick: 1)"
    )
    bench.add_argument(
        "--only",
        default="a,b,c,d,e",
        help="comma-separated scenarios: " + "; ".join(f"{k} {v}" for k, v in SCENARIOS.items()),
    )
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
    # Other work on the machine shows in every figure: the load average says how much there was.
    settings["load_average_at_start"] = os.getloadavg()
    with ExitStack() as stack:
        postgres = stack.enter_context(infra.postgres())
        settings["postgresql_server"] = postgres.server_version
        context = _Context(results, postgres, sizes, repeat, stack)
        for name in only:
            print(f"[{time.monotonic() - started:6.0f} s] {name}. {SCENARIOS[name]} ...", flush=True)
            _python_speed(results, name)
            try:
                context.run(name)
            except Exception as error:
                traceback.print_exc()
                results.failures[name] = f"{type(error).__name__}: {error}"
            _python_speed(results, name)
    settings["seconds"] = round(time.monotonic() - started, 1)
    settings["load_average_at_end"] = os.getloadavg()
    print()
    print(results.table())
    results.write(args.json, settings)
    print(f"\nWritten to {args.json} ({settings['seconds']} s)")
    return 1 if results.failures else 0


def _python_speed(results: Results, scenario: str) -> None:
    """The machine's speed before and after each scenario (min and max show its drift meanwhile)."""
    label = "this machine's Python speed, before and after (fixed workload)"
    results.add(scenario, "python_speed", label, "k rounds/s", python_speed())


@dataclass
class _Context:
    """What the scenarios share within one run: the database, the broker, the stored history."""

    results: Results
    postgres: Postgres
    sizes: Sizes
    repeat: int
    stack: ExitStack
    _broker: Broker | None = None
    _history: History | None = None

    def broker(self) -> Broker:
        if self._broker is None:
            self._broker = self.stack.enter_context(infra.tansu())
        return self._broker

    def history(self) -> History:
        if self._history is None:
            self._history = read_models.write_history(self.postgres, self._read_model_sizes())
            self.stack.callback(self._history.app.close)
        return self._history

    def _read_model_sizes(self) -> read_models.Sizes:
        s = self.sizes
        return read_models.Sizes(s.rebuild_vacancies, s.rebuild_households, s.household_events, s.query_runs)

    def run(self, name: str) -> None:
        s, results, repeat = self.sizes, self.results, self.repeat
        if name == "a":
            commands.run(results, self.postgres, commands.Sizes(s.commands, s.clients), repeat)
        elif name == "b":
            propagation.run(results, self.postgres, self.broker(), s.propagation_events, repeat)
        elif name == "c":
            read_models.rebuilds(results, self.history(), repeat)
        elif name == "d":
            read_models.queries(results, self.history(), self._read_model_sizes(), repeat)
        elif name == "e":
            memory.run(results, self.postgres, self.broker(), s.propagation_events, s.memory_seconds, repeat)
        elif name == "a2":
            replica_commands.run(results, self.postgres, s.commands, s.clients, repeat)
        elif name == "g":  # each kill is a run of its own: `repeat` does not multiply them
            failover.run(results, self.postgres, self.broker(), s.failover_kills, failover.RATE)
