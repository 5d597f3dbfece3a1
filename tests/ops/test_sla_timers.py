"""SLA timers across Danish holidays, in the handoff status and on the dashboard endpoint: acknowledgement due
in 3 working days (Easter 2026, Christmas 2026), the follow-up visit 14 days after the move, the daycare
guarantee date. Time is an input (the node's clock), so the same history gives the same answer on replay."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from adapters.settings import Store
from adapters.sql.view_stores import SQLiteViewStore
from coordination.domain.calendar import COPENHAGEN
from coordination.domain.referral import ReferralKind
from ops.demo.api import ServedNodes, demo_api_nodes, demo_tokens, mounted_app
from ops.demo.nodes import demo_nodes
from ops.demo.reference_family import the_move
from ops.demo.reference_scenario import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, Nodes, consultant, the_family
from ops.node.read_models import ReadModels

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), COPENHAGEN)


class Story:
    def __init__(self, nodes: Nodes, served: ServedNodes, client: Any, token: str) -> None:
        self.nodes, self.served, self.client, self.token = nodes, served, client, token

    def household(self, registered: datetime) -> UUID:
        family = the_family() | {"case_reference": f"CIV-SLA-{uuid4().hex[:6]}"}
        # Registered earlier than the reference story: its consents are given that day, not after it.
        given = [c.model_copy(update={"given_on": registered.date()}) for c in family["consents"]]  # type: ignore[attr-defined]
        family["consents"] = given
        return self.nodes.civica.register_household(
            command_id=uuid4(), **family, at=registered, by=consultant
        )  # type: ignore[arg-type]

    def refer(
        self,
        household: UUID,
        kind: ReferralKind,
        sent: datetime,
        receiver: str = BRIDGE_BUILDER,
        **details: Any,
    ) -> UUID:
        referral = self.nodes.civica.refer_household(
            command_id=uuid4(),
            household_id=household,
            receiver=receiver,
            kind=kind,
            at=sent,
            by=consultant,
            **details,
        )
        self.nodes.sync()
        return referral

    def move(self, household: UUID, moved_on: date) -> None:
        move = the_move().model_copy(update={"moved_on": moved_on})
        self.nodes.civica.record_move(
            command_id=uuid4(),
            household_id=household,
            move=move,
            hand_off_to=BRIDGE_BUILDER,
            at=at(moved_on, 16),
            by=consultant,
        )
        self.nodes.sync()

    def status(self, household: UUID, now: datetime) -> Any:
        return self.served.api["civica"].queries().handoffs.for_household(household, now)

    def dashboard(self, now: datetime, **period: str) -> dict[str, Any]:
        self.served.api["civica"].clock = lambda: now
        response = self.client.get(
            "/orgs/civica/operations/dashboard",
            params=period,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def story(tmp_path: Path) -> Iterator[Story]:
    nodes = demo_nodes(tmp_path, Store.MEMORY)
    served = demo_api_nodes(nodes, tmp_path, Store.MEMORY)
    try:
        yield Story(
            nodes, served, TestClient(mounted_app(served, tmp_path)), demo_tokens(tmp_path)["CIVICA_OPERATOR"]
        )
    finally:
        served.close()
        nodes.close()


def test_an_acknowledgement_due_across_easter_2026_is_overdue_only_after_the_third_working_day(
    story: Story,
) -> None:
    household = story.household(at(date(2026, 3, 30)))
    # Wednesday 1 April: Maundy Thursday, Good Friday, the weekend and Easter Monday are not working days.
    referral = story.refer(household, ReferralKind.BRIDGE_BUILDING, at(date(2026, 4, 1)))
    before, after = at(date(2026, 4, 9), 9, 59), at(date(2026, 4, 9), 10, 1)
    [owed] = story.status(household, before).open_referrals
    assert owed.referral_id == referral
    assert owed.acknowledge_by == at(date(2026, 4, 9))  # Tue 7, Wed 8, Thu 9 April
    assert not owed.acknowledgement_overdue
    assert story.status(household, after).open_referrals[0].acknowledgement_overdue
    april = {"from": "2026-04-01", "to": "2026-04-30"}
    assert story.dashboard(before, **april)["overdue"]["acknowledgements_overdue"] == 0
    late = story.dashboard(after, **april)["overdue"]
    assert late["acknowledgements_overdue"] == 1
    assert late["by_receiver"] == {BRIDGE_BUILDER: 1}


def test_an_acknowledgement_due_across_christmas_2026_skips_the_holidays_and_the_weekend(
    story: Story,
) -> None:
    household = story.household(at(date(2026, 12, 1)))
    # Wednesday 23 December: offices close on the 24th, the 25th and 26th are holidays, then a weekend.
    story.refer(household, ReferralKind.BRIDGE_BUILDING, at(date(2026, 12, 23)))
    [owed] = story.status(household, at(date(2026, 12, 28))).open_referrals
    assert owed.acknowledge_by == at(date(2026, 12, 30))  # Mon 28, Tue 29, Wed 30 December
    december = {"from": "2026-12-01", "to": "2026-12-31"}
    assert story.dashboard(at(date(2026, 12, 30), 9), **december)["overdue"]["acknowledgements_overdue"] == 0
    assert story.dashboard(at(date(2026, 12, 30), 11), **december)["overdue"]["acknowledgements_overdue"] == 1


def test_a_follow_up_visit_is_due_14_days_after_a_move_over_christmas_and_overdue_the_day_after(
    story: Story,
) -> None:
    household = story.household(at(date(2026, 11, 2)))
    story.move(household, date(2026, 12, 20))
    due = story.status(household, at(date(2027, 1, 3), 23))
    assert due.follow_up_due == date(2027, 1, 3)
    assert not due.follow_up_overdue
    assert story.status(household, at(date(2027, 1, 4), 8)).follow_up_overdue
    december = {"from": "2026-12-01", "to": "2026-12-31"}
    assert story.dashboard(at(date(2027, 1, 3), 23), **december)["overdue"]["follow_ups_overdue"] == 0
    assert story.dashboard(at(date(2027, 1, 4), 8), **december)["overdue"]["follow_ups_overdue"] == 1


def test_the_daycare_guarantee_date_and_overdue_are_the_same_after_a_replay_of_the_views(
    story: Story,
) -> None:
    household = story.household(at(date(2026, 12, 1)))
    story.move(household, date(2026, 12, 18))
    story.refer(
        household,
        ReferralKind.DAYCARE_FAST_TRACK,
        at(date(2026, 12, 23)),
        receiver=CHILDREN_AND_YOUTH,
        child_id="C4",
        needed_from=date(2027, 1, 4),
    )
    now = at(date(2027, 3, 24))
    live = story.served.api["civica"].queries()
    [child] = live.daycare.queue(now)
    assert child.guarantee_date == date(2027, 3, 23)  # three months after the application (pasningsgaranti)
    assert child.overdue
    assert (
        story.dashboard(now, **{"from": "2026-12-01", "to": "2026-12-31"})["daycare"]["past_guarantee"] == 1
    )
    replayed = ReadModels(story.nodes.civica, SQLiteViewStore(":memory:"), suffix="replayed")
    replayed.catch_up()
    assert replayed.daycare.queue(now) == live.daycare.queue(now)
    assert replayed.handoffs.for_household(household, now) == live.handoffs.for_household(household, now)
