"""As of any moment: the reference scenario replayed from history equals what every read model said then.

At each chapter of the story the live handoff-status read models of CIVICA and the bridge builder are
asked who holds the family and what is open; after the whole story has been played, the same question
is answered again from history as of that chapter's moment, and must give the same answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from uuid import UUID

import pytest

from adapters.eventstore.audit_chain import verify
from adapters.eventstore.storage import ShreddingStorage
from adapters.exchange.inprocess import InProcessBroker
from adapters.settings import NodeSettings
from adapters.sql.view_stores import SQLiteViewStore
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp, CivilActorApp, MunicipalDepartmentApp
from coordination.audit.as_of import Clock, aggregate_as_of, household_status_as_of, version_as_of
from coordination.domain.errors import NotFound
from coordination.domain.household import Household
from coordination.domain.referral import Referral
from coordination.projections.household_status import HouseholdStatus
from ops.demo.nodes import DEMO_ROLES, on_exchange
from ops.demo.reference_scenario import (
    BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH,
    CIVICA,
    KVINFO,
    Nodes,
    ScenarioIds,
    on,
    play,
)
from ops.node.read_models import ReadModels

# Each chapter's moment: after everything the chapter recorded, before anything the next one does.
MOMENTS = {
    "referred to the bridge builder": on(date(2026, 6, 10), 12),
    "offer made": on(date(2026, 6, 16), 12),
    "daycare and school referred": on(date(2026, 6, 22), 12),
    "moved, handoff pending": on(date(2026, 7, 15), 18),
    "handoff acknowledged": on(date(2026, 7, 16), 12),
    "support linked": on(date(2026, 8, 24), 13),
    "settled": on(date(2026, 11, 22)),
}


@pytest.fixture(params=["memory", "sqlite"])
def nodes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Nodes]:
    def env(org: str) -> dict[str, str]:
        if request.param == "memory":
            return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / f"{org}.db")}

    built = Nodes(
        civica=HousingOrganisationApp(
            storage=ShreddingStorage(), organisation=CIVICA, env=env(CIVICA), cpr_secret=b"s" * 32
        ),
        bridge_builder=BridgeBuilderApp(
            storage=ShreddingStorage(), organisation=BRIDGE_BUILDER, env=env(BRIDGE_BUILDER)
        ),
        children_and_youth=MunicipalDepartmentApp(
            storage=ShreddingStorage(), organisation=CHILDREN_AND_YOUTH, env=env(CHILDREN_AND_YOUTH)
        ),
        kvinfo=CivilActorApp(storage=ShreddingStorage(), organisation=KVINFO, env=env(KVINFO)),
    )
    settings = {org: NodeSettings(organisation=org, role=role) for org, role in DEMO_ROLES.items()}
    on_exchange(built, settings, InProcessBroker())
    yield built
    built.close()


class LiveAnswers:
    """At each chapter, what the live read models of CIVICA and the bridge builder said at its moment."""

    def __init__(self, nodes: Nodes) -> None:
        self.models = {
            node.organisation: ReadModels(node, SQLiteViewStore(":memory:"))
            for node in (nodes.civica, nodes.bridge_builder)
        }
        self.household: UUID | None = None
        self.said: dict[tuple[str, str], HouseholdStatus] = {}

    def __call__(self, chapter: str, nodes: Nodes, ids: ScenarioIds | None) -> None:
        self.household = self.household or _the_household(nodes.civica)
        for organisation, models in self.models.items():
            models.catch_up()
            said = models.handoffs.for_household(self.household, MOMENTS[chapter])
            self.said[(chapter, organisation)] = said


def _the_household(civica: HousingOrganisationApp) -> UUID:
    [household] = {
        n.originator_id
        for n in civica.recorder.select_notifications(start=1, limit=1000)
        if n.topic.endswith("Household.Registered")
    }
    return household


def test_the_handoff_status_as_of_each_chapter_is_what_the_read_models_said_then(nodes: Nodes) -> None:
    live = LiveAnswers(nodes)
    ids = play(nodes, live)
    assert len(live.said) == 2 * len(MOMENTS)
    for (chapter, organisation), said in live.said.items():
        node = nodes.civica if organisation == CIVICA else nodes.bridge_builder
        replayed = household_status_as_of(node, ids.household, MOMENTS[chapter])
        assert replayed == said, f"{organisation} as of {chapter}"


def test_holder_and_open_referrals_at_chosen_moments_are_what_was_true_then(nodes: Nodes) -> None:
    ids = play(nodes)

    def status(moment: datetime) -> HouseholdStatus:
        return household_status_as_of(nodes.civica, ids.household, moment)

    june = status(MOMENTS["referred to the bridge builder"])
    assert june.holder is not None
    assert june.holder.organisation == CIVICA
    [bridge] = june.open_referrals
    assert (bridge.referral_id, bridge.status) == (ids.bridge_referral, "sent")
    assert not bridge.acknowledgement_overdue
    # Acknowledged on the 11th: a moment before that sees it sent, one after sees it acknowledged.
    assert status(on(date(2026, 6, 11), 9)).open_referrals[0].status == "sent"
    assert status(on(date(2026, 6, 11), 11)).open_referrals[0].status == "acknowledged"

    referred = status(MOMENTS["daycare and school referred"])
    assert {r.referral_id: r.status for r in referred.open_referrals} == {
        ids.bridge_referral: "accepted",
        ids.daycare_referral: "sent",
        ids.school_referral: "sent",
    }

    pending = status(MOMENTS["moved, handoff pending"])
    assert pending.holder is not None
    assert pending.holder.organisation == CIVICA
    assert pending.pending_handoff is not None
    assert pending.pending_handoff.to.organisation == BRIDGE_BUILDER
    assert {r.referral_id for r in pending.open_referrals} == {ids.bridge_referral, ids.handoff_referral}

    held = status(MOMENTS["handoff acknowledged"])
    assert held.holder is not None
    assert held.holder.organisation == BRIDGE_BUILDER
    assert held.pending_handoff is None
    # The new holder's acknowledgement completed the handoff: only the bridge referral is open.
    assert [r.referral_id for r in held.open_referrals] == [ids.bridge_referral]
    assert held.follow_up_due == date(2026, 7, 29)
    assert not held.follow_up_done

    # No follow-up visit was recorded by 29 July had the bridge builder not reported it on the 24th.
    assert status(on(date(2026, 7, 23))).follow_up_done is False
    assert status(on(date(2026, 7, 24), 16)).follow_up_done is True

    settled = status(MOMENTS["settled"])
    # Every loop closed: the handoff when it was acknowledged, the bridge referral before settling.
    assert settled.open_referrals == []
    assert settled.holder is not None
    assert settled.holder.organisation == BRIDGE_BUILDER


def test_any_aggregate_as_of_a_moment_or_a_version(nodes: Nodes) -> None:
    ids = play(nodes)
    before_move = aggregate_as_of(nodes.civica, ids.household, moment=on(date(2026, 7, 15), 12))
    assert isinstance(before_move, Household)
    assert before_move.move is None
    assert before_move.live_offer is None
    assert [o.status for o in before_move.offers] == ["accepted"]
    first = aggregate_as_of(nodes.civica, ids.household, version=1)
    assert isinstance(first, Household)
    assert first.version == 1
    assert first.first_contact_at is None
    copy = aggregate_as_of(nodes.children_and_youth, ids.daycare_referral, moment=on(date(2026, 6, 23), 12))
    assert isinstance(copy, Referral)
    assert copy.status == "acknowledged"
    with pytest.raises(NotFound, match="did not exist yet"):
        aggregate_as_of(nodes.civica, ids.handoff_referral, moment=on(date(2026, 7, 1)))
    with pytest.raises(NotFound, match="no version 999"):
        aggregate_as_of(nodes.civica, ids.household, version=999)


def test_the_recorded_clock_answers_what_the_node_knew_rather_than_what_was_true(nodes: Nodes) -> None:
    ids = play(nodes)
    events = list(nodes.civica.repository.event_store.get(ids.household))
    # Business times lie in 2026; the store recorded every event today, so by its clock all are "now".
    assert version_as_of(events, on(date(2026, 6, 1))) is None
    assert version_as_of(events, on(date(2026, 6, 2), 10)) == 1
    latest = events[-1].originator_version
    assert version_as_of(events, datetime.now().astimezone(), Clock.RECORDED) == latest


def test_every_node_seals_its_store_as_it_runs_and_each_chain_verifies(nodes: Nodes) -> None:
    play(nodes)
    assert nodes.exchange is not None
    for node in nodes.exchange.nodes:  # type: ignore[attr-defined]
        sealer = node.sealer.sealer
        assert sealer.unsealed() == 0
        verdict = verify(node.app, node.db)
        assert verdict.ok, f"{node.organisation}: {verdict}"
        assert verdict.sealed == node.app.recorder.max_notification_id()
