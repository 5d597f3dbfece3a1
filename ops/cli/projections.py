"""Operator commands for a node's read models: status (lag, parked), catch up, parked events (list, retry),
rebuild and compare."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import structlog

from adapters.eventstore.event_decoding import StoredEventDecoder
from adapters.settings import NodeSettings, OrganisationRole, Store
from coordination.projections.rebuild import compare, drop
from coordination.projections.runner import ProjectionRunner
from ops.cli.audit_replay import Progress, progress_bar
from ops.node.bootstrap import NodeParts
from ops.node.read_models import READ_MODELS, ReadModels


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    projections = commands.add_parser("projections", help="a node's read models: status, run, rebuild")
    actions = projections.add_subparsers(dest="action", required=True)
    status = actions.add_parser("status", help="lag (events behind) and parked events per projection")
    run = actions.add_parser("run", help="catch every projection up with the node's log")
    parked = actions.add_parser("parked", help="list the events projections parked, with their reasons")
    parked.add_argument("name", nargs="?", choices=sorted(READ_MODELS), help="one projection (default: all)")
    retry = actions.add_parser(
        "retry", help="apply parked events again (all, one projection's, or the one at POSITION)"
    )
    retry.add_argument("name", nargs="?", choices=sorted(READ_MODELS), help="one projection (default: all)")
    retry.add_argument(
        "position", nargs="?", type=int, help="the parked event's position (`parked` lists it)"
    )
    again = actions.add_parser("rebuild", help="rebuild one projection under a new name from history")
    again.add_argument("name", choices=sorted(READ_MODELS))
    again.add_argument("--compare", action="store_true", help="compare with live; exit 1 on any difference")
    again.add_argument("--keep", action="store_true", help="keep the rebuilt tables (dropped by default)")
    for parser in (status, run, parked, retry, again):
        parser.add_argument("--data-dir", default="var/data", help="the node's data directory (SQLite)")
        parser.add_argument("--org", required=True, help="the organisation whose node this is")
        parser.add_argument("--store", default=Store.SQLITE.value, choices=[s.value for s in Store])
        parser.add_argument(
            "--role",
            default=OrganisationRole.HOUSING_ORGANISATION.value,
            choices=[r.value for r in OrganisationRole],
            help="the organisation's role",
        )
    status.set_defaults(run=_status)
    run.set_defaults(run=_run)
    parked.set_defaults(run=_parked)
    retry.set_defaults(run=_retry)
    again.set_defaults(run=_rebuild)


def _open(args: argparse.Namespace) -> ReadModels:
    # The operator reads the tables printed here; the runners' per-batch logs would drown them.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    # Other settings (PostgreSQL connection, cipher key) come from COORDINATION_* as for the node itself.
    settings = NodeSettings(
        organisation=args.org,
        role=OrganisationRole(args.role),
        store=Store(args.store),
        data_dir=Path(args.data_dir),
    )
    # The node's own application, so its events table (named after the application class on PostgreSQL),
    # its mapper and its household keys are the node's.
    return NodeParts(settings, group_commit=False).with_read_models()


def _close(models: ReadModels) -> None:
    models.app.close()
    models.views.close()  # type: ignore[attr-defined]


def _status(args: argparse.Namespace) -> int:
    models = _open(args)
    try:
        print(f"{'projection':<18} {'position':>10} {'lag':>8} {'parked':>7}")
        for name, state in models.status().items():
            print(f"{name:<18} {state['position']:>10} {state['lag']:>8} {state['parked']:>7}")
    finally:
        _close(models)
    return 0


def _run(args: argparse.Namespace) -> int:
    models = _open(args)
    try:
        for name, applied in models.catch_up(max_seconds=3600).items():
            print(f"{name:<18} applied {applied} events")
    finally:
        _close(models)
    return 0


def _parked(args: argparse.Namespace) -> int:
    models = _open(args)
    try:
        count = 0
        for name in [args.name] if args.name else list(models.runners):
            for event in models.runners[name].parked():
                count += 1
                # Where the event is and why it failed; never what it says (it may be personal).
                print(
                    f"{name}  position={event.position}  {event.topic.rsplit(':', 1)[-1]}"
                    f"  {event.originator_id} v{event.originator_version}"
                    f"  attempts={event.attempts}  parked={event.parked_at[:19]}"
                )
                print(f"    {event.error_type}: {event.error_message}")
        print(f"{count} parked event(s) at {args.org}")
    finally:
        _close(models)
    return 0


def _retry(args: argparse.Namespace) -> int:
    if args.position is not None and args.name is None:
        raise SystemExit("a position is retried in one projection: give its NAME first")
    models = _open(args)
    try:
        applied = still = 0
        for name in [args.name] if args.name else list(models.runners):
            runner = models.runners[name]
            before = {event.position for event in runner.parked()}
            if args.position is not None:
                before &= {args.position}
            remaining = {event.position for event in runner.retry_parked(args.position)} & before
            applied += len(before - remaining)
            still += len(remaining)
        print(f"applied {applied}, still parked {still}")
    finally:
        _close(models)
    return 1 if still else 0


REBUILD_BATCH = 2000


def _rebuild_showing_progress(
    models: ReadModels, name: str, suffix: str, *, up_to: int | None, progress: Progress
) -> ProjectionRunner:
    """The projection rebuilt from position 0 under `suffix` up to `up_to` (default: the log's end as it is
    now), a batch at a time so the operator sees its position against that head on standard error."""
    projection = models.projection(name, suffix)
    models.views.drop_tables(projection)  # a rebuild always starts from nothing
    runner = ProjectionRunner(
        models.app,
        projection,
        models.views,
        batch_size=REBUILD_BATCH,
        decoding=StoredEventDecoder(models.app.mapper),
    )
    head = up_to if up_to is not None else (models.app.recorder.max_notification_id() or 0)
    while runner.position() < head:
        if runner.run_once(up_to=head) == 0:
            break  # only ids beyond the last stored event are left (a gap at the end)
        progress(name, runner.position(), head)
    if head == 0 or runner.position() < head:
        progress(name, head, head)  # the bar's last step was never shown
    return runner


def _rebuild(args: argparse.Namespace) -> int:
    models = _open(args)
    try:
        live = models.runners[args.name]
        up_to = live.position() if args.compare else None
        started = time.perf_counter()
        suffix = f"rebuild_{time.strftime('%Y%m%d%H%M%S')}"
        rebuilt = _rebuild_showing_progress(models, args.name, suffix, up_to=up_to, progress=progress_bar())
        seconds = time.perf_counter() - started
        print(f"{args.name} rebuilt as {rebuilt.name} up to {rebuilt.position()} in {seconds:.2f} s")
        differences = compare(live, rebuilt) if args.compare else []
        for difference in differences:
            print(f"  {difference}")
        if args.compare:
            print(f"{len(differences)} difference(s) from {live.name} at position {live.position()}")
        if not args.keep:
            drop(rebuilt)
    finally:
        _close(models)
    return 1 if differences else 0
