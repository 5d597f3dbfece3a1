"""Snapshots every 50 events: an aggregate loaded from its snapshot is the one its events replay to."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.application import project_aggregate
from eventsourcing.domain import Aggregate

from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.referral import ReferralKind
from coordination.domain.values import DeclinedBy
from tests.application.builders import (
    BRIDGE,
    BRIDGE_BUILDER,
    CONSULTANT,
    JOBCENTRE,
    at,
    cmd,
    publish,
    register_family,
)


def _state(aggregate: Aggregate) -> dict[str, Any]:
    """Every attribute with its type, because a NamedTuple equals the list it comes back from JSON as...

    ...except that a bare StrEnum attribute comes back as its plain str: those are compared by value,
    as the domain code compares them (never by identity, never through enum methods).
    """
    return {
        name: (value, _type(value)) for name, value in vars(aggregate).items() if name != "_pending_events"
    }


def _type(value: object) -> object:
    if isinstance(value, StrEnum):
        return str
    if isinstance(value, list):
        return [_type(item) for item in value]
    return type(value)


def assert_snapshot_restores_replayed_state(app: HousingOrganisationApp, aggregate_id: UUID) -> None:
    assert app.snapshots is not None
    snapshots = list(app.snapshots.get(aggregate_id))
    assert snapshots, "no snapshot was taken"
    assert snapshots[-1].originator_version % 50 == 0

    from_snapshot = app.repository.get(aggregate_id)
    replayed = project_aggregate(None, app.events.get(aggregate_id))

    assert replayed is not None
    assert _state(from_snapshot) == _state(replayed)


def test_a_referral_with_a_long_history_loads_from_its_snapshot_as_replayed_and_goes_on(
    housing: HousingOrganisationApp,
) -> None:
    referral_id = housing.refer_household(
        command_id=cmd(),
        household_id=register_family(housing),
        receiver=BRIDGE,
        kind=ReferralKind.BRIDGE_BUILDING,
        at=at(1),
        by=CONSULTANT,
    )
    housing.acknowledge_referral(command_id=cmd(), referral_id=referral_id, at=at(2), by=BRIDGE_BUILDER)
    housing.accept_referral(
        command_id=cmd(), referral_id=referral_id, assignee="bb-3", at=at(2), by=BRIDGE_BUILDER
    )
    for day in range(3, 28):
        housing.start_referral(command_id=cmd(), referral_id=referral_id, at=at(day), by=BRIDGE_BUILDER)
        housing.put_referral_on_hold(
            command_id=cmd(),
            referral_id=referral_id,
            reason="family abroad",
            at=at(day, minutes=1),
            by=BRIDGE_BUILDER,
        )

    assert housing.referral(referral_id).version == 53
    assert_snapshot_restores_replayed_state(housing, referral_id)
    housing.start_referral(command_id=cmd(), referral_id=referral_id, at=at(40), by=BRIDGE_BUILDER)
    housing.complete_referral(
        command_id=cmd(), referral_id=referral_id, outcome="bridge holds", at=at(41), by=BRIDGE_BUILDER
    )
    done = housing.referral(referral_id)
    assert (done.status, done.fhir_status, len(done.history)) == ("completed", "completed", 55)


def test_a_household_with_many_facts_loads_from_its_snapshot_as_replayed_and_goes_on(
    housing: HousingOrganisationApp,
) -> None:
    household_id = register_family(housing)
    for day in range(1, 51):
        housing.record_tasks_found(
            command_id=cmd(), household_id=household_id, tasks=[f"task {day}"], at=at(day), by=CONSULTANT
        )

    assert housing.household(household_id, today=at().date()).version == 51
    assert_snapshot_restores_replayed_state(housing, household_id)
    # Sharing reads the household's needs: they must still be needs after a snapshot.
    referral_id = housing.refer_household(
        command_id=cmd(),
        household_id=household_id,
        receiver=JOBCENTRE,
        kind=ReferralKind.JOBCENTRE,
        at=at(60),
        by=CONSULTANT,
    )
    assert housing.referral(referral_id).details.needs == ["interpreter"]


def test_a_vacancy_offered_and_declined_many_times_loads_from_its_snapshot_as_replayed(
    housing: HousingOrganisationApp,
) -> None:
    household_id, vacancy_id = register_family(housing), publish(housing)
    for day in range(1, 26):
        offer_id = housing.make_offer(
            command_id=cmd(), household_id=household_id, vacancy_id=vacancy_id, at=at(day), by=CONSULTANT
        )
        # Declined by the provider, so the household's offer limit is not used up.
        housing.decline_offer(
            command_id=cmd(),
            household_id=household_id,
            offer_id=offer_id,
            declined_by=DeclinedBy.PROVIDER,
            reason="dwelling needs repair first",
            at=at(day, minutes=1),
            by=CONSULTANT,
        )

    assert housing.vacancy(vacancy_id).version == 51
    assert_snapshot_restores_replayed_state(housing, vacancy_id)
    assert_snapshot_restores_replayed_state(housing, household_id)
    offer_id = housing.make_offer(
        command_id=cmd(), household_id=household_id, vacancy_id=vacancy_id, at=at(30), by=CONSULTANT
    )
    housing.accept_offer(
        command_id=cmd(), household_id=household_id, offer_id=offer_id, at=at(31), by=CONSULTANT
    )
    assert housing.vacancy(vacancy_id).status == "let"
