"""Bad input gets a domain error naming the problem and leaves the store unchanged, on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from coordination.applications.base import NodeApplication
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp
from coordination.domain.errors import (
    InvalidInput,
    NotFound,
    ReferralNotOpen,
    VacancyAlreadyOffered,
    VacancyNotAvailable,
)
from coordination.domain.values import Money
from tests.application.builders import (
    BRIDGE,
    BRIDGE_BUILDER,
    CONSULTANT,
    at,
    cmd,
    dwelling,
    local_contact,
    publish,
    register_family,
    the_move,
)


@contextmanager
def store_unchanged(app: NodeApplication) -> Iterator[None]:
    before = app.recorder.max_notification_id()
    yield
    assert app.recorder.max_notification_id() == before


def test_an_unknown_household_is_not_found(housing: HousingOrganisationApp) -> None:
    unknown = cmd()
    with store_unchanged(housing), pytest.raises(NotFound, match=f"No household with id {unknown} at civica"):
        housing.record_first_contact(command_id=cmd(), household_id=unknown, at=at(1), by=CONSULTANT)
    with pytest.raises(NotFound, match="household"):
        housing.household(unknown, today=at().date())


def test_an_id_of_another_kind_of_aggregate_is_not_a_household(housing: HousingOrganisationApp) -> None:
    vacancy_id = publish(housing)
    with store_unchanged(housing), pytest.raises(NotFound, match=f"{vacancy_id} is not a household"):
        housing.record_first_contact(command_id=cmd(), household_id=vacancy_id, at=at(1), by=CONSULTANT)


@pytest.mark.parametrize("cpr", ["320190-1234", "3201901234", "0101901", "010190-12345"])
def test_a_malformed_cpr_number_is_refused_without_repeating_it(
    housing: HousingOrganisationApp, cpr: str
) -> None:
    with store_unchanged(housing), pytest.raises(InvalidInput, match="CPR number is not valid") as refused:
        register_family(housing, cpr=cpr)

    digits = "".join(ch for ch in cpr if ch.isdigit())
    assert digits[:6] not in str(refused.value)
    assert cpr not in repr(refused.value)


def test_a_negative_rent_is_refused_when_the_money_is_built_naming_dkk() -> None:
    with pytest.raises(ValidationError) as refused:
        Money(dkk=Decimal("-1"))

    assert refused.value.errors()[0]["loc"] == ("dkk",)
    assert "dkk" in str(refused.value)


def test_an_offer_of_a_let_vacancy_is_refused_and_neither_side_changes(
    housing: HousingOrganisationApp,
) -> None:
    winner, other, vacancy_id = register_family(housing), register_family(housing), publish(housing)
    offer_id = housing.make_offer(
        command_id=cmd(), household_id=winner, vacancy_id=vacancy_id, at=at(1), by=CONSULTANT
    )
    housing.accept_offer(command_id=cmd(), household_id=winner, offer_id=offer_id, at=at(2), by=CONSULTANT)

    with store_unchanged(housing), pytest.raises(VacancyNotAvailable, match=f"Vacancy {vacancy_id} is let"):
        housing.make_offer(
            command_id=cmd(), household_id=other, vacancy_id=vacancy_id, at=at(3), by=CONSULTANT
        )

    assert housing.household(other, today=at().date()).offers == []


def test_an_offer_of_a_reserved_vacancy_is_refused_as_already_offered(
    housing: HousingOrganisationApp,
) -> None:
    first, second, vacancy_id = register_family(housing), register_family(housing), publish(housing)
    housing.make_offer(command_id=cmd(), household_id=first, vacancy_id=vacancy_id, at=at(1), by=CONSULTANT)

    with store_unchanged(housing), pytest.raises(VacancyAlreadyOffered, match="already has a live offer"):
        housing.make_offer(
            command_id=cmd(), household_id=second, vacancy_id=vacancy_id, at=at(2), by=CONSULTANT
        )

    assert housing.household(second, today=at().date()).live_offer is None


def test_a_referral_step_out_of_order_is_refused(housing: HousingOrganisationApp) -> None:
    household_id = register_family(housing)
    handoff_id = housing.record_move(
        command_id=cmd(),
        household_id=household_id,
        move=the_move(),
        hand_off_to=BRIDGE,
        at=at(1),
        by=CONSULTANT,
    )
    assert handoff_id is not None

    with store_unchanged(housing), pytest.raises(ReferralNotOpen, match="it cannot be completed"):
        housing.complete_referral(
            command_id=cmd(), referral_id=handoff_id, outcome="held", at=at(2), by=BRIDGE_BUILDER
        )

    assert housing.referral(handoff_id).status == "sent"


def test_a_completed_referral_takes_no_more_steps(
    housing: HousingOrganisationApp, bridge: BridgeBuilderApp
) -> None:
    household_id = register_family(housing)
    handoff_id = housing.record_move(
        command_id=cmd(),
        household_id=household_id,
        move=the_move(),
        hand_off_to=BRIDGE,
        at=at(1),
        by=CONSULTANT,
    )
    assert handoff_id is not None
    # The new holder's acknowledgement completes a handoff.
    housing.acknowledge_referral(command_id=cmd(), referral_id=handoff_id, at=at(2), by=BRIDGE_BUILDER)

    with (
        store_unchanged(housing),
        pytest.raises(ReferralNotOpen, match="is completed; it cannot be put on hold"),
    ):
        housing.put_referral_on_hold(
            command_id=cmd(), referral_id=handoff_id, reason="family away", at=at(4), by=BRIDGE_BUILDER
        )


@pytest.mark.parametrize("naive", [datetime(2026, 6, 2, 9, 0)])
def test_a_naive_datetime_is_refused_for_every_kind_of_command(
    housing: HousingOrganisationApp, bridge: BridgeBuilderApp, naive: datetime
) -> None:
    household_id = register_family(housing)

    with (
        store_unchanged(housing),
        pytest.raises(InvalidInput, match="`at` must be a timezone-aware datetime"),
    ):
        register_family(housing, when=naive)
    with store_unchanged(housing), pytest.raises(InvalidInput, match="timezone-aware"):
        housing.record_first_contact(command_id=cmd(), household_id=household_id, at=naive, by=CONSULTANT)
    with store_unchanged(bridge), pytest.raises(InvalidInput, match="timezone-aware"):
        bridge.propose_support_link(
            command_id=cmd(), household_id=household_id, offer=local_contact(), at=naive, by=BRIDGE_BUILDER
        )


def test_a_command_id_that_is_not_a_uuid_is_refused(housing: HousingOrganisationApp) -> None:
    with store_unchanged(housing), pytest.raises(InvalidInput, match="command_id must be a UUID, got str"):
        housing.publish_vacancy(command_id="42", dwelling=dwelling(), at=at(), by=CONSULTANT)  # type: ignore[arg-type]
