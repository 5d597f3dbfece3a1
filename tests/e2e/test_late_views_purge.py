"""An erasure purges a node's views twice while its projections follow the log: at once, and again once they
have passed the log's end as it was at the erasure, so a batch read before the key was erased cannot leave
what it decrypted behind (a child's birth month in the daycare queue)."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from adapters.settings import Store
from coordination.domain.follow_up import FactKind, HouseholdFact
from coordination.domain.personal_fields import ERASED
from coordination.projections.daycare_queue import DaycareQueueProjection
from ops.node import Exchange, Node
from ops.nodes import demo_nodes
from ops.reference_scenario import CHILDREN_AND_YOUTH, CIVICA, consultant, daycare_allocator, on, play

DAYCARE_CHILDREN = DaycareQueueProjection("live").table_names["daycare_children"]


def _node(exchange: Exchange, organisation: str) -> Node:
    return next(node for node in exchange.nodes if node.organisation == organisation)


def _set_birth_months(views: Path, household: UUID, month: str | None = None) -> list[str]:
    """The household's children's birth months in the daycare queue, after setting them to `month`."""
    with closing(sqlite3.connect(views)) as db, db:
        if month is not None:
            db.execute(
                f"UPDATE {DAYCARE_CHILDREN} SET birth_month = ? WHERE household_id = ?",
                (month, str(household)),
            )
        rows = db.execute(
            f"SELECT birth_month FROM {DAYCARE_CHILDREN} WHERE household_id = ?", (str(household),)
        )
        return [str(m) for (m,) in rows]


@pytest.mark.parametrize("then", ["projections catch up", "read models stop"])
def test_a_batch_written_after_the_erasure_is_purged_once_the_projections_pass_it(
    tmp_path: Path, then: str
) -> None:
    nodes = demo_nodes(tmp_path, Store.SQLITE)
    try:
        household = play(nodes).household
        assert isinstance(nodes.exchange, Exchange)
        civica, department = _node(nodes.exchange, CIVICA), _node(nodes.exchange, CHILDREN_AND_YOUTH)
        read_models = department.read_models
        assert read_models is not None
        views = tmp_path / f"{CHILDREN_AND_YOUTH}.views.sqlite3"
        assert _set_birth_months(views, household) == ["2022-02"]
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

        nodes.civica.erase_household(
            command_id=uuid4(),
            household_id=household,
            legal_ground="GDPR art. 17(1)(a)",
            at=on(date(2026, 11, 20)),
            by=consultant,
        )
        civica.relay.run_once()
        deadline = time.monotonic() + 10
        while _set_birth_months(views, household) != [ERASED]:  # the department erased, and purged at once
            assert time.monotonic() < deadline, "the erasure notice was not applied"
            department.consumer.run_once(0.1)
        # What a batch read before the erasure writes as it commits, moving its tracking past the notice.
        _set_birth_months(views, household, "2022-02")
        if then == "projections catch up":
            for runner in read_models.runners.values():
                runner.start(max_sleep=0.05)
        else:  # none is in flight once they stopped: the second purge does not wait for them
            read_models.stop()

        deadline = time.monotonic() + 10
        while _set_birth_months(views, household) != [ERASED]:
            assert time.monotonic() < deadline, "the views kept what a late batch wrote"
            time.sleep(0.05)
    finally:
        nodes.close()
