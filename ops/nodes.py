"""Composition root of the embedded demo: every organisation's node in one process, on the in-process exchange."""

from __future__ import annotations

from pathlib import Path

from adapters.inprocess import InProcessBroker
from adapters.settings import NodeSettings, OrganisationRole, Store
from adapters.transport import Transport
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp, CivilActorApp, MunicipalDepartmentApp
from ops.node import Exchange, Node, build_app, housing_node, node_read_models
from ops.reference_scenario import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, CIVICA, KVINFO, Nodes

__all__ = ["DEMO_ROLES", "demo_nodes", "housing_node", "on_exchange"]

DEMO_ROLES: dict[str, OrganisationRole] = {
    CIVICA: OrganisationRole.HOUSING_ORGANISATION,
    BRIDGE_BUILDER: OrganisationRole.BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH: OrganisationRole.MUNICIPAL_DEPARTMENT,
    KVINFO: OrganisationRole.CIVIL_ACTOR,
}


def on_exchange(apps: Nodes, settings: dict[str, NodeSettings], transport: Transport, **options: float) -> Nodes:
    """The same organisations, each wired to the exchange as a node (relay, consumer, parked messages)."""
    # Every node keeps its read models (pool, queues, timeline) caught up as it runs.
    nodes = [
        Node(settings[org], app, transport, read_models=node_read_models(settings[org], app))
        for app in apps.all()
        for org in [app.organisation]
    ]
    apps.exchange = Exchange(nodes, poll_timeout=options.get("poll_timeout", 0.0))
    return apps


def demo_nodes(data_dir: Path, store: Store = Store.SQLITE, transport: Transport | None = None) -> Nodes:
    """The reference scenario's organisations, each a node with its own store under `data_dir`, talking
    over `transport` (by default an in-process broker: the embedded default needs no server)."""
    settings = {org: NodeSettings(organisation=org, role=role, store=store, data_dir=data_dir)
                for org, role in DEMO_ROLES.items()}  # fmt: skip
    apps = {org: build_app(s) for org, s in settings.items()}
    civica, bb, cyd, kvinfo = (apps[org] for org in DEMO_ROLES)
    assert isinstance(civica, HousingOrganisationApp) and isinstance(bb, BridgeBuilderApp)
    assert isinstance(cyd, MunicipalDepartmentApp) and isinstance(kvinfo, CivilActorApp)
    nodes = Nodes(civica=civica, bridge_builder=bb, children_and_youth=cyd, kvinfo=kvinfo)
    return on_exchange(nodes, settings, transport or InProcessBroker())
