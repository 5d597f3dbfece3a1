"""The reference scenario (docs/design.md §6) seen through every read model at each chapter, on every backend."""

# The `nodes` fixture is imported from the scenario test, so parameters named after it "redefine" it.
# ruff: noqa: F811

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID

import psycopg
import pytest

from adapters.eventstore.event_decoding import StoredEventDecoder
from adapters.sql.view_stores import PostgresViewStore, SQLiteViewStore
from coordination.projections.daycare_queue import DaycareQueueProjection, QueueStatus
from coordination.projections.rebuild import compare, rebuild
from coordination.projections.vacancy_pool import HouseholdFacts, VacancyPool, VacancyPoolProjection
from ops.demo.reference_scenario import (
    BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH,
    CIVICA,
    Nodes,
    ScenarioIds,
    on,
    play,
)
from ops.node.read_models import READ_MODELS, ReadModels
from tests.e2e.test_reference_scenario import nodes  # noqa: F401


@pytest.fixture
def models(nodes: Nodes, request: pytest.FixtureRequest) -> Iterator[dict[str, ReadModels]]:
    """Each node's read models, on a view store of the node's backend."""
    postgres = "postgres" in type(nodes.civica.recorder).__module__
    stores: list[Any] = []
    schemas: list[str] = []
    built = {}
    for node in nodes.all():
        if postgres:
            schemas.append(f"views_{secrets.token_hex(5)}")
            stores.append(
                PostgresViewStore(request.getfixturevalue("postgres_server").dsn, schema=schemas[-1])
            )
        else:
            stores.append(SQLiteViewStore(":memory:"))
        built[node.organisation] = ReadModels(node, stores[-1], batch_size=5)
    yield built
    for store in stores:
        store.close()
    if schemas:
        with psycopg.connect(request.getfixturevalue("postgres_server").dsn, autocommit=True) as admin:
            for schema in schemas:
                admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _position_of(node: Any, topic_end: str) -> int:
    notifications = node.recorder.select_notifications(start=1, limit=10_000)
    return next(n.id for n in notifications if n.topic.endswith(topic_end))


