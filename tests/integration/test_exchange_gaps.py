"""Redirects and offer expiry across organisations, end to end: nodes on PostgreSQL over the real broker."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from uuid import uuid4

import pytest

from coordination.applications.timers import Expiries
from coordination.domain.offer_request import OfferRequest, OfferRequestStatus
from coordination.domain.referral import ReferralKind
from coordination.domain.values import Consent, Override
from ops.demo.reference_scenario import (
    BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH,
    CIVICA,
    bridge_builder,
    consultant,
    daycare_allocator,
    on,
    the_dwelling,
)
from ops.devservices.pgcluster import PostgresServer
from tests.integration.conftest import BrokerProcess
from tests.integration.flow_support import Organisations, fab_consultant, organisations, register

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]


@pytest.fixture
def orgs(postgres_server: PostgresServer, kafka_broker: BrokerProcess) -> Iterator[Organisations]:
    with ExitStack() as stack:
        yield organisations(postgres_server, kafka_broker.bootstrap_servers, stack)


def _events(app: object, aggregate_id: object) -> list[str]:
    return [type(e).__name__ for e in app.events.get(aggregate_id)]  # type: ignore[attr-defined]


def test_a_redirected_referral_reaches_the_new_receiver_and_both_earlier_parties_record_the_redirect(
    orgs: Organisations,
) -> None:
    household = register(orgs.civica, consultant, "CIV-2026-0011")
    referral = orgs.civica.refer_household(
        command_id=uuid4(),
        household_id=household,
        receiver=BRIDGE_BUILDER,
        kind=ReferralKind.BRIDGE_BUILDING,
        at=on(date(2026, 6, 10)),
        by=consultant,
    )
    orgs.settle()
    orgs.bridge_builder.acknowledge_referral(
        command_id=uuid4(), referral_id=referral, at=on(date(2026, 6, 11)), by=bridge_builder
    )
    consent = Consent(recipient=CHILDREN_AND_YOUTH, purpose="bridge_building", given_on=date(2026, 6, 11))
    orgs.bridge_builder.redirect_referral(
        command_id=uuid4(),
        referral_id=referral,
        to=CHILDREN_AND_YOUTH,
        consent=consent,
        reason="The family's needs are the children's; the department's family team takes it",
        at=on(date(2026, 6, 11), 14),
        by=bridge_builder,
    )
    orgs.settle()

    at_old_receiver = orgs.bridge_builder.referral(referral)
    assert (at_old_receiver.receiver, at_old_receiver.status) == (CHILDREN_AND_YOUTH, "sent")
    assert _events(orgs.bridge_builder, referral) == ["Sent", "Acknowledged", "Redirected"]
    at_referrer = orgs.civica.referral(referral)
    assert (at_referrer.receiver, at_referrer.status, at_referrer.consent) == (
        CHILDREN_AND_YOUTH,
        "sent",
        consent,
    )
    assert _events(orgs.civica, referral) == ["Sent", "Acknowledged", "Redirected"]
    at_new_receiver = orgs.department.referral(referral)
    assert (at_new_receiver.referrer, at_new_receiver.receiver, at_new_receiver.household_id) == (
        CIVICA,
        CHILDREN_AND_YOUTH,
        household,
    )
    assert at_new_receiver.acknowledge_by == at_referrer.acknowledge_by
    assert at_new_receiver.complete_by == at_referrer.complete_by

    orgs.department.acknowledge_referral(
        command_id=uuid4(), referral_id=referral, at=on(date(2026, 6, 12)), by=daycare_allocator
    )
    orgs.department.accept_referral(
        command_id=uuid4(),
        referral_id=referral,
        assignee="familieteam-2",
        at=on(date(2026, 6, 12), 11),
        by=daycare_allocator,
    )
    orgs.settle()
    accepted = orgs.civica.referral(referral)
    assert (accepted.status, accepted.assignee) == ("accepted", "familieteam-2")
    assert _events(orgs.civica, referral)[-2:] == ["Acknowledged", "Accepted"]
    # The old receiver is out of the loop: it keeps the redirect as its last word.
    assert _events(orgs.bridge_builder, referral) == ["Sent", "Acknowledged", "Redirected"]
    assert sum(node.consumer.stats.parked for node in orgs.exchange.nodes) == 0


def test_a_requested_offer_expired_by_the_owners_timer_lapses_at_the_requester_and_reopens_the_pool(
    orgs: Organisations,
) -> None:
    vacancy = orgs.civica.publish_vacancy(
        command_id=uuid4(), dwelling=the_dwelling(), at=on(date(2026, 6, 15)), by=consultant
    )
    orgs.settle()
    household = register(orgs.fab, fab_consultant, "FAB-2026-0021")
    expires_at = on(date(2026, 6, 30))
    offer = orgs.fab.request_offer(
        command_id=uuid4(),
        household_id=household,
        vacancy_id=vacancy,
        expires_at=expires_at,
        overrides=[Override(rule="suitable_size", by=fab_consultant, reason="The family chose it")],
        at=on(date(2026, 6, 16)),
        by=fab_consultant,
    )
    orgs.settle()
    assert orgs.department.vacancy(vacancy).status == "reserved"

    assert orgs.civica.expire_due(now=expires_at) == Expiries(requested_offers=(offer,))
    orgs.settle()

    for node in (orgs.civica, orgs.fab, orgs.department):
        assert node.vacancy(vacancy).status == "open"
    request = orgs.fab.repository.get(offer)
    assert isinstance(request, OfferRequest)
    assert request.status is OfferRequestStatus.EXPIRED
    lapsed = orgs.fab.household(household, today=date(2026, 7, 1))
    assert (lapsed.live_offer, [o.status for o in lapsed.offers]) == (None, ["expired"])
    assert sum(node.consumer.stats.parked for node in orgs.exchange.nodes) == 0
