"""The waterbed guard at the housing node: offers into warned areas need overrides, recorded in the store."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from adapters.area_indicators import load_area_indicators
from adapters.settings import NodeSettings, Store
from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.errors import OverrideRequired
from coordination.domain.household import Household
from coordination.domain.values import Actor, Dwelling, Override, Place
from coordination.domain.waterbed import (
    INFLOW,
    LISTED_AREA,
    NEAR_THRESHOLD,
    TRANSFORMATION_AREA,
    WaterbedPolicy,
)
from ops.demo.nodes import housing_node
from tests.application.builders import (
    CIVICA,
    CONSULTANT,
    ODENSE_C,
    T0,
    at,
    cmd,
    dwelling,
    register_family,
    stored_events,
    the_move,
)

EXAMPLE = Path(__file__).parents[2] / "ops" / "areas" / "odense.csv"
ODENSE_AREAS = load_area_indicators(EXAMPLE)
BOLBRO = Place(municipality="Odense", area="Bolbro")  # near the vulnerable-area thresholds in the example
VOLLSMOSE = Place(municipality="Odense", area="Vollsmose")  # a transformation area in the example
REASON = "Only dwelling with five rooms before the demolition; the children keep their school"


@pytest.fixture
def guarded(open_node: Any) -> HousingOrganisationApp:
    app: HousingOrganisationApp = open_node(HousingOrganisationApp, CIVICA, area_indicators=ODENSE_AREAS)
    return app


def override(rule: str, reason: str = REASON) -> Override:
    return Override(rule=rule, reason=reason, by=CONSULTANT)


def publish_in(app: HousingOrganisationApp, place: Place) -> UUID:
    home: Dwelling = dwelling().model_copy(update={"place": place})
    return app.publish_vacancy(command_id=cmd(), dwelling=home, at=T0, by=CONSULTANT)


def offer(app: HousingOrganisationApp, household_id: UUID, vacancy_id: UUID, *overrides: Override) -> UUID:
    return app.make_offer(
        command_id=cmd(),
        household_id=household_id,
        vacancy_id=vacancy_id,
        overrides=list(overrides),
        at=at(1),
        by=CONSULTANT,
    )


def test_an_offer_into_a_near_threshold_area_is_refused_without_an_override_and_nothing_is_stored(
    guarded: HousingOrganisationApp,
) -> None:
    household_id, vacancy_id = register_family(guarded), publish_in(guarded, BOLBRO)

    with pytest.raises(OverrideRequired) as refused:
        offer(guarded, household_id, vacancy_id)

    assert refused.value.rule == NEAR_THRESHOLD
    assert "Bolbro (Odense)" in refused.value.message
    assert "outside work or education 37.1 % (above 40 %)" in refused.value.message
    assert guarded.household(household_id, today=date(2026, 6, 2)).offers == []
    assert guarded.vacancy(vacancy_id).status == "open"
    assert [type(e).__name__ for e in stored_events(guarded, household_id)] == ["Registered"]


def test_an_overridden_offer_records_the_warning_and_the_reason_in_the_stored_event(
    guarded: HousingOrganisationApp,
) -> None:
    household_id, vacancy_id = register_family(guarded), publish_in(guarded, BOLBRO)

    offer_id = offer(guarded, household_id, vacancy_id, override(NEAR_THRESHOLD))

    received = stored_events(guarded, household_id)[-1]
    assert isinstance(received, Household.OfferReceived)
    assert received.offer_id == offer_id
    assert [w.rule for w in received.warnings] == [NEAR_THRESHOLD]
    assert received.overrides == [override(NEAR_THRESHOLD)]
    topic = get_topic(Household.OfferReceived)
    (raw,) = [s for s in guarded.recorder.select_events(household_id) if s.topic == topic]
    state = json.loads(raw.state)
    assert state["class_version"] == 2
    # The override's reason is the household's matter: under its own key; the rule overridden stays readable.
    assert REASON not in raw.state.decode()
    assert NEAR_THRESHOLD in raw.state.decode()
    assert guarded.vacancy(vacancy_id).status == "reserved"
    live = guarded.household(household_id, today=date(2026, 6, 2)).live_offer
    assert live is not None
    assert [w.rule for w in live.warnings] == [NEAR_THRESHOLD]
    assert "OfferReceived" in [entry.event for entry in guarded.history(household_id)]


def test_a_transformation_area_receiver_needs_an_override_for_each_warning(
    guarded: HousingOrganisationApp,
) -> None:
    household_id, vacancy_id = register_family(guarded), publish_in(guarded, VOLLSMOSE)

    with pytest.raises(OverrideRequired) as refused:
        offer(guarded, household_id, vacancy_id, override(TRANSFORMATION_AREA))
    offer(guarded, household_id, vacancy_id, override(TRANSFORMATION_AREA), override(LISTED_AREA))

    assert refused.value.rule == LISTED_AREA
    assert "parallel society" in refused.value.message
    received = stored_events(guarded, household_id)[-1]
    assert [w.rule for w in received.warnings] == [TRANSFORMATION_AREA, LISTED_AREA]
    assert [o.rule for o in received.overrides] == [TRANSFORMATION_AREA, LISTED_AREA]
    assert guarded.area_status(VOLLSMOSE) == "transformation area"


def test_an_ok_area_needs_no_override_and_an_unknown_area_is_unmonitored(
    guarded: HousingOrganisationApp,
) -> None:
    household_id, vacancy_id = register_family(guarded), publish_in(guarded, ODENSE_C)

    offer(guarded, household_id, vacancy_id)

    assert stored_events(guarded, household_id)[-1].warnings == []
    assert guarded.area_status(ODENSE_C) == "ok"
    assert guarded.area_status(Place(municipality="Aarhus", area="Gellerup")) == "unmonitored"


def _moved(app: HousingOrganisationApp, place: Place, moved_on: date, *, permanent: bool = True) -> UUID:
    household_id = register_family(app, case_reference=f"CIVICA-{uuid4().hex[:8]}")
    move = the_move().model_copy(update={"place": place, "moved_on": moved_on, "permanent": permanent})
    app.record_move(command_id=cmd(), household_id=household_id, move=move, at=T0, by=CONSULTANT)
    return household_id


def test_the_inflow_is_counted_from_the_nodes_own_moves_within_the_window(open_node: Any) -> None:
    housing: HousingOrganisationApp = open_node(
        HousingOrganisationApp, CIVICA, waterbed_policy=WaterbedPolicy(inflow_limit=2)
    )
    _moved(housing, ODENSE_C, date(2025, 6, 1))  # before the window that starts 2025-06-02
    _moved(housing, BOLBRO, date(2026, 3, 1))
    twice = _moved(housing, Place(municipality="odense", area="ODENSE C"), date(2026, 1, 10), permanent=False)
    housing.record_move(
        command_id=cmd(),
        household_id=twice,
        at=T0,
        by=CONSULTANT,
        move=the_move().model_copy(update={"moved_on": date(2026, 2, 1)}),
    )
    household_id, vacancy_id = register_family(housing), publish_in(housing, ODENSE_C)

    assert housing.area_warnings(ODENSE_C, at=at(1)) == []
    _moved(housing, ODENSE_C, date(2025, 6, 2))
    with pytest.raises(OverrideRequired) as refused:
        offer(housing, household_id, vacancy_id)
    offer(housing, household_id, vacancy_id, override(INFLOW))

    assert refused.value.rule == INFLOW
    assert "received 2 rehoused households in the last 12 months" in refused.value.message
    assert [w.rule for w in stored_events(housing, household_id)[-1].warnings] == [INFLOW]


def test_an_inflow_provider_is_asked_about_the_area_from_the_first_day_of_the_window(open_node: Any) -> None:
    asked: list[tuple[Place, date]] = []

    def inflow(place: Place, since: date) -> int:
        asked.append((place, since))
        return 10

    housing: HousingOrganisationApp = open_node(HousingOrganisationApp, CIVICA, inflow=inflow)
    household_id, vacancy_id = register_family(housing), publish_in(housing, ODENSE_C)

    with pytest.raises(OverrideRequired, match="would make 11, above the limit of 10"):
        offer(housing, household_id, vacancy_id)

    assert asked == [(ODENSE_C, date(2025, 6, 2))]


class OfferReceivedV1(Aggregate.Event):
    """Household.OfferReceived as the first version wrote it: before `warnings` existed."""

    offer_id: UUID
    vacancy_id: UUID
    dwelling: Dwelling
    expires_at: datetime
    overrides: list[Override]
    at: datetime
    by: Actor


def test_an_offer_received_by_the_first_version_loads_with_no_warnings(
    guarded: HousingOrganisationApp,
) -> None:
    household_id = register_family(guarded)
    v1 = OfferReceivedV1(
        originator_id=household_id,
        originator_version=2,
        timestamp=OfferReceivedV1.create_timestamp(),
        offer_id=uuid4(),
        vacancy_id=uuid4(),
        dwelling=dwelling(),
        expires_at=at(15),
        overrides=[],
        at=at(1),
        by=CONSULTANT,
    )
    encoded = guarded.mapper.to_stored_event(v1)
    topic = get_topic(Household.OfferReceived)
    guarded.recorder.insert_events(
        [StoredEvent(originator_id=household_id, originator_version=2, topic=topic, state=encoded.state)]
    )

    (stored,) = [s for s in guarded.recorder.select_events(household_id) if s.originator_version == 2]
    assert "warnings" not in json.loads(stored.state)
    loaded = stored_events(guarded, household_id)[-1]
    assert isinstance(loaded, Household.OfferReceived)
    assert loaded.warnings == []
    live = guarded.household(household_id, today=date(2026, 6, 2)).live_offer
    assert live is not None
    assert (live.offer_id, live.warnings) == (v1.offer_id, [])


def test_a_node_configured_with_an_indicators_file_guards_its_offers(tmp_path: Path) -> None:
    plain = NodeSettings(organisation=CIVICA, store=Store.MEMORY, data_dir=tmp_path)
    configured = plain.model_copy(update={"area_indicators_file": EXAMPLE})

    guarded, unguarded = housing_node(configured), housing_node(plain)
    try:
        assert guarded.area_status(BOLBRO) == "near threshold"
        assert unguarded.area_status(BOLBRO) == "unmonitored"
    finally:
        guarded.close()
        unguarded.close()
