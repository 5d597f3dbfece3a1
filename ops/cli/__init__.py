"""The `coordination` command (main.py) and its operator's subcommands: audit, replay, projections."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """The `coordination` console script, as installed before the commands had a package of their own."""
    from ops.cli.main import main as coordination

    return coordination(argv)
