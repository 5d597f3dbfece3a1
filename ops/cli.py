"""The `coordination` command: run the demo, and (later) serve, replay and audit."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from adapters.settings import Store
from ops.nodes import demo_nodes
from ops.projections_cli import add_commands as add_projection_commands
from ops.reference_scenario import play


def _demo(args: argparse.Namespace) -> int:
    nodes = demo_nodes(Path(args.data_dir), Store(args.store))
    try:
        ids = play(nodes)
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
        print(f"\nStores: {Path(args.data_dir).resolve()} (one SQLite file per organisation)")
    finally:
        nodes.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coordination", description="Rehousing coordination backend")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="play the reference scenario (DESIGN §6) on the embedded default")
    demo.add_argument("--data-dir", default="var/demo", help="where each organisation's store is kept")
    demo.add_argument("--store", default=Store.SQLITE.value, choices=[s.value for s in Store])
    demo.set_defaults(run=_demo)
    add_projection_commands(commands)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
