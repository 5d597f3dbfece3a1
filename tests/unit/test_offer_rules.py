"""The offer rules of almenlejeloven § 86 and local practice, driven through Household.receive_offer."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from coordination.domain.errors import (
    HouseholdAlreadyMoved,
    HouseholdHasLiveOffer,
    InvalidInput,
    OfferNotLive,
    OverrideRequired,
    RuleViolated,
)
from coordination.domain.household import Household, Member, MemberKind, OfferStatus
from coordination.domain.offer_rules import RULES, check_offer, municipality, offer_limit, suitable_size
from coordination.domain.policy import DEFAULT_POLICY, RehousingPolicy
from coordination.domain.values import DeclinedBy, Dwelling, Override, Place
from ops.bench.fixtures.household_builders import CONSULTANT, a_move, at, dwelling, register, temporary

AARHUS = Place(municipality="Aarhus", area="Gellerup")


def override(rule: str) -> Override:
    return Override(rule=rule, reason="The household asked for this dwelling itself", by=CONSULTANT)


def offer(
    household: Household,
    home: Dwelling | None = None,
    *,
    overrides: list[Override] | None = None,
    day: float = 1,
    policy: RehousingPolicy = DEFAULT_POLICY,
) -> UUID:
    offer_id = uuid4()
    household.receive_offer(
        offer_id=offer_id,
        vacancy_id=uuid4(),
        dwelling=home or dwelling(),
        expires_at=at(day + 14),
        overrides=overrides or [],
        policy=policy,
        at=at(day),
        by=CONSULTANT,
    )
    return offer_id


def decline(
    household: Household, offer_id: UUID, *, by: DeclinedBy = DeclinedBy.HOUSEHOLD, day: float = 2
) -> None:
    household.decline_offer(
        offer_id=offer_id,
        declined_by=by,
        reason="Too far from the children's school",
        at=at(day),
        by=CONSULTANT,
    )


def new_events(household: Household) -> list[object]:
    return list(household.collect_events())


def test_every_rule_has_a_name_says_whether_it_may_be_overruled_and_cites_its_source() -> None:
    assert [(r.name, r.overridable) for r in RULES] == [
        ("one_live_offer", False),
        ("household_moved_permanently", False),
        ("municipality", True),
        ("suitable_size", True),
        ("offer_limit", True),
    ]
    assert "§ 86 stk. 2" in suitable_size.law
    assert "§ 86 a" in municipality.law


def test_a_suitable_offer_is_recorded_with_no_overrides() -> None:
    household = register()
    new_events(household)
    offer_id = offer(household)
    (received,) = new_events(household)
    assert isinstance(received, Household.OfferReceived)
    assert received.offer_id == offer_id
    assert received.overrides == []
    assert household.live_offer is not None
    assert household.live_offer.status == OfferStatus.LIVE


def test_a_dwelling_with_one_room_more_than_members_is_of_suitable_size() -> None:
    household = register()  # five members, previously four rooms
    offer(household, dwelling(rooms=6))
    assert household.live_offer is not None


def test_a_dwelling_with_as_many_rooms_as_members_is_refused_naming_the_numbers() -> None:
    household = register()
    with pytest.raises(OverrideRequired) as refused:
        offer(household, dwelling(rooms=5))
    assert refused.value.rule == "suitable_size"
    assert "Vacancy has 5 rooms; a household of 5 needs at least 6 rooms or its previous 4" in str(
        refused.value
    )
    assert household.offers == []


def test_a_dwelling_with_the_previous_number_of_rooms_is_of_suitable_size() -> None:
    household = register()
    offer(household, dwelling(rooms=4))
    assert household.live_offer is not None


def test_an_overridden_size_rule_is_recorded_in_the_event_and_on_the_offer() -> None:
    household = register()
    new_events(household)
    size = override("suitable_size")
    offer(household, dwelling(rooms=3), overrides=[size, override("offer_limit")])
    (received,) = new_events(household)
    assert received.overrides == [size]  # only the overrides actually used
    assert household.offers[0].overrides == [size]


def test_an_override_of_another_rule_does_not_cover_the_size_rule() -> None:
    household = register()
    with pytest.raises(OverrideRequired, match="suitable_size"):
        offer(household, dwelling(rooms=3), overrides=[override("municipality")])


def test_a_permanent_offer_outside_the_municipality_needs_an_override() -> None:
    household = register()
    with pytest.raises(OverrideRequired) as refused:
        offer(household, dwelling(place=AARHUS))
    assert refused.value.rule == "municipality"
    assert "Aarhus" in str(refused.value)
    assert "Odense" in str(refused.value)
    assert "§ 86 stk. 2" in str(refused.value)


def test_a_temporary_offer_outside_the_municipality_needs_the_tenants_agreement() -> None:
    household = register(rehousing=temporary())
    with pytest.raises(OverrideRequired, match="§ 86 a"):
        offer(household, dwelling(place=AARHUS))
    offer(household, dwelling(place=AARHUS), overrides=[override("municipality")])
    assert household.offers[0].overrides[0].rule == "municipality"


def test_the_municipality_is_compared_without_regard_to_case() -> None:
    household = register()
    offer(household, dwelling(place=Place(municipality="odense", area="Bolbro")))
    assert household.live_offer is not None


def test_a_household_has_one_live_offer_and_no_override_changes_that() -> None:
    household = register()
    offer(household)
    with pytest.raises(HouseholdHasLiveOffer, match="live offer"):
        offer(household, overrides=[override("one_live_offer")])


def test_a_household_that_moved_permanently_takes_no_more_offers() -> None:
    household = register()
    household.record_move(move=a_move(), at=at(1), by=CONSULTANT)
    with pytest.raises(HouseholdAlreadyMoved):
        offer(household, day=2, overrides=[override("household_moved_permanently")])


def test_permanent_rehousing_allows_two_decided_offers_then_needs_an_override() -> None:
    household = register()
    decline(household, offer(household, day=1), day=2)
    decline(household, offer(household, day=3), day=4)
    with pytest.raises(OverrideRequired) as refused:
        offer(household, day=5)
    assert refused.value.rule == "offer_limit"
    assert "decided on 2 offers; permanent rehousing allows 2" in str(refused.value)
    offer(household, day=5, overrides=[override("offer_limit")])
    assert household.offers[-1].overrides[0].rule == "offer_limit"


def test_temporary_rehousing_allows_one_decided_offer() -> None:
    household = register(rehousing=temporary())
    decline(household, offer(household, day=1), day=2)
    with pytest.raises(OverrideRequired, match="temporary rehousing allows 1"):
        offer(household, day=3)


def test_offers_declined_by_the_provider_or_expired_do_not_count_towards_the_limit() -> None:
    household = register(rehousing=temporary())
    decline(household, offer(household, day=1), by=DeclinedBy.PROVIDER, day=2)
    expired = offer(household, day=3)
    household.expire_offer(offer_id=expired, at=at(3 + 14))
    offer(household, day=20)
    assert [o.status for o in household.offers] == [
        OfferStatus.DECLINED_BY_PROVIDER,
        OfferStatus.EXPIRED,
        OfferStatus.LIVE,
    ]


def test_the_offer_limit_is_a_policy_setting() -> None:
    household = register()
    decline(household, offer(household, day=1), day=2)
    with pytest.raises(OverrideRequired, match="allows 1"):
        offer(household, day=3, policy=RehousingPolicy(offers_for_permanent=1))


def test_check_offer_raises_on_the_first_unoverridden_breach_in_rule_order() -> None:
    household = register(members=[Member(member_id=f"A{i}", kind=MemberKind.ADULT) for i in range(1, 6)])
    home = dwelling(rooms=2, place=AARHUS)
    with pytest.raises(OverrideRequired, match="municipality"):
        check_offer(household, home, DEFAULT_POLICY, [])
    with pytest.raises(OverrideRequired, match="suitable_size"):
        check_offer(household, home, DEFAULT_POLICY, [override("municipality")])
    both = [override("suitable_size"), override("municipality")]
    assert [o.rule for o in check_offer(household, home, DEFAULT_POLICY, both)] == [
        "municipality",
        "suitable_size",
    ]
    assert offer_limit.check(household, home, DEFAULT_POLICY) is None


def test_accepting_the_live_offer_records_offer_accepted() -> None:
    household = register()
    offer_id = offer(household)
    new_events(household)
    household.accept_offer(offer_id=offer_id, at=at(3), by=CONSULTANT)
    (accepted,) = new_events(household)
    assert isinstance(accepted, Household.OfferAccepted)
    assert accepted.offer_id == offer_id
    assert household.live_offer is None
    assert household.offers[0].status == OfferStatus.ACCEPTED


def test_an_offer_cannot_be_accepted_after_it_expired() -> None:
    household = register()
    offer_id = offer(household, day=1)
    with pytest.raises(OfferNotLive, match="expired"):
        household.accept_offer(offer_id=offer_id, at=at(15), by=CONSULTANT)


def test_an_offer_does_not_expire_before_its_time_and_expiry_carries_no_actor() -> None:
    household = register()
    offer_id = offer(household, day=1)
    with pytest.raises(RuleViolated, match="does not expire before"):
        household.expire_offer(offer_id=offer_id, at=at(14))
    new_events(household)
    household.expire_offer(offer_id=offer_id, at=at(15))
    (expired,) = new_events(household)
    assert isinstance(expired, Household.OfferExpired)
    assert not hasattr(expired, "by")


def test_a_decline_records_who_declined_and_the_reason() -> None:
    household = register()
    offer_id = offer(household)
    new_events(household)
    decline(household, offer_id)
    (declined,) = new_events(household)
    assert isinstance(declined, Household.OfferDeclined)
    assert declined.declined_by == DeclinedBy.HOUSEHOLD
    assert declined.reason == "Too far from the children's school"
    assert household.offers[0].reason == "Too far from the children's school"


def test_a_decline_needs_a_reason() -> None:
    household = register()
    offer_id = offer(household)
    with pytest.raises(InvalidInput, match="reason"):
        household.decline_offer(
            offer_id=offer_id, declined_by=DeclinedBy.HOUSEHOLD, reason="", at=at(2), by=CONSULTANT
        )


def test_answering_an_offer_that_is_not_live_is_refused() -> None:
    household = register()
    offer_id = offer(household)
    household.accept_offer(offer_id=offer_id, at=at(2), by=CONSULTANT)
    with pytest.raises(OfferNotLive):
        decline(household, offer_id, day=3)
    with pytest.raises(OfferNotLive):
        household.accept_offer(offer_id=uuid4(), at=at(3), by=CONSULTANT)


def test_an_offer_must_expire_after_it_is_made() -> None:
    household = register()
    with pytest.raises(RuleViolated, match="expire after"):
        household.receive_offer(
            offer_id=uuid4(),
            vacancy_id=uuid4(),
            dwelling=dwelling(),
            expires_at=at(1),
            overrides=[],
            policy=DEFAULT_POLICY,
            at=at(1),
            by=CONSULTANT,
        )
