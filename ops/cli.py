"""PLACEHOLDER command line (`coordination`), to be replaced by the real composition root and demo."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coordination", description="Rehousing coordination backend")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run the reference scenario on the embedded default store")
    parser.parse_args(argv)
    print("coordination demo: placeholder: the demo is not written yet (ops/cli.py will be replaced)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
