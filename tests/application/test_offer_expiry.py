"""Timers as an input (`expire_due(now)`), offers across organisations expired by the owner, and the refusal
of owner-only steps on a mirrored vacancy; nodes on the in-process exchange with in-memory stores."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import pytest

from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp
from coordination.applications.timers import Expiries
from coordination.domain.errors import VacancyOfAnotherOrganisation
from coordination.domain.offer_request import OfferRequest, OfferRequestStatus
from coordination.domain.referral import ReferralKind
from coordination.domain.values import Actor, DeclinedBy, Role
from ops.node.exchange import Exchange
from tests.application.builders import (
    BRIDGE,
    CONSULTANT,
    at,
    cmd,
    publish,
    register_family,
    stored_events,
)
from tests.application.three_nodes import FAB, three_nodes

FAB_CONSULTANT = Actor(organisation=FAB, person="fab-gk-02", role=Role.REHOUSING_CONSULTANT)


@dataclass
class Organisations:
    civica: HousingOrganisationApp
    fab: HousingOrganisationApp
    bridge: BridgeBuilderApp
    exchange: Exchange

    def settle(self) -> None:
        self.exchange.settle(max_seconds=10)


@pytest.fixture
def orgs() -> Iterator[Organisations]:
    with three_nodes() as nodes:
        yield Organisations(*nodes)


def _requested(orgs: Organisations) -> tuple[UUID, UUID, UUID]:
    """FAB asks CIVICA to reserve CIVICA's vacancy for a FAB household; the offer expires at at(15)."""
    vacancy = publish(orgs.civica)
    orgs.settle()
    household = register_family(orgs.fab, case_reference="FAB-2026-0007")
    offer = orgs.fab.request_offer(
        command_id=cmd(),
        household_id=household,
        vacancy_id=vacancy,
        expires_at=at(15),
        at=at(1),
        by=FAB_CONSULTANT,
    )
    orgs.settle()
    assert orgs.civica.vacancy(vacancy).status == "reserved"
    return household, vacancy, offer


def test_the_owner_expires_a_requested_offer_at_its_expiry_and_the_requester_learns_it(
    orgs: Organisations,
) -> None:
    household, vacancy, offer = _requested(orgs)

    assert orgs.civica.expire_due(now=at(14)) == Expiries()
    assert orgs.civica.expire_due(now=at(15)) == Expiries(requested_offers=(offer,))
    orgs.settle()

    expired = stored_events(orgs.civica, vacancy)[-1]
    assert (type(expired).__name__, expired.offer_id, expired.at) == ("OfferExpired", offer, at(15))
    request = orgs.fab.repository.get(offer)
    assert isinstance(request, OfferRequest)
    assert request.status is OfferRequestStatus.EXPIRED
    assert [type(e).__name__ for e in stored_events(orgs.fab, offer)][-1] == "Expired"
    at_fab = orgs.fab.household(household, today=at(15).date())
    assert (at_fab.live_offer, at_fab.offers[0].status) == (None, "expired")
    assert orgs.fab.vacancy(vacancy).status == orgs.civica.vacancy(vacancy).status == "open"


def test_running_the_timers_again_expires_nothing_twice(orgs: Organisations) -> None:
    _, vacancy, offer = _requested(orgs)
    orgs.civica.expire_due(now=at(15))
    orgs.settle()
    versions = [orgs.civica.vacancy(vacancy).version, orgs.fab.vacancy(vacancy).version]

    assert orgs.civica.expire_due(now=at(16)) == Expiries()
    assert orgs.fab.expire_due(now=at(16)) == Expiries()
    orgs.settle()
    assert [orgs.civica.vacancy(vacancy).version, orgs.fab.vacancy(vacancy).version] == versions
    assert sum(node.consumer.stats.parked for node in orgs.exchange.nodes) == 0
    del offer


def test_the_requester_leaves_an_offer_of_another_organisations_vacancy_to_the_owners_timer(
    orgs: Organisations,
) -> None:
    household, _, offer = _requested(orgs)

    assert orgs.fab.expire_due(now=at(20)) == Expiries()
    live = orgs.fab.household(household, today=at(20).date()).live_offer
    assert live is not None
    assert live.offer_id == offer


