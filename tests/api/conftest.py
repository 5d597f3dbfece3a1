"""Fixtures for API tests: each demo organisation's node behind its own API, on SQLite or PostgreSQL.

Tokens are signed with keys made for the test session; every node trusts every organisation's key.
"""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.exchange.inprocess import InProcessBroker
from adapters.exchange.key_directory import KeyOwners
from adapters.http.app import create_app
from adapters.http.auth import AuthConfig, issue_token
from adapters.http.node import ApiNode
from adapters.settings import NodeSettings, OrganisationRole, Store
from coordination.domain.values import Role
from ops.demo.reference_scenario import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, CIVICA, KVINFO
from ops.node.bootstrap import NodeParts
from ops.node.exchange import Exchange

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

FAB = "fab"
ROLES: dict[str, OrganisationRole] = {
    CIVICA: OrganisationRole.HOUSING_ORGANISATION,
    FAB: OrganisationRole.HOUSING_ORGANISATION,
    BRIDGE_BUILDER: OrganisationRole.BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH: OrganisationRole.MUNICIPAL_DEPARTMENT,
    KVINFO: OrganisationRole.CIVIL_ACTOR,
}


@pytest.fixture(scope="session")
def signing_keys() -> dict[str, Ed25519PrivateKey]:
    return {org: Ed25519PrivateKey.generate() for org in ROLES}


def config_for(audience: str, keys: dict[str, Ed25519PrivateKey]) -> AuthConfig:
    return AuthConfig(audience=audience, public_keys={org: key.public_key() for org, key in keys.items()})


class Api:
    """A client of one node acting as one person: idempotency keys made per POST, ETags remembered."""

    def __init__(self, client: Any, token: str) -> None:
        self.client = client
        # The tests read the problems' English (a caseworker's default is Danish: tests/api/test_languages.py).
        self.headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}

    def post(
        self,
        path: str,
        json: Any = None,
        *,
        if_match: str | None = None,
        key: UUID | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        sent = {**self.headers, "Idempotency-Key": str(key or uuid4()), **(headers or {})}
        if if_match is not None:
            sent["If-Match"] = if_match
        return self.client.post(path, json=json, headers=sent)

    def get(self, path: str, *, purpose: str | None = "case work", **params: Any) -> Any:
        headers = {**self.headers, **({"X-Purpose": purpose} if purpose else {})}
        return self.client.get(path, headers=headers, params=params)

    def ok(self, response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()


@dataclass
class Organisations:
    """The organisations' nodes, their APIs (TestClients) and the exchange between them."""

    keys: dict[str, Ed25519PrivateKey]
    nodes: dict[str, ApiNode] = field(default_factory=dict)
    clients: dict[str, Any] = field(default_factory=dict)
    exchange: Exchange | None = None
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def token(self, org: str, person: str, role: Role | str, audience: str | None = None) -> str:
        return issue_token(
            self.keys[org], organisation=org, person=person, role=role, audience=audience or org
        )

    def api(
        self,
        node: str,
        org: str | None = None,
        role: Role | str = Role.REHOUSING_CONSULTANT,
        person: str = "p-1",
    ) -> Api:
        """A client of `node`'s API acting as `person` in `role` at `org` (default: the node's own)."""
        return Api(self.clients[node], self.token(org or node, person, role, audience=node))

    def settle(self) -> None:
        if self.exchange is not None:
            self.exchange.settle()

    def close(self) -> None:
        for close in reversed(self._closers):
            close()


def _settings(org: str, kind: str, tmp_path: Path, server: Any) -> NodeSettings:
    if kind in ("memory", "sqlite"):
        return NodeSettings(organisation=org, role=ROLES[org], store=Store(kind), data_dir=tmp_path)
    schema = f"api_{secrets.token_hex(5)}"
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return NodeSettings(
        organisation=org,
        role=ROLES[org],
        store=Store.POSTGRES,
        data_dir=tmp_path,
        postgres_host=server.host,
        postgres_port=server.port,
        postgres_user=server.user,
        postgres_password=server.password,
        postgres_dbname=server.dbname,
        postgres_schema=schema,
    )


def open_organisations(
    kind: str,
    tmp_path: Path,
    keys: dict[str, Ed25519PrivateKey],
    server: Any = None,
    organisations: tuple[str, ...] = tuple(ROLES),
) -> Organisations:
    """Every organisation's node on the `kind` of store, on one in-process exchange, each behind its API."""
    found = Organisations(keys=keys)
    broker = InProcessBroker()
    owners = KeyOwners()  # the nodes in this process ask each other for exchange keys
    exchange_nodes = []
    for org in organisations:
        settings = _settings(org, kind, tmp_path, server)
        parts = NodeParts(settings, key_owners=owners)
        exchange_node = parts.on_exchange(broker, read_models=False)
        exchange_nodes.append(exchange_node)
        node = parts.api_node()
        found.nodes[org] = node
        client = TestClient(create_app(node, config_for(org, keys)), raise_server_exceptions=False)
        found.clients[org] = client
        found._closers += [parts.close, client.close]
    found.exchange = Exchange(exchange_nodes)
    return found


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def organisations(
    request: pytest.FixtureRequest, tmp_path: Path, signing_keys: dict[str, Ed25519PrivateKey]
) -> Iterator[Organisations]:
    """Every organisation's node and API on SQLite files, or on PostgreSQL (a schema each).

    On PostgreSQL, FAB is left out and each store's pool kept small: the test server's connection slots
    are shared with every other test session on this machine.
    """
    server, organisations = None, tuple(ROLES)
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        organisations = tuple(org for org in ROLES if org != FAB)
        monkeypatch = request.getfixturevalue("monkeypatch")
        monkeypatch.setenv("POSTGRES_POOL_SIZE", "1")
        monkeypatch.setenv("POSTGRES_MAX_OVERFLOW", "9")
    found = open_organisations(request.param, tmp_path, signing_keys, server, organisations)
    yield found
    found.close()


@pytest.fixture
def memory_organisations(
    tmp_path: Path, signing_keys: dict[str, Ed25519PrivateKey]
) -> Iterator[Organisations]:
    """The same on in-memory stores (fast: for the authorisation matrix and token checks)."""
    found = open_organisations("memory", tmp_path, signing_keys)
    yield found
    found.close()
