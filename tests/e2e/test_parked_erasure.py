"""`coordination parked retry` applying a parked erasure notice: the household leaves the department's
views too (the child's birth month in the daycare queue), whether its node is down meanwhile or serving
in another process (which then also forgets the household's key it had cached)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from adapters.settings import Store
from coordination.domain.personal_fields import ERASED
from coordination.projections.daycare_queue import DaycareQueueProjection
from ops.cli import main
from ops.nodes import demo_nodes
from ops.reference_scenario import CHILDREN_AND_YOUTH, Nodes, consultant, on, play

ROOT = Path(__file__).resolve().parents[2]
DAYCARE_CHILDREN = DaycareQueueProjection("live").table_names["daycare_children"]


@dataclass
class Parked:
    nodes: Nodes  # still serving, in this process
    household: UUID
    config: Path  # the department's node settings, for `coordination parked ...`
    close: Callable[[], None]

    def birth_months(self) -> list[str]:
        """The department's daycare queue's birth months of the household's children."""
        views = self.config.parent / f"{CHILDREN_AND_YOUTH}.views.sqlite3"
        with closing(sqlite3.connect(views)) as db:
            rows = db.execute(
                f"SELECT birth_month FROM {DAYCARE_CHILDREN} WHERE household_id = ?", (str(self.household),)
            )
            return [str(month) for (month,) in rows]


@pytest.fixture
def parked(tmp_path: Path) -> Iterator[Parked]:
    """The reference story played; then CIVICA erases the household, and the department's node fails to
    apply the erasure notice (a bug, say), so its consumer parks it."""
    nodes = demo_nodes(tmp_path, Store.SQLITE)
    closed: list[bool] = []

    def close() -> None:
        if not closed:
            closed.append(True)
            nodes.close()

    try:
        household = play(nodes).household
        department = nodes.children_and_youth

        def broken(**_: object) -> None:
            raise RuntimeError("the department's node has a bug")

        department.forget_household = broken  # type: ignore[method-assign]
        nodes.civica.erase_household(
            command_id=uuid4(),
            household_id=household,
            legal_ground="GDPR art. 17(1)(a)",
            at=on(date(2026, 11, 20)),
            by=consultant,
        )
        nodes.sync()
        del department.forget_household
        config = tmp_path / "department.env"
        config.write_text(
            f"COORDINATION_ORGANISATION={CHILDREN_AND_YOUTH}\n"
            "COORDINATION_ROLE=municipal_department\n"
            "COORDINATION_STORE=sqlite\n"
            f"COORDINATION_DATA_DIR={tmp_path}\n"
        )
        yield Parked(nodes, household, config, close)
    finally:
        close()


def test_a_retry_while_the_node_is_down_purges_the_views(
    parked: Parked, capsys: pytest.CaptureFixture[str]
) -> None:
    parked.close()
    assert main(["parked", "list", "--config", str(parked.config)]) == 0
    assert "1 parked message(s)" in capsys.readouterr().out
    assert parked.birth_months() == ["2022-02"]  # the notice is parked: nothing erased yet

    assert main(["parked", "retry", "--config", str(parked.config)]) == 0

    assert "applied 1, already applied 0, still parked 0" in capsys.readouterr().out
    assert parked.birth_months() == [ERASED]


def test_a_retry_beside_the_serving_node_purges_its_views_and_its_cached_key(parked: Parked) -> None:
    keys = parked.nodes.children_and_youth.mapper.keys  # type: ignore[attr-defined]
    assert keys.for_reading(parked.household) is not None  # cached by the serving process

    env = {k: v for k, v in os.environ.items() if not k.startswith("COORDINATION_")}
    retry = subprocess.run(
        [sys.executable, "-m", "ops.cli", "parked", "retry", "--config", str(parked.config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )

    assert retry.returncode == 0, retry.stderr[-2000:]
    assert "applied 1, already applied 0, still parked 0" in retry.stdout
    assert parked.birth_months() == [ERASED]
    # The serving process notices within about a second, at its next use of a key.
    deadline = time.monotonic() + 10
    while keys.for_reading(parked.household) is not None:
        assert time.monotonic() < deadline, "the serving process still holds the erased household's key"
        time.sleep(0.1)
