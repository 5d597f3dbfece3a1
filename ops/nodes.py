"""Composition root: builds each organisation's node application from its settings."""

from __future__ import annotations

from pathlib import Path

from adapters.area_indicators import load_area_indicators
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
        civica=housing_node(civica),
        bridge_builder=BridgeBuilderApp(organisation=BRIDGE_BUILDER, env=settings(BRIDGE_BUILDER).store_env()),
        children_and_youth=MunicipalDepartmentApp(
            organisation=CHILDREN_AND_YOUTH, env=settings(CHILDREN_AND_YOUTH).store_env()
        ),
        kvinfo=CivilActorApp(organisation=KVINFO, env=settings(KVINFO).store_env()),
    )


def housing_node(settings: NodeSettings) -> HousingOrganisationApp:
    """A housing organisation's node, with the waterbed guard's area indicators when a file is configured."""
    indicators = settings.area_indicators_file
    return HousingOrganisationApp(
        organisation=settings.organisation, env=settings.store_env(), cpr_secret=settings.cpr_secret_bytes(),
        area_indicators=None if indicators is None else load_area_indicators(indicators),
    )  # fmt: skip