def test_the_timers_expire_own_offers_and_referrals_sent_here_but_never_a_received_copy(
    orgs: Organisations,
) -> None:
    household = register_family(orgs.civica)
    vacancy = publish(orgs.civica)
    offer = orgs.civica.make_offer(
        command_id=cmd(),
        household_id=household,
        vacancy_id=vacancy,
        expires_at=at(15),
        at=at(1),
        by=CONSULTANT,
    )
    referral = orgs.civica.refer_household(
        command_id=cmd(),
        household_id=household,
        receiver=BRIDGE,
        kind=ReferralKind.BRIDGE_BUILDING,
        at=at(1),
        by=CONSULTANT,
    )
    orgs.settle()
    due = orgs.civica.referral(referral).complete_by

    assert orgs.civica.expire_due(now=at(15)) == Expiries(offers=(offer,))
    assert orgs.bridge.expire_due(now=due + timedelta(days=1)) == Expiries()
    assert orgs.civica.expire_due(now=due) == Expiries(referrals=(referral,))
    orgs.settle()

    assert orgs.civica.household(household, today=at(15).date()).offers[0].status == "expired"
    assert orgs.civica.vacancy(vacancy).status == "open"
    assert orgs.civica.referral(referral).status == orgs.bridge.referral(referral).status == "expired"


def test_an_accepted_referral_is_not_expired_by_the_timer(orgs: Organisations) -> None:
    household = register_family(orgs.civica)
    referral = orgs.civica.refer_household(
        command_id=cmd(),
        household_id=household,
        receiver=BRIDGE,
        kind=ReferralKind.BRIDGE_BUILDING,
        at=at(1),
        by=CONSULTANT,
    )
    orgs.settle()
    builder = Actor(organisation=BRIDGE, person="bb-3", role=Role.BRIDGE_BUILDER)
    orgs.bridge.acknowledge_referral(command_id=cmd(), referral_id=referral, at=at(2), by=builder)
    orgs.bridge.accept_referral(command_id=cmd(), referral_id=referral, assignee="bb-3", at=at(2), by=builder)
    orgs.settle()

    long_after = orgs.civica.referral(referral).complete_by + timedelta(days=30)
    assert orgs.civica.expire_due(now=long_after) == Expiries()


def test_an_offer_on_a_mirrored_vacancy_is_refused_with_the_way_to_ask_its_owner(orgs: Organisations) -> None:
    vacancy = publish(orgs.civica)
    orgs.settle()
    household = register_family(orgs.fab, case_reference="FAB-2026-0008")

    refused = r"civica's and only mirrored by fab; use request_offer"
    with pytest.raises(VacancyOfAnotherOrganisation, match=refused):
        orgs.fab.make_offer(
            command_id=cmd(), household_id=household, vacancy_id=vacancy, at=at(1), by=FAB_CONSULTANT
        )
    assert orgs.fab.vacancy(vacancy).status == "open"
    assert orgs.fab.household(household, today=at(1).date()).offers == []


@pytest.mark.parametrize(
    ("command", "instead"),
    [
        ("accept_offer", "accept_requested_offer"),
        ("decline_offer", "decline_requested_offer"),
        ("expire_offer", "expire_due"),
    ],
)
def test_answering_a_requested_offer_as_a_local_one_is_refused_with_the_command_to_use(
    orgs: Organisations, command: str, instead: str
) -> None:
    household, vacancy, offer = _requested(orgs)
    arguments: dict[str, object] = {"command_id": cmd(), "household_id": household, "offer_id": offer}
    if command == "expire_offer":
        arguments["at"] = at(16)
    else:
        arguments.update(at=at(2), by=FAB_CONSULTANT)
    if command == "decline_offer":
        arguments.update(declined_by=DeclinedBy.HOUSEHOLD, reason="too far from school")

    with pytest.raises(VacancyOfAnotherOrganisation, match=instead):
        getattr(orgs.fab, command)(**arguments)
    live = orgs.fab.household(household, today=at(2).date()).live_offer
    assert live is not None
    assert live.offer_id == offer
    assert orgs.fab.vacancy(vacancy).status == "reserved"
