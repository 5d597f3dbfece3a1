"""Group commit keeps every outcome of a command's own transaction: success, conflict, repeat."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

from coordination.applications.group_commit import GroupCommit
from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.errors import ConcurrencyConflict
from tests.application.builders import CONSULTANT, at, cmd, dwelling, event_names, publish, register_family

# Long enough that commands started together by a barrier share one group on a busy machine.
WINDOW = 0.3


def _together(*commands: Callable[[], Any]) -> list[Any]:
    """Run the commands at the same moment in threads; each one's result or the error it raised."""
    start = threading.Barrier(len(commands))

    def run(command: Callable[[], Any]) -> Any:
        start.wait(timeout=10)
        try:
            return command()
        except Exception as error:
            return error

    with ThreadPoolExecutor(len(commands)) as pool:
        return list(pool.map(run, commands, timeout=30))


def _grouped(app: HousingOrganisationApp) -> GroupCommit:
    """From here on the app's commands gather for WINDOW seconds (set after the untimed set-up)."""
    app.group_commit = GroupCommit(app, window=WINDOW)
    return app.group_commit


def _offer(app: HousingOrganisationApp, household_id: UUID, vacancy_id: UUID) -> Callable[[], UUID]:
    return lambda: app.make_offer(
        command_id=cmd(), household_id=household_id, vacancy_id=vacancy_id, at=at(1), by=CONSULTANT
    )


def test_concurrent_commands_on_distinct_aggregates_all_succeed_in_fewer_transactions(
    housing: HousingOrganisationApp,
) -> None:
    pairs = [(register_family(housing), publish(housing)) for _ in range(8)]
    grouped = _grouped(housing)

    offers = _together(*(_offer(housing, household, vacancy) for household, vacancy in pairs))

    assert all(isinstance(offer, UUID) for offer in offers), offers
    assert grouped.stats.transactions < len(pairs)
    for (household, vacancy), offer in zip(pairs, offers, strict=True):
        assert housing.vacancy(vacancy).live_offer_id == offer
        assert event_names(housing, household)[-1] == "OfferReceived"


def test_two_commands_on_the_same_aggregate_in_one_group_exactly_one_wins(
    housing: HousingOrganisationApp,
) -> None:
    vacancy = publish(housing)
    first, second, bystander = register_family(housing), register_family(housing), register_family(housing)
    other_vacancy = publish(housing)
    grouped = _grouped(housing)

    outcomes = _together(
        _offer(housing, first, vacancy),
        _offer(housing, second, vacancy),
        _offer(housing, bystander, other_vacancy),
    )

    won = [o for o in outcomes[:2] if isinstance(o, UUID)]
    lost = [o for o in outcomes[:2] if isinstance(o, ConcurrencyConflict)]
    assert len(won) == 1, outcomes
    assert len(lost) == 1, outcomes
    assert f"Vacancy {vacancy}" in str(lost[0])
    assert isinstance(outcomes[2], UUID), "a command beside the conflict is not affected by it"
    assert housing.vacancy(vacancy).live_offer_id == won[0]
    offered = [h for h in (first, second) if event_names(housing, h)[-1] == "OfferReceived"]
    assert len(offered) == 1, "the loser's household change is not stored either"
    assert grouped.stats.fallbacks >= 1


def test_a_command_repeated_inside_a_group_takes_effect_once_and_both_get_its_result(
    housing: HousingOrganisationApp,
) -> None:
    command_id = cmd()
    grouped = _grouped(housing)

    def publish_once() -> UUID:
        return housing.publish_vacancy(command_id=command_id, dwelling=dwelling(), at=at(), by=CONSULTANT)

    outcomes = _together(publish_once, publish_once)

    assert isinstance(outcomes[0], UUID), outcomes
    assert outcomes[1] == outcomes[0]
    assert event_names(housing, outcomes[0]) == ["Published"]
    assert housing.has_handled(command_id)
    assert grouped.stats.fallbacks == 1, "the two met in one group"


def test_a_lone_command_is_written_at_once_without_waiting_for_company(
    housing: HousingOrganisationApp,
) -> None:
    housing.group_commit = grouped_now = GroupCommit(housing)

    vacancy = publish(housing)

    assert housing.vacancy(vacancy).id == vacancy
    assert (grouped_now.stats.transactions, grouped_now.stats.commands) == (1, 1)
