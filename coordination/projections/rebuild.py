"""Blue/green for projections: rebuild one from history under a new suffix and compare it with live."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from eventsourcing.application import Application

from coordination.projections.decoding import EventDecoding
from coordination.projections.definition import Projection
from coordination.projections.runner import ProjectionRunner
from coordination.projections.view_store import ViewStore


def rebuild(
    app: Application,
    projection_cls: Callable[[str], Projection],  # a Projection class, or a node's maker of one
    view_store: ViewStore,
    suffix: str | None = None,
    *,
    decoding: EventDecoding,
    batch_size: int = 5000,
    up_to: int | None = None,
    max_seconds: float = 3600.0,
) -> ProjectionRunner:
    """A fresh instance of the projection under `suffix`, built from position 0 to the log's end (or `up_to`).

    Whatever already exists under that suffix is dropped first, so a rebuild always starts from nothing.
    Its indexes are created once it has caught up (should it fail before, the next runner of the instance
    creates them).
    """
    projection = projection_cls(suffix or f"rebuild_{time.strftime('%Y%m%d%H%M%S')}")
    view_store.drop_tables(projection)
    projection.indexes_deferred = True
    runner = ProjectionRunner(app, projection, view_store, batch_size=batch_size, decoding=decoding)
    runner.run_until_caught_up(max_seconds=max_seconds, up_to=up_to)
    projection.indexes_deferred = False
    view_store.ensure_tables(projection)
    return runner


def drop(runner: ProjectionRunner) -> None:
    """Removes an instance's tables, tracking position and parked events (e.g. a rebuild once compared)."""
    runner.view_store.drop_tables(runner.projection)


@dataclass(frozen=True)
class Difference:
    """One row that is not the same in the live instance as in the rebuilt one.

    `missing`: the rebuild has it and live does not; `extra`: live has it and the rebuild does not;
    `different`: both have the key with other values. `table` is the logical table name (or "parked").
    """

    table: str
    kind: Literal["missing", "extra", "different"]
    key: dict[str, Any]
    live: dict[str, Any] | None
    rebuilt: dict[str, Any] | None

    def __str__(self) -> str:
        if self.kind == "different" and self.live is not None and self.rebuilt is not None:
            columns = sorted(c for c in self.rebuilt if self.live.get(c) != self.rebuilt[c])
            return f"{self.table} {self.key}: different in {', '.join(columns)}"
        return f"{self.table} {self.key}: {self.kind} in live"


def compare(live: ProjectionRunner, rebuilt: ProjectionRunner) -> list[Difference]:
    """Every row that differs between two instances of one projection, table by table, in no particular order.

    Rows are matched by primary key where the table declares one, otherwise as whole rows (with
    multiplicity). Parked positions are compared too. Catch both up to the same position first
    (`rebuild(..., up_to=live.position())`), or the difference in progress shows up as differences.
    """
    if live.projection.name != rebuilt.projection.name:
        raise ValueError(f"cannot compare {live.projection.name} with {rebuilt.projection.name}")
    differences: list[Difference] = []
    for table in live.projection.tables:
        key = live.projection.primary_key(table)
        live_rows = _rows(live, table)
        rebuilt_rows = _rows(rebuilt, table)
        differences += (
            _by_key(table, key, live_rows, rebuilt_rows) if key else _by_row(table, live_rows, rebuilt_rows)
        )
    live_parked = [{"position": p.position} for p in live.parked()]
    rebuilt_parked = [{"position": p.position} for p in rebuilt.parked()]
    differences += _by_key("parked", ("position",), live_parked, rebuilt_parked)
    return differences


def _rows(runner: ProjectionRunner, table: str) -> list[dict[str, Any]]:
    return runner.view_store.query(f"SELECT * FROM {runner.projection.table_names[table]}")


def _by_key(
    table: str, key: tuple[str, ...], live: list[dict[str, Any]], rebuilt: list[dict[str, Any]]
) -> list[Difference]:
    live_by_key = {tuple(row[c] for c in key): row for row in live}
    rebuilt_by_key = {tuple(row[c] for c in key): row for row in rebuilt}
    found = []
    for values in rebuilt_by_key.keys() | live_by_key.keys():
        mine, theirs = live_by_key.get(values), rebuilt_by_key.get(values)
        if mine == theirs:
            continue
        kind: Literal["missing", "extra", "different"] = (
            "missing" if mine is None else "extra" if theirs is None else "different"
        )
        found.append(Difference(table, kind, dict(zip(key, values, strict=True)), mine, theirs))
    return found


def _by_row(table: str, live: list[dict[str, Any]], rebuilt: list[dict[str, Any]]) -> list[Difference]:
    live_counts = Counter(tuple(sorted(row.items())) for row in live)
    rebuilt_counts = Counter(tuple(sorted(row.items())) for row in rebuilt)
    found = []
    for row, count in (rebuilt_counts - live_counts).items():
        found += [Difference(table, "missing", dict(row), None, dict(row))] * count
    for row, count in (live_counts - rebuilt_counts).items():
        found += [Difference(table, "extra", dict(row), dict(row), None)] * count
    return found
