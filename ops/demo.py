"""The seeded demo: every demo organisation's node in one process, with the generated history seeded once."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from coordination.applications.housing import HousingOrganisationApp
from ops.demo_seed import FAB, JOBCENTRE, Desks, Progress, seed
from ops.node import Exchange
from ops.reference_scenario import Nodes

AREAS_FILE = Path(__file__).parent / "areas" / "odense.csv"
DEFAULT_HOUSEHOLDS = 300
DEFAULT_SEED = "vollsmose-2025"


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
    # The node's own tables and its household keys each have a database of their own, beside the store.
    databases: list[Any] = [getattr(getattr(app.mapper, "keys", None), "_db", None) for app in nodes.all()]
    if isinstance(nodes.exchange, Exchange):
        databases += [node.db for node in nodes.exchange.nodes]
    for db in databases:
        if hasattr(db, "pragmas"):
            db.pragmas = (RELAXED,)


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


def ensure_seeded(
    nodes: Nodes,
    data_dir: Path,
    *,
    households: int = DEFAULT_HOUSEHOLDS,
    seed_text: str = DEFAULT_SEED,
    progress: Progress | None = None,
) -> int:
    """Seeds the generated history unless these stores already hold it (the marker names the seed and size);
    how many steps were taken (0 when reused). Seeding again would change nothing, only take time."""
    wanted = {"seed": seed_text, "households": households}
    marker = _marker(data_dir)
    if (
        marker.exists()
        and json.loads(marker.read_text()) == wanted
        and nodes.civica.recorder.max_notification_id()
    ):
        return 0
    exchange = nodes.exchange
    # A round of 300 households carries thousands of messages: more than the reference story's 30 s bound.
    sync = (lambda: exchange.settle(max_seconds=900)) if isinstance(exchange, Exchange) else nodes.sync
    with _read_models_caught_up_at_the_end(nodes):
        taken = seed(desks(nodes), sync, households=households, seed=seed_text, progress=progress)
    marker.write_text(json.dumps(wanted))
    return taken


@contextmanager
def _read_models_caught_up_at_the_end(nodes: Nodes) -> Iterator[None]:
    """While seeding, the exchange's rounds leave the nodes' read models alone; they are caught up once at
    the end, in large batches. (The waterbed guard's inflow and the timeline still catch up their own
    projection when a command asks them, so every command decides as it would have.)"""
    exchange = nodes.exchange
    detached = [(node, node.read_models) for node in exchange.nodes] if isinstance(exchange, Exchange) else []
    for node, _ in detached:
        node.read_models = None
    try:
        yield
    finally:
        for node, models in detached:
            node.read_models = models
    for _, models in detached:
        if models is not None:
            models.catch_up(max_seconds=900)
