"""An offer of another organisation's vacancy followed as a request: requested, then reserved or refused by
the owner with its reason, and listed with the household's offers all along; nodes on the in-process
exchange with in-memory stores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from uuid import UUID

import pytest

from coordination.applications.base import derived_id
from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.offer_request import ReservationRefusal
from coordination.domain.values import Actor, Role
from ops.node.exchange import Exchange
from tests.application.builders import CONSULTANT, at, cmd, dwelling, publish, register_family
from tests.application.three_nodes import FAB, three_nodes

FAB_CONSULTANT = Actor(organisation=FAB, person="fab-gk-02", role=Role.REHOUSING_CONSULTANT)


@dataclass
class Owners:
    civica: HousingOrganisationApp  # owns the vacancy
    fab: HousingOrganisationApp  # asks for it for one of its households
    exchange: Exchange

    def settle(self) -> None:
        self.exchange.settle(max_seconds=10)


@pytest.fixture
def orgs() -> Iterator[Owners]:
    with three_nodes() as (civica, fab, _, exchange):
        yield Owners(civica, fab, exchange)


def _request(orgs: Owners) -> tuple[UUID, UUID, UUID]:
    """FAB asks CIVICA to reserve CIVICA's vacancy for a FAB household at at(1); not yet delivered."""
    vacancy = publish(orgs.civica)
    orgs.settle()
    household = register_family(orgs.fab, case_reference="FAB-2026-0031")
    offer = orgs.fab.request_offer(
        command_id=cmd(),
        household_id=household,
        vacancy_id=vacancy,
        expires_at=at(15),
        at=at(1),
        by=FAB_CONSULTANT,
    )
    return household, vacancy, offer


def _states(orgs: Owners, offer: UUID) -> list[tuple[str, object]]:
    return [(step.state, step.at) for step in orgs.fab.offer_request(offer).history]


def test_a_request_is_listed_with_the_households_offers_while_the_owner_decides(orgs: Owners) -> None:
    household, vacancy, offer = _request(orgs)

    request = orgs.fab.offer_request(offer)
    assert (request.state, request.household_id, request.vacancy_id) == ("requested", household, vacancy)
    assert (request.vacancy_owner, request.requested_by, request.reason) == ("civica", FAB, None)
    assert _states(orgs, offer) == [("requested", at(1))]
    shown = orgs.fab.household(household, today=at(1).date())
    assert [(o.offer_id, o.vacancy_id, o.status, o.reason) for o in shown.offers] == [
        (offer, vacancy, "requested", None)
    ]
    assert shown.live_offer is None


def test_a_request_the_owner_reserves_moves_to_reserved_and_the_household_holds_the_offer(
    orgs: Owners,
) -> None:
    household, _, offer = _request(orgs)
    orgs.settle()

    request = orgs.fab.offer_request(offer)
    assert (request.state, request.expires_at) == ("reserved", at(15))
    assert [state for state, _ in _states(orgs, offer)] == ["requested", "reserved"]
    shown = orgs.fab.household(household, today=at(2).date())
    assert [(o.offer_id, o.status) for o in shown.offers] == [(offer, "live")], "listed once, as held"

    orgs.fab.accept_requested_offer(
        command_id=cmd(), household_id=household, offer_id=offer, at=at(3), by=FAB_CONSULTANT
    )
    assert _states(orgs, offer)[-1] == ("accepted", at(3))


def _offered_to_its_own_household(orgs: Owners, vacancy: UUID) -> None:
    own = register_family(orgs.civica, case_reference="CIVICA-2026-0077")
    orgs.civica.make_offer(
        command_id=cmd(), household_id=own, vacancy_id=vacancy, expires_at=at(10), at=at(1), by=CONSULTANT
    )


def _withdrawn(orgs: Owners, vacancy: UUID) -> None:
    orgs.civica.withdraw_vacancy(
        command_id=cmd(), vacancy_id=vacancy, reason="water damage in the kitchen", at=at(1), by=CONSULTANT
    )


@pytest.mark.parametrize(
    ("meanwhile", "refused_because"),
    [(_offered_to_its_own_household, "already has a live offer"), (_withdrawn, "is withdrawn")],
)
def test_a_request_the_owner_refuses_shows_the_owners_reason_on_the_request_and_the_household(
    orgs: Owners, meanwhile: Callable[[Owners, UUID], None], refused_because: str
) -> None:
    household, vacancy, offer = _request(orgs)
    meanwhile(orgs, vacancy)  # at the owner, before FAB's request reaches it
    orgs.settle()

    refusal = orgs.civica.repository.get(derived_id("refusal", offer))
    assert isinstance(refusal, ReservationRefusal)
    assert refused_because in refusal.reason
    request = orgs.fab.offer_request(offer)
    assert (request.state, request.reason) == ("refused", refusal.reason), "the reason as the owner sent it"
    assert [state for state, _ in _states(orgs, offer)] == ["requested", "refused"]
    shown = orgs.fab.household(household, today=at(2).date())
    assert [(o.offer_id, o.status, o.reason) for o in shown.offers] == [(offer, "refused", refusal.reason)]
    assert shown.live_offer is None


def test_a_reserved_offer_the_household_can_no_longer_take_is_listed_as_declined_with_why(
    orgs: Owners,
) -> None:
    household, _, requested = _request(orgs)
    own = orgs.fab.publish_vacancy(command_id=cmd(), dwelling=dwelling(), at=at(1), by=FAB_CONSULTANT)
    direct = orgs.fab.make_offer(
        command_id=cmd(),
        household_id=household,
        vacancy_id=own,
        expires_at=at(9),
        at=at(1),
        by=FAB_CONSULTANT,
    )
    orgs.settle()  # CIVICA reserves; FAB's household already holds FAB's own offer, so FAB declines it

    request = orgs.fab.offer_request(requested)
    assert (request.state, request.declined_by) == ("declined", "provider")
    assert request.reason is not None and "already has a live offer" in request.reason
    shown = orgs.fab.household(household, today=at(2).date())
    assert [(o.offer_id, o.status) for o in shown.offers] == [
        (direct, "live"),
        (requested, "declined_by_provider"),
    ]
    assert shown.offers[1].reason == request.reason


def test_a_reserved_request_the_owner_expires_shows_when_it_lapsed(orgs: Owners) -> None:
    household, _, offer = _request(orgs)
    orgs.settle()

    orgs.civica.expire_due(now=at(15))
    orgs.settle()

    assert [state for state, _ in _states(orgs, offer)] == ["requested", "reserved", "expired"]
    assert _states(orgs, offer)[-1] == ("expired", at(15))
    shown = orgs.fab.household(household, today=at(15).date())
    assert [(o.offer_id, o.status) for o in shown.offers] == [(offer, "expired")]
