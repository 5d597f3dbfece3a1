"""Fixtures: the organisations' applications on the test's backend (`store_env`), closed after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from adapters.eventstore.storage import ShreddingStorage
from coordination.applications.base import NodeApplication
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp, CivilActorApp, MunicipalDepartmentApp
from tests.application.builders import BRIDGE, CIVICA, DAYCARE

N = TypeVar("N", bound=NodeApplication)
OpenNode = Callable[..., Any]


def node_env(store_env: dict[str, str], organisation: str) -> dict[str, str]:
    """Each organisation's node has a store of its own: on SQLite the library names every table
    `stored_events`, so two nodes in one file would share one log. PostgreSQL tables are named by
    application class, so nodes of different roles may share the test's schema."""
    env = dict(store_env)
    if "SQLITE_DBNAME" in env:
        env["SQLITE_DBNAME"] = str(Path(env["SQLITE_DBNAME"]).with_name(f"{organisation}.db"))
    return env


@pytest.fixture
def open_node(store_env: dict[str, str]) -> Iterator[Callable[..., NodeApplication]]:
    """Opens node applications on the test's backend and closes them all after the test."""
    opened: list[NodeApplication] = []

    def open_(cls: type[N], organisation: str, **kwargs: Any) -> N:
        if cls is HousingOrganisationApp:
            kwargs.setdefault("cpr_secret", b"k" * 32)
        env = {**node_env(store_env, organisation), **kwargs.pop("extra_env", {})}
        app = cls(storage=ShreddingStorage(), organisation=organisation, env=env, **kwargs)
        opened.append(app)
        return app

    yield open_
    for app in opened:
        app.close()


@pytest.fixture
def housing(open_node: Callable[..., NodeApplication]) -> HousingOrganisationApp:
    return open_node(HousingOrganisationApp, CIVICA)


@pytest.fixture
def bridge(open_node: Callable[..., NodeApplication]) -> BridgeBuilderApp:
    return open_node(BridgeBuilderApp, BRIDGE)


@pytest.fixture
def department(open_node: Callable[..., NodeApplication]) -> MunicipalDepartmentApp:
    return open_node(MunicipalDepartmentApp, DAYCARE)


@pytest.fixture
def civil_actor(open_node: Callable[..., NodeApplication]) -> CivilActorApp:
    return open_node(CivilActorApp, "red-cross-odense")


@pytest.fixture
def two_processes(shared_store_env: dict[str, str]) -> Iterator[tuple[HousingOrganisationApp, ...]]:
    """Two applications of CIVICA's node on one store, as two of its processes (replicas) have."""
    apps = tuple(
        HousingOrganisationApp(
            storage=ShreddingStorage(), organisation="civica", env=shared_store_env, cpr_secret=b"k" * 32
        )
        for _ in range(2)
    )
    yield apps
    for app in apps:
        app.close()
