"""Erasure at a node: the command, its notice to the organisations it was referred to, retention."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp
from coordination.domain.errors import HouseholdErased, NotPermitted
from coordination.domain.household import Household
from coordination.domain.personal_fields import ERASED
from coordination.domain.referral import ReferralKind
from coordination.domain.values import Actor, Role
from coordination.integration.erasure import HouseholdErasureNotice
from coordination.integration.outbound import Outbound
from coordination.integration.topics import Topics
from tests.application.builders import (
    BRIDGE,
    BRIDGE_BUILDER,
    CASE_REFERENCE,
    CONSULTANT,
    T0,
    at,
    cmd,
    register_family,
)
from tests.application.test_referral_desk import _received_at

# Receivers keep keys in the node's own database: on PostgreSQL the application tests share one schema.
pytestmark = pytest.mark.parametrize("store_env", ["memory", "sqlite"], indirect=True)
GROUND = "GDPR art. 17(1)(a): the household asked"


def _referred(housing: HousingOrganisationApp, bridge: BridgeBuilderApp) -> tuple[UUID, UUID]:
    household_id = register_family(housing)
    referral_id = housing.refer_household(
        command_id=cmd(),
        household_id=household_id,
        receiver=BRIDGE,
        kind=ReferralKind.BRIDGE_BUILDING,
        at=at(1),
        by=CONSULTANT,
    )
    _received_at(bridge, housing, referral_id)
    bridge.acknowledge_referral(command_id=cmd(), referral_id=referral_id, at=at(2), by=BRIDGE_BUILDER)
    bridge.accept_referral(
        command_id=cmd(), referral_id=referral_id, assignee="bb-named-person", at=at(2), by=BRIDGE_BUILDER
    )
    return household_id, referral_id


def test_erasing_a_household_records_it_and_its_personal_data_then_reads_as_erased(
    housing: HousingOrganisationApp,
) -> None:
    household_id = register_family(housing)

    housing.erase_household(
        command_id=cmd(), household_id=household_id, legal_ground=GROUND, at=at(5), by=CONSULTANT
    )

    stored = list(housing.events.get(household_id))
    assert isinstance(stored[-1], Household.Erased)
    assert stored[-1].legal_ground == GROUND
    view = housing.household(household_id, today=at(6).date())
    assert view.case_reference == ERASED
    assert CASE_REFERENCE not in str(view)
    with pytest.raises(HouseholdErased, match="erased"):
        housing.erase_household(
            command_id=cmd(), household_id=household_id, legal_ground=GROUND, at=at(6), by=CONSULTANT
        )


def test_only_the_owner_may_erase_a_household(housing: HousingOrganisationApp) -> None:
    household_id = register_family(housing)
    stranger = Actor(organisation="fab", person="fab-1", role=Role.REHOUSING_CONSULTANT)
    with pytest.raises(NotPermitted, match="civica"):
        housing.erase_household(
            command_id=cmd(), household_id=household_id, legal_ground=GROUND, at=at(5), by=stranger
        )


def test_the_erasure_is_published_to_each_receiver_which_then_forgets_the_household(
    housing: HousingOrganisationApp, bridge: BridgeBuilderApp
) -> None:
    household_id, referral_id = _referred(housing, bridge)
    erased_id = housing.erase_household(
        command_id=cmd(), household_id=household_id, legal_ground=GROUND, at=at(5), by=CONSULTANT
    )
    erased = list(housing.events.get(erased_id))[-1]

    (message,) = Outbound(housing, Topics())(erased)
    assert isinstance(message.event, HouseholdErasureNotice)
    assert message.topic == Topics().referrals(BRIDGE)
    assert set(message.event.model_dump(exclude={"sealed"})) == {"household_id", "at", "by"}
    assert message.event.sealed is None  # nothing personal to seal: the household id only

    assert bridge.referral(referral_id).assignee == "bb-named-person"
    notice = cmd()
    bridge.forget_household(command_id=notice, household_id=household_id, at=at(5), by=CONSULTANT)
    bridge.forget_household(
        command_id=notice, household_id=household_id, at=at(5), by=CONSULTANT
    )  # redelivered
    assert bridge.referral(referral_id).assignee == ERASED
    assert bridge.referral(referral_id).status == "accepted"


def test_a_notice_from_an_organisation_that_referred_nothing_here_is_refused(
    housing: HousingOrganisationApp, bridge: BridgeBuilderApp
) -> None:
    household_id, referral_id = _referred(housing, bridge)
    stranger = Actor(organisation="fab", person="fab-1", role=Role.REHOUSING_CONSULTANT)
    with pytest.raises(NotPermitted, match="fab referred no household"):
        bridge.forget_household(command_id=cmd(), household_id=household_id, at=at(5), by=stranger)
    assert bridge.referral(referral_id).assignee == "bb-named-person"


def test_the_retention_timer_proposes_erasure_once_the_period_has_passed(
    housing: HousingOrganisationApp,
) -> None:
    household_id = register_family(housing)
    months = housing.policy.retention_months

    assert housing.propose_erasures(now=T0 + timedelta(days=30 * months - 40)) == []
    later = T0 + timedelta(days=31 * months + 40)
    assert housing.propose_erasures(now=later) == [household_id]
    assert housing.propose_erasures(now=later) == []  # proposed once; a caseworker confirms it
    stored = list(housing.events.get(household_id))[-1]
    assert isinstance(stored, Household.ErasureProposed)


def test_snapshots_of_an_erased_household_are_deleted_and_it_loads_from_its_events(
    housing: HousingOrganisationApp,
) -> None:
    household_id = register_family(housing)
    housing.take_snapshot(household_id)
    assert housing.snapshots is not None
    assert list(housing.snapshots.get(household_id))

    housing.erase_household(
        command_id=cmd(), household_id=household_id, legal_ground=GROUND, at=at(5), by=CONSULTANT
    )

    assert list(housing.snapshots.get(household_id)) == []
    assert housing.household(household_id, today=at(6).date()).case_reference == ERASED
