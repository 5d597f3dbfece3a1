"""After the demo is seeded as `coordination demo` seeds it (the reference family, then the generated
households), every loop that should be closed is: no settled household has an open item, and the
dashboard's overdue figures equal a count made independently from each household's history."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from adapters.settings import Store
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.timers import originators
from coordination.domain.calendar import COPENHAGEN
from coordination.domain.household import Household
from coordination.domain.referral import Referral, ReferralKind, ReferralStatus
from ops.demo.api import ServedNodes, demo_api_nodes, demo_tokens, mounted_app
from ops.demo.nodes import demo_nodes
from ops.demo.reference_scenario import CIVICA, Nodes, play
from ops.demo.run import AREAS_FILE, desks, ensure_seeded, relax_fsync
from ops.logging import configure
from tests.ops.conftest import HOUSEHOLDS

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

# The whole demo history (a period is at most ten years).
PERIOD = {"from": "2020-01-01", "to": "2029-12-01"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Nodes, Any, dict[str, str]]]:
    configure(json=False, level=logging.WARNING)
    data_dir: Path = tmp_path_factory.mktemp("demo-loops")
    nodes = demo_nodes(data_dir, Store.SQLITE, area_indicators_file=AREAS_FILE)
    relax_fsync(nodes)
    served: ServedNodes | None = None
    try:
        play(nodes)
        assert ensure_seeded(nodes, data_dir, households=HOUSEHOLDS) > 0
        served = demo_api_nodes(nodes, data_dir)
        yield nodes, TestClient(mounted_app(served, data_dir)), demo_tokens(data_dir)
    finally:
        if served is not None:
            served.close()
        nodes.close()


def _households(app: HousingOrganisationApp) -> list[Household]:
    found = [app.repository.get(household_id) for household_id in originators(app, Household.Registered)]
    return [household for household in found if isinstance(household, Household)]


def _referrals_in_history(app: HousingOrganisationApp, household_id: UUID) -> list[Referral]:
    ids = {entry.aggregate_id for entry in app.history(household_id) if entry.aggregate == "Referral"}
    found = [app.repository.get(referral_id) for referral_id in sorted(ids, key=str)]
    return [referral for referral in found if isinstance(referral, Referral)]


def test_no_settled_household_of_the_seeded_demo_has_an_open_item(demo: tuple[Nodes, Any, Any]) -> None:
    nodes, _, _ = demo
    settled = 0
    for app in desks(nodes).housing.values():
        for household in _households(app):
            if household.settled_at is None:
                continue
            settled += 1
            picture = app.network_picture(household.id)
            assert picture is not None
            assert picture.open_items() == [], household.case_reference
            still_open = [r.kind for r in _referrals_in_history(app, household.id) if r.status.is_open]
            assert still_open == [], household.case_reference
    assert settled >= 1  # the reference family at least


def test_the_dashboards_overdue_figures_equal_a_count_from_the_households_histories(
    demo: tuple[Nodes, Any, dict[str, str]],
) -> None:
    nodes, client, tokens = demo
    operator = {"Authorization": f"Bearer {tokens['CIVICA_OPERATOR']}"}
    answer = client.get(f"/orgs/{CIVICA}/operations/dashboard", params=PERIOD, headers=operator)
    assert answer.status_code == 200, answer.text
    dashboard = answer.json()
    now = datetime.fromisoformat(dashboard["as_of"])

    app = nodes.civica
    policy = app.policy
    today = now.astimezone(COPENHAGEN).date()
    counted: dict[str, Any] = dict.fromkeys(
        (
            "acknowledgements_overdue",
            "acknowledged_late",
            "completions_overdue",
            "follow_ups_due",
            "follow_ups_overdue",
            "follow_ups_done_late",
        ),
        0,
    )
    by_receiver: dict[str, int] = {}
    overdue_handoffs: list[Referral] = []
    for household in _households(app):
        for referral in _referrals_in_history(app, household.id):
            if referral.acknowledgement_overdue(now):
                counted["acknowledgements_overdue"] += 1
                by_receiver[referral.receiver] = by_receiver.get(referral.receiver, 0) + 1
            if referral.acknowledged_at is not None and referral.acknowledged_at > referral.acknowledge_by:
                counted["acknowledged_late"] += 1
            if referral.overdue(now):  # open (an acknowledged handoff is complete) and past its due date
                counted["completions_overdue"] += 1
                if referral.kind == ReferralKind.HANDOFF:
                    overdue_handoffs.append(referral)
        if household.move is None:
            continue
        moved_on: date = household.move.moved_on
        visited = max(household.follow_up_visits, default=None)
        deadline = policy.follow_up_due(moved_on)
        done = visited is not None and visited >= moved_on
        counted["follow_ups_due"] += 1
        counted["follow_ups_overdue"] += (not done) and today > deadline
        counted["follow_ups_done_late"] += done and visited is not None and visited > deadline
    counted["by_receiver"] = by_receiver

    assert dashboard["overdue"] == counted
    # Worth comparing: the generated history has late and overdue items of each kind.
    assert counted["acknowledgements_overdue"] > 0 and counted["completions_overdue"] > 0
    assert counted["follow_ups_overdue"] > 0
    # Among the completions overdue, no acknowledged handoff (162 of 237 were, before handoffs closed).
    assert all(r.status is ReferralStatus.SENT for r in overdue_handoffs)
