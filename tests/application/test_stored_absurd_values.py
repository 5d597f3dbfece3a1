"""Loading never fails (issue 17, finding 1): a household stored with a move in the year 9999, the way the
code before the plausibility checks stored it, still loads, shows what was stored, and answers every
later command with a domain error instead of an OverflowError."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from uuid import UUID

import pytest

from adapters.eventstore.event_decoding import StoredEventDecoder
from adapters.sql.view_stores import SQLiteViewStore
from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.errors import DomainError, ImplausibleValue
from coordination.domain.household import Household
from coordination.projections.rebuild import compare, rebuild
from ops.bench.fixtures import read_model_support as s
from ops.bench.fixtures.household_builders import a_move
from ops.node.read_models import READ_MODELS
from tests.application.builders import CONSULTANT, at, cmd, register_family


def _stored_as_the_old_code_did(housing: HousingOrganisationApp, moved_on: date) -> UUID:
    """A household whose Moved event carries `moved_on` unchecked: the command runs through the
    application as before, its @event method recording the date as the public method did before it
    checked it (the event and its fields are unchanged)."""
    household_id = register_family(housing)
    housing._change(
        Household,
        "household",
        command="record_move",
        command_id=cmd(),
        aggregate_id=household_id,
        at=at(1),
        by=CONSULTANT,
        decide=lambda h: h._moved(move=a_move(moved_on=moved_on), at=at(1), by=CONSULTANT),
        moved_on=moved_on,
    )
    return household_id


@pytest.mark.parametrize("moved_on", [date(9999, 12, 31), date(9999, 12, 20)])
def test_a_household_stored_with_a_move_in_9999_loads_and_shows_what_was_stored(
    housing: HousingOrganisationApp, moved_on: date
) -> None:
    household_id = _stored_as_the_old_code_did(housing, moved_on)
    view = housing.household(household_id, today=date(2026, 6, 2))
    assert view.move is not None and view.move.moved_on == moved_on
    assert view.follow_up_due == date.max  # 14 days after the move, held at the calendar's end
    assert view.phase == "moved" and not view.follow_up_visited


def test_commands_on_such_a_household_are_refused_as_domain_errors_and_record_nothing(
    housing: HousingOrganisationApp,
) -> None:
    household_id = _stored_as_the_old_code_did(housing, date(9999, 12, 31))
    version = housing.household(household_id, today=date(2026, 6, 2)).version
    with pytest.raises(ImplausibleValue, match="visited_on"):
        housing.record_follow_up_visit(
            command_id=cmd(),
            household_id=household_id,
            visited_on=date(9999, 12, 31),
            at=at(2),
            by=CONSULTANT,
        )
    with pytest.raises(DomainError, match="before the move"):
        housing.record_follow_up_visit(
            command_id=cmd(), household_id=household_id, visited_on=date(2026, 6, 2), at=at(2), by=CONSULTANT
        )
    with pytest.raises(DomainError):
        housing.record_move(
            command_id=cmd(), household_id=household_id, move=a_move(), at=at(2), by=CONSULTANT
        )
    with pytest.raises(DomainError):
        housing.settle_household(command_id=cmd(), household_id=household_id, at=at(3), by=CONSULTANT)
    assert housing.household(household_id, today=date(2026, 6, 3)).version == version


def test_every_read_model_takes_such_a_household_without_parking_and_equals_a_rebuild(
    housing: HousingOrganisationApp, tmp_path: Path
) -> None:
    _stored_as_the_old_code_did(housing, date(9999, 12, 31))
    views = SQLiteViewStore(tmp_path / "views.db")
    try:
        live = s.runners(housing, views)
        for name, projection in READ_MODELS.items():
            live[name].run_until_caught_up()
            assert live[name].parked() == [], name
            assert (
                compare(
                    live[name],
                    rebuild(
                        housing, projection, views, "rebuild_1", decoding=StoredEventDecoder(housing.mapper)
                    ),
                )
                == []
            ), name
    finally:
        views.close()
