"""Composition root of the embedded demo: every organisation's node in one process, on the in-process exchange."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from adapters.exchange.inprocess import InProcessBroker
from adapters.exchange.keys import KeyOwners
from adapters.exchange.transport import Transport
from adapters.settings import NodeSettings, OrganisationRole, Store
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp, CivilActorApp, MunicipalDepartmentApp
from ops.bootstrap import NodeDatabase, build_app, housing_node, node_database, node_read_models
from ops.demo_seed import FAB, JOBCENTRE
from ops.node import Exchange, Node
from ops.reference_scenario import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, CIVICA, KVINFO, Nodes

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
    *,
    databases: Mapping[str, NodeDatabase] | None = None,
    **options: float,
) -> Nodes:
    """The same organisations, each wired to the exchange as a node (relay, consumer, parked messages);
    they ask each other for exchange keys through one `KeyOwners` (the exchange's `key_owners`).

    `databases`: each organisation's database as its app was built with (ops/bootstrap.py), for its node
    too; closed with the exchange."""
    owners = KeyOwners()
    databases = databases or {}
    # Every node keeps its read models (pool, queues, timeline) caught up as it runs.
    nodes = [
        Node(
            settings[org],
            app,
            transport,
            db=databases.get(org),
            read_models=node_read_models(settings[org], app),
            key_owners=owners,
        )
        for app in apps.all()
        for org in [app.organisation]
    ]
    if isinstance(transport, InProcessBroker):
        # Nothing published survives the process: what a previous one may not have delivered goes again.
        for node in nodes:
            node.publish_again_after_delivered()
    apps.exchange = Exchange(
        nodes,
        poll_timeout=options.get("poll_timeout", 0.0),
        key_owners=owners,
        closing=[db.close for db in databases.values()],
    )
    return apps


def demo_nodes(
    data_dir: Path,
    store: Store = Store.SQLITE,
    transport: Transport | None = None,
    *,
    area_indicators_file: Path | None = None,
) -> Nodes:
    """The demo's organisations, each a node with its own store under `data_dir`, talking over `transport`
    (by default an in-process broker: the embedded default needs no server). FAB and the jobcentre are
    `Nodes.extra`; housing organisations use `area_indicators_file` for the waterbed guard when given."""
    settings = {
        org: NodeSettings(
            organisation=org,
            role=role,
            store=store,
            data_dir=data_dir,
            area_indicators_file=area_indicators_file,
        )
        for org, role in DEMO_ROLES.items()
    }
    # One database per organisation, for its household keys and its node's tables; the apps share store
    # transactions between the lanes their consumers apply messages in.
    databases = {org: node_database(s) for org, s in settings.items()}
    apps = {org: build_app(s, databases[org], group_commit=True) for org, s in settings.items()}
    civica, bb, cyd, kvinfo, fab, jobcentre = (apps[org] for org in DEMO_ROLES)
    assert isinstance(civica, HousingOrganisationApp) and isinstance(bb, BridgeBuilderApp)
    assert isinstance(cyd, MunicipalDepartmentApp) and isinstance(kvinfo, CivilActorApp)
    assert isinstance(fab, HousingOrganisationApp) and isinstance(jobcentre, MunicipalDepartmentApp)
    nodes = Nodes(
        civica=civica, bridge_builder=bb, children_and_youth=cyd, kvinfo=kvinfo, extra=[fab, jobcentre]
    )
    return on_exchange(nodes, settings, transport or InProcessBroker(), databases=databases)
