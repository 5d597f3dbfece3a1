"""The `coordination` command: run the demo, run a node, operate its parked messages and its projections."""

# ruff: noqa: E402 (the imports follow gc.disable())
from __future__ import annotations

# No garbage collection while the command's modules are imported (as ops/node/serve.py: a restarted node's
# start is mostly imports); enabled again below.
import gc

gc.disable()

import argparse
import logging
import os
import sys
import time
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from adapters.exchange.inprocess import InProcessBroker
from adapters.settings import NodeSettings, OrganisationRole, Store, settings_problems
from coordination.domain.values import Role
from ops.bench.cli import add_commands as add_bench_commands
from ops.cli.audit import add_commands as add_audit_commands
from ops.cli.audit_replay import progress_bar
from ops.cli.erasure import add_commands as add_erasure_commands
from ops.cli.projections import add_commands as add_projection_commands
from ops.demo.nodes import demo_nodes
from ops.demo.reference_scenario import Nodes, play
from ops.demo.run import (
    AREAS_FILE,
    DEFAULT_HOUSEHOLDS,
    DEFAULT_SEED,
    Seeding,
    ensure_seeded,
    needs_seeding,
    relax_fsync,
    seeding_failed,
    stop_asked,
)
from ops.logging import configure
from ops.node.bootstrap import NodeParts
from ops.node.exchange import Exchange
from ops.node.interpreter import tune_for_a_node

gc.enable()


def _demo_nodes(args: argparse.Namespace) -> Nodes:
    nodes = demo_nodes(Path(args.data_dir), Store(args.store), area_indicators_file=AREAS_FILE)
    relax_fsync(nodes)
    return nodes


def _demo(args: argparse.Namespace) -> int:
    configure(
        json=False, level=logging.WARNING
    )  # the story is the output; warnings (parked, retries) still show
    started = time.monotonic()
    nodes = _demo_nodes(args)
    try:
        ids = play(nodes)
        seeding: Seeding | None = None
        if args.households:
            generated = f"Generated history: {args.households} Vollsmose households from seed {args.seed!r}"
            data_dir = Path(args.data_dir)
            if _serving(args) and needs_seeding(
                nodes, data_dir, households=args.households, seed_text=args.seed
            ):
                # Served at once; the history is seeded meanwhile (/readyz says "seeding" until done).
                seeding = Seeding(
                    nodes, data_dir, households=args.households, seed_text=args.seed, progress=progress_bar()
                )
                print(f"{generated} (seeding in the background while the API serves)")
            else:
                taken = _seed_in_the_foreground(nodes, args)
                if taken is None:
                    return 130  # stopped by Ctrl-C, as a shell reports an interrupted command (128 + SIGINT)
                how = f"seeded in {taken} steps" if taken else "already seeded: the stores were reused"
                print(f"{generated} ({how})")
        civica = nodes.civica
        view = civica.household(ids.household, today=date(2026, 11, 22))
        print(f"Reference family {view.case_reference} (household {view.id})")
        print(f"  phase: {view.phase}; holder: {view.holder.organisation} ({view.holder.role})")
        print(f"  open settlement criteria: {', '.join(view.settlement_gaps) or 'none - the bridge holds'}")
        print(f"\nTimeline at {civica.organisation} ({len(civica.history(ids.household))} facts):")
        for entry in civica.history(ids.household):
            who = f"{entry.organisation}/{entry.role}" if entry.organisation else "timer"
            when = entry.at.isoformat(timespec="minutes") if entry.at else "-"
            print(f"  {when}  {entry.aggregate:<9} {entry.event:<28} {who}")
        assert isinstance(nodes.exchange, Exchange)
        print("\nExchange (in-process, the Kafka contract):")
        for node in nodes.exchange.nodes:
            stats = node.consumer.stats
            print(
                f"  {node.organisation:<22} published {sum(node.published.values()):>3}  applied {stats.applied:>3}"
                f"  duplicates {stats.duplicates}  parked {stats.parked}"
            )
        print(f"\nStores: {Path(args.data_dir).resolve()} (one SQLite file per organisation)")
        from ops.demo.api import demo_keys, serve

        demo_keys(Path(args.data_dir))  # each demo organisation's key pair, for `coordination token issue`
        if _serving(args):
            serve(
                nodes,
                Path(args.data_dir),
                store=Store(args.store),
                port=args.port,
                started=started,
                seeding=seeding,
            )
        else:
            print(
                "Not serving the API (--no-serve, or not from a terminal): `.venv/bin/coordination serve` serves it."
            )
    finally:
        nodes.close()
    return 0


