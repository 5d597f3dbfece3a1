"""`coordination erasure propose|confirm|list`: the owner's data-protection role erases a household through
its node's API, as the person its bearer token names (two different people propose and confirm; both
steps are in the node's access log). The token is `--token` or COORDINATION_TOKEN."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any
from uuid import UUID, uuid4

import httpx


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    erasure = commands.add_parser("erasure", help="erase a household at its owner: propose, confirm, list")
    actions = erasure.add_subparsers(dest="action", required=True)
    propose = actions.add_parser("propose", help="propose erasing a household (one person)")
    propose.add_argument("household_id", type=UUID)
    propose.add_argument(
        "--legal-ground", required=True, help="e.g. 'GDPR art. 17(1)(a): the household asked'"
    )
    confirm = actions.add_parser("confirm", help="confirm a proposed erasure (another person): erases it")
    confirm.add_argument("household_id", type=UUID)
    listing = actions.add_parser(
        "list", help="the erasures proposed (also by the retention timer) and who has not confirmed"
    )
    listing.add_argument("household_id", type=UUID, nargs="?", help="one household's erasure")
    for parser in (propose, confirm, listing):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the owner's node API")
        parser.add_argument("--token", default=None, help="a bearer token (default: COORDINATION_TOKEN)")
        parser.add_argument(
            "--purpose", default="data protection: follow the erasure", help="X-Purpose of reads"
        )
    propose.set_defaults(run=_propose)
    confirm.set_defaults(run=_confirm)
    listing.set_defaults(run=_list)


def _client(args: argparse.Namespace) -> httpx.Client:
    token = args.token or os.environ.get("COORDINATION_TOKEN")
    if not token:
        raise SystemExit("erasure: a bearer token is needed (--token or COORDINATION_TOKEN)")
    return httpx.Client(base_url=args.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _answer(response: httpx.Response) -> int:
    """Print the answer (a problem's title and detail on failure); exit status 0 only for a 2xx."""
    body: Any = response.json() if response.content else None
    if response.is_success:
        print(json.dumps(body, indent=2, ensure_ascii=False))
        return 0
    detail = body.get("detail", "") if isinstance(body, dict) else response.text
    print(f"erasure: {response.status_code} {detail}", file=sys.stderr)
    return 1


def _propose(args: argparse.Namespace) -> int:
    with _client(args) as client:
        response = client.post(
            f"/erasures/{args.household_id}",
            json={"legal_ground": args.legal_ground},
            headers={"Idempotency-Key": str(uuid4())},
        )
    return _answer(response)


def _confirm(args: argparse.Namespace) -> int:
    with _client(args) as client:
        response = client.post(
            f"/erasures/{args.household_id}/confirmation", headers={"Idempotency-Key": str(uuid4())}
        )
    return _answer(response)


def _list(args: argparse.Namespace) -> int:
    path = "/erasures" if args.household_id is None else f"/erasures/{args.household_id}"
    with _client(args) as client:
        response = client.get(path, headers={"X-Purpose": args.purpose})
    return _answer(response)