class ReadModelChecks:
    """What each node's read models must say after each chapter of the story."""

    def __init__(self, models: dict[str, ReadModels]) -> None:
        self.models = models
        self.seen: list[str] = []

    def __call__(self, chapter: str, nodes: Nodes, ids: ScenarioIds | None) -> None:
        for models in self.models.values():
            models.catch_up()
            assert all(state["parked"] == 0 and state["lag"] == 0 for state in models.status().values())
        self.seen.append(chapter)
        getattr(self, chapter.replace(" ", "_").replace(",", ""))(nodes, ids)

    def referred_to_the_bridge_builder(self, nodes: Nodes, ids: ScenarioIds | None) -> None:
        household_id = _household(self.models[CIVICA])
        status = self.models[CIVICA].handoffs.for_household(household_id, on(date(2026, 6, 10), 12))
        assert status.holder is not None
        assert status.holder.organisation == CIVICA
        [owed] = self.models[BRIDGE_BUILDER].handoffs.owed_by(BRIDGE_BUILDER, on(date(2026, 6, 16)))
        assert owed.kind == "bridge_building"
        assert owed.acknowledgement_overdue  # due Monday 15 June, 10:00
        assert self.models[CHILDREN_AND_YOUTH].daycare.queue(on(date(2026, 6, 10))) == []

    def offer_made(self, nodes: Nodes, ids: ScenarioIds | None) -> None:
        civica = self.models[CIVICA]
        assert civica.pool.search("Odense", today=date(2026, 6, 16)) == []
        # As of its publication the vacancy was in the pool: a rebuild up to that event shows it.
        published = _position_of(nodes.civica, "Vacancy.Published")
        before = rebuild(
            nodes.civica,
            VacancyPoolProjection,
            civica.views,
            "as_published",
            up_to=published,
            decoding=StoredEventDecoder(nodes.civica.mapper),
        )
        [vacancy] = VacancyPool(civica.views, "as_published", areas_suffix="live").search(
            "Odense", today=date(2026, 6, 15)
        )
        assert (vacancy.area, vacancy.rooms, vacancy.area_inflow) == ("Odense C", 5, 0)
        # Five rooms for five people needed the size override, so a suitability search leaves it out.
        family = HouseholdFacts(
            municipality="Odense", members=5, previous_rooms=4, preferred_areas=["Odense C"]
        )
        assert (
            VacancyPool(civica.views, "as_published", areas_suffix="live").suitable_for(
                family, today=date(2026, 6, 15)
            )
            == []
        )
        before.view_store.drop_tables(before.projection)

    def daycare_and_school_referred(self, nodes: Nodes, ids: ScenarioIds | None) -> None:
        for organisation in (CHILDREN_AND_YOUTH, CIVICA):
            [child] = self.models[organisation].daycare.queue(on(date(2026, 6, 23)))
            assert (child.member_id, child.birth_month, child.status) == (
                "C4",
                "2022-02",
                QueueStatus.WAITING,
            )
            assert child.needed_from == date(2026, 8, 3)
            assert child.guarantee_date == date(2026, 9, 22)
            assert child.days_waiting == 1
            assert not child.overdue
        assert self.models[CHILDREN_AND_YOUTH].daycare.queue(on(date(2026, 9, 23)))[0].overdue

    def moved_handoff_pending(self, nodes: Nodes, ids: ScenarioIds | None) -> None:
        assert ids is not None
        civica, bb = self.models[CIVICA], self.models[BRIDGE_BUILDER]
        status = civica.handoffs.for_household(ids.household, on(date(2026, 7, 16)))
        assert status.holder is not None
        assert status.holder.organisation == CIVICA
        assert status.pending_handoff is not None
        assert status.pending_handoff.to.organisation == BRIDGE_BUILDER
        owed = {
            r.referral_id: r
            for r in bb.handoffs.owed_by(BRIDGE_BUILDER, on(date(2026, 7, 21)))
            if r.is_handoff
        }
        assert owed[ids.handoff_referral].acknowledgement_overdue  # sent Wed 15 July 16:00, due Mon 20th
        assert not bb.handoffs.owed_by(BRIDGE_BUILDER, on(date(2026, 7, 20)))[-1].acknowledgement_overdue
        # The scenario's department completes the referral without recording a place: it reads completed,
        # not started (a child starts on its place's start date, tests/application/test_reasons_kinds_and_daycare.py).
        assert [c.status for c in self.models[CHILDREN_AND_YOUTH].daycare.queue(on(date(2026, 7, 16)))] == [
            QueueStatus.COMPLETED
        ]
        assert self._daycare_statuses_step_by_step(nodes) == ["waiting", "completed"]

    def _daycare_statuses_step_by_step(self, nodes: Nodes) -> list[str]:
        """The 4-year-old's place in the department's queue after each event of its log, in turn."""
        views = self.models[CHILDREN_AND_YOUTH].views
        stepwise = rebuild(
            nodes.children_and_youth,
            DaycareQueueProjection,
            views,
            "stepwise",
            up_to=0,
            decoding=StoredEventDecoder(nodes.children_and_youth.mapper),
        )
        seen: list[str] = []
        for position in range(1, (nodes.children_and_youth.recorder.max_notification_id() or 0) + 1):
            stepwise.run_until_caught_up(up_to=position)
            queue = ReadModels(nodes.children_and_youth, views, "stepwise").daycare.queue(
                on(date(2026, 7, 16))
            )
            if queue and (not seen or seen[-1] != queue[0].status):
                seen.append(queue[0].status)
        return seen

    def handoff_acknowledged(self, nodes: Nodes, ids: ScenarioIds | None) -> None:
        assert ids is not None
        civica = self.models[CIVICA]
        status = civica.handoffs.for_household(ids.household, on(date(2026, 7, 30)))
        assert status.holder is not None
        assert (status.holder.organisation, status.holder.role) == (BRIDGE_BUILDER, "bridge_builder")
        assert status.pending_handoff is None
        assert status.follow_up_due == date(2026, 7, 29)
        assert status.follow_up_overdue  # had nobody visited by the 30th
        assert not civica.handoffs.for_household(ids.household, on(date(2026, 7, 20))).follow_up_overdue
        assert civica.handoffs.held_by(BRIDGE_BUILDER) == [ids.household]
        latency = {r.kind: r for r in self.models[BRIDGE_BUILDER].handoffs.latencies()}["handoff"]
        assert latency.to_acknowledgement == on(date(2026, 7, 16), 9) - on(date(2026, 7, 15), 16)

    def support_linked(self, nodes: Nodes, ids: ScenarioIds | None) -> None:
        assert ids is not None
        status = self.models[CIVICA].handoffs.for_household(ids.household, on(date(2026, 8, 30)))
        assert (status.follow_up_done, status.follow_up_overdue) == (True, False)
        events = [(e.aggregate, e.event) for e in self.models[BRIDGE_BUILDER].timeline.entries(ids.household)]
        assert events.count(("SupportLink", "Activated")) == 5  # the mentor link is kept at KVINFO's node

    def settled(self, nodes: Nodes, ids: ScenarioIds | None) -> None:
        assert ids is not None
        civica = self.models[CIVICA]
        [area] = civica.areas.monitor("Odense")
        assert (area.area, area.moved_in, area.vulnerable) == ("Odense C", 1, 1)  # financial advice
        assert area.overrides == {"suitable_size": 1}
        assert civica.areas.inflow("Odense", "Odense C", since=date(2026, 1, 1)) == 1
        table = VacancyPoolProjection().table_names["pool_vacancies"]
        [vacancy_row] = civica.views.query(f"SELECT status FROM {table}")
        assert vacancy_row["status"] == "let"


def _household(models: ReadModels) -> Any:
    table = READ_MODELS["handoff_status"]().table_names["hs_households"]
    [row] = models.views.query(f"SELECT household_id FROM {table}")
    return UUID(row["household_id"])


def test_every_read_model_follows_the_reference_family_chapter_by_chapter(
    nodes: Nodes,
    models: dict[str, ReadModels],
) -> None:
    checks = ReadModelChecks(models)
    ids = play(nodes, checkpoint=checks)

    assert len(checks.seen) == 7
    scanned = nodes.civica.history(ids.household)
    # The timeline answers the app's history when the composition root builds the app with it.
    assert models[CIVICA].history(ids.household) == scanned
    for node in nodes.all():
        live = models[node.organisation].runners
        # Each made as the node makes it (the caseload with the node's case-reference key).
        for name, projection in models[node.organisation].projections().items():
            rebuilt = rebuild(
                node,
                projection,
                models[node.organisation].views,
                "rebuild_1",
                decoding=StoredEventDecoder(node.mapper),
            )
            assert compare(live[name], rebuilt) == [], (node.organisation, name)
