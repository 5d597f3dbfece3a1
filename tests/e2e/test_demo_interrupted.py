"""`coordination demo` stopped by Ctrl-C or killed at several points of its run, then run again: the stores
end as one uninterrupted run leaves them, and the served demo is ready."""

from __future__ import annotations

import json
import logging
import os
import re
import selectors
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from adapters.exchange.tables import ParkedMessages
from adapters.settings import Store
from ops.demo.nodes import demo_nodes
from ops.demo.run import AREAS_FILE
from ops.logging import configure
from ops.node.exchange import Exchange
from tests.ops.demo_history import node_histories

ROOT = Path(__file__).resolve().parents[2]
HOUSEHOLDS = "12"  # 213 steps; the progress line reports 36, 86, 134, 175, 201, 209 and 213 (each run
# counts from 0: the steps an earlier run took are repeated, as no-ops, first)
STEPS = re.compile(rb"(\d+)/\d+")


# A served demo runs every node's timers (on the wall clock, so what they expire depends on today); the
# uninterrupted reference run does not serve: both run without timers (tests/ops/test_demo_timers.py has them).
NO_TIMERS = {**os.environ, "COORDINATION_TIMERS_INTERVAL_S": "0"}


def _demo(data_dir: Path, *options: str) -> list[str]:
    command = [sys.executable, "-m", "ops.cli.main", "demo", "--data-dir", str(data_dir)]
    return [*command, "--households", HOUSEHOLDS, *options]


@dataclass
class Ended:
    returncode: int
    stderr: str
    seconds: float
    at_step: int = 0  # the last step the progress line had reported when the signal was sent


def _relay_position(data_dir: Path) -> int | None:
    """CIVICA's relay position as stored (None before the store has one): it moves inside a settle."""
    try:
        with sqlite3.connect(f"file:{data_dir / 'civica.sqlite3'}?mode=ro", uri=True, timeout=5) as db:
            row = db.execute("SELECT position FROM relay_position WHERE name = 'exchange'").fetchone()
    except sqlite3.OperationalError:  # not made yet
        return None
    return None if row is None else int(row[0])


