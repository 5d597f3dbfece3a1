"""A command id is handled once on every backend: a repeat has no second effect, a reuse is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

import pytest

from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp
from coordination.domain.errors import CommandIdReused, VacancyNotAvailable
from coordination.domain.referral import ReferralKind
from coordination.domain.values import DeclinedBy
from tests.application.builders import (
    BRIDGE,
    BRIDGE_BUILDER,
    CONSULTANT,
    CPR,
    JOBCENTRE,
    at,
    cmd,
    dwelling,
    local_contact,
    publish,
    register_family,
    the_move,
)

# Each builds a command for a fresh household (and vacancy), to be called with a command id and a time.
Command = Callable[[HousingOrganisationApp], Callable[[UUID, datetime], UUID | None]]


def _register(app: HousingOrganisationApp) -> Callable[[UUID, datetime], UUID | None]:
    return lambda command_id, when: register_family(app, command_id=command_id, cpr=CPR, when=when)


def _publish(app: HousingOrganisationApp) -> Callable[[UUID, datetime], UUID | None]:
    return lambda command_id, when: app.publish_vacancy(
        command_id=command_id, dwelling=dwelling(), at=when, by=CONSULTANT
    )


def _offer(app: HousingOrganisationApp) -> Callable[[UUID, datetime], UUID | None]:
    household_id, vacancy_id = register_family(app), publish(app)
    return lambda command_id, when: app.make_offer(
        command_id=command_id,
        household_id=household_id,
        vacancy_id=vacancy_id,
        expires_at=at(20),
        at=when,
        by=CONSULTANT,
    )


def _decline(app: HousingOrganisationApp) -> Callable[[UUID, datetime], UUID | None]:
    household_id, vacancy_id = register_family(app), publish(app)
    offer_id = app.make_offer(
        command_id=cmd(), household_id=household_id, vacancy_id=vacancy_id, at=at(1), by=CONSULTANT
    )
    return lambda command_id, when: app.decline_offer(
        command_id=command_id,
        household_id=household_id,
        offer_id=offer_id,
        declined_by=DeclinedBy.HOUSEHOLD,
        reason="too far from school",
        at=when,
        by=CONSULTANT,
    )


def _move_and_hand_off(app: HousingOrganisationApp) -> Callable[[UUID, datetime], UUID | None]:
    household_id = register_family(app)
    return lambda command_id, when: app.record_move(
        command_id=command_id,
        household_id=household_id,
        move=the_move(),
        hand_off_to=BRIDGE,
        at=when,
        by=CONSULTANT,
    )


def _refer(app: HousingOrganisationApp) -> Callable[[UUID, datetime], UUID | None]:
    household_id = register_family(app)
    return lambda command_id, when: app.refer_household(
        command_id=command_id,
        household_id=household_id,
        receiver=JOBCENTRE,
        kind=ReferralKind.JOBCENTRE,
        at=when,
        by=CONSULTANT,
    )


def _first_contact(app: HousingOrganisationApp) -> Callable[[UUID, datetime], UUID | None]:
    household_id = register_family(app)
    return lambda command_id, when: app.record_first_contact(
        command_id=command_id, household_id=household_id, at=when, by=CONSULTANT
    )


def _acknowledge_handoff(app: HousingOrganisationApp) -> Callable[[UUID, datetime], UUID | None]:
    household_id = register_family(app)
    handoff_id = app.record_move(
        command_id=cmd(),
        household_id=household_id,
        move=the_move(),
        hand_off_to=BRIDGE,
        at=at(1),
        by=CONSULTANT,
    )
    assert handoff_id is not None
    return lambda command_id, when: app.acknowledge_referral(
        command_id=command_id, referral_id=handoff_id, at=when, by=BRIDGE_BUILDER
    )


COMMANDS: dict[str, Command] = {
    "register_household": _register,
    "publish_vacancy": _publish,
    "make_offer": _offer,
    "decline_offer": _decline,
    "record_move": _move_and_hand_off,
    "refer_household": _refer,
    "record_first_contact": _first_contact,
    "acknowledge_referral": _acknowledge_handoff,
}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_repeated_command_id_returns_the_first_result_and_records_nothing_more(
    housing: HousingOrganisationApp, command: Command
) -> None:
    run = command(housing)
    command_id = cmd()
    first = run(command_id, at(2))
    after_first = housing.recorder.max_notification_id()

    # A client retrying the request may stamp it anew: a different `at` is still the same command.
    assert run(command_id, at(2)) == first
    assert run(command_id, at(3)) == first

    assert housing.recorder.max_notification_id() == after_first


def test_a_repeated_command_is_noticed_by_whoever_asks_and_a_first_one_is_not(
    housing: HousingOrganisationApp,
) -> None:
    first, again = cmd(), cmd()
    housing.publish_vacancy(command_id=again, dwelling=dwelling(), at=at(), by=CONSULTANT)

    with housing.noticing_repeats() as repeats:
        housing.publish_vacancy(command_id=first, dwelling=dwelling(), at=at(), by=CONSULTANT)
        housing.publish_vacancy(command_id=again, dwelling=dwelling(), at=at(1), by=CONSULTANT)

    assert repeats == [again]


def test_a_command_id_used_for_a_different_command_is_refused(housing: HousingOrganisationApp) -> None:
    command_id = cmd()
    household_id = register_family(housing, command_id=command_id)
    before = housing.recorder.max_notification_id()

    with pytest.raises(
        CommandIdReused, match=f"{command_id} was already used for a different register_household"
    ):
        housing.record_first_contact(
            command_id=command_id, household_id=household_id, at=at(1), by=CONSULTANT
        )

    assert housing.recorder.max_notification_id() == before
    assert housing.household(household_id, today=at().date()).phase == "registered"


def test_a_command_id_used_again_with_different_arguments_is_refused(housing: HousingOrganisationApp) -> None:
    command_id = cmd()
    housing.publish_vacancy(command_id=command_id, dwelling=dwelling(rooms=5), at=at(), by=CONSULTANT)
    before = housing.recorder.max_notification_id()

    with pytest.raises(CommandIdReused):
        housing.publish_vacancy(command_id=command_id, dwelling=dwelling(rooms=4), at=at(), by=CONSULTANT)

    assert housing.recorder.max_notification_id() == before


def test_a_registration_repeated_with_another_cpr_number_is_a_different_command(
    housing: HousingOrganisationApp,
) -> None:
    command_id = cmd()
    register_family(housing, command_id=command_id, cpr=CPR)

    with pytest.raises(CommandIdReused) as refused:
        register_family(housing, command_id=command_id, cpr="010190-1234")

    assert "0101901234" not in str(refused.value)
    assert "070761" not in str(refused.value)


def test_a_refused_command_leaves_its_id_free_for_the_corrected_retry(
    housing: HousingOrganisationApp,
) -> None:
    household_id, vacancy_id = register_family(housing), publish(housing)
    housing.withdraw_vacancy(command_id=cmd(), vacancy_id=vacancy_id, reason="sold", at=at(1), by=CONSULTANT)
    other_vacancy = publish(housing)
    command_id = cmd()

    with pytest.raises(VacancyNotAvailable):
        housing.make_offer(
            command_id=command_id, household_id=household_id, vacancy_id=vacancy_id, at=at(2), by=CONSULTANT
        )
    offer_id = housing.make_offer(
        command_id=command_id, household_id=household_id, vacancy_id=other_vacancy, at=at(2), by=CONSULTANT
    )

    assert housing.vacancy(other_vacancy).live_offer_id == offer_id


def test_a_repeated_support_link_proposal_creates_one_link(bridge: BridgeBuilderApp) -> None:
    command_id, household_id = cmd(), cmd()

    def propose() -> UUID:
        return bridge.propose_support_link(
            command_id=command_id,
            household_id=household_id,
            offer=local_contact(),
            contact_person=True,
            at=at(1),
            by=BRIDGE_BUILDER,
        )

    first = propose()
    before = bridge.recorder.max_notification_id()

    assert propose() == first
    assert bridge.recorder.max_notification_id() == before
