"""Scenario a's open loop: commands are offered at a rate whatever the latency, and a command that starts
late counts the wait (tests/e2e/test_bench_quick.py runs the whole bench)."""

from __future__ import annotations

import time

from ops.bench.commands import _Schedule


def test_start_times_are_one_every_one_over_the_rate_and_run_out_after_the_run_s_commands() -> None:
    schedule = _Schedule(commands=3, rate=1000)

    due = [schedule.take() for _ in range(4)]

    assert due[3] is None
    starts = [t for t in due if t is not None]
    assert [round((t - schedule.started) * 1000, 6) for t in starts] == [0.0, 1.0, 2.0]
    assert time.perf_counter() >= starts[-1], "each take waits for its start time"


def test_a_command_taken_late_keeps_its_start_time_so_its_latency_counts_the_wait() -> None:
    schedule = _Schedule(commands=2, rate=100)
    schedule.take()
    time.sleep(0.05)  # every client busy: the second start time (10 ms after the first) passes

    taken_at = time.perf_counter()
    due = schedule.take()

    assert due is not None
    assert taken_at - due >= 0.03, "the start time is the scheduled one, not when a client took it"
