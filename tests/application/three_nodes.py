"""CIVICA, FAB and the bridge builder as three in-memory nodes on one in-process exchange."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from adapters.eventstore.storage import ShreddingStorage
from adapters.exchange.inprocess import InProcessBroker
from adapters.exchange.key_directory import KeyOwners
from adapters.settings import NodeSettings, OrganisationRole
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp
from ops.node.exchange import Exchange, Node
from tests.application.builders import BRIDGE, CIVICA

FAB = "fab"
MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
ROLES = {
    CIVICA: OrganisationRole.HOUSING_ORGANISATION,
    FAB: OrganisationRole.HOUSING_ORGANISATION,
    BRIDGE: OrganisationRole.BRIDGE_BUILDER,
}


@contextmanager
def three_nodes() -> Iterator[
    tuple[HousingOrganisationApp, HousingOrganisationApp, BridgeBuilderApp, Exchange]
]:
    """The nodes' applications and their exchange, closed afterwards."""
    civica = HousingOrganisationApp(
        storage=ShreddingStorage(), group_commit=True, organisation=CIVICA, env=MEMORY, cpr_secret=b"c" * 32
    )
    fab = HousingOrganisationApp(
        storage=ShreddingStorage(), group_commit=True, organisation=FAB, env=MEMORY, cpr_secret=b"f" * 32
    )
    bridge = BridgeBuilderApp(storage=ShreddingStorage(), group_commit=True, organisation=BRIDGE, env=MEMORY)
    broker, owners = InProcessBroker(), KeyOwners()  # the nodes in this process ask each other for keys
    exchange = Exchange(
        [
            Node(
                NodeSettings(organisation=app.organisation, role=ROLES[app.organisation]),
                app,
                broker,
                key_owners=owners,
            )
            for app in (civica, fab, bridge)
        ]
    )
    try:
        yield civica, fab, bridge, exchange
    finally:
        exchange.close()
        for app in (civica, fab, bridge):
            app.close()
