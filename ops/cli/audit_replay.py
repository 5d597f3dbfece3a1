"""Replay for auditors: every projection rebuilt from all of history under a new name, compared with live."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from eventsourcing.application import Application

from adapters.eventstore.event_decoding import StoredEventDecoder
from coordination.projections.definition import Projection
from coordination.projections.rebuild import Difference, compare, drop
from coordination.projections.runner import ProjectionRunner
from coordination.projections.view_store import ViewStore

Progress = Callable[[str, int, int], None]


@dataclass
class ReplayResult:
    """One projection's replay: how far live and the rebuild got (`position`, a notification id), how many
    stored events the rebuild read and applied (`events`), how long it took, what differs."""

    name: str
    position: int
    events: int
    seconds: float
    differences: list[Difference] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not self.differences


def replay_all(
    app: Application[Any],
    views: ViewStore,
    projections: Mapping[str, Callable[[str], Projection]],
    *,
    catch_up_live: bool = True,
    batch_size: int = 5000,
    keep: bool = False,
    progress: Progress | None = None,
) -> list[ReplayResult]:
    """Rebuild each projection from position 0 under a new suffix and compare it with the live instance.

    Live is first caught up with the log (unless told not to), then each rebuild runs up to exactly the
    live position, so only a real difference, never progress, shows up as one. Rebuilt tables are
    dropped afterwards unless `keep`.
    """
    suffix = f"replay_{time.strftime('%Y%m%d%H%M%S')}"
    results = []
    for name, cls in projections.items():
        live = ProjectionRunner(
            app, cls("live"), views, batch_size=batch_size, decoding=StoredEventDecoder(app.mapper)
        )
        if catch_up_live:
            live.run_until_caught_up(max_seconds=3600)
        target = live.position()
        started = time.perf_counter()
        rebuilt_projection = cls(suffix)
        views.drop_tables(rebuilt_projection)
        rebuilt = ProjectionRunner(
            app, rebuilt_projection, views, batch_size=batch_size, decoding=StoredEventDecoder(app.mapper)
        )
        events = 0
        while rebuilt.position() < target:
            batch = rebuilt.fetch_batch(up_to=target)
            if rebuilt.apply_batch(batch) == 0:
                break  # only ids beyond the last stored event are left (a gap at the end)
            # The events read, not the positions passed: PostgreSQL's sequence leaves a gap for every
            # rolled-back insert, and a projection's read skips the events it has no handler for.
            events += len(batch.notifications)
            if progress is not None:
                progress(name, rebuilt.position(), target)
        if progress is not None and (events == 0 or rebuilt.position() < target):
            progress(name, target, target)  # the bar's last step was never shown
        result = ReplayResult(name, target, events, time.perf_counter() - started, compare(live, rebuilt))
        if not keep:
            drop(rebuilt)
        results.append(result)
    return results


def progress_bar(out: TextIO | None = None, width: int = 30) -> Progress:
    """A plain-text progress bar on one line per projection (carriage returns; no extra dependency);
    on standard error unless told otherwise. Not on a terminal (a CI log, a file), a line at each tenth
    instead: carriage returns there are thousands of steps run together."""
    shown: dict[str, int] = {}  # the tenth last written per name, off a terminal

    def show(name: str, position: int, target: int) -> None:
        stream = out or sys.stderr
        done = 1.0 if target == 0 else min(position / target, 1.0)
        filled = int(done * width)
        bar = f"{name:<18} [{'#' * filled}{'.' * (width - filled)}] {position:>9}/{target:<9}"
        if stream.isatty():
            stream.write(f"\r{bar}" + ("\n" if position >= target else ""))
        elif shown.get(name) != (tenth := int(done * 10)):
            shown[name] = tenth
            stream.write(f"{bar}\n")
        stream.flush()

    return show
