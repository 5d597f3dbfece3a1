"""Composition root of the embedded demo: every organisation's node in one process, on the in-process exchange."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from adapters.exchange.inprocess import InProcessBroker
from adapters.exchange.key_directory import KeyOwners
from adapters.exchange.transport import Transport
from adapters.settings import NodeSettings, OrganisationRole, Store
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp, CivilActorApp, MunicipalDepartmentApp
from ops.demo.reference_scenario import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, CIVICA, KVINFO, Nodes
from ops.demo.seed import FAB, JOBCENTRE
from ops.node.bootstrap import NodeParts, housing_node, node_read_models
from ops.node.exchange import Exchange, Node

__all__ = ["DEMO_ROLES", "demo_nodes", "housing_node", "on_exchange"]

DEMO_ROLES: dict[str, OrganisationRole] = {
    CIVICA: OrganisationRole.HOUSING_ORGANISATION,
    BRIDGE_BUILDER: OrganisationRole.BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH: OrganisationRole.MUNICIPAL_DEPARTMENT,
    KVINFO: OrganisationRole.CIVIL_ACTOR,
    # The seeded demo's further organisations: a second housing organisation and the jobcentre.
    FAB: OrganisationRole.HOUSING_ORGANISATION,
    JOBCENTRE: OrganisationRole.MUNICIPAL_DEPARTMENT,
}


def on_exchange(
    apps: Nodes,
    settings: dict[str, NodeSettings],
    transport: Transport,
    **options: float,
) -> Nodes:
    """Organisations whose apps were built elsewhere (tests' own stores), each put on the exchange as a node
    (relay, consumer, parked messages, read models); they ask each other for exchange keys through one
    `KeyOwners`. Their apps were not built with the nodes' hooks (ops/node/bootstrap.py builds them so): their
    relays publish on their next poll rather than at once, and their history is read from their logs."""
    owners = KeyOwners()
    nodes = [
        Node(
            settings[org],
            app,
            transport,
            read_models=node_read_models(settings[org], app),
            key_owners=owners,
        )
        for app in apps.all()
        for org in [app.organisation]
    ]
    apps.exchange = _exchange(nodes, transport, owners, options)
    return apps


def _exchange(
    nodes: list[Node],
    transport: Transport,
    owners: KeyOwners,
    options: Mapping[str, float],
    closing: Any = (),
) -> Exchange:
    if isinstance(transport, InProcessBroker):
        # Nothing published survives the process: what a previous one may not have delivered goes again.
        for node in nodes:
            node.publish_again_after_delivered()
    return Exchange(nodes, poll_timeout=options.get("poll_timeout", 0.0), key_owners=owners, closing=closing)


def demo_nodes(
    data_dir: Path,
    store: Store = Store.SQLITE,
    transport: Transport | None = None,
    *,
    area_indicators_file: Path | None = None,
) -> Nodes:
    """The demo's organisations, each a node with its own store under `data_dir`, talking over `transport`
    (by default an in-process broker: the embedded default needs no server). FAB and the jobcentre are
    `Nodes.extra`; housing organisations use `area_indicators_file` for the waterbed guard when given.

    Each organisation's parts are built by the composition root (`NodeParts`, `Nodes.parts`): one database,
    its app, its read models (the API serves the same ones) and its node; closed with the exchange."""
    transport = transport or InProcessBroker()
    owners = KeyOwners()
    parts = {
        org: NodeParts(
            NodeSettings(
                organisation=org,
                role=role,
                store=store,
                data_dir=data_dir,
                area_indicators_file=area_indicators_file,
            ),
            key_owners=owners,
        )
        for org, role in DEMO_ROLES.items()
    }
    civica, bb, cyd, kvinfo, fab, jobcentre = (parts[org].app for org in DEMO_ROLES)
    assert isinstance(civica, HousingOrganisationApp) and isinstance(bb, BridgeBuilderApp)
    assert isinstance(cyd, MunicipalDepartmentApp) and isinstance(kvinfo, CivilActorApp)
    assert isinstance(fab, HousingOrganisationApp) and isinstance(jobcentre, MunicipalDepartmentApp)
    nodes = Nodes(
        civica=civica,
        bridge_builder=bb,
        children_and_youth=cyd,
        kvinfo=kvinfo,
        extra=[fab, jobcentre],
        parts=parts,
    )
    on = [each.on_exchange(transport) for each in parts.values()]
    # The exchange closes the nodes, then each organisation's parts (its read models, app and database).
    nodes.exchange = _exchange(on, transport, owners, {}, closing=[each.close for each in parts.values()])
    return nodes
