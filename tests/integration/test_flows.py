"""The cross-organisation flows of issue 3, end to end: nodes on PostgreSQL exchanging over the real broker."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from uuid import UUID, uuid4

import pytest

from coordination.domain.errors import DomainError
from coordination.domain.offer_request import OfferRequest, OfferRequestStatus
from coordination.domain.referral import ReferralKind
from coordination.domain.values import Override
from ops.demo.reference_family import the_move
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
from tests.integration.flow_support import FAB, Organisations, fab_consultant, organisations, register

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]
TODAY = date(2026, 11, 22)


@pytest.fixture
def orgs(postgres_server: PostgresServer, kafka_broker: BrokerProcess) -> Iterator[Organisations]:
    with ExitStack() as stack:
        yield organisations(postgres_server, kafka_broker.bootstrap_servers, stack)


def size_override(by=consultant) -> list[Override]:  # type: ignore[no-untyped-def]
    return [Override(rule="suitable_size", by=by, reason="The family chose this dwelling near the schools")]


def test_a_referral_to_the_bridge_builder_is_acknowledged_and_accepted_there_and_civica_sees_each_status(
    orgs: Organisations,
) -> None:
    household = register(orgs.civica, consultant, "CIV-2026-0001")
    referral = orgs.civica.refer_household(
        command_id=uuid4(),
        household_id=household,
        receiver=BRIDGE_BUILDER,
        kind=ReferralKind.BRIDGE_BUILDING,
        at=on(date(2026, 6, 10)),
        by=consultant,
    )
    orgs.settle()
    copy = orgs.bridge_builder.referral(referral)
    assert (copy.status, copy.referrer, copy.household_id) == ("sent", CIVICA, household)

    orgs.bridge_builder.acknowledge_referral(
        command_id=uuid4(), referral_id=referral, at=on(date(2026, 6, 11)), by=bridge_builder
    )
    orgs.settle()
    assert orgs.civica.referral(referral).status == "acknowledged"

    orgs.bridge_builder.accept_referral(
        command_id=uuid4(),
        referral_id=referral,
        assignee="bb-anna",
        at=on(date(2026, 6, 11), 14),
        by=bridge_builder,
    )
    orgs.settle()
    at_civica = orgs.civica.referral(referral)
    assert (at_civica.status, at_civica.assignee) == ("accepted", "bb-anna")
    assert at_civica.history == orgs.bridge_builder.referral(referral).history


def test_a_daycare_fast_track_referral_reaches_the_department_and_its_answer_comes_back(
    orgs: Organisations,
) -> None:
    household = register(orgs.civica, consultant, "CIV-2026-0002")
    # The allocator needs the new address's area: the household has accepted a dwelling in Odense C.
    vacancy = orgs.civica.publish_vacancy(
        command_id=uuid4(), dwelling=the_dwelling(), at=on(date(2026, 6, 15)), by=consultant
    )
    offer = orgs.civica.make_offer(
        command_id=uuid4(),
        household_id=household,
        vacancy_id=vacancy,
        overrides=size_override(),
        at=on(date(2026, 6, 16)),
        by=consultant,
    )
    orgs.civica.accept_offer(
        command_id=uuid4(), household_id=household, offer_id=offer, at=on(date(2026, 6, 19)), by=consultant
    )
    referral = orgs.civica.refer_household(
        command_id=uuid4(),
        household_id=household,
        receiver=CHILDREN_AND_YOUTH,
        kind=ReferralKind.DAYCARE_FAST_TRACK,
        child_id="C4",
        needed_from=date(2026, 8, 3),
        at=on(date(2026, 6, 22)),
        by=consultant,
    )
    orgs.settle()
    copy = orgs.department.referral(referral)
    assert [c.member_id for c in copy.details.children] == ["C4"]
    assert copy.complete_by == orgs.civica.referral(referral).complete_by

    dept = orgs.department
    dept.acknowledge_referral(
        command_id=uuid4(), referral_id=referral, at=on(date(2026, 6, 23)), by=daycare_allocator
    )
    dept.accept_referral(
        command_id=uuid4(),
        referral_id=referral,
        assignee="pladsanvisning-3",
        at=on(date(2026, 6, 23), 13),
        by=daycare_allocator,
    )
    dept.complete_referral(
        command_id=uuid4(),
        referral_id=referral,
        outcome="Kindergarten place from 3 August",
        at=on(date(2026, 6, 26)),
        by=daycare_allocator,
    )
    orgs.settle()
    answered = orgs.civica.referral(referral)
    assert (answered.status, answered.outcome) == ("completed", "Kindergarten place from 3 August")


def _published(orgs: Organisations) -> tuple[UUID, UUID]:
    civica_vacancy = orgs.civica.publish_vacancy(
        command_id=uuid4(), dwelling=the_dwelling(), at=on(date(2026, 6, 15)), by=consultant
    )
    fab_dwelling = the_dwelling().model_copy(update={"estate": "Rosengårdcentret", "rooms": 6})
    fab_vacancy = orgs.fab.publish_vacancy(
        command_id=uuid4(), dwelling=fab_dwelling, at=on(date(2026, 6, 15)), by=fab_consultant
    )
    orgs.settle()
    return civica_vacancy, fab_vacancy


def test_vacancies_published_by_fab_and_civica_are_seen_by_both_and_an_offer_takes_one_out_for_everyone(
    orgs: Organisations,
) -> None:
    civica_vacancy, fab_vacancy = _published(orgs)
    for node in (orgs.civica, orgs.fab, orgs.department):
        assert {node.vacancy(civica_vacancy).owner, node.vacancy(fab_vacancy).owner} == {CIVICA, FAB}
        assert node.vacancy(civica_vacancy).status == node.vacancy(fab_vacancy).status == "open"

    # FAB offers CIVICA's vacancy to a FAB household: a request to the owner, the only writer of the vacancy.
    household = register(orgs.fab, fab_consultant, "FAB-2026-0007")
    offer = orgs.fab.request_offer(
        command_id=uuid4(),
        household_id=household,
        vacancy_id=civica_vacancy,
        overrides=size_override(fab_consultant),
        at=on(date(2026, 6, 16)),
        by=fab_consultant,
    )
    orgs.settle()
    for node in (orgs.civica, orgs.fab, orgs.department):
        assert node.vacancy(civica_vacancy).status == "reserved"
    live = orgs.fab.household(household, today=TODAY).live_offer
    assert live is not None and (live.offer_id, live.vacancy_id) == (offer, civica_vacancy)

    orgs.fab.accept_requested_offer(
        command_id=uuid4(),
        household_id=household,
        offer_id=offer,
        at=on(date(2026, 6, 19)),
        by=fab_consultant,
    )
    orgs.settle()
    for node in (orgs.civica, orgs.fab, orgs.department):
        assert node.vacancy(civica_vacancy).status == "let"
    assert orgs.fab.vacancy(fab_vacancy).status == "open"


def test_when_civica_and_fab_offer_the_same_vacancy_at_once_exactly_one_offer_holds_everywhere(
    orgs: Organisations,
) -> None:
    civica_vacancy, _ = _published(orgs)
    civica_household = register(orgs.civica, consultant, "CIV-2026-0003")
    fab_household = register(orgs.fab, fab_consultant, "FAB-2026-0008")
    orgs.exchange.start()  # the owner's node applies FAB's request while CIVICA's caseworker makes an offer
    start = threading.Barrier(2)
    outcome: dict[str, UUID | Exception] = {}

    def offer(name: str, make) -> None:  # type: ignore[no-untyped-def]
        start.wait()
        try:
            outcome[name] = make()
        except DomainError as refused:
            outcome[name] = refused

    threads = [
        threading.Thread(
            target=offer,
            args=(
                CIVICA,
                lambda: orgs.civica.make_offer(
                    command_id=uuid4(),
                    household_id=civica_household,
                    vacancy_id=civica_vacancy,
                    overrides=size_override(),
                    at=on(date(2026, 6, 16)),
                    by=consultant,
                ),
            ),
        ),
        threading.Thread(
            target=offer,
            args=(
                FAB,
                lambda: orgs.fab.request_offer(
                    command_id=uuid4(),
                    household_id=fab_household,
                    vacancy_id=civica_vacancy,
                    overrides=size_override(fab_consultant),
                    at=on(date(2026, 6, 16)),
                    by=fab_consultant,
                ),
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    orgs.exchange.stop()
    orgs.settle()

    reserved = {
        node.organisation: node.vacancy(civica_vacancy) for node in (orgs.civica, orgs.fab, orgs.department)
    }
    assert {v.status for v in reserved.values()} == {"reserved"}
    civica_offer = orgs.civica.household(civica_household, today=TODAY).live_offer
    fab_offer = orgs.fab.household(fab_household, today=TODAY).live_offer
    assert (civica_offer is None) != (fab_offer is None), "exactly one household holds an offer"
    if isinstance(outcome[FAB], UUID):
        request = orgs.fab.repository.get(outcome[FAB])
        assert isinstance(request, OfferRequest)
        assert request.status == (
            OfferRequestStatus.REFUSED if fab_offer is None else OfferRequestStatus.RESERVED
        )
    assert sum(node.consumer.stats.parked for node in orgs.exchange.nodes) == 0


def test_at_the_move_the_household_is_handed_to_the_bridge_builder_pending_until_it_acknowledges(
    orgs: Organisations,
) -> None:
    household = register(orgs.civica, consultant, "CIV-2026-0004")
    move = the_move()
    handoff = orgs.civica.record_move(
        command_id=uuid4(),
        household_id=household,
        move=move,
        hand_off_to=BRIDGE_BUILDER,
        at=on(date(2026, 7, 15), 16),
        by=consultant,
    )
    assert handoff is not None
    orgs.settle()
    pending = orgs.civica.household(household, today=TODAY)
    assert pending.holder.organisation == CIVICA and pending.pending_handoff is not None
    assert orgs.bridge_builder.referral(handoff).kind == "handoff"

    orgs.bridge_builder.acknowledge_referral(
        command_id=uuid4(), referral_id=handoff, at=on(date(2026, 7, 16), 9), by=bridge_builder
    )
    orgs.settle()
    held = orgs.civica.household(household, today=TODAY)
    assert (held.holder.organisation, held.holder.role) == (BRIDGE_BUILDER, "bridge_builder")
    assert held.pending_handoff is None
