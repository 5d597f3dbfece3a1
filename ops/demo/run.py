"""The seeded demo: every demo organisation's node in one process, with the generated history seeded once."""

from __future__ import annotations

import json
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import structlog
from starlette.responses import JSONResponse

from adapters.sql.node_db import SqliteDatabase
from coordination.applications.housing import HousingOrganisationApp
from ops.demo.reference_scenario import Nodes
from ops.demo.seed import FAB, JOBCENTRE, Desks, Progress, seed
from ops.node.exchange import Exchange
from ops.node.timers import NodeTimers

AREAS_FILE = Path(__file__).resolve().parent.parent / "areas" / "odense.csv"
DEFAULT_HOUSEHOLDS = 300
DEFAULT_SEED = "vollsmose-2025"

log = structlog.get_logger()


def start_timers(nodes: Nodes) -> list[NodeTimers]:
    """Every demo node's timers on the wall clock, as a node's own process runs them (ops/node/timers.py):
    the seeded history's offers and referrals past due expire at once, the rest as their dates pass.
    Each stops with its node's parts (closed with the exchange)."""
    started = [parts.start_timers() for parts in nodes.parts.values()]
    return [timers for timers in started if timers is not None]


def _marker(data_dir: Path) -> Path:
    return data_dir / "seeded.json"


RELAXED = "PRAGMA synchronous=NORMAL"


def relax_fsync(nodes: Nodes) -> None:
    """The embedded demo's SQLite files commit without an fsync each (WAL with synchronous=NORMAL): a crash
    of the process loses nothing, a power cut may lose the last commits. Seeding runs about 3x faster.

    The library's pool has no setting for it, so each pool's new and idle connections are given the pragma.
    """
    for app in nodes.all():
        pool: Any = getattr(getattr(app.recorder, "datastore", None), "pool", None)
        if pool is None or getattr(pool, "is_sqlite_memory_mode", True):
            continue
        create = pool._create_connection

        def relaxed(create: Any = create) -> Any:
            connection = create()
            connection._sqlite_conn.execute(RELAXED)
            return connection

        pool._create_connection = relaxed
        for idle in list(pool._pool):
            raw: sqlite3.Connection = idle._sqlite_conn
            raw.execute(RELAXED)
    for db in _own_databases(nodes):
        db.pragmas = (RELAXED,)


def _own_databases(nodes: Nodes) -> list[SqliteDatabase]:
    """The SQLite databases beside the stores: each node's own tables, and its household keys."""
    databases: list[Any] = [getattr(getattr(app.mapper, "keys", None), "_db", None) for app in nodes.all()]
    if isinstance(nodes.exchange, Exchange):
        databases += [node.db for node in nodes.exchange.nodes]
    return [db for db in databases if isinstance(db, SqliteDatabase)]


def desks(nodes: Nodes) -> Desks:
    extra = {app.organisation: app for app in nodes.extra}
    fab = extra[FAB]
    assert isinstance(fab, HousingOrganisationApp)
    return Desks(
        housing={nodes.civica.organisation: nodes.civica, FAB: fab},
        bridge_builder=nodes.bridge_builder,
        children_and_youth=nodes.children_and_youth,
        jobcentre=extra[JOBCENTRE],
    )


def needs_seeding(
    nodes: Nodes, data_dir: Path, *, households: int = DEFAULT_HOUSEHOLDS, seed_text: str = DEFAULT_SEED
) -> bool:
    """Whether these stores lack the generated history of this seed and size (the marker names both)."""
    marker = _marker(data_dir)
    return not (
        marker.exists()
        and json.loads(marker.read_text()) == _wanted(households, seed_text)
        and nodes.civica.recorder.max_notification_id()
    )


def _wanted(households: int, seed_text: str) -> dict[str, Any]:
    return {"seed": seed_text, "households": households}


