"""The OfferRequest aggregate's states with their times, and the household's record of its requests."""

from __future__ import annotations

from uuid import uuid4

import pytest
from eventsourcing.domain import Snapshot

from coordination.domain.errors import RuleViolated
from coordination.domain.household import Household
from coordination.domain.offer_request import OfferRequest, OfferRequestStatus
from coordination.domain.values import Actor, DeclinedBy, Role
from ops.bench.fixtures.household_builders import at, register
from tests.support import new_memory_app

FAB_CONSULTANT = Actor(organisation="FAB", person="fab-gk-02", role=Role.REHOUSING_CONSULTANT)


def requested() -> OfferRequest:
    return OfferRequest.request(
        id=uuid4(),
        owner="CIVICA",
        vacancy_id=uuid4(),
        household_id=uuid4(),
        expires_at=at(15),
        overrides=[],
        at=at(1),
        by=FAB_CONSULTANT,
    )


def states(request: OfferRequest) -> list[tuple[str, object]]:
    return [(str(step.state), step.at) for step in request.history]


def test_a_request_keeps_each_state_it_reached_with_its_time_and_a_replay_gives_the_same() -> None:
    request = requested()
    request.record_reserved(at=at(2))
    request.answer(
        accepted=False,
        declined_by=DeclinedBy.HOUSEHOLD,
        reason="too far from work",
        at=at(3),
        by=FAB_CONSULTANT,
    )

    assert states(request) == [("requested", at(1)), ("reserved", at(2)), ("declined", at(3))]
    assert (request.declined_by, request.reason) == (DeclinedBy.HOUSEHOLD, "too far from work")
    app = new_memory_app()
    app.save(request)
    replayed = app.repository.get(request.id)
    assert (states(replayed), replayed.declined_by) == (states(request), DeclinedBy.HOUSEHOLD)


def test_a_refused_request_keeps_the_owners_reason() -> None:
    request = requested()
    request.record_refused(reason="Vacancy 7 is withdrawn and cannot be offered", at=at(2))

    assert request.status is OfferRequestStatus.REFUSED
    assert request.reason == "Vacancy 7 is withdrawn and cannot be offered"
    assert states(request)[-1] == ("refused", at(2))


def test_a_household_records_each_request_once() -> None:
    household = register()
    offer, vacancy = uuid4(), uuid4()
    household.request_offer(offer_id=offer, vacancy_id=vacancy, at=at(1), by=FAB_CONSULTANT)

    assert household.offer_requests == (offer,)
    assert isinstance(list(household.collect_events())[-1], Household.OfferRequested)
    with pytest.raises(RuleViolated, match="already requested"):
        household.request_offer(offer_id=offer, vacancy_id=vacancy, at=at(2), by=FAB_CONSULTANT)


def test_a_household_snapshot_without_requests_loads_with_none() -> None:
    """A snapshot taken before requests were recorded has no such attribute: the class's default holds."""
    snapshot = Snapshot.take(register())
    assert "offer_requests" not in snapshot.state

    loaded = snapshot.mutate(None)
    assert isinstance(loaded, Household)
    assert loaded.offer_requests == ()
