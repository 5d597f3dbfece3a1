"""Composition root: builds each organisation's node application from its settings."""

from __future__ import annotations

from pathlib import Path

from adapters.settings import NodeSettings, Store
from ops.reference_scenario import (
    BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH,
    CIVICA,
    KVINFO,
    Nodes,
)
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp, CivilActorApp, MunicipalDepartmentApp


def demo_nodes(data_dir: Path, store: Store = Store.SQLITE) -> Nodes:
    """The reference scenario's organisations, each a node with its own store under `data_dir`."""

    def settings(organisation: str) -> NodeSettings:
        return NodeSettings(organisation=organisation, store=store, data_dir=data_dir)

    civica = settings(CIVICA)
    return Nodes(
        civica=HousingOrganisationApp(organisation=CIVICA, env=civica.store_env(), cpr_secret=civica.cpr_secret_bytes()),
        bridge_builder=BridgeBuilderApp(organisation=BRIDGE_BUILDER, env=settings(BRIDGE_BUILDER).store_env()),
        children_and_youth=MunicipalDepartmentApp(
            organisation=CHILDREN_AND_YOUTH, env=settings(CHILDREN_AND_YOUTH).store_env()
        ),
        kvinfo=CivilActorApp(organisation=KVINFO, env=settings(KVINFO).store_env()),
    )
