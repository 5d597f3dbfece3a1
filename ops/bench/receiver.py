"""Scenario b's receiving node (FAB) in a process of its own, as every organisation runs its node.

`python -m ops.bench.receiver --report-fd N [--read-models] [--profile FILE]` builds FAB's node with the
composition root (ops/node/bootstrap.py), from the settings in COORDINATION_BENCH_NODE_SETTINGS (JSON fields of
NodeSettings: its PostgreSQL schema, the bench's broker and topic prefix), and writes one line per event to
file descriptor N: `committed <vacancy id> <t>` when FAB's save holding the mirror's `Vacancy.Published`
committed (a commit listener of the app, called after the store transaction commits) and `projected
<vacancy id> <t>` when FAB's vacancy pool committed the batch holding it. `ready` once started,
`stopped` at the end. With `--serve-keys` it also answers its peers' exchange-key requests, as
`python -m ops.node.serve` does; it reports the referrals sent to it too (scenario f). It stops on SIGTERM
or when its stdin closes (the bench died).

The times are `time.monotonic()`: CLOCK_MONOTONIC, one system-wide clock on Linux, so the bench may
subtract its own monotonic readings from these across the two processes.

`--profile` runs cProfile (CPU clock: `time.thread_time`) in every thread the node starts and writes the
merged stats there when stopping.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any
from uuid import UUID

from adapters.kafka.transport import KafkaTransport
from adapters.settings import NodeSettings
from coordination.domain.referral import Referral
from coordination.domain.vacancy import Vacancy
from coordination.projections.batch import Batch
from coordination.projections.vacancy_pool import VacancyPoolProjection
from ops.logging import configure
from ops.node.bootstrap import NodeParts
from ops.node.exchange import Node
from ops.node.interpreter import tune_for_a_node

NODE_SETTINGS = "COORDINATION_BENCH_NODE_SETTINGS"
ORGANISATION = "fab"


class ThreadProfiles:
    """cProfile in every thread started after `start()` (cProfile alone sees only the thread enabling it)."""

    def __init__(self, timer: Callable[[], float] = time.thread_time, *, names: tuple[str, ...] = ()) -> None:
        """Only threads whose name starts with one of `names`, when given."""
        self._timer = timer
        self._names = names
        self._profiles: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        threading.setprofile(self._begin)

    def _begin(self, *_: Any) -> None:
        # Runs once as each new thread's first profile event: hand the thread to a profiler of its own.
        sys.setprofile(None)
        if self._names and not threading.current_thread().name.startswith(self._names):
            return
        profile = cProfile.Profile(self._timer)
        with self._lock:
            self._profiles.append(profile)
        profile.enable()

    def dump(self, path: str) -> None:
        """Write the merged stats (call once the profiled threads have stopped)."""
        import pstats

        threading.setprofile(None)  # type: ignore[arg-type]
        with self._lock:
            profiles = [p for p in self._profiles if p.getstats()]
        if not profiles:
            return
        stats = pstats.Stats(profiles[0])
        for profile in profiles[1:]:
            stats.add(profile)
        stats.dump_stats(path)


class Reporter:
    """Writes the protocol lines to the bench, one write per commit (a pipe write is atomic up to 4 KiB)."""

    def __init__(self, out: IO[str], *, projections: bool) -> None:
        self._out = out
        self._lock = threading.Lock()
        self._projections = projections
        self._unprojected: dict[int, UUID] = {}  # FAB's notification id -> vacancy

    def line(self, text: str) -> None:
        with self._lock:
            self._out.write(text + "\n")
            self._out.flush()

    def committed(self, recordings: list[Any]) -> None:
        now = time.monotonic()
        lines = []
        for recording in recordings:
            event = recording.domain_event
            # A mirrored vacancy, or (scenario f) a referral another organisation sent to this one.
            if isinstance(event, Vacancy.Published | Referral.Sent):
                lines.append(f"committed {event.originator_id} {now:.6f}\n")
        if lines:
            with self._lock:
                if self._projections:
                    for recording in recordings:
                        if isinstance(recording.domain_event, Vacancy.Published):
                            self._unprojected[recording.notification.id] = (
                                recording.domain_event.originator_id
                            )
                self._out.write("".join(lines))
                self._out.flush()

    def projected(self, through: int) -> None:
        """The vacancy pool committed a batch through notification id `through`."""
        now = time.monotonic()
        with self._lock:
            done = [p for p in self._unprojected if p <= through]
            if not done:
                return
            self._out.write("".join(f"projected {self._unprojected.pop(p)} {now:.6f}\n" for p in done))
            self._out.flush()


def _on_each_batch(node: Node, projected: Callable[[int], None]) -> None:
    """Call `projected(last position)` after each batch FAB's vacancy pool projection commits."""
    assert node.read_models is not None
    runner = node.read_models.runners[VacancyPoolProjection.name]
    apply_batch = runner.apply_batch

    def applied(batch: Batch) -> int:
        moved = apply_batch(batch)
        if moved:
            projected(batch.last)
        return moved

    runner.apply_batch = applied  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.bench.receiver", description=__doc__)
    parser.add_argument("--report-fd", type=int, required=True, help="where the protocol lines go")
    parser.add_argument("--read-models", action="store_true", help="run FAB's read models too")
    parser.add_argument("--profile", help="write cProfile stats (CPU clock, all node threads) here")
    parser.add_argument(
        "--serve-keys", action="store_true", help="answer peers' exchange-key requests (scenario f)"
    )
    args = parser.parse_args(argv)
    tune_for_a_node()  # as `python -m ops.node.serve` does
    configure(json=False, level=logging.WARNING)
    out = os.fdopen(args.report_fd, "w", buffering=1)
    reporter = Reporter(out, projections=args.read_models)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())

    def until_stdin_closes() -> None:
        sys.stdin.read()  # EOF: the bench is gone, so is the reason to run
        stopping.set()

    threading.Thread(target=until_stdin_closes, name="stdin", daemon=True).start()
    profiles = ThreadProfiles() if args.profile else None
    settings = NodeSettings(**json.loads(os.environ[NODE_SETTINGS]))
    # As ops/node/bootstrap.py builds every node (its app's consumer applies in lanes: a group commit).
    parts = NodeParts(settings, read_models=args.read_models, after_commit=[reporter.committed])
    try:
        node = parts.on_exchange(KafkaTransport(settings.kafka()))
        if parts.read_models is not None:
            _on_each_batch(node, reporter.projected)
        if profiles is not None:
            profiles.start()
        node.start()
        if args.serve_keys:
            parts.serve_exchange_keys()
        reporter.line("ready")
        stopping.wait()
    finally:
        parts.close()
    if profiles is not None:
        profiles.dump(args.profile)
    reporter.line("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
