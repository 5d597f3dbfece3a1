"""The SupportLink aggregate: proposed → active → ended, and when it counts as a local contact person."""

from __future__ import annotations

from uuid import uuid4

import pytest

from coordination.domain.errors import InvalidInput, SupportLinkEnded, SupportLinkNotProposed
from coordination.domain.support_link import SupportKind, SupportLink, SupportLinkStatus, SupportOffer
from coordination.domain.values import Place
from ops.bench.fixtures.household_builders import BRIDGE_BUILDER, CENTRAL_ODENSE, at
from tests.support import new_memory_app

NEIGHBOUR = SupportOffer(
    provider="Odense bridge builders",
    service="Neighbour in Ejerslykke",
    kind=SupportKind.CONTACT_PERSON,
    place=CENTRAL_ODENSE,
)
MENTOR = SupportOffer(
    provider="KVINFO", service="Mentor for job search", kind=SupportKind.MENTOR, place=CENTRAL_ODENSE
)


def propose(offer: SupportOffer = NEIGHBOUR, *, contact_person: bool = True) -> SupportLink:
    return SupportLink.propose(
        id=uuid4(),
        household_id=uuid4(),
        offer=offer,
        contact_person=contact_person,
        at=at(1),
        by=BRIDGE_BUILDER,
    )


def test_a_proposed_link_records_the_offer_and_who_proposed_it() -> None:
    link = propose()
    (proposed,) = link.collect_events()
    assert isinstance(proposed, SupportLink.Proposed)
    assert proposed.offer == NEIGHBOUR
    assert proposed.owner == "Odense bridge builders"
    assert link.status == SupportLinkStatus.PROPOSED


def test_a_link_is_activated_then_ended_with_a_reason() -> None:
    link = propose()
    link.activate(at=at(2), by=BRIDGE_BUILDER)
    link.end(reason="The family moved on", at=at(30), by=BRIDGE_BUILDER)
    _, activated, ended = link.collect_events()
    assert isinstance(activated, SupportLink.Activated)
    assert isinstance(ended, SupportLink.Ended)
    assert ended.reason == "The family moved on"
    assert link.status == SupportLinkStatus.ENDED


def test_a_proposal_the_household_turns_down_ends_without_being_active() -> None:
    link = propose()
    link.end(reason="Declined by the household", at=at(2), by=BRIDGE_BUILDER)
    assert link.activated_at is None
    assert link.status == SupportLinkStatus.ENDED


def test_an_active_link_cannot_be_activated_again() -> None:
    link = propose()
    link.activate(at=at(2), by=BRIDGE_BUILDER)
    with pytest.raises(SupportLinkNotProposed, match="already active"):
        link.activate(at=at(3), by=BRIDGE_BUILDER)


def test_an_ended_link_can_neither_be_activated_nor_ended_again() -> None:
    link = propose()
    link.end(reason="No longer needed", at=at(2), by=BRIDGE_BUILDER)
    with pytest.raises(SupportLinkEnded, match="cannot be activated"):
        link.activate(at=at(3), by=BRIDGE_BUILDER)
    with pytest.raises(SupportLinkEnded, match="cannot be ended again"):
        link.end(reason="No longer needed", at=at(3), by=BRIDGE_BUILDER)


def test_ending_a_link_needs_a_reason() -> None:
    link = propose()
    with pytest.raises(InvalidInput, match="reason"):
        link.end(reason="", at=at(2), by=BRIDGE_BUILDER)


def test_only_an_active_contact_person_in_the_place_counts_as_a_contact_person_there() -> None:
    link = propose()
    assert not link.is_contact_person_in(CENTRAL_ODENSE)  # proposed, not yet active
    link.activate(at=at(2), by=BRIDGE_BUILDER)
    assert link.is_contact_person_in(CENTRAL_ODENSE)
    assert not link.is_contact_person_in(Place(municipality="Odense", area="Vollsmose"))
    link.end(reason="The neighbour moved away", at=at(30), by=BRIDGE_BUILDER)
    assert not link.is_contact_person_in(CENTRAL_ODENSE)


def test_a_support_offer_that_is_not_a_contact_person_does_not_count() -> None:
    link = propose(MENTOR, contact_person=False)
    link.activate(at=at(2), by=BRIDGE_BUILDER)
    assert not link.is_contact_person_in(CENTRAL_ODENSE)


def test_a_support_link_reloads_from_the_store_into_the_same_state() -> None:
    link = propose()
    link.activate(at=at(2), by=BRIDGE_BUILDER)
    app = new_memory_app()
    try:
        app.save(link)
        again = app.repository.get(link.id)
    finally:
        app.close()
    assert vars(again) == vars(link)
    assert again.status is SupportLinkStatus.ACTIVE
