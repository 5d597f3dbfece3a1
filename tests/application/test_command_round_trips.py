"""A command asks the store only what it needs: no receipt lookup up front, no snapshot query for a young
aggregate, and the same outcomes as ever (a repeat, a stale shortcut, a grouped save's notifications)."""

from __future__ import annotations

import gc
from collections import Counter
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from adapters.eventstore.storage import ShreddingStorage
from coordination.applications.area_guard import MovesIndex, moved_in_since
from coordination.applications.base import derived_id
from coordination.applications.group_commit import GroupCommit
from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.errors import DomainError
from coordination.domain.values import Place
from tests.application.builders import CONSULTANT, ODENSE_C, at, cmd, publish, register_family, the_move


def _reads(app: HousingOrganisationApp, monkeypatch: pytest.MonkeyPatch) -> list[UUID]:
    """The ids whose events the app reads from now on."""
    read: list[UUID] = []
    get = app.events.get

    def spy(originator_id: UUID, **kwargs: Any) -> Any:
        read.append(originator_id)
        return get(originator_id, **kwargs)

    monkeypatch.setattr(app.events, "get", spy)
    return read


def test_a_new_command_does_not_look_for_its_receipt(
    housing: HousingOrganisationApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    household_id, vacancy_id = register_family(housing), publish(housing)
    housing._committed.forget([household_id, vacancy_id])  # as another process would find them: not kept
    command_id = cmd()
    read = _reads(housing, monkeypatch)

    housing.make_offer(
        command_id=command_id, household_id=household_id, vacancy_id=vacancy_id, at=at(1), by=CONSULTANT
    )

    assert derived_id("command", command_id) not in read
    assert sorted(read) == sorted([household_id, vacancy_id])


def test_a_command_on_aggregates_this_process_committed_reads_none_of_them(
    housing: HousingOrganisationApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    household_id, vacancy_id = register_family(housing), publish(housing)
    read = _reads(housing, monkeypatch)

    offer = housing.make_offer(
        command_id=cmd(), household_id=household_id, vacancy_id=vacancy_id, at=at(1), by=CONSULTANT
    )
    housing.accept_offer(command_id=cmd(), household_id=household_id, offer_id=offer, at=at(2), by=CONSULTANT)

    assert read == []
    assert housing.vacancy(vacancy_id).version == 3  # published, reserved, let: all three saved


def test_a_repeat_whose_decision_now_fails_gets_the_first_result_not_the_error(
    housing: HousingOrganisationApp,
) -> None:
    household_id, vacancy_id = register_family(housing), publish(housing)
    command_id = cmd()

    def offer() -> UUID:
        return housing.make_offer(
            command_id=command_id, household_id=household_id, vacancy_id=vacancy_id, at=at(1), by=CONSULTANT
        )

    first = offer()
    before = housing.recorder.max_notification_id()

    assert offer() == first
    assert housing.recorder.max_notification_id() == before
    with pytest.raises(DomainError, match="live offer"):
        housing.make_offer(
            command_id=cmd(), household_id=household_id, vacancy_id=vacancy_id, at=at(1), by=CONSULTANT
        )


def test_a_young_aggregate_is_read_without_asking_for_a_snapshot(
    housing: HousingOrganisationApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    household_id = register_family(housing)
    assert housing.snapshots is not None
    asked: list[UUID] = []
    monkeypatch.setattr(housing.snapshots, "get", lambda originator_id, **kw: asked.append(originator_id))

    housing.record_first_contact(command_id=cmd(), household_id=household_id, at=at(1), by=CONSULTANT)

    assert asked == []
    assert housing.household(household_id, today=at().date()).version == 2


def test_an_aggregate_moved_on_elsewhere_past_its_snapshot_still_loads_whole(
    housing: HousingOrganisationApp,
) -> None:
    household_id = register_family(housing)
    for day in range(1, 51):
        housing.record_tasks_found(
            command_id=cmd(), household_id=household_id, tasks=[f"task {day}"], at=at(day), by=CONSULTANT
        )
    assert housing.snapshots is not None and list(housing.snapshots.get(household_id))
    # As if this process last saw it young and another process wrote the rest.
    housing._known_versions[household_id] = 1

    shortcut = housing.household(household_id, today=at().date())
    again = housing.household(household_id, today=at().date())

    assert shortcut == again
    assert shortcut.version == 51


def test_a_grouped_save_tells_the_app_where_each_event_was_recorded(housing: HousingOrganisationApp) -> None:
    recorded: list[Any] = []
    notify = housing._notify

    def spy(recordings: list[Any]) -> None:
        recorded.extend(recordings)
        notify(recordings)

    housing._notify = spy  # type: ignore[method-assign]
    housing.group_commit = GroupCommit(housing)
    before = housing.recorder.max_notification_id() or 0

    vacancy_id = publish(housing)

    assert recorded[0].domain_event.originator_id == vacancy_id
    assert [r.notification.id for r in recorded] == [before + 1, before + 2]  # the vacancy, its receipt
    assert recorded[0].notification.originator_version == 1
    assert housing.committed_through == before + 2


def test_the_moves_index_counts_the_moves_recorded_after_its_last_answer_too(
    housing: HousingOrganisationApp,
) -> None:
    index = MovesIndex(housing)
    moved_on = the_move().moved_on
    first, second = register_family(housing), register_family(housing)
    assert index.moved_in_since(ODENSE_C, moved_on) == 0

    housing.record_move(command_id=cmd(), household_id=first, move=the_move(), at=at(5), by=CONSULTANT)
    assert index.moved_in_since(ODENSE_C, moved_on) == 1

    housing.record_move(command_id=cmd(), household_id=second, move=the_move(), at=at(6), by=CONSULTANT)
    elsewhere = Place(municipality="Odense", area="Vollsmose")
    assert index.moved_in_since(ODENSE_C, moved_on) == 2
    assert index.moved_in_since(ODENSE_C, moved_on + timedelta(days=1)) == 0
    assert index.moved_in_since(elsewhere, moved_on) == 0
    assert moved_in_since(housing, ODENSE_C, moved_on) == 2, "the whole log's answer is the same"


def test_the_moves_index_reads_on_past_what_this_process_committed_and_counts_other_processes_moves(
    shared_store_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    here, elsewhere = (
        HousingOrganisationApp(
            storage=ShreddingStorage(), organisation="civica", env=shared_store_env, cpr_secret=b"k" * 32
        )
        for _ in range(2)
    )
    try:
        index = MovesIndex(here)
        moved_on = the_move().moved_on
        register_family(here)
        assert index.moved_in_since(ODENSE_C, moved_on) == 0
        end = here.recorder.max_notification_id()
        reads: list[int] = []
        read = index._read
        assert read is not None

        def reading(after: int, *args: Any) -> Any:
            reads.append(after)
            return read(after, *args)

        monkeypatch.setattr(index, "_read", reading)

        assert index.moved_in_since(ODENSE_C, moved_on) == 0
        assert reads == [end], "read on from the last id committed here, past the events that were not moves"
        household = register_family(elsewhere)
        elsewhere.record_move(
            command_id=cmd(), household_id=household, move=the_move(), at=at(5), by=CONSULTANT
        )
        assert index.moved_in_since(ODENSE_C, moved_on) == 1, "another process's move counts"
    finally:
        here.close()
        elsewhere.close()


def test_commands_leave_no_reference_cycles_for_the_garbage_collector(
    housing: HousingOrganisationApp,
) -> None:
    # A cycle per command piles up until a collection stops every thread of the node at once.
    def a_case() -> None:
        household_id, vacancy_id = register_family(housing), publish(housing)
        offer = housing.make_offer(
            command_id=cmd(), household_id=household_id, vacancy_id=vacancy_id, at=at(1), by=CONSULTANT
        )
        housing.accept_offer(
            command_id=cmd(), household_id=household_id, offer_id=offer, at=at(2), by=CONSULTANT
        )

    a_case()  # what is made once (caches, lazily imported modules) is not a command's garbage
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        a_case()
        gc.collect()
        garbage = Counter(type(thing).__qualname__ for thing in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()

    assert not garbage, garbage
