"""The rules a housing offer to a household must pass, as named objects (docs/design.md §8, almenlejeloven § 86)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from coordination.domain.errors import (
    HouseholdAlreadyMoved,
    HouseholdHasLiveOffer,
    OverrideRequired,
    RuleViolated,
    Sentence,
)
from coordination.domain.policy import RehousingPolicy
from coordination.domain.values import Dwelling, Override

if TYPE_CHECKING:
    from coordination.domain.household import Household

Check = Callable[["Household", Dwelling, RehousingPolicy], "Sentence | None"]


@dataclass(frozen=True)
class OfferRule:
    """One rule: its name (what an Override names), whether a caseworker may overrule it, and its check.

    `check` returns the problem in words a caseworker can read, or None when the offer passes.
    A rule that may not be overruled raises `refusal` instead of asking for an override.
    """

    name: str
    overridable: bool
    check: Check
    refusal: type[RuleViolated] = OverrideRequired

    @property
    def law(self) -> str:
        return (self.check.__doc__ or "").strip()


def offer_rule(
    *, overridable: bool, refusal: type[RuleViolated] = OverrideRequired
) -> Callable[[Check], OfferRule]:
    def wrap(check: Check) -> OfferRule:
        return OfferRule(name=check.__name__, overridable=overridable, check=check, refusal=refusal)

    return wrap


@offer_rule(overridable=False, refusal=HouseholdHasLiveOffer)
def one_live_offer(household: Household, dwelling: Dwelling, policy: RehousingPolicy) -> Sentence | None:
    """One offer at a time: the household answers (or the offer expires) before the next is made."""
    live = household.live_offer
    if live is None:
        return None
    return Sentence(
        "Household {case_reference} already has a live offer ({offer_id}, expires {expires_at}); it must be"
        " answered or expire first",
        case_reference=household.case_reference,
        offer_id=live.offer_id,
        expires_at=live.expires_at,
    )


@offer_rule(overridable=False, refusal=HouseholdAlreadyMoved)
def household_moved_permanently(
    household: Household, dwelling: Dwelling, policy: RehousingPolicy
) -> Sentence | None:
    """§ 86 stk. 1: the obligation to offer a replacement dwelling ends with the permanent rehousing."""
    if not household.moved_permanently:
        return None
    return Sentence(
        "Household {case_reference} has moved permanently and takes no more offers",
        case_reference=household.case_reference,
    )


@offer_rule(overridable=True)
def municipality(household: Household, dwelling: Dwelling, policy: RehousingPolicy) -> Sentence | None:
    """§ 86 stk. 2 (permanent), § 86 a (temporary, "unless the tenant agrees otherwise"): same municipality.

    Overridable because the household may itself want to move to another municipality.
    """
    wanted = household.origin.municipality
    offered = dwelling.place.municipality
    if same_municipality(offered, wanted):
        return None
    if household.rehousing.permanent:
        return Sentence(
            "Vacancy is in {offered}; permanent rehousing from {wanted} offers a dwelling in {wanted}"
            " (§ 86 stk. 2)",
            offered=offered,
            wanted=wanted,
        )
    return Sentence(
        "Vacancy is in {offered}; temporary rehousing from {wanted} offers a dwelling in {wanted} (§ 86 a)",
        offered=offered,
        wanted=wanted,
    )


@offer_rule(overridable=True)
def suitable_size(household: Household, dwelling: Dwelling, policy: RehousingPolicy) -> Sentence | None:
    """§ 86 stk. 2: suitable size = rooms ≥ household members + 1, or the previous dwelling's rooms."""
    members = len(household.members)
    previous = household.origin.previous_rooms
    if size_is_suitable(dwelling.rooms, members=members, previous_rooms=previous):
        return None
    return Sentence(
        "Vacancy has {rooms} rooms; a household of {members} needs at least {smallest} rooms or its previous"
        " {previous}",
        rooms=dwelling.rooms,
        members=members,
        smallest=smallest_suitable_rooms(members),
        previous=previous,
    )


def smallest_suitable_rooms(members: int) -> int:
    """§ 86 stk. 2: rooms ≥ household members + 1 (the other way to be suitable: the previous rooms)."""
    return members + 1


def size_is_suitable(rooms: int, *, members: int, previous_rooms: int) -> bool:
    """§ 86 stk. 2 on plain numbers, for read models that search vacancies without a Household."""
    return rooms >= smallest_suitable_rooms(members) or rooms == previous_rooms


def same_municipality(offered: str, wanted: str) -> bool:
    """§ 86 stk. 2 / § 86 a: municipalities compared as names, without regard to case."""
    return offered.casefold() == wanted.casefold()


@offer_rule(overridable=True)
def offer_limit(household: Household, dwelling: Dwelling, policy: RehousingPolicy) -> Sentence | None:
    """No statutory number: local practice is two offers for permanent rehousing, one for temporary (policy).

    Only offers the household decided on count; one the provider withdrew or that expired does not.
    """
    permanent = household.rehousing.permanent
    allowed = policy.offers_allowed(permanent=permanent)
    decided = household.offers_decided_by_household
    if decided < allowed:
        return None
    if permanent:
        return Sentence(
            "Household has decided on {decided} offers; permanent rehousing allows {allowed}",
            decided=decided,
            allowed=allowed,
        )
    return Sentence(
        "Household has decided on {decided} offers; temporary rehousing allows {allowed}",
        decided=decided,
        allowed=allowed,
    )


RULES: tuple[OfferRule, ...] = (
    one_live_offer,
    household_moved_permanently,
    municipality,
    suitable_size,
    offer_limit,
)


def check_offer(
    household: Household, dwelling: Dwelling, policy: RehousingPolicy, overrides: Sequence[Override]
) -> list[Override]:
    """The overrides the offer needs, in rule order; raises on the first broken rule that is not overruled."""
    used: list[Override] = []
    for rule in RULES:
        problem = rule.check(household, dwelling, policy)
        if problem is None:
            continue
        if not rule.overridable:
            raise rule.refusal(problem.template, **problem.params)
        override = next((o for o in overrides if o.rule == rule.name), None)
        if override is None:
            raise OverrideRequired(rule.name, problem.template, **problem.params)
        used.append(override)
    return used