def ensure_seeded(
    nodes: Nodes,
    data_dir: Path,
    *,
    households: int = DEFAULT_HOUSEHOLDS,
    seed_text: str = DEFAULT_SEED,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> int:
    """Seeds the generated history unless these stores already hold it (the marker names the seed and size);
    how many steps were taken (0 when reused). Seeding again would change nothing, only take time. Once
    `cancelled()`, stops between two steps and leaves no marker: the next run takes the remaining steps."""
    if not needs_seeding(nodes, data_dir, households=households, seed_text=seed_text):
        return 0
    exchange = nodes.exchange
    # A round of 300 households carries thousands of messages: more than the reference story's 30 s bound.
    sync = (lambda: exchange.settle(max_seconds=900)) if isinstance(exchange, Exchange) else nodes.sync
    with _connections_kept(nodes), _read_models_caught_up_at_the_end(nodes, unless=cancelled):
        taken = seed(
            desks(nodes),
            sync,
            households=households,
            seed=seed_text,
            progress=progress,
            cancelled=cancelled,
        )
    if not cancelled():
        _marker(data_dir).write_text(json.dumps(_wanted(households, seed_text)))
    return taken


@contextmanager
def _connections_kept(nodes: Nodes) -> Iterator[None]:
    """While seeding (thousands of small transactions), the databases beside the stores keep a connection
    per thread instead of opening one for each transaction; afterwards they open one each time again and
    the kept ones close (each held a page cache: the served demo's memory)."""
    databases = [db for db in _own_databases(nodes) if not db.keep_connections]
    for db in databases:
        db.keep_connections = True
    try:
        yield
    finally:
        for db in databases:
            db.keep_connections = False
            db.close()


@contextmanager
def _read_models_caught_up_at_the_end(nodes: Nodes, unless: Callable[[], bool]) -> Iterator[None]:
    """While seeding, the exchange's rounds leave the nodes' read models alone; they are caught up once at
    the end, in large batches. (The waterbed guard's inflow and the timeline still catch up their own
    projection when a command asks them, so every command decides as it would have.) Not when the seeding
    was stopped (`unless()`): the process is ending, and the next one catches them up."""
    exchange = nodes.exchange
    detached = [(node, node.read_models) for node in exchange.nodes] if isinstance(exchange, Exchange) else []
    for node, _ in detached:
        node.read_models = None
    try:
        yield
    finally:
        for node, models in detached:
            node.read_models = models
    if unless():
        return
    for _, models in detached:
        if models is not None:
            models.catch_up(max_seconds=900)


def seeding_failed(error: BaseException, data_dir: Path) -> str:
    """Why seeding failed, for the operator: the error's type only (its message may name a household)."""
    return (
        f"Seeding the generated history failed ({type(error).__name__}). What was seeded is kept in "
        f"{data_dir}; the next run tries again from there (to start afresh, delete that folder)."
    )


@contextmanager
def stop_asked() -> Iterator[threading.Event]:
    """While in the block, the first Ctrl-C sets the event (the seeding stops after its current step) and
    a second one interrupts at once (KeyboardInterrupt), as Ctrl-C does outside it. Only in the main
    thread, where signals are handled; elsewhere the event is never set."""
    asked = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield asked
        return
    before = signal.getsignal(signal.SIGINT)

    def first(signum: int, frame: FrameType | None) -> None:
        asked.set()
        signal.signal(signal.SIGINT, before)
        print("\nStopping after the current step (Ctrl-C again stops at once)", file=sys.stderr, flush=True)

    signal.signal(signal.SIGINT, first)
    try:
        yield asked
    finally:
        signal.signal(signal.SIGINT, before)


class Seeding:
    """The generated history seeded on a thread of its own while the demo already serves: each node's
    /readyz answers "seeding" (with the steps taken) until it is done; then `then` runs (the exchange
    starts). The history is the same as seeding in the foreground: the same steps in the same order."""

    def __init__(
        self,
        nodes: Nodes,
        data_dir: Path,
        *,
        households: int = DEFAULT_HOUSEHOLDS,
        seed_text: str = DEFAULT_SEED,
        progress: Progress | None = None,
    ) -> None:
        self._nodes, self._data_dir = nodes, data_dir
        self._households, self._seed_text, self._progress = households, seed_text, progress
        self.taken = self.total = 0
        self.seconds: float | None = None
        self.error: str | None = None
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, then: Callable[[], object] = lambda: None) -> None:
        self._thread = threading.Thread(target=self._run, args=(then,), name="demo-seeding", daemon=True)
        self._thread.start()

    @property
    def ready(self) -> bool:
        return self._done.is_set() and self.error is None and not self._cancel.is_set()

    def check(self) -> dict[str, Any]:
        """The readiness check: not ok while seeding (or after a failure, named by its type only)."""
        state = (
            "done"
            if self.ready
            else "failed"
            if self.error
            else "stopped"
            if self._cancel.is_set()
            else "seeding"
        )
        found: dict[str, Any] = {"ok": self.ready, "state": state, "steps": self.taken, "of": self.total}
        if self.error:
            found["error"] = self.error
            found["detail"] = (
                "Seeding failed in this run; what was seeded is kept and the next run tries again"
            )
        return found

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def cancel(self) -> None:
        """Stop between two steps; the next run takes the remaining steps."""
        self._cancel.set()

    def stop(self, timeout: float = 60.0) -> None:
        """Cancel (the demo is shutting down) and wait for the thread."""
        self.cancel()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, then: Callable[[], object]) -> None:
        started = time.monotonic()
        try:
            self.taken = ensure_seeded(
                self._nodes,
                self._data_dir,
                households=self._households,
                seed_text=self._seed_text,
                progress=self._show,
                cancelled=self._cancel.is_set,
            )
            if not self._cancel.is_set():
                then()
                self.seconds = time.monotonic() - started
                print(
                    f"Seeded the generated history ({self.taken} steps) in {self.seconds:.1f} s", flush=True
                )
            else:
                print(
                    f"\nSeeding stopped after {self.taken} of {self.total} steps: what was seeded is kept, "
                    "and the next run seeds the rest.",
                    file=sys.stderr,
                    flush=True,
                )
        except Exception as error:  # reported by /readyz and here, by type: the message may name a household
            self.error = type(error).__name__
            log.error("demo.seeding_failed", error=self.error, steps=self.taken)
            print(seeding_failed(error, self._data_dir), file=sys.stderr, flush=True)
        finally:
            self._done.set()

    def _show(self, name: str, position: int, target: int) -> None:
        self.taken, self.total = position, target
        if self._progress is not None:
            self._progress(name, position, target)


def readyz_while_seeding(app: Any, seeding: Seeding) -> Any:
    """The served (ASGI) app, with every /readyz (the root's and each node's) answering 503 "seeding" until
    the seeding is done."""

    async def gated(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/readyz") and not seeding.ready:
            body = {"ready": False, "checks": {"seeding": seeding.check()}}
            await JSONResponse(body, status_code=503)(scope, receive, send)
            return
        await app(scope, receive, send)

    return gated
