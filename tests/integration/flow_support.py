"""Nodes of several organisations on PostgreSQL (a schema each) exchanging over the real broker, for flow tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from itertools import count
from typing import Any
from uuid import UUID, uuid4

from adapters.eventstore.storage import ShreddingStorage
from adapters.exchange.key_directory import KeyOwners
from adapters.kafka.transport import KafkaSettings, KafkaTransport
from adapters.settings import NodeSettings, OrganisationRole
from coordination.applications.base import NodeApplication
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp, MunicipalDepartmentApp
from coordination.domain.values import Actor, Role
from ops.demo.reference_scenario import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, CIVICA, on, the_family
from ops.devservices.pgcluster import PostgresServer
from ops.node.exchange import Exchange, Node
from tests.conftest import _fresh_schema, postgres_env

FAB = "fab"
ROLES = {
    CIVICA: OrganisationRole.HOUSING_ORGANISATION,
    FAB: OrganisationRole.HOUSING_ORGANISATION,
    BRIDGE_BUILDER: OrganisationRole.BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH: OrganisationRole.MUNICIPAL_DEPARTMENT,
}
fab_consultant = Actor(organisation=FAB, person="fab-gk-02", role=Role.REHOUSING_CONSULTANT)


class Later:
    """The erasure hook and commit listener an app built here is given (as ops/node/bootstrap.py gives the apps
    it builds), passing each on to the parts built after the app: its node, and read models a test adds."""

    def __init__(self) -> None:
        self.parts: list[Any] = []

    def forget(self, household_id: UUID) -> None:
        for part in self.parts:
            part.forget(household_id)

    def committed(self, recordings: list[Any]) -> None:
        for part in self.parts:
            getattr(part, "committed", lambda _: None)(recordings)

    def hooks(self) -> dict[str, Any]:
        return {"erasure_hooks": [self.forget], "after_commit": [self.committed]}


@dataclass
class Organisations:
    civica: HousingOrganisationApp
    fab: FabApp
    bridge_builder: BridgeBuilderApp
    department: MunicipalDepartmentApp
    exchange: Exchange
    prefix: str
    later: dict[str, Later]

    def settle(self) -> None:
        self.exchange.settle(max_seconds=30)

    def with_read_models(self, organisation: str, models: Any) -> None:
        """The organisation's app forgets an erased household in `models` too."""
        self.later[organisation].parts.append(models)


class FabApp(HousingOrganisationApp):
    """FAB's node: a housing organisation like CIVICA (the class is the same; the name keeps tests readable)."""


def organisations(server: PostgresServer, bootstrap_servers: str, stack: ExitStack) -> Organisations:
    """CIVICA, FAB, the bridge builder and the children and youth department: own schema, own node, one broker."""
    prefix = f"flow{uuid4().hex[:8]}."
    transport = KafkaTransport(KafkaSettings(bootstrap_servers=bootstrap_servers, client_id=prefix))

    def env() -> dict[str, str]:
        return postgres_env(server, stack.enter_context(_fresh_schema(server)))

    later = {org: Later() for org in ROLES}
    apps: dict[str, NodeApplication] = {
        CIVICA: HousingOrganisationApp(
            storage=ShreddingStorage(),
            group_commit=True,
            organisation=CIVICA,
            env=env(),
            cpr_secret=b"c" * 32,
            **later[CIVICA].hooks(),
        ),
        FAB: FabApp(
            storage=ShreddingStorage(),
            group_commit=True,
            organisation=FAB,
            env=env(),
            cpr_secret=b"f" * 32,
            **later[FAB].hooks(),
        ),
        BRIDGE_BUILDER: BridgeBuilderApp(
            storage=ShreddingStorage(),
            group_commit=True,
            organisation=BRIDGE_BUILDER,
            env=env(),
            **later[BRIDGE_BUILDER].hooks(),
        ),
        CHILDREN_AND_YOUTH: MunicipalDepartmentApp(
            storage=ShreddingStorage(),
            group_commit=True,
            organisation=CHILDREN_AND_YOUTH,
            env=env(),
            **later[CHILDREN_AND_YOUTH].hooks(),
        ),
    }
    for app in apps.values():
        stack.callback(app.close)
    owners = KeyOwners()  # the nodes in this process ask each other for exchange keys
    nodes = [
        Node(
            NodeSettings(organisation=org, role=ROLES[org], kafka_topic_prefix=prefix),
            app,
            transport,
            key_owners=owners,
        )
        for org, app in apps.items()
    ]
    for node in nodes:
        later[node.organisation].parts.append(node)
    exchange = Exchange(nodes, poll_timeout=0.05)
    stack.callback(exchange.close)
    return Organisations(
        apps[CIVICA],
        apps[FAB],
        apps[BRIDGE_BUILDER],
        apps[CHILDREN_AND_YOUTH],  # type: ignore[arg-type]
        exchange,
        prefix,
        later,
    )


def command_ids() -> Iterator[UUID]:
    return (uuid4() for _ in count())


def register(app: HousingOrganisationApp, by: Actor, case_reference: str) -> UUID:
    family = {**the_family(), "case_reference": case_reference}
    return app.register_household(command_id=uuid4(), **family, at=on(date(2026, 6, 2)), by=by)  # type: ignore[arg-type]
