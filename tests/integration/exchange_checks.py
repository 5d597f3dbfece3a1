"""What every fault scenario ends with: each node's state equals a replay of its history from scratch, and no
effect was applied twice (receipts unique, mirrors and copies in step with their sources, one reservation per
offer, each referral step once on both sides)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from adapters.eventstore.storage import ShreddingStorage
from coordination.applications.base import CommandReceipt, NodeApplication
from coordination.domain.household import Household
from coordination.domain.offer_request import OfferRequest, OfferRequestStatus
from coordination.domain.referral import Referral, ReferralKind
from coordination.domain.vacancy import Vacancy

RECEIPT = get_topic(CommandReceipt.Recorded)


@dataclass
class NodeState:
    """One node's aggregates as its live store gives them (snapshots used), and how many receipts it holds."""

    organisation: str
    aggregates: dict[UUID, Aggregate]
    receipts: int
    events: int
    reserved: dict[UUID, list[UUID]]  # vacancy id -> the offers it was reserved for, from its events

    def of(self, cls: type[Any]) -> list[Any]:
        return [a for a in self.aggregates.values() if isinstance(a, cls)]


def replayed_equals_live(app: NodeApplication, page_size: int = 1000) -> NodeState:
    """Put the node's stored events, as its own mapper reads them, into a fresh in-memory application of the
    same mapping, rebuild every aggregate there from its first event, and require it equal (all of `vars`) to
    what the node's own repository returns (from its snapshots where it has them)."""
    fresh = NodeApplication(
        storage=ShreddingStorage(),
        organisation=app.organisation,
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
    )
    first_topic: dict[UUID, str] = {}
    position, events = 0, 0
    while page := app.recorder.select_notifications(
        start=position, limit=page_size, inclusive_of_start=False
    ):
        position = page[-1].id
        events += len(page)
        fresh.events.put([app.mapper.to_domain_event(n) for n in page])
        for n in page:
            first_topic.setdefault(UUID(str(n.originator_id)), n.topic)
    receipts = [i for i, topic in first_topic.items() if topic == RECEIPT]
    aggregates: dict[UUID, Aggregate] = {}
    for aggregate_id, topic in first_topic.items():
        if topic == RECEIPT:
            continue
        live, again = app.repository.get(aggregate_id), fresh.repository.get(aggregate_id)
        assert vars(live) == vars(again), f"{app.organisation}: {type(live).__name__} {aggregate_id} differs"
        aggregates[aggregate_id] = live
    reserved = {
        vacancy_id: [e.offer_id for e in fresh.events.get(vacancy_id) if isinstance(e, Vacancy.OfferReserved)]
        for vacancy_id, a in aggregates.items()
        if isinstance(a, Vacancy)
    }
    fresh.close()
    return NodeState(app.organisation, aggregates, len(receipts), events, reserved)


def no_effect_applied_twice(
    states: dict[str, NodeState], housing: tuple[str, ...], pool: tuple[str, ...]
) -> dict[str, int]:
    """Business-level duplicates, which the store's unique (aggregate, version) alone would not catch."""
    checked = Counter[str]()
    for owner in housing:
        own = [v for v in states[owner].of(Vacancy) if v.owner == owner]
        for mirror_org in (org for org in pool if org != owner):
            mirrors = {v.id: v for v in states[mirror_org].of(Vacancy) if v.owner == owner}
            assert len(mirrors) == len(own), (
                f"{mirror_org} mirrors {len(mirrors)} of {owner}'s {len(own)} vacancies"
            )
            for vacancy in own:
                mirror = mirrors[vacancy.id]
                assert (mirror.version, mirror.status, mirror.live_offer_id, mirror.offers_made) == (
                    vacancy.version,
                    vacancy.status,
                    vacancy.live_offer_id,
                    vacancy.offers_made,
                ), f"{mirror_org}'s mirror of vacancy {vacancy.id} is out of step with {owner}"
                checked["mirrored vacancies"] += 1
    reserved = Counter(
        offer
        for org in housing
        for v in states[org].of(Vacancy)
        if v.owner == org
        for offer in states[org].reserved[v.id]
    )
    assert not [offer for offer, times in reserved.items() if times > 1], "an offer reserved a vacancy twice"
    checked["reservations"] = len(reserved)
    for org in housing:
        for request in states[org].of(OfferRequest):
            held = request.status not in (OfferRequestStatus.REQUESTED, OfferRequestStatus.REFUSED)
            assert reserved[request.id] == (1 if held else 0), f"request {request.id} is {request.status}"
            household = states[org].aggregates.get(request.household_id)
            assert isinstance(household, Household) and request.id in household.offer_requests, (
                f"request {request.id} is not listed by its household"
            )
            checked["requests"] += 1
        for household in states[org].of(Household):
            offers = [offer.offer_id for offer in household.offers]
            assert len(offers) == len(set(offers)), f"household {household.id} received an offer twice"
    for state in states.values():
        for referral in state.of(Referral):
            if referral.referrer != state.organisation:
                continue
            copy = states[referral.receiver].aggregates.get(referral.id)
            assert copy is not None, f"{referral.receiver} has no copy of referral {referral.id}"
            assert [s.status for s in copy.history] == [s.status for s in referral.history]
            assert copy.version == referral.version, f"referral {referral.id}: a step applied twice or missed"
            checked["referral copies"] += 1
            if referral.kind == ReferralKind.HANDOFF and referral.acknowledged_at is not None:
                household = states[state.organisation].aggregates[referral.household_id]
                assert isinstance(household, Household)
                assert household.holder.organisation == referral.receiver
                checked["handoffs acknowledged"] += 1
    return dict(checked)
