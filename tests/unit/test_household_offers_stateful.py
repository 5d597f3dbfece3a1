"""Property test: no sequence of offer commands breaks the offer rules; replay gives the same household."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from coordination.domain.errors import (
    HouseholdAlreadyMoved,
    HouseholdHasLiveOffer,
    OfferNotLive,
    OverrideRequired,
    RuleViolated,
)
from coordination.domain.household import Household, Member, MemberKind, OfferStatus
from coordination.domain.policy import DEFAULT_POLICY
from coordination.domain.values import DeclinedBy, Override, Place, YearMonth
from ops.bench.fixtures.household_builders import (
    CONSULTANT,
    VOLLSMOSE,
    a_move,
    at,
    dwelling,
    permanent,
    register,
    temporary,
)
from tests.support import new_memory_app

AARHUS = Place(municipality="Aarhus", area="Gellerup")
HOME_MUNICIPALITY = Place(municipality=VOLLSMOSE.municipality, area="Odense C")
OVERRIDABLE = ("municipality", "suitable_size", "offer_limit")
VALIDITY = timedelta(days=14)


class HouseholdOffers(RuleBasedStateMachine):
    """Offers received, accepted, declined by either side and expired, with and without overrides."""

    def __init__(self) -> None:
        super().__init__()
        self.app = new_memory_app()
        self.now = at(0)

    @initialize(is_permanent=st.booleans(), adults=st.integers(1, 3), children=st.integers(0, 4))
    def register_household(self, is_permanent: bool, adults: int, children: int) -> None:
        members = [Member(member_id=f"A{i}", kind=MemberKind.ADULT) for i in range(adults)] + [
            Member(member_id=f"C{i}", kind=MemberKind.CHILD, birth_month=YearMonth(year=2018, month=5))
            for i in range(children)
        ]
        self.household = register(members=members, rehousing=permanent() if is_permanent else temporary())
        self.limit = DEFAULT_POLICY.offers_allowed(permanent=is_permanent)

    def teardown(self) -> None:
        self.app.close()

    def tick(self, days: int = 1) -> None:
        self.now += timedelta(days=days)

    def expected_breaches(self, rooms: int, elsewhere: bool) -> list[str]:
        """The model of the overridable rules, written independently of offer_rules.py."""
        h = self.household
        breaches = []
        if elsewhere:
            breaches.append("municipality")
        if rooms < len(h.members) + 1 and rooms != VOLLSMOSE.previous_rooms:
            breaches.append("suitable_size")
        decided = [
            o for o in h.offers if o.status in (OfferStatus.ACCEPTED, OfferStatus.DECLINED_BY_HOUSEHOLD)
        ]
        if len(decided) >= self.limit:
            breaches.append("offer_limit")
        return breaches

    # Biased towards suitable offers, so that households get far enough to reach the offer limit.
    @rule(
        rooms=st.one_of(st.just(8), st.integers(1, 8)),
        elsewhere=st.sampled_from([False, False, False, True]),
        overridden=st.sets(st.sampled_from(OVERRIDABLE)),
    )
    def receive_offer(self, rooms: int, elsewhere: bool, overridden: set[str]) -> None:
        self.tick()
        h = self.household
        breaches = self.expected_breaches(rooms, elsewhere)
        missing = [name for name in breaches if name not in overridden]

        def receive() -> None:
            h.receive_offer(
                offer_id=uuid4(),
                vacancy_id=uuid4(),
                dwelling=dwelling(rooms=rooms, place=AARHUS if elsewhere else HOME_MUNICIPALITY),
                expires_at=self.now + VALIDITY,
                overrides=[
                    Override(rule=name, reason="Agreed with the household", by=CONSULTANT)
                    for name in overridden
                ],
                policy=DEFAULT_POLICY,
                at=self.now,
                by=CONSULTANT,
            )

        count = len(h.offers)
        event(
            "receive: "
            + (
                "live offer"
                if h.live_offer
                else "moved"
                if h.moved_permanently
                else f"needs override of {missing[0]}"
                if missing
                else f"accepted with {breaches}"
            )
        )
        if h.live_offer is not None:
            with pytest.raises(HouseholdHasLiveOffer):
                receive()
        elif h.moved_permanently:
            with pytest.raises(HouseholdAlreadyMoved):
                receive()
        elif missing:
            with pytest.raises(OverrideRequired, match=f"override rule '{missing[0]}'"):
                receive()
        else:
            receive()
            assert h.live_offer is h.offers[-1]
            assert [o.rule for o in h.offers[-1].overrides] == breaches
            return
        assert len(h.offers) == count

    @rule(late=st.booleans())
    def accept_offer(self, late: bool) -> None:
        live = self.household.live_offer
        if live is None:
            with pytest.raises(OfferNotLive):
                self.household.accept_offer(offer_id=uuid4(), at=self.now, by=CONSULTANT)
            return
        step = timedelta(hours=1)
        self.now = max(self.now + step, live.expires_at) if late else self.now + step
        if self.now >= live.expires_at:
            with pytest.raises(OfferNotLive, match="expired"):
                self.household.accept_offer(offer_id=live.offer_id, at=self.now, by=CONSULTANT)
        else:
            self.household.accept_offer(offer_id=live.offer_id, at=self.now, by=CONSULTANT)
            assert self.household.offers[-1].status == OfferStatus.ACCEPTED

    @rule(by_household=st.booleans())
    def decline_offer(self, by_household: bool) -> None:
        self.tick()
        declined_by = DeclinedBy.HOUSEHOLD if by_household else DeclinedBy.PROVIDER
        live = self.household.live_offer
        offer_id = live.offer_id if live else uuid4()
        try:
            self.household.decline_offer(
                offer_id=offer_id,
                declined_by=declined_by,
                reason="Too far from work",
                at=self.now,
                by=CONSULTANT,
            )
        except OfferNotLive:
            assert live is None

    @rule(early=st.booleans())
    def expire_offer(self, early: bool) -> None:
        live = self.household.live_offer
        if live is None:
            return
        moment = live.expires_at - timedelta(seconds=1) if early else live.expires_at
        if early:
            with pytest.raises(RuleViolated, match="does not expire before"):
                self.household.expire_offer(offer_id=live.offer_id, at=moment)
        else:
            self.now = max(self.now, moment)
            self.household.expire_offer(offer_id=live.offer_id, at=moment)

    @rule(chance=st.integers(0, 4))
    def move_permanently(self, chance: int) -> None:
        if chance:  # rarer than the offer steps: a permanent move ends the offers
            return
        self.tick(30)
        h = self.household
        if h.live_offer is not None or h.moved_permanently:
            with pytest.raises((HouseholdHasLiveOffer, HouseholdAlreadyMoved)):
                h.record_move(move=a_move(moved_on=self.now.date()), at=self.now, by=CONSULTANT)
            return
        h.record_move(
            move=a_move(moved_on=max(self.now.date(), date(2026, 1, 1))), at=self.now, by=CONSULTANT
        )

    @invariant()
    def at_most_one_live_offer(self) -> None:
        assert sum(o.status == OfferStatus.LIVE for o in self.household.offers) <= 1

    @invariant()
    def decided_offers_exceed_the_limit_only_with_a_recorded_override(self) -> None:
        unoverridden = [
            o
            for o in self.household.offers
            if o.decided_by_household and not any(override.rule == "offer_limit" for override in o.overrides)
        ]
        assert len(unoverridden) <= self.limit

    @invariant()
    def reloading_from_the_store_gives_the_same_state(self) -> None:
        self.app.save(self.household)
        again: Household = self.app.repository.get(self.household.id)
        assert vars(again) == vars(self.household)


TestHouseholdOffers = HouseholdOffers.TestCase
TestHouseholdOffers.settings = settings(max_examples=100, stateful_step_count=30, deadline=None)
