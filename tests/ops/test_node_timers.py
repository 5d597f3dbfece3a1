"""The node's timer loop: runs the application's timers as of its clock, once per interval, and stops."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from pydantic import ValidationError

from adapters.eventstore.storage import ShreddingStorage
from adapters.settings import NodeSettings
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp
from ops.node.timers import NodeTimers, start_timers
from tests.application.builders import BRIDGE, CIVICA, CONSULTANT, at, cmd, publish, register_family

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


@pytest.fixture
def civica() -> Iterator[HousingOrganisationApp]:
    app = HousingOrganisationApp(
        storage=ShreddingStorage(), organisation=CIVICA, env=MEMORY, cpr_secret=b"c" * 32
    )
    yield app
    app.close()


def _offer_expiring_at_day_15(app: HousingOrganisationApp) -> tuple[object, object]:
    household = register_family(app)
    vacancy = publish(app)
    offer = app.make_offer(
        command_id=cmd(),
        household_id=household,
        vacancy_id=vacancy,
        expires_at=at(15),
        at=at(1),
        by=CONSULTANT,
    )
    return household, offer


def test_an_offer_past_its_expiry_is_expired_by_the_timer_once_and_only_once(
    civica: HousingOrganisationApp,
) -> None:
    household, _ = _offer_expiring_at_day_15(civica)
    now = [at(14)]
    timers = NodeTimers(civica, interval_s=3600, clock=lambda: now[0])

    assert timers.run_once()["offers_expired"] == 0
    now[0] = at(15)
    assert timers.run_once() == {
        "offers_expired": 1,
        "referrals_expired": 0,
        "skipped": 0,
        "erasures_proposed": 0,
        "notifications_raised": 0,
        "notifications_escalated": 0,
    }
    assert timers.run_once()["offers_expired"] == 0
    assert civica.household(household, today=at(15).date()).offers[0].status == "expired"


def test_a_node_without_offers_or_households_runs_only_the_timers_it_has() -> None:
    bridge = BridgeBuilderApp(storage=ShreddingStorage(), organisation=BRIDGE, env=MEMORY)
    try:
        done = NodeTimers(bridge, interval_s=3600, clock=lambda: at(400)).run_once()
    finally:
        bridge.close()
    assert "erasures_proposed" not in done
    assert done["referrals_expired"] == 0


def test_the_loop_runs_the_timers_at_start_and_stops_when_asked(civica: HousingOrganisationApp) -> None:
    household, _ = _offer_expiring_at_day_15(civica)
    timers = NodeTimers(civica, interval_s=3600, clock=lambda: at(20))
    timers.start()
    try:
        _wait_until(lambda: timers.runs > 0)
    finally:
        timers.stop(timeout=5)
    assert timers.runs == 1
    assert timers.failures == 0
    assert civica.household(household, today=at(20).date()).offers[0].status == "expired"


def test_a_running_node_starts_its_timers_unless_the_settings_turn_them_off(
    civica: HousingOrganisationApp,
) -> None:
    assert start_timers(NodeSettings(organisation=CIVICA, timers_interval_s=0), civica) is None
    timers = start_timers(NodeSettings(organisation=CIVICA, timers_interval_s=3600), civica)
    assert timers is not None
    try:
        _wait_until(lambda: timers.runs > 0)
        time.sleep(0.1)
    finally:
        timers.stop(timeout=5)
    assert timers.runs == 1  # once at start, and not again within the hour


def test_a_negative_timer_interval_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValidationError, match="timers_interval_s"):
        NodeSettings(organisation=CIVICA, timers_interval_s=-1)


def _wait_until(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
