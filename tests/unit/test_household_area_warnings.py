"""A household receives an offer into a waterbed-warned area only under an override, and records both."""

from __future__ import annotations

from uuid import uuid4

import pytest

from coordination.domain.errors import OverrideRequired, RuleViolated
from coordination.domain.household import Household
from coordination.domain.policy import DEFAULT_POLICY
from coordination.domain.values import Override
from coordination.domain.waterbed import INFLOW, NEAR_THRESHOLD, AreaWarning
from ops.bench.fixtures.household_builders import CONSULTANT, at, dwelling, register
from tests.support import new_memory_app

NEAR = AreaWarning(rule=NEAR_THRESHOLD, message="Bolbro (Odense) is within 10 % of the list thresholds")
CROWDED = AreaWarning(rule=INFLOW, message="Bolbro (Odense) received 10 rehoused households")


def override(rule: str, reason: str = "The household's children already go to school in Bolbro") -> Override:
    return Override(rule=rule, reason=reason, by=CONSULTANT)


def receive(household: Household, warnings: list[AreaWarning], overrides: list[Override]) -> None:
    household.receive_offer(
        offer_id=uuid4(),
        vacancy_id=uuid4(),
        dwelling=dwelling(),
        expires_at=at(15),
        overrides=overrides,
        policy=DEFAULT_POLICY,
        at=at(1),
        by=CONSULTANT,
        warnings=warnings,
    )


def test_an_offer_carrying_a_warning_is_refused_without_an_override_naming_the_warning() -> None:
    household = register()
    household.collect_events()

    with pytest.raises(OverrideRequired) as refused:
        receive(household, [NEAR], [override(INFLOW)])

    assert refused.value.rule == NEAR_THRESHOLD
    assert "within 10 % of the list thresholds" in refused.value.message
    assert household.collect_events() == []
    assert household.offers == []


def test_an_overridden_warning_is_recorded_with_the_override_and_its_reason() -> None:
    household = register()
    household.collect_events()
    given = [override(NEAR_THRESHOLD), override(INFLOW, "The household chose the area on the tour")]

    receive(household, [NEAR, CROWDED], given)

    (received,) = household.collect_events()
    assert isinstance(received, Household.OfferReceived)
    assert received.warnings == [NEAR, CROWDED]
    assert received.overrides == given
    assert household.offers[0].warnings == [NEAR, CROWDED]
    assert household.offers[0].overrides[1].reason == "The household chose the area on the tour"


def test_an_override_without_a_warning_is_not_recorded() -> None:
    household = register()
    household.collect_events()

    receive(household, [], [override(NEAR_THRESHOLD)])

    (received,) = household.collect_events()
    assert received.warnings == []
    assert received.overrides == []


def test_a_rule_that_cannot_be_overridden_is_checked_before_the_warnings() -> None:
    household = register()
    receive(household, [], [])

    with pytest.raises(RuleViolated, match="already has a live offer"):
        receive(household, [NEAR], [])


def test_warnings_and_overrides_survive_a_reload_from_the_store() -> None:
    household = register()
    receive(household, [NEAR], [override(NEAR_THRESHOLD)])
    app = new_memory_app()
    app.save(household)

    again = app.repository.get(household.id)

    assert vars(again) == vars(household)
    assert again.offers[0].warnings == [NEAR]
    app.close()
