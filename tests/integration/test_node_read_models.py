"""A running node keeps its read models caught up: another organisation's vacancy reaches its pool."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any, TypeVar
from uuid import uuid4

import pytest

from adapters.area_indicators import load_area_indicators
from adapters.exchange.inprocess import InProcessBroker
from adapters.exchange.key_directory import KeyOwners
from adapters.settings import NodeSettings, Store
from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.values import Place
from ops.bench.fixtures import read_model_support as s
from ops.node.bootstrap import NodeParts
from ops.node.exchange import Node
from ops.node.read_models import READ_MODELS

ODENSE_AREAS = Path(__file__).resolve().parents[2] / "ops" / "areas" / "odense.csv"
T = TypeVar("T")
TODAY = date(2026, 11, 1)


def _within(seconds: float, found: Callable[[], T]) -> T:
    deadline = time.monotonic() + seconds
    while not (result := found()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s")
        time.sleep(0.02)
    return result


@pytest.fixture
def two_housing_nodes(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    broker, owners = InProcessBroker(), KeyOwners()
    parts = [
        NodeParts(
            NodeSettings(
                organisation=org, store=Store.MEMORY, data_dir=tmp_path, area_indicators_file=ODENSE_AREAS
            ),
            key_owners=owners,
        )
        for org in (s.CIVICA, s.FAB)
    ]
    nodes = [each.on_exchange(broker, poll_timeout=0.02) for each in parts]
    yield nodes[0], nodes[1]
    for each in parts:
        each.close()


def test_a_vacancy_published_by_another_organisation_shows_in_the_running_nodes_pool(
    two_housing_nodes: tuple[Node, Node],
) -> None:
    civica, fab = two_housing_nodes
    for node in (civica, fab):
        node.start()
    assert isinstance(civica.app, HousingOrganisationApp)
    vacancy_id = civica.app.publish_vacancy(
        command_id=uuid4(), dwelling=s.dwelling("Vollsmose"), at=s.at(), by=s.CONSULTANT
    )
    assert fab.read_models is not None

    started = time.monotonic()
    [seen] = _within(10, lambda: fab.read_models.pool.search("Odense", today=TODAY))  # type: ignore[union-attr]
    took = time.monotonic() - started

    assert seen.vacancy_id == vacancy_id
    assert seen.owner == s.CIVICA
    assert seen.area_status == "transformation area"  # Vollsmose in ops/areas/odense.csv
    assert took < 10
    _within(5, lambda: not any(fab.read_model_lags().values()))
    assert set(fab.read_model_lags()) == set(READ_MODELS)


def test_the_pool_shows_each_areas_monitoring_status_from_the_indicators_file(
    two_housing_nodes: tuple[Node, Node],
) -> None:
    civica, _ = two_housing_nodes
    indicators = load_area_indicators(ODENSE_AREAS)
    assert isinstance(civica.app, HousingOrganisationApp)
    for area in ("Vollsmose", "Rising", "Odense C", "Nowhere Listed"):
        civica.app.publish_vacancy(command_id=uuid4(), dwelling=s.dwelling(area), at=s.at(), by=s.CONSULTANT)
    civica.run_until_idle()
    assert civica.read_models is not None

    found = civica.read_models.pool.search("Odense", today=TODAY)

    statuses = {v.area: v.area_status for v in found}
    assert statuses == {
        area: civica.app.area_status(Place(municipality="Odense", area=area)) for area in statuses
    }
    assert statuses["Nowhere Listed"] == "unmonitored"
    assert statuses["Rising"] == "listed"  # a prevention area in the file
    assert len(indicators) > 3


def test_the_guard_counts_inflow_from_the_receiving_areas_projection_when_the_node_runs_it(
    two_housing_nodes: tuple[Node, Node], monkeypatch: Any
) -> None:
    civica, _ = two_housing_nodes
    app = civica.app
    assert isinstance(app, HousingOrganisationApp)
    household = s.register(app)
    s.move_and_hand_off(app, household, moved_on=TODAY, days=1)
    scanned: list[Any] = []
    monkeypatch.setattr(
        "coordination.applications.area_guard.MovesIndex.moved_in_since", lambda *a: scanned.append(a)
    )

    warnings = app.area_warnings(Place(municipality="Odense", area="Odense C"), at=s.at(10))

    assert scanned == []  # the log was not scanned: the projection answered
    assert civica.read_models is not None
    assert civica.read_models.inflow(Place(municipality="Odense", area="odense c"), TODAY) == 1
    assert all(w.rule != "waterbed_inflow" for w in warnings)
