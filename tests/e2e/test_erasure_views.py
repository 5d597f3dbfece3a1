"""After CIVICA erases a household, the department's views keep nothing personal of it (the child's birth
month in the daycare queue), on the SQLite stores of the embedded demo:

* `coordination parked retry` applying a parked erasure notice purges them, whether the node is down
  meanwhile or serving in another process (which then also forgets the household's key it had cached);
* while the projections follow the log, they are purged at once and again once every projection has
  passed the log's end as it was at the erasure, so a batch read before the key was erased cannot leave
  what it decrypted behind.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from adapters.settings import Store
from coordination.domain.follow_up import FactKind, HouseholdFact
from coordination.domain.personal_fields import ERASED
from coordination.projections.daycare_queue import DaycareQueueProjection
from ops.cli.main import main
from ops.demo.nodes import demo_nodes
from ops.demo.reference_scenario import (
    CHILDREN_AND_YOUTH,
    CIVICA,
    Nodes,
    consultant,
    daycare_allocator,
    on,
    play,
)
from ops.node.exchange import Exchange, Node

ROOT = Path(__file__).resolve().parents[2]
DAYCARE_CHILDREN = DaycareQueueProjection("live").table_names["daycare_children"]
RETRIED = "applied 1, already applied 0, still parked 0"


@pytest.fixture
def played(tmp_path: Path) -> Iterator[tuple[Nodes, UUID]]:
    """The demo's nodes (in this process) after the reference story, and its household."""
    nodes = demo_nodes(tmp_path, Store.SQLITE)
    try:
        yield nodes, play(nodes).household
    finally:
        if nodes.exchange is not None:  # not stopped by the test already
            nodes.close()


def _erase_at_civica(nodes: Nodes, household: UUID) -> None:
    nodes.civica.erase_household(
        command_id=uuid4(),
        household_id=household,
        legal_ground="GDPR art. 17(1)(a)",
        at=on(date(2026, 11, 20)),
        by=consultant,
    )


def _birth_months(data_dir: Path, household: UUID, set_to: str | None = None) -> list[str]:
    """The household's children's birth months in the department's daycare queue (after setting them)."""
    with closing(sqlite3.connect(data_dir / f"{CHILDREN_AND_YOUTH}.views.sqlite3")) as db, db:
        if set_to is not None:
            db.execute(
                f"UPDATE {DAYCARE_CHILDREN} SET birth_month = ? WHERE household_id = ?",
                (set_to, str(household)),
            )
        rows = db.execute(
            f"SELECT birth_month FROM {DAYCARE_CHILDREN} WHERE household_id = ?", (str(household),)
        )
        return [str(month) for (month,) in rows]


def _node(exchange: Exchange, organisation: str) -> Node:
    return next(node for node in exchange.nodes if node.organisation == organisation)


# A parked erasure notice, retried


@pytest.fixture
def parked(played: tuple[Nodes, UUID], tmp_path: Path) -> Path:
    """The department's node fails to apply CIVICA's erasure notice (a bug, say), so its consumer parks
    it. Returns the department's settings file, for `coordination parked ...`."""
    nodes, household = played
    department = nodes.children_and_youth

    def broken(**_: object) -> None:
        raise RuntimeError("the department's node has a bug")

    department.forget_household = broken  # type: ignore[method-assign]
    _erase_at_civica(nodes, household)
    nodes.sync()
    del department.forget_household
    config = tmp_path / "department.env"
    config.write_text(
        f"COORDINATION_ORGANISATION={CHILDREN_AND_YOUTH}\n"
        "COORDINATION_ROLE=municipal_department\n"
        "COORDINATION_STORE=sqlite\n"
        f"COORDINATION_DATA_DIR={tmp_path}\n"
    )
    return config


def test_a_retry_while_the_node_is_down_purges_the_views(
    played: tuple[Nodes, UUID], parked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nodes, household = played
    nodes.close()
    nodes.exchange = None  # the node is down (and the fixture does not close it again)
    assert main(["parked", "list", "--config", str(parked)]) == 0
    assert "1 parked message(s)" in capsys.readouterr().out
    assert _birth_months(parked.parent, household) == ["2022-02"]  # parked: nothing erased yet

    assert main(["parked", "retry", "--config", str(parked)]) == 0

    assert RETRIED in capsys.readouterr().out
    assert _birth_months(parked.parent, household) == [ERASED]


def test_a_retry_beside_the_serving_node_purges_its_views_and_its_cached_key(
    played: tuple[Nodes, UUID], parked: Path
) -> None:
    nodes, household = played
    keys = nodes.children_and_youth.mapper.keys  # type: ignore[attr-defined]
    assert keys.for_reading(household) is not None  # cached by the serving process

    env = {k: v for k, v in os.environ.items() if not k.startswith("COORDINATION_")}
    retry = subprocess.run(
        [sys.executable, "-m", "ops.cli.main", "parked", "retry", "--config", str(parked)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )

    assert retry.returncode == 0, retry.stderr[-2000:]
    assert RETRIED in retry.stdout
    assert _birth_months(parked.parent, household) == [ERASED]
    # The serving process notices within a second without using a key (its own look, every 0.25 s).
    deadline = time.monotonic() + 1.0
    while keys._keys.get(household) is not None:
        assert time.monotonic() < deadline, "the serving process still holds the erased household's key"
        time.sleep(0.02)
    assert keys.for_reading(household) is None


# A batch in flight during the erasure


@pytest.mark.parametrize("then", ["projections catch up", "read models stop"])
def test_a_batch_written_after_the_erasure_is_purged_once_the_projections_pass_it(
    played: tuple[Nodes, UUID], tmp_path: Path, then: str
) -> None:
    nodes, household = played
    assert isinstance(nodes.exchange, Exchange)
    civica, department = _node(nodes.exchange, CIVICA), _node(nodes.exchange, CHILDREN_AND_YOUTH)
    read_models = department.read_models
    assert read_models is not None
    assert _birth_months(tmp_path, household) == ["2022-02"]
    read_models.start(max_sleep=0.05)
    for runner in read_models.runners.values():
        runner.stop()
    # The department's log moves on while its projections are behind: a batch of it is "in flight".
    nodes.children_and_youth.report_household_fact(
        command_id=uuid4(),
        household_id=household,
        owner=CIVICA,
        fact=HouseholdFact(kind=FactKind.FOLLOW_UP_VISIT_DONE, visited_on=date(2026, 11, 18)),
        at=on(date(2026, 11, 18)),
        by=daycare_allocator,
    )

    _erase_at_civica(nodes, household)
    civica.relay.run_once()
    deadline = time.monotonic() + 10
    while _birth_months(tmp_path, household) != [ERASED]:  # the department erased, and purged at once
        assert time.monotonic() < deadline, "the erasure notice was not applied"
        department.consumer.run_once(0.1)
    # What a batch read before the erasure writes as it commits, moving its tracking past the notice.
    _birth_months(tmp_path, household, set_to="2022-02")
    if then == "projections catch up":
        for runner in read_models.runners.values():
            runner.start(max_sleep=0.05)
    else:  # none is in flight once they stopped: the second purge does not wait for them
        read_models.stop()

    deadline = time.monotonic() + 10
    while _birth_months(tmp_path, household) != [ERASED]:
        assert time.monotonic() < deadline, "the views kept what a late batch wrote"
        time.sleep(0.05)
