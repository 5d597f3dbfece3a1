"""The `coordination audit` commands: timeline, as-of, replay, and the hash chain (seal, anchor, verify)."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import structlog

from adapters.eventstore.audit_chain import Sealer, read_anchors, verify
from adapters.http.records import AccessEntry, ApiRecords, access_cursor
from adapters.settings import NodeSettings, OrganisationRole, Store
from adapters.sql.node_db import SqlDatabase
from coordination.applications.base import NodeApplication
from coordination.audit.as_of import Clock, aggregate_as_of, household_status_as_of, view_of
from coordination.audit.trail import timeline, write
from coordination.domain.errors import DomainError
from coordination.domain.household import Household
from coordination.projections.history import HistoryEntry
from coordination.projections.timeline import TimelineProjection
from ops.cli.audit_replay import progress_bar, replay_all
from ops.node.bootstrap import NodeParts
from ops.node.read_models import views_path


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    audit = commands.add_parser("audit", help="timelines, state as of a moment, replay, tamper evidence")
    actions = audit.add_subparsers(dest="action", required=True)
    line = actions.add_parser("timeline", help="every event about a household at this node, in order")
    line.add_argument("household", type=UUID)
    line.add_argument("--format", default="table", choices=["table", "jsonl", "csv"])
    line.add_argument("--out", type=Path, help="write to this file instead of standard output")
    line.add_argument(
        "--source",
        default="auto",
        choices=["auto", "log"],
        help="auto: the timeline read model if caught up, else a log scan",
    )
    then = actions.add_parser("as-of", help="an aggregate's state then (a household's with its handoffs)")
    then.add_argument("aggregate", type=UUID, help="a household's or any other aggregate's id")
    when = then.add_mutually_exclusive_group(required=True)
    when.add_argument("--as-of", dest="moment", type=_moment, help="e.g. 2026-03-01T12:00+01:00")
    when.add_argument("--version", type=int)
    then.add_argument(
        "--clock",
        default=Clock.BUSINESS.value,
        choices=[c.value for c in Clock],
        help="business: the events' `at` (default); recorded: when stored",
    )
    again = actions.add_parser("replay", help="rebuild every projection from history and compare with live")
    again.add_argument("--no-catch-up", action="store_true", help="compare at live's position as it is")
    again.add_argument("--keep", action="store_true", help="keep the rebuilt tables")
    seal = actions.add_parser("seal", help="seal every stored event into the hash chain now")
    anchor = actions.add_parser("anchor", help="print the chain's head for an external witness")
    anchor.add_argument("--out", type=Path, help="append the anchor (one JSON line) to this file")
    check = actions.add_parser("verify", help="re-read events and chain; name the first broken position")
    check.add_argument("--anchors", type=Path, help="a file of anchors (JSON lines) witnessed earlier")
    reads = actions.add_parser("access-log", help="who read which personal data through the API, and why")
    reads.add_argument("--subject", help="only reads of this subject (e.g. a household's id)")
    reads.add_argument("--format", default="table", choices=["table", "jsonl", "csv"])
    for parser in (line, then, again, seal, anchor, check, reads):
        parser.add_argument("--data-dir", type=Path, help="the node's data directory (default var/data)")
        parser.add_argument("--org", help="the organisation (default: COORDINATION_ORGANISATION)")
        parser.add_argument("--role", choices=[r.value for r in OrganisationRole], help="COORDINATION_ROLE")
        parser.add_argument("--store", choices=[s.value for s in Store], help="default: COORDINATION_STORE")
        parser.add_argument("--config", type=Path, help="a .env-style file of COORDINATION_* settings")
    for parser, run in (
        (line, _timeline),
        (then, _as_of),
        (again, _replay),
        (seal, _seal),
        (anchor, _anchor),
        (check, _verify),
        (reads, _access_log),
    ):
        parser.set_defaults(run=run)


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text} has no time zone offset (e.g. 2026-03-01T12:00+01:00)")
    return moment


def _settings(args: argparse.Namespace) -> NodeSettings:
    overrides: dict[str, Any] = {}
    for name in ("org", "role", "store", "data_dir"):
        value = getattr(args, name, None)
        if value is not None:
            overrides["organisation" if name == "org" else name] = value
    return NodeSettings.from_file(args.config, **overrides)


@contextmanager
def _parts(args: argparse.Namespace, *, read_models: bool = False) -> Iterator[NodeParts]:
    """The node's parts as the composition root builds them (its read models only when asked)."""
    # What is printed is the audit; the runners' per-batch logs would drown it.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parts = NodeParts(_settings(args), group_commit=False, read_models=read_models)
    try:
        yield parts
    finally:
        parts.close()


@contextmanager
def _node(args: argparse.Namespace) -> Iterator[tuple[NodeSettings, NodeApplication, SqlDatabase]]:
    with _parts(args) as parts:
        yield parts.settings, parts.app, parts.db