def _seed_in_the_foreground(nodes: Nodes, args: argparse.Namespace) -> int | None:
    """Seed before going on; the steps taken, or None when Ctrl-C stopped it between two steps. A failure
    is said in a sentence and raised; either way what was seeded is kept and the next run goes on from it."""
    data_dir = Path(args.data_dir)
    with stop_asked() as asked:
        try:
            taken = ensure_seeded(
                nodes,
                data_dir,
                households=args.households,
                seed_text=args.seed,
                progress=progress_bar(),
                cancelled=asked.is_set,
            )
        except Exception as error:
            print(f"\n{seeding_failed(error, data_dir)}", file=sys.stderr)
            raise
    if asked.is_set():
        print(
            f"\nSeeding stopped after {taken} steps: what was seeded is kept, and the next run seeds the rest.",
            file=sys.stderr,
        )
        return None
    return taken


def _serving(args: argparse.Namespace) -> bool:
    """Serve unless told not to; by default only from a terminal, so CI and tests never wait on a server."""
    if args.serve is not None:
        return bool(args.serve)
    return sys.stdout.isatty() and sys.stdin.isatty() and not os.environ.get("CI")


def _serve(args: argparse.Namespace) -> int:
    if args.org or args.config:
        from ops.node.serve import serve_one

        return serve_one(_node_settings(args), host=args.host, port=args.port)
    from ops.demo.api import serve  # the demo's API, only for the demo

    configure(json=False, level=logging.WARNING)
    started = time.monotonic()
    nodes = _demo_nodes(args)
    try:
        serve(nodes, Path(args.data_dir), store=Store(args.store), port=args.port or 8000, started=started)
    finally:
        nodes.close()
    return 0


