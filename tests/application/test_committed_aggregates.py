"""A node lends its commands the aggregates it committed (coordination/applications/committed.py) instead of
replaying them, and no command can tell: each decides on what is stored, a failed command leaves nothing
behind, rivals still conflict, and an erased household's aggregates are not kept."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate, event

from adapters.eventstore.storage import ShreddingStorage
from coordination.applications.committed import CommittedAggregates
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.network import network_id
from coordination.domain.errors import ConcurrencyConflict, ConsentMissing, NotFound, VacancyNotAvailable
from coordination.domain.household import Household
from coordination.domain.personal_fields import ERASED
from coordination.domain.referral import ReferralKind
from tests.application.builders import (
    BRIDGE,
    CONSULTANT,
    at,
    cmd,
    consents,
    event_names,
    publish,
    register_family,
)


def _first_contact(app: HousingOrganisationApp, household: UUID, when: datetime) -> UUID:
    return app.record_first_contact(command_id=cmd(), household_id=household, at=when, by=CONSULTANT)


def _tasks_found(app: HousingOrganisationApp, household: UUID, when: datetime) -> UUID:
    return app.record_tasks_found(
        command_id=cmd(), household_id=household, tasks=["a job"], at=when, by=CONSULTANT
    )


def _change_household(
    app: HousingOrganisationApp, household: UUID, decide: Callable[[Household], None]
) -> None:
    """A command on the household that `decide` makes (at day 2)."""
    app._change(
        Household,
        "household",
        command="record_first_contact",
        command_id=cmd(),
        aggregate_id=household,
        at=at(2),
        by=CONSULTANT,
        decide=decide,
    )


def test_another_processs_change_to_a_kept_aggregate_is_never_written_over(
    two_processes: tuple[HousingOrganisationApp, HousingOrganisationApp],
) -> None:
    here, elsewhere = two_processes
    household, vacancy = register_family(here), publish(here)
    offer = here.make_offer(
        command_id=cmd(), household_id=household, vacancy_id=vacancy, at=at(1), by=CONSULTANT
    )
    # The household, its network and the vacancy, as this process committed them.
    assert len(here._committed) == 3

    # Another process moves both on: the household accepts and the vacancy is let.
    elsewhere.accept_offer(command_id=cmd(), household_id=household, offer_id=offer, at=at(2), by=CONSULTANT)

    # Here, a second offer of the let vacancy is refused by the rules, decided again on the store's state
    # (what was kept here still had the vacancy open for an offer) ...
    other = register_family(here)
    with pytest.raises(VacancyNotAvailable, match="is let"):
        here.make_offer(command_id=cmd(), household_id=other, vacancy_id=vacancy, at=at(3), by=CONSULTANT)
    # ... and a step on the household, decided on the kept copy, is refused as a conflict: nothing is
    # written over the acceptance. Tried again, it follows the acceptance.
    with pytest.raises(ConcurrencyConflict):
        _tasks_found(here, household, at(4))
    _tasks_found(here, household, at(5))
    assert event_names(here, household)[-3:] == [
        "OfferReceived",
        "OfferAccepted",
        "TasksFoundOutsideRehousing",
    ]


def test_a_kept_aggregate_only_read_is_checked_before_the_command_saves(
    two_processes: tuple[HousingOrganisationApp, HousingOrganisationApp],
) -> None:
    here, elsewhere = two_processes
    household = register_family(here, given=consents(BRIDGE))
    _tasks_found(here, household, at(1))  # kept here with the consent

    elsewhere.withdraw_consent(
        command_id=cmd(),
        household_id=household,
        recipient=BRIDGE,
        purpose="bridge_building",
        at=at(2),
        by=CONSULTANT,
    )

    # The referral reads the household without changing it: decided on the kept copy it would go out under
    # a withdrawn consent. Checked before saving, it is decided again on the store's state and refused.
    with pytest.raises(ConsentMissing):
        here.refer_household(
            command_id=cmd(),
            household_id=household,
            receiver=BRIDGE,
            kind=ReferralKind.BRIDGE_BUILDING,
            at=at(3),
            by=CONSULTANT,
        )
    assert here.referrals_about(household) == []


def test_a_failed_command_leaves_nothing_of_what_it_did(housing: HousingOrganisationApp) -> None:
    household = register_family(housing)
    _tasks_found(housing, household, at(1))
    before = housing.household(household, today=at(1).date()).version

    def decide(aggregate: Household) -> None:
        aggregate.record_first_contact(at=at(2), by=CONSULTANT)
        raise RuntimeError("the command fails after changing the aggregate")

    with pytest.raises(RuntimeError):
        _change_household(housing, household, decide)

    # The next command starts from what is stored: first contact was never made, so it can be now.
    _first_contact(housing, household, at(3))
    assert event_names(housing, household).count("FirstContactMade") == 1
    assert housing.household(household, today=at(3).date()).version == before + 1


def test_a_command_that_loses_to_a_rival_leaves_nothing_of_what_it_did(
    two_processes: tuple[HousingOrganisationApp, HousingOrganisationApp],
) -> None:
    here, elsewhere = two_processes
    household = register_family(here)

    def decide(aggregate: Household) -> None:
        aggregate.record_first_contact(at=at(2), by=CONSULTANT)
        _tasks_found(elsewhere, household, at(2))  # another process commits meanwhile

    with pytest.raises(ConcurrencyConflict):
        _change_household(here, household, decide)

    # The lost first contact is nowhere: recording it now is allowed, after the rival's step.
    _first_contact(here, household, at(3))
    assert event_names(here, household)[-2:] == ["TasksFoundOutsideRehousing", "FirstContactMade"]


def test_a_stale_kept_aggregate_is_refused_as_a_conflict_and_forgotten(
    housing: HousingOrganisationApp,
) -> None:
    household = register_family(housing)
    _tasks_found(housing, household, at(1))
    kept = housing._committed.take(household)
    assert kept is not None
    # A rival saves first (it replays the household: the kept one is out, as it is while lent).
    _tasks_found(housing, household, at(2))
    housing._committed.forget([household])
    # An older copy back, as a slow command that began after the forget would hold it.
    housing._committed.give_back([kept], since=housing._committed.mark())

    with pytest.raises(ConcurrencyConflict):
        _tasks_found(housing, household, at(3))
    assert housing._committed.take(household) is None  # forgotten: the next command replays it
    _tasks_found(housing, household, at(4))
    assert event_names(housing, household).count("TasksFoundOutsideRehousing") == 3


def test_an_erased_household_leaves_nothing_kept(housing: HousingOrganisationApp) -> None:
    household, vacancy = register_family(housing), publish(housing)
    housing.make_offer(command_id=cmd(), household_id=household, vacancy_id=vacancy, at=at(1), by=CONSULTANT)

    _tasks_found(housing, household, at(2))
    assert len(housing._committed) == 3  # the household, its network and the vacancy holding its offer

    housing.erase_household(
        command_id=cmd(), household_id=household, legal_ground="GDPR art. 17(1)(a)", at=at(3), by=CONSULTANT
    )

    # The erasure command's own household is not given back, nor is anything of the household kept:
    # not its network either, which names who worked with the family.
    assert housing._committed.take(household) is None
    assert housing._committed.take(network_id(household)) is None
    assert housing._committed.take(vacancy) is not None


def test_another_processs_erasure_leaves_nothing_of_the_household_kept_or_readable_here(
    two_processes: tuple[HousingOrganisationApp, HousingOrganisationApp],
) -> None:
    here, elsewhere = two_processes
    household = register_family(here)
    _tasks_found(here, household, at(2))
    assert len(here._committed) == 2  # the household and its network, with their personal data decrypted

    elsewhere.erase_household(
        command_id=cmd(), household_id=household, legal_ground="GDPR art. 17(1)(a)", at=at(3), by=CONSULTANT
    )

    # Noticed at the next use of a key after at most a second (adapters/eventstore/household_keys.py), not at a restart.
    deadline = time.monotonic() + 5
    while here.household(household, today=at(4).date()).case_reference != ERASED:
        assert time.monotonic() < deadline, "the other process's erasure was not noticed"
        time.sleep(0.05)
    assert here._committed.take(household) is None
    assert here._committed.take(network_id(household)) is None


def test_another_processs_erasure_runs_this_processs_erasure_hooks_too(
    shared_store_env: dict[str, str], two_processes: tuple[HousingOrganisationApp, HousingOrganisationApp]
) -> None:
    # Its views may hold what its projections decrypted before it noticed; its caches, others' keys.
    _, elsewhere = two_processes
    ran_here: list[UUID] = []
    here = HousingOrganisationApp(
        storage=ShreddingStorage(),
        organisation="civica",
        env=shared_store_env,
        cpr_secret=b"k" * 32,
        erasure_hooks=[ran_here.append],
    )
    household, other = register_family(here), register_family(here)

    elsewhere.erase_household(
        command_id=cmd(), household_id=household, legal_ground="GDPR art. 17(1)(a)", at=at(3), by=CONSULTANT
    )

    deadline = time.monotonic() + 5
    while not ran_here:
        assert time.monotonic() < deadline, "the other process's erasure did not run the hooks here"
        here.household(other, today=at(4).date())  # a key used here: the erasure is noticed
        time.sleep(0.05)
    here.close()
    assert ran_here == [household]


def test_what_a_command_held_while_its_household_was_erased_is_not_kept(
    housing: HousingOrganisationApp,
) -> None:
    household = register_family(housing)
    _tasks_found(housing, household, at(1))

    def read_while_erased() -> tuple[None, list[Aggregate]]:
        housing._load(household)  # lent to this command, read only, with its personal data
        housing.shred_household(household, at(2))  # the erasure lands meanwhile (another thread's)
        return None, []

    housing._once("read_household", cmd(), {"at": at(3)}, read_while_erased)

    assert housing._committed.take(household) is None


def test_a_query_borrows_nothing(housing: HousingOrganisationApp) -> None:
    household = register_family(housing)
    housing.household(household, today=at(1).date())
    with pytest.raises(NotFound):
        housing.household(uuid4(), today=at(1).date())
    assert housing._committed.take(household) is not None


class _Counter(Aggregate):
    @event("Counted")
    def count(self) -> None:
        pass


def test_at_most_maxsize_are_kept_and_unsaved_changes_never() -> None:
    kept = CommittedAggregates(maxsize=3)
    aggregates = [_Counter() for _ in range(4)]
    for aggregate in aggregates:
        aggregate.collect_events()
    kept.give_back(aggregates, since=kept.mark())
    assert len(kept) == 3
    assert kept.take(aggregates[0].id) is None  # the least recently committed went first

    changed = aggregates[1]
    changed.count()
    assert kept.take(changed.id) is not None
    kept.give_back([changed], since=kept.mark())  # with an unsaved event
    assert kept.take(changed.id) is None


def test_what_was_forgotten_after_a_commands_mark_is_not_given_back() -> None:
    kept = CommittedAggregates()
    erased, other = _Counter(), _Counter()
    for aggregate in (erased, other):
        aggregate.collect_events()
    mark = kept.mark()
    kept.forget([erased.id])
    kept.give_back([erased, other], since=mark)
    assert kept.take(erased.id) is None
    assert kept.take(other.id) is other
    # A command that began after the forget read it anew: that copy is kept.
    kept.give_back([erased], since=kept.mark())
    assert kept.take(erased.id) is erased


def test_a_command_older_than_the_forgets_remembered_gives_nothing_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("coordination.applications.committed.FORGOTTEN_REMEMBERED", 2)
    kept = CommittedAggregates()
    aggregate = _Counter()
    aggregate.collect_events()
    mark = kept.mark()
    kept.forget([uuid4(), uuid4(), uuid4()])  # more than are remembered: the first may be any id
    kept.give_back([aggregate], since=mark)
    assert kept.take(aggregate.id) is None
    kept.give_back([aggregate], since=kept.mark())
    assert kept.take(aggregate.id) is aggregate