def _timeline(args: argparse.Namespace) -> int:
    settings = _settings(args)
    # The timeline read model when the node has one (a SQLite node's views file is not made here).
    views = args.source == "auto" and (settings.store is not Store.SQLITE or views_path(settings).exists())
    with _parts(args, read_models=views) as parts:
        app, source = parts.app, "a scan of the log"
        history: Callable[[UUID], list[HistoryEntry]] = app.history_in_log
        models = parts.read_models
        if models is not None and models.runners[TimelineProjection.name].lag() == 0:
            source, history = "the timeline read model", models.history
        rows = timeline(app, args.household, history)
        if args.out:
            with args.out.open("w", newline="") as out:
                write(rows, args.format, out)
        else:
            write(rows, args.format, sys.stdout)
        print(
            f"{len(rows)} event(s) about household {args.household} at {app.organisation}, from {source}",
            file=sys.stderr,
        )
    return 0


def _as_of(args: argparse.Namespace) -> int:
    with _node(args) as (_, app, _db):
        try:
            aggregate = aggregate_as_of(
                app, args.aggregate, moment=args.moment, version=args.version, clock=Clock(args.clock)
            )
        except DomainError as error:
            print(error.message, file=sys.stderr)
            return 1
        moment = args.moment or getattr(aggregate, "modified_on", None) or datetime.now().astimezone()
        view = view_of(aggregate, moment, app.policy)
        answer: dict[str, Any] = {
            "as_of": moment.isoformat(),
            "clock": args.clock,
            "version": aggregate.version,
            "type": type(aggregate).__name__,
            "state": json.loads(view.model_dump_json()),
        }
        if isinstance(aggregate, Household) and args.moment is not None:
            status = household_status_as_of(app, args.aggregate, args.moment, app.policy)
            answer["handoff_status"] = json.loads(status.model_dump_json())
        print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0


def _replay(args: argparse.Namespace) -> int:
    with _parts(args, read_models=True) as parts:
        assert parts.read_models is not None
        results = replay_all(
            parts.app,
            parts.read_models.views,
            parts.read_models.projections(),
            catch_up_live=not args.no_catch_up,
            keep=args.keep,
            progress=progress_bar(),
        )
    print(f"{'projection':<18} {'position':>9} {'events':>9} {'seconds':>8}  result")
    for result in results:
        verdict = "equal to live" if result.equal else f"{len(result.differences)} difference(s)"
        print(f"{result.name:<18} {result.position:>9} {result.events:>9} {result.seconds:>8.2f}  {verdict}")
        for difference in result.differences[:20]:
            print(f"    {difference}")
    different = [r.name for r in results if not r.equal]
    print(
        f"{len(results) - len(different)} of {len(results)} projection(s) equal to live after replay"
        + (f"; different: {', '.join(different)}" if different else "")
    )
    return 1 if different else 0


def _seal(args: argparse.Namespace) -> int:
    with _node(args) as (_, app, db):
        sealer = Sealer(app, db)
        sealed = sealer.seal()
        anchor = sealer.anchor()
        print(f"sealed {sealed} event(s); head: {anchor.to_json() if anchor else 'nothing sealed'}")
    return 0


def _anchor(args: argparse.Namespace) -> int:
    with _node(args) as (_, app, db):
        anchor = Sealer(app, db).anchor()
        if anchor is None:
            print("nothing is sealed yet: run `coordination audit seal` first", file=sys.stderr)
            return 1
        print(anchor.to_json())
        if args.out:
            with args.out.open("a") as out:
                out.write(anchor.to_json() + "\n")
    return 0


def _verify(args: argparse.Namespace) -> int:
    anchors = read_anchors(args.anchors.read_text().splitlines()) if args.anchors else []
    with _node(args) as (_, app, db):
        verdict = verify(app, db, anchors=anchors)
        print(f"{app.organisation}: {verdict}")
    return 0 if verdict.ok else 1


def _access_log(args: argparse.Namespace) -> int:
    """The API's access log (written by adapters/http), read page by page in time order."""
    with _node(args) as (_, app, db):
        records = ApiRecords(db)
        entries, after = [], None
        while page := records.access_log(limit=1000, after=after, subject=args.subject):
            entries += page
            after = access_cursor(page[-1])
    rows = [json.loads(entry.model_dump_json()) for entry in entries]
    if args.format == "jsonl":
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    elif args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(AccessEntry.model_fields))
        writer.writeheader()
        writer.writerows(rows)
    else:
        for row in rows:
            print(
                f"{row['at']}  {row['organisation']}/{row['role']}/{row['person']}  {row['operation']}"
                f"  {row['subject']}  purpose: {row['purpose']}"
            )
    print(f"{len(rows)} read(s) of personal data logged at {app.organisation}", file=sys.stderr)
    return 0
