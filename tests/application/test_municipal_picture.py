"""The municipality's picture with in-process nodes: every housing organisation's placements, offers and
referral timings reach every node of the municipality (no household in them), each counted once, and
every node's waterbed guard counts them all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest

from adapters.eventstore.storage import ShreddingStorage
from adapters.exchange.envelope import decode
from adapters.exchange.inprocess import InProcessBroker
from adapters.exchange.key_directory import KeyOwners
from adapters.settings import NodeSettings, OrganisationRole
from adapters.sql.view_stores import SQLiteViewStore
from coordination.applications.base import NodeApplication, derived_id
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp, MunicipalDepartmentApp
from coordination.domain.errors import OverrideRequired
from coordination.domain.municipal_picture import SharedOfferOutcome, SharedPlacement, SharedReferralTiming
from coordination.domain.values import Actor, Consent, DeclinedBy, Place, ReferralKind, Role
from coordination.domain.waterbed import INFLOW, WaterbedPolicy
from coordination.integration import placements as p
from coordination.integration.inbound import Inbound
from coordination.integration.received import AlreadyApplied, ReceivedEvent
from coordination.integration.topics import Topics, org_source
from ops.node.exchange import Exchange, Node
from ops.node.read_models import ReadModels
from tests.application.builders import (
    BRIDGE,
    BRIDGE_BUILDER,
    CIVICA,
    CONSULTANT,
    T0,
    at,
    cmd,
    dwelling,
    register_family,
    the_move,
)

FAB = "fab"
MUNICIPALITY = "odense-kommune"
MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
FAB_CONSULTANT = Actor(organisation=FAB, person="fab-2", role=Role.REHOUSING_CONSULTANT)
CASEWORKER = Actor(organisation=MUNICIPALITY, person="jc-1", role=Role.DEPARTMENT_CASEWORKER)
RISING = Place(municipality="Odense", area="Rising")


def _housing(organisation: str, limit: int) -> HousingOrganisationApp:
    return HousingOrganisationApp(
        storage=ShreddingStorage(),
        organisation=organisation,
        env=MEMORY,
        cpr_secret=organisation.encode() * 8,
        waterbed_policy=WaterbedPolicy(inflow_limit=limit),
    )


@contextmanager
def municipality(
    limit: int = 10, broker: InProcessBroker | None = None
) -> Iterator[tuple[HousingOrganisationApp, HousingOrganisationApp, MunicipalDepartmentApp, Exchange]]:
    civica, fab = _housing(CIVICA, limit), _housing(FAB, limit)
    department = MunicipalDepartmentApp(storage=ShreddingStorage(), organisation=MUNICIPALITY, env=MEMORY)
    bridge = BridgeBuilderApp(
        storage=ShreddingStorage(), organisation=BRIDGE, env=MEMORY
    )  # exchange.nodes[3]
    roles = {
        CIVICA: OrganisationRole.HOUSING_ORGANISATION,
        FAB: OrganisationRole.HOUSING_ORGANISATION,
        MUNICIPALITY: OrganisationRole.MUNICIPAL_DEPARTMENT,
        BRIDGE: OrganisationRole.BRIDGE_BUILDER,
    }
    broker, owners = broker or InProcessBroker(), KeyOwners()
    apps: list[NodeApplication] = [civica, fab, department, bridge]
    exchange = Exchange(
        [
            Node(
                NodeSettings(organisation=app.organisation, role=roles[app.organisation]),
                app,
                broker,
                key_owners=owners,
            )
            for app in apps
        ]
    )
    try:
        yield civica, fab, department, exchange
    finally:
        exchange.close()
        for app in apps:
            app.close()


def placed(app: HousingOrganisationApp, place: Place, moved_on: date, *, by: Actor = CONSULTANT) -> UUID:
    household_id = register_family(app)
    move = the_move().model_copy(update={"place": place, "moved_on": moved_on})
    app.record_move(command_id=cmd(), household_id=household_id, move=move, at=T0, by=by)
    return household_id


def kept(app: NodeApplication, cls: type[Any]) -> list[Any]:
    topic = f"{cls.__module__}:{cls.__qualname__}.Recorded"
    ids = {n.originator_id for n in app.recorder.select_notifications(1, 100_000) if n.topic == topic}
    return [app.repository.get(i) for i in ids]


def test_a_placement_is_kept_at_every_other_node_of_the_municipality_without_the_household() -> None:
    with municipality() as (civica, fab, department, exchange):
        household_id = placed(civica, RISING, date(2026, 3, 14))
        exchange.settle()

        for app in (fab, department):
            [placement] = kept(app, SharedPlacement)
            assert (placement.reported_by, placement.place, str(placement.month)) == (
                CIVICA,
                RISING,
                "2026-03",
            )
            assert placement.permanent and placement.from_area == "Vollsmose"
            assert (placement.old_rent.dkk, placement.new_rent.dkk) == (6400, 7800)
        assert kept(civica, SharedPlacement) == []  # its own move is in its own history
        stored = list(fab.recorder.select_notifications(1, 100_000))
        assert all(str(household_id) not in n.state.decode(errors="replace") for n in stored)
        assert all(n.originator_id != household_id for n in stored)


def test_the_guard_warns_fab_when_civica_and_fab_together_cross_the_limit_where_fab_alone_would_not() -> None:
    with municipality(limit=3) as (civica, fab, _, exchange):
        placed(civica, RISING, date(2026, 2, 1))
        placed(civica, RISING, date(2026, 3, 1))
        placed(fab, RISING, date(2026, 4, 1), by=FAB_CONSULTANT)
        household_id = register_family(fab)
        home = dwelling().model_copy(update={"place": RISING})
        vacancy_id = fab.publish_vacancy(command_id=cmd(), dwelling=home, at=T0, by=FAB_CONSULTANT)
        assert fab.area_warnings(RISING, at=at(1)) == []  # before CIVICA's placements arrive: 1 + 1 of 3
        exchange.settle()

        with pytest.raises(OverrideRequired) as refused:
            fab.make_offer(
                command_id=cmd(),
                household_id=household_id,
                vacancy_id=vacancy_id,
                at=at(1),
                by=FAB_CONSULTANT,
            )
        assert refused.value.rule == INFLOW
        assert "received 3 rehoused households" in refused.value.message
        assert [w.rule for w in civica.area_warnings(RISING, at=at(1))] == [INFLOW]


def test_placements_outside_the_window_are_not_counted_and_the_windows_first_month_is() -> None:
    with municipality(limit=2) as (civica, fab, _, exchange):
        placed(civica, RISING, date(2025, 5, 31))  # the window from at(1) starts 2025-06-02
        placed(civica, RISING, date(2025, 6, 1))  # in the window's first month: counted
        exchange.settle()

        assert fab.area_warnings(RISING, at=at(1)) == []
        placed(civica, RISING, date(2026, 1, 1))
        exchange.settle()
        assert [w.rule for w in fab.area_warnings(RISING, at=at(1))] == [INFLOW]


def test_the_pool_and_the_receiving_area_monitor_count_every_organisations_placements_once() -> None:
    with municipality() as (civica, fab, department, exchange):
        placed(civica, RISING, date(2026, 3, 1))
        placed(civica, RISING, date(2026, 4, 1))
        placed(fab, RISING, date(2026, 4, 1), by=FAB_CONSULTANT)
        home = dwelling().model_copy(update={"place": RISING})
        fab.publish_vacancy(command_id=cmd(), dwelling=home, at=T0, by=FAB_CONSULTANT)
        exchange.settle()
        exchange.settle()  # a second pass delivers nothing new: each placement stays once

        for app, own in ((civica, 2), (fab, 1), (department, 0)):
            models = ReadModels(app, SQLiteViewStore(":memory:"))
            models.catch_up()
            [area] = models.areas.monitor("Odense")
            assert (area.moved_in, area.from_other_organisations) == (3, 3 - own), app.organisation
            assert models.areas.households_moved_in("Odense", "Rising", date(2025, 7, 1)) == 3
            if app is not department:
                [vacancy] = models.pool.search("Odense", today=date(2026, 6, 1))
                assert vacancy.area_inflow == "<5"  # 3, others' among them: a small cell
                assert models.areas.inflows("Odense", date(2025, 7, 1)) == {"rising": 3}


def test_offers_their_answers_and_referral_timings_reach_only_the_municipal_node() -> None:
    with municipality() as (civica, fab, department, exchange):
        bridge = exchange.nodes[3].app
        assert isinstance(bridge, BridgeBuilderApp)
        consents = [
            Consent(recipient=MUNICIPALITY, purpose="jobcentre", given_on=date(2026, 5, 1)),
            Consent(recipient=BRIDGE, purpose="bridge_building", given_on=date(2026, 5, 1)),
        ]
        household_id = register_family(civica, given=consents)
        home = dwelling().model_copy(update={"place": RISING})
        vacancy_id = civica.publish_vacancy(command_id=cmd(), dwelling=home, at=T0, by=CONSULTANT)
        offer_id = civica.make_offer(
            command_id=cmd(), household_id=household_id, vacancy_id=vacancy_id, at=at(1), by=CONSULTANT
        )
        civica.decline_offer(
            command_id=cmd(),
            household_id=household_id,
            offer_id=offer_id,
            declined_by=DeclinedBy.HOUSEHOLD,
            reason="Too far from the grandmother at Vollsmose",
            at=at(2),
            by=CONSULTANT,
        )
        jobcentre, bridging = (
            civica.refer_household(
                command_id=cmd(),
                household_id=household_id,
                receiver=to,
                kind=kind,
                at=at(3),
                by=CONSULTANT,
            )
            for to, kind in (
                (MUNICIPALITY, ReferralKind.JOBCENTRE),
                (BRIDGE, ReferralKind.BRIDGE_BUILDING),
            )
        )
        exchange.settle()
        department.acknowledge_referral(
            command_id=cmd(), referral_id=jobcentre, at=at(3, minutes=90), by=CASEWORKER
        )
        bridge.acknowledge_referral(command_id=cmd(), referral_id=bridging, at=at(4), by=BRIDGE_BUILDER)
        exchange.settle()

        outcomes = sorted((o.outcome, o.declined_by) for o in kept(department, SharedOfferOutcome))
        assert outcomes == [("declined", "household"), ("made", None)]
        told = json.dumps([o.__dict__ for o in kept(department, SharedOfferOutcome)], default=str)
        assert "grandmother" not in told
        [timing] = kept(department, SharedReferralTiming)  # the bridge builder's; its own is its own
        assert (timing.from_org, timing.to_org, timing.kind, timing.milestone, timing.seconds) == (
            CIVICA,
            BRIDGE,
            "bridge_building",
            "acknowledged",
            24 * 3600,
        )
        for app in (civica, fab, bridge):  # only the municipality's own nodes are told these
            assert kept(app, SharedOfferOutcome) == kept(app, SharedReferralTiming) == []

        models = ReadModels(department, SQLiteViewStore(":memory:"))
        models.catch_up()
        own = [x for x in models.handoffs.latencies() if x.to_org == MUNICIPALITY]
        picture = models.picture.picture(
            "Odense",
            "2026-01",
            "2026-12",
            now=at(5),
            indicators=models.area_indicators_of,
            status_of=models.area_status,
            own_latencies=own,
        )
        assert {(x.to_org, x.kind, x.referrals) for x in picture.latency} == {
            (BRIDGE, "bridge_building", "<5"),
            (MUNICIPALITY, "jobcentre", "<5"),
        }
        assert (picture.offers.made, picture.offers.declined, picture.offers.declined_by) == (
            "<5",
            "<5",
            {"household": "<5"},
        )


def _received(event: p.PlacementRecorded, ce_id: str, source: str | None = None) -> ReceivedEvent:
    return ReceivedEvent(
        id=ce_id,
        source=source or org_source(event.reported_by),
        type=event.event_type,
        subject=str(event.fact_id),
        time=T0,
        traceparent=None,
        event=event,
    )


def _fact(reported_by: str = CIVICA, fact_id: UUID | None = None) -> p.PlacementRecorded:
    move = the_move()
    return p.PlacementRecorded(
        fact_id=fact_id or uuid4(),
        reported_by=reported_by,
        place=RISING,
        month={"year": 2026, "month": 3},
        permanent=True,
        from_area="Vollsmose",
        old_rent=move.old_rent,
        new_rent=move.new_rent,
        overrides=[INFLOW],
        at=T0,
    )


def test_a_placement_delivered_again_or_told_again_under_another_message_id_is_kept_once(
    open_node: Any,
) -> None:
    fab: HousingOrganisationApp = open_node(HousingOrganisationApp, FAB)
    inbound = Inbound(fab)
    fact = _fact()
    first = str(uuid4())
    inbound(_received(fact, first))
    with pytest.raises(AlreadyApplied):
        inbound(_received(fact, first))
    inbound(_received(fact, str(uuid4())))

    assert len(kept(fab, SharedPlacement)) == 1
    assert fab.area_warnings(RISING, at=at(1)) == []  # 1 of 10


def test_a_placement_is_refused_from_a_node_that_does_not_speak_for_its_reporter(open_node: Any) -> None:
    from coordination.domain.errors import NotPermitted

    fab: HousingOrganisationApp = open_node(HousingOrganisationApp, FAB)
    fact = _fact(reported_by=CIVICA)
    with pytest.raises(NotPermitted):
        Inbound(fab)(_received(fact, str(uuid4()), org_source("intruder")))
    assert kept(fab, SharedPlacement) == []


def test_every_role_subscribes_to_the_municipalitys_picture() -> None:
    with municipality() as (_, _, _, exchange):
        topic = Topics().placements("Odense")
        assert all(topic in node.subscribed for node in exchange.nodes)


def test_on_the_wire_a_placements_subject_and_key_are_its_own_id_and_nothing_names_the_household() -> None:
    broker = InProcessBroker()
    observer = broker.subscribe([Topics().placements("Odense")], group="observer")
    with municipality(broker=broker) as (civica, _, _, exchange):
        household_id = placed(civica, RISING, date(2026, 3, 14))
        exchange.settle()
        messages = observer.poll(0.0)

    [message] = messages
    received = decode(message)
    assert isinstance(received.event, p.PlacementRecorded)
    assert received.subject == str(received.event.fact_id) == message.key.decode()
    assert str(household_id) not in message.value.decode() + str(message.headers) + message.key.decode()
    assert received.event.fact_id == derived_id("shared-fact", CIVICA, "placement", household_id, 2)


def test_declines_are_counted_per_reason_code_in_the_picture_and_small_counts_are_suppressed() -> None:
    with municipality() as (civica, _, department, exchange):
        codes = ["rent_too_high"] * 5 + ["wrong_area"]
        for n, code in enumerate(codes):
            household_id = register_family(civica, case_reference=f"CIVICA-2026-{n:04d}")
            home = dwelling(street=f"Risingvej {n + 1}").model_copy(update={"place": RISING})
            vacancy_id = civica.publish_vacancy(command_id=cmd(), dwelling=home, at=T0, by=CONSULTANT)
            offer_id = civica.make_offer(
                command_id=cmd(), household_id=household_id, vacancy_id=vacancy_id, at=at(1), by=CONSULTANT
            )
            civica.decline_offer(
                command_id=cmd(),
                household_id=household_id,
                offer_id=offer_id,
                declined_by=DeclinedBy.HOUSEHOLD,
                reason_code=code,
                reason="The household's own words, never shared" if code == "wrong_area" else "",
                at=at(2),
                by=CONSULTANT,
            )
        exchange.settle()

        told = json.dumps([o.__dict__ for o in kept(department, SharedOfferOutcome)], default=str)
        assert "own words" not in told
        models = ReadModels(department, SQLiteViewStore(":memory:"))
        models.catch_up()
        picture = models.picture.picture(
            "Odense",
            "2026-01",
            "2026-12",
            now=at(5),
            indicators=models.area_indicators_of,
            status_of=models.area_status,
            own_latencies=[],
        )
        assert picture.offers.declined == 6
        assert picture.offers.declined_for == {"rent_too_high": 5, "wrong_area": "<5"}
