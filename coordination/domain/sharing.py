"""What a referral may carry about a household, per kind of recipient (data minimisation, docs/design.md §4).

This is the one place that decides which of the household's facts leave the node with a referral:
a daycare allocator learns one child's birth month, the date the place is needed and the new area,
and nothing about the household's health or finances.
"""

from __future__ import annotations

from datetime import date

from coordination.domain.errors import InvalidInput
from coordination.domain.household import Household
from coordination.domain.household_values import MemberKind, Need, OfferStatus
from coordination.domain.referral import ChildFacts, ReferralDetails, ReferralKind
from coordination.domain.values import Place

# The purpose a household's consent must name for each kind of referral.
PURPOSE = {kind: kind.value for kind in ReferralKind} | {
    ReferralKind.HANDOFF: ReferralKind.BRIDGE_BUILDING.value
}

# Needs a recipient of each kind may learn about; health needs go only to the bridge builder, who
# links the household to support, and to social and health services, and only under consent. The one
# table: the boundary's allow-lists (coordination.integration.allow_lists) check outgoing referrals
# against it too.
NEEDS_SHARED: dict[ReferralKind, frozenset[Need]] = {
    ReferralKind.BRIDGE_BUILDING: frozenset(Need),
    ReferralKind.HANDOFF: frozenset(Need),
    ReferralKind.DAYCARE_FAST_TRACK: frozenset(),
    ReferralKind.SCHOOL_CHANGE: frozenset({Need.SCHOOL_CHANGE, Need.INTERPRETER}),
    ReferralKind.JOBCENTRE: frozenset({Need.INTERPRETER}),
    ReferralKind.ELDERLY_HOUSING: frozenset(
        {Need.ELDERLY_DWELLING, Need.ACCESSIBLE_DWELLING, Need.PHYSICAL_HEALTH}
    ),
    ReferralKind.FINANCIAL_COUNSELLING: frozenset({Need.FINANCIAL_ADVICE, Need.INTERPRETER}),
    # Social services and the health services act on health needs, and only under a consent naming them.
    ReferralKind.SOCIAL_SERVICES: frozenset({Need.MENTAL_HEALTH, Need.FINANCIAL_ADVICE, Need.INTERPRETER}),
    ReferralKind.CITIZEN_SERVICE: frozenset({Need.FINANCIAL_ADVICE, Need.INTERPRETER}),
    ReferralKind.HEALTH: frozenset({Need.MENTAL_HEALTH, Need.PHYSICAL_HEALTH, Need.INTERPRETER}),
    ReferralKind.OTHER: frozenset({Need.INTERPRETER}),
}
_SHARES_LANGUAGE = frozenset(ReferralKind) - {ReferralKind.DAYCARE_FAST_TRACK, ReferralKind.ELDERLY_HOUSING}
_SHARES_SIZE = frozenset(
    {
        ReferralKind.BRIDGE_BUILDING,
        ReferralKind.HANDOFF,
        ReferralKind.ELDERLY_HOUSING,
        ReferralKind.FINANCIAL_COUNSELLING,
        ReferralKind.SOCIAL_SERVICES,
        ReferralKind.CITIZEN_SERVICE,  # housing benefit depends on the household's size
    }
)


def referral_details(
    household: Household,
    kind: ReferralKind,
    *,
    child_id: str | None = None,
    needed_from: date | None = None,
    note: str | None = None,
    urgent: bool = False,
) -> ReferralDetails:
    """The minimum the recipient of a `kind` referral needs to know about `household`."""
    kind = ReferralKind(kind)
    place = _new_area(household)
    needs = [need for need in household.needs if need in NEEDS_SHARED[kind]]
    return ReferralDetails(
        children=_children(household, kind, child_id),
        # str(), not .value: a household restored from a snapshot holds its needs as plain str.
        needs=[str(need) for need in needs],
        needed_from=needed_from,
        place=place,
        language=household.language
        if kind in _SHARES_LANGUAGE and Need.INTERPRETER in household.needs
        else None,
        household_size=len(household.members) if kind in _SHARES_SIZE else None,
        note=note,
        urgent=urgent,
    )


def _new_area(household: Household) -> Place | None:
    """Where the household will live: the move's area, or before it the accepted (or live) offer's."""
    if household.move is not None:
        return household.move.place
    accepted = [offer for offer in household.offers if offer.status == OfferStatus.ACCEPTED]
    offer = accepted[-1] if accepted else household.live_offer
    return offer.dwelling.place if offer is not None else None


def _children(household: Household, kind: ReferralKind, child_id: str | None) -> list[ChildFacts]:
    children = [m for m in household.members if m.kind == MemberKind.CHILD and m.birth_month is not None]
    if kind is ReferralKind.DAYCARE_FAST_TRACK:
        if child_id is None:
            raise InvalidInput("A daycare referral names the child it is for in child_id")
        child = next((m for m in children if m.member_id == child_id), None)
        if child is None:
            raise InvalidInput(
                "A daycare referral names one child of the household; {child_id!r} is not one",
                child_id=child_id,
            )
        children = [child]
    elif kind is ReferralKind.SCHOOL_CHANGE:
        children = [m for m in children if m.needs_school]
    elif kind not in (ReferralKind.BRIDGE_BUILDING, ReferralKind.HANDOFF):
        children = []
    return [ChildFacts(member_id=m.member_id, birth_month=m.birth_month) for m in children if m.birth_month]