def _interrupted(
    data_dir: Path, when: Callable[[int], bool], *signals: int, options: tuple[str, ...] = ("--no-serve",)
) -> Ended:
    """Run the demo (by default seeding in the foreground) and send `signals` (0.05 s apart) once
    `when(steps seen)` holds."""
    started = time.monotonic()
    demo = subprocess.Popen(
        _demo(data_dir, *options), cwd=ROOT, env=NO_TIMERS, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert demo.stderr is not None
    seen, deadline, at_step = b"", started + 60, 0
    # A selector, not select.select(): late in a full run this process's descriptors pass 1024.
    readable = selectors.DefaultSelector()
    readable.register(demo.stderr, selectors.EVENT_READ)
    try:
        while demo.poll() is None and time.monotonic() < deadline:
            if readable.select(0.002):
                seen += os.read(demo.stderr.fileno(), 65536)
            steps = [int(found) for found in STEPS.findall(seen)]
            at_step = steps[-1] if steps else 0
            if when(at_step):
                for n, signum in enumerate(signals):
                    if n:
                        time.sleep(0.05)
                    demo.send_signal(signum)
                break
        seen += demo.communicate(timeout=60)[1]
    finally:
        readable.close()
        if demo.poll() is None:
            demo.kill()
            demo.wait(10)
    return Ended(demo.returncode, seen.decode(errors="replace"), time.monotonic() - started, at_step)


def _after(step: int) -> Callable[[int], bool]:
    return lambda steps: steps >= step


def _when_the_relay_moves(data_dir: Path, after_step: int) -> Callable[[int], bool]:
    """Once `after_step` steps were reported, when CIVICA's relay next records a position (in a settle)."""
    at: list[int | None] = []

    def moved(steps: int) -> bool:
        if steps < after_step:
            return False
        if not at:
            at.append(_relay_position(data_dir))
            return False
        return _relay_position(data_dir) != at[0]

    return moved


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _readyz(port: int) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/orgs/civica/readyz", timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:  # not listening yet
        return 0, {}


def _served_until_ready(data_dir: Path) -> tuple[list[dict[str, object]], Ended]:
    """Serve (the seeding runs in the background), ask /readyz until it is ready, then Ctrl-C; each
    answer's body until then, and how the demo ended."""
    port, started = _free_port(), time.monotonic()
    demo = subprocess.Popen(
        _demo(data_dir, "--serve", "--port", str(port)),
        cwd=ROOT,
        env=NO_TIMERS,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    answers: list[dict[str, object]] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and demo.poll() is None:
            status, body = _readyz(port)
            if status:
                answers.append(body)
            if status == 200:
                break
            time.sleep(0.1)
    finally:
        demo.send_signal(signal.SIGINT)
        _, stderr = demo.communicate(timeout=60)
    return answers, Ended(demo.returncode, stderr, time.monotonic() - started)


# Where in the log and when a row was stored; and the caseload's case-reference digest, keyed with each
# store's own random secret.
UNCOMPARED = {"position", "recorded_at", "case_reference_digest"}


def _stores(data_dir: Path) -> tuple[dict[str, tuple[int, str]], dict[str, int], dict[str, list[str]]]:
    """Per node: its events (count and digest), its parked messages, and its read models' rows (what
    differs between two runs left out: where in the log and when an entry was stored)."""
    configure(json=False, level=logging.WARNING)
    nodes = demo_nodes(data_dir, Store.SQLITE, area_indicators_file=AREAS_FILE)
    try:
        assert isinstance(nodes.exchange, Exchange)
        histories = node_histories(nodes)
        parked = {node.organisation: len(ParkedMessages(node.db).list()) for node in nodes.exchange.nodes}
    finally:
        nodes.close()
    views: dict[str, list[str]] = {}
    for path in sorted(data_dir.glob("*.views.sqlite3")):
        with sqlite3.connect(path) as db:
            tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            rows = []
            for table in sorted(t for t in tables if t != "projection_tracking"):
                cursor = db.execute(f'SELECT * FROM "{table}"')
                names = [column[0] for column in cursor.description]
                rows += sorted(
                    f"{table} {[v for n, v in zip(names, row, strict=True) if n not in UNCOMPARED]}"
                    for row in cursor
                )
        views[path.name] = rows
    return histories, parked, views


def test_a_demo_stopped_or_killed_at_several_points_ends_as_an_uninterrupted_run_and_serves_ready(
    tmp_path: Path,
) -> None:
    timings: dict[str, float] = {}
    at_steps: dict[str, int] = {}
    stops: dict[str, int] = {}  # where a Ctrl-C stopped the seeding, after its current step
    started = time.monotonic()
    reference = subprocess.run(
        _demo(tmp_path / "uninterrupted", "--no-serve"),
        cwd=ROOT,
        env=NO_TIMERS,
        capture_output=True,
        timeout=120,
    )
    assert reference.returncode == 0, reference.stderr[-2000:]
    timings["uninterrupted"] = time.monotonic() - started

    data_dir = tmp_path / "interrupted"
    serving = ("--serve", "--port", str(_free_port()))
    stages: list[tuple[str, Callable[[int], bool], tuple[int, ...], tuple[str, ...], set[int], list[str]]] = [
        # Ctrl-C while the reference story is played (at its first settle): interrupted there and then.
        (
            "SIGINT in the reference story",
            lambda _: _relay_position(data_dir) is not None,
            (signal.SIGINT,),
            ("--no-serve",),
            {130},
            ["Stopped (Ctrl-C)."],
        ),
        # Killed when CIVICA's relay next records a position: at the start (its rewind), in the story
        # played again, or in the seeding's first round.
        ("SIGKILL when the relay moves", _when_the_relay_moves(data_dir, 0), (signal.SIGKILL,), (), {-9}, []),
        # Ctrl-C: the seeding stops after its current step, says so, and the status is 130.
        ("SIGINT after 36 steps", _after(36), (signal.SIGINT,), (), {130}, ["the next run seeds the rest"]),
        ("SIGKILL after 86 steps", _after(86), (signal.SIGKILL,), (), {-9}, []),
        # Killed once a relay has published in a settle (inside it, or just after its readers applied).
        (
            "SIGKILL in a settle after 134 steps",
            _when_the_relay_moves(data_dir, 134),
            (signal.SIGKILL,),
            (),
            {-9},
            [],
        ),
        # Ctrl-C while the API serves and the seeding runs beside it (how `bash ops/run.sh` runs it).
        (
            "SIGINT while serving after 175 steps",
            _after(175),
            (signal.SIGINT,),
            serving,
            {130},
            ["Seeding stopped after", "Stopped (Ctrl-C)."],
        ),
        # Ctrl-C twice: the second interrupts at once, wherever the run is by then (mostly on its way out,
        # where Python ends by the signal itself): 130 either way, as a shell reports it.
        ("SIGINT twice after 201 steps", _after(201), (signal.SIGINT, signal.SIGINT), (), {130, -2}, []),
    ]
    for name, when, signals, options, statuses, said in stages:
        ended = _interrupted(data_dir, when, *signals, options=options or ("--no-serve",))
        timings[name], at_steps[name] = ended.seconds, ended.at_step
        stopped_at = re.search(r"Seeding stopped after (\d+)", ended.stderr)
        if stopped_at:
            stops[name] = int(stopped_at[1])
        assert ended.returncode in statuses, f"{name}: {ended.returncode}\n{ended.stderr[-2000:]}"
        assert all(words in ended.stderr for words in said), f"{name}: {ended.stderr[-2000:]}"
        assert "Traceback" not in ended.stderr, f"{name}: {ended.stderr[-3000:]}"
    assert at_steps["SIGINT in the reference story"] == 0

    answers, served = _served_until_ready(data_dir)
    timings["served run until ready"] = served.seconds
    assert answers and answers[-1].get("ready") is True, answers[-3:]
    assert not [a for a in answers if "failed" in json.dumps(a)], answers
    assert served.returncode == 130 and "Stopped (Ctrl-C)." in served.stderr, served.stderr[-2000:]
    assert "Traceback" not in served.stderr

    found, expected = _stores(data_dir), _stores(tmp_path / "uninterrupted")
    assert found[0] == expected[0]  # every node's events
    assert found[1] == expected[1] == dict.fromkeys(expected[1], 0)  # nothing parked
    assert found[2] == expected[2]  # every node's read models
    timings["whole test"] = time.monotonic() - started
    print("timings (s):", {name: round(seconds, 1) for name, seconds in timings.items()})
    print("signalled at step:", at_steps)
    print("the seeding stopped after step:", stops)
