"""How this node asks the owners' APIs for exchange keys: the key directory, with its signed tokens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from adapters.exchange.key_directory import HttpKeyDirectory, InProcessKeyDirectory, KeyDirectory, KeyOwners
from adapters.exchange.keys import NODE_PERSON
from coordination.domain.values import Role


def service_token(private_key_file: Path, organisation: str) -> Callable[[str], str]:
    """Bearer tokens of `organisation`'s node for asking others' APIs (signed with its Ed25519 key)."""
    # Here, not at the top: auth.py imports FastAPI, which a node without peers never needs.
    from adapters.http.auth import issue_token, load_private_key

    private_key = load_private_key(private_key_file)

    def token(audience: str) -> str:
        return issue_token(
            private_key,
            organisation=organisation,
            person=NODE_PERSON,
            role=Role.OPERATOR,
            audience=audience,
            ttl=timedelta(minutes=5),
        )

    return token


def key_directory(
    organisation: str, peer_urls: dict[str, str], private_key_file: Path | None, in_this_process: KeyOwners
) -> KeyDirectory:
    """The owners' APIs when peers are configured (one node per process), else the nodes in this process."""
    if not peer_urls:
        return InProcessKeyDirectory(organisation, in_this_process)
    if private_key_file is None:
        raise ValueError(
            "COORDINATION_PEER_URLS needs COORDINATION_PRIVATE_KEY_FILE: the node signs its key requests"
        )
    return HttpKeyDirectory(organisation, peer_urls, service_token(private_key_file, organisation))