def _token(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from adapters.http.auth import issue_token, load_private_key, private_key_path

    key_file = args.key_file or private_key_path(Path(args.data_dir) / "keys", args.org)
    if not Path(key_file).exists():
        print(
            f"No private key for {args.org} at {key_file} (the demo makes one per organisation)",
            file=sys.stderr,
        )
        return 1
    token = issue_token(
        load_private_key(Path(key_file)),
        organisation=args.org,
        person=args.person,
        role=args.role,
        audience=args.audience or args.org,
        ttl=timedelta(minutes=args.minutes),
    )
    print(token)
    return 0


def _token_minutes(text: str) -> int:
    """A token's validity: nodes refuse tokens living longer than MAX_LIFETIME, so none is issued."""
    from adapters.http.auth import MAX_LIFETIME

    longest = int(MAX_LIFETIME.total_seconds() // 60)
    try:
        minutes = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of minutes") from None
    if not 1 <= minutes <= longest:
        raise argparse.ArgumentTypeError(f"a token lives 1 to {longest} minutes; nodes refuse longer ones")
    return minutes


def _node_settings(args: argparse.Namespace) -> NodeSettings:
    overrides: dict[str, object] = {}
    if args.org:
        overrides["organisation"] = args.org
    if args.role:
        overrides["role"] = OrganisationRole(args.role)
    return NodeSettings.from_file(args.config, **overrides)


def _parked(args: argparse.Namespace) -> int:
    settings = _node_settings(args)
    parts = NodeParts(settings)
    # Parked messages are retried through the node's own apply; nothing is read from the broker here. A
    # retried erasure notice purges the views' personal columns too, through the read models' hook.
    node = parts.on_exchange(InProcessBroker(), read_models=args.action == "retry")
    try:
        if args.action == "list":
            parked = node.consumer.list_parked()
            for message in parked:
                print(
                    f"{message.id}  {message.topic}[{message.partition}]@{message.offset}  ce_id={message.ce_id}"
                    f"  attempts={message.attempts}  parked={message.parked_at.isoformat(timespec='seconds')}"
                )
                print(f"    {message.reason}")
            print(f"{len(parked)} parked message(s) at {settings.organisation}")
        else:
            outcome = node.consumer.retry_parked(args.id)
            print(
                f"applied {outcome.applied}, already applied {outcome.duplicates}, still parked {outcome.still_parked}"
            )
            return 1 if outcome.still_parked else 0
    finally:
        parts.close()
    return 0


def _node(args: argparse.Namespace) -> int:
    from ops.node.serve import run_node

    argv = [
        *(["--org", args.org] if args.org else []),
        *(["--config", str(args.config)] if args.config else []),
    ]
    return run_node(argv)


def _node_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--org", help="the organisation (default: COORDINATION_ORGANISATION)")
    parser.add_argument(
        "--role", choices=[r.value for r in OrganisationRole], help="default: COORDINATION_ROLE"
    )
    parser.add_argument("--config", type=Path, help="a .env-style file of COORDINATION_* settings")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="coordination",
        description="Rehousing coordination backend: the commands of a node, its demo and its operator.",
        epilog="The domain, the rules and the architecture: docs/design.md. The API, running a node and "
        "its settings: docs/api.md, docs/operations.md, docs/configuration.md.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="play the reference scenario (docs/design.md §6) on the embedded default"
    )
    demo.add_argument("--data-dir", default="var/demo", help="where each organisation's store is kept")
    demo.add_argument("--store", default=Store.SQLITE.value, choices=[s.value for s in Store])
    demo.add_argument(
        "--serve",
        dest="serve",
        action="store_true",
        default=None,
        help="serve the API after playing (the default when run from a terminal)",
    )
    demo.add_argument("--no-serve", dest="serve", action="store_false", help="play and print only (CI)")
    demo.add_argument("--port", type=int, default=8000, help="the API's port on 127.0.0.1")
    demo.add_argument(
        "--households",
        type=int,
        default=DEFAULT_HOUSEHOLDS,
        help="generated Vollsmose households to seed beside the reference family (0: none)",
    )
    demo.add_argument("--seed", default=DEFAULT_SEED, help="the generated history's seed (deterministic)")
    demo.set_defaults(run=_demo)
    serve = commands.add_parser(
        "serve",
        help="serve every demo organisation's API on 127.0.0.1 (/orgs/ORG/); "
        "with --org or --config, one node on PostgreSQL and Kafka (production)",
    )
    serve.add_argument("--data-dir", default="var/demo", help="where each organisation's store is kept")
    serve.add_argument("--store", default=Store.SQLITE.value, choices=[s.value for s in Store])
    serve.add_argument("--port", type=int, default=None, help="default 8000 (or COORDINATION_HTTP_PORT)")
    serve.add_argument(
        "--host", default=None, help="one node's listening address (default COORDINATION_HTTP_HOST)"
    )
    _node_options(serve)
    serve.set_defaults(run=_serve)
    token = commands.add_parser("token", help="bearer tokens for the API (local use and tests)")
    token_actions = token.add_subparsers(dest="action", required=True)
    issue = token_actions.add_parser("issue", help="print a token signed with the organisation's dev key")
    issue.add_argument("--org", required=True, help="the organisation issuing (iss, org)")
    issue.add_argument("--person", required=True, help="the person's staff id (sub)")
    issue.add_argument("--role", required=True, choices=[r.value for r in Role if r is not Role.SYSTEM])
    issue.add_argument("--audience", help="the node the token is for (aud; default: the organisation's own)")
    issue.add_argument(
        "--minutes", type=_token_minutes, default=480, help="validity, 1 to 1440 (default 8 hours)"
    )
    issue.add_argument("--data-dir", default="var/demo", help="where the demo keeps keys/<org>.ed25519.pem")
    issue.add_argument("--key-file", help="the private key (PEM); default: the demo's key of --org")
    token.set_defaults(run=_token)
    node = commands.add_parser("node", help="run one organisation's node on Kafka until SIGTERM")
    _node_options(node)
    node.set_defaults(run=_node)
    parked = commands.add_parser("parked", help="messages a node could not apply: list them, or retry them")
    actions = parked.add_subparsers(dest="action", required=True)
    _node_options(actions.add_parser("list", help="list the node's parked messages with their reasons"))
    retry = actions.add_parser("retry", help="apply parked messages again (all, or the one with ID)")
    retry.add_argument("id", nargs="?", help="the parked message's id (from `parked list`)")
    _node_options(retry)
    parked.set_defaults(run=_parked)
    add_projection_commands(commands)
    add_audit_commands(commands)
    add_bench_commands(commands)
    add_erasure_commands(commands)
    args = parser.parse_args(argv)
    tune_for_a_node()
    try:
        return int(args.run(args))
    except ValidationError as error:
        # Settings the node refuses (docs/configuration.md): one line per setting, naming its variable.
        print("coordination: the node's settings are invalid:", file=sys.stderr)
        for line in settings_problems(error):
            print(f"  {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C is how the demo and the served API are stopped: what they opened is closed by now (each
        # command closes its stores on the way out), so a line says so instead of a traceback. The status
        # is 130, as a shell reports a command stopped by Ctrl-C (128 + SIGINT).
        print("\nStopped (Ctrl-C).", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
