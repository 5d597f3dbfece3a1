"""A small seeded demo (every demo organisation, SQLite, the in-process exchange) shared by the ops tests."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.settings import Store
from ops.demo.api import ServedNodes, demo_api_nodes, demo_tokens, mounted_app
from ops.demo.nodes import demo_nodes
from ops.demo.reference_scenario import Nodes
from ops.demo.run import AREAS_FILE, ensure_seeded, relax_fsync
from ops.logging import configure

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

HOUSEHOLDS = 24


@dataclass
class SeededDemo:
    data_dir: Path
    nodes: Nodes
    served: ServedNodes
    app: Any
    tokens: dict[str, str]

    def client(self) -> Any:
        return TestClient(self.app)

    def operator(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['CIVICA_OPERATOR']}"}


@pytest.fixture(scope="session")
def seeded_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededDemo]:
    configure(json=False, level=logging.WARNING)
    data_dir = tmp_path_factory.mktemp("seeded-demo")
    nodes = demo_nodes(data_dir, Store.SQLITE, area_indicators_file=AREAS_FILE)
    relax_fsync(nodes)
    served: ServedNodes | None = None
    try:
        assert ensure_seeded(nodes, data_dir, households=HOUSEHOLDS) > 0
        served = demo_api_nodes(nodes, data_dir)
        yield SeededDemo(data_dir, nodes, served, mounted_app(served, data_dir), demo_tokens(data_dir))
    finally:
        if served is not None:
            served.close()
        nodes.close()
