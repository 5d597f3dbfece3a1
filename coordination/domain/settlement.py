"""When the bridge holds: the settlement criteria of the 2023 report, each a named check of a Household."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from coordination.domain.household_values import InstitutionKind

if TYPE_CHECKING:
    from coordination.domain.household import Household

# Each criterion returns its gaps in words a caseworker can read; no gaps means it is met.
Criterion = Callable[["Household"], list[str]]


def moved(household: Household) -> list[str]:
    """Bridge work follows the household into the receiving area, so it cannot end before the move."""
    return [] if household.move is not None else ["the household has not moved yet"]


def children_enrolled(household: Household) -> list[str]:
    """ "Children are enrolled in new institutions and schools": every child needing one has one."""
    gaps = []
    for child in household.members:
        for needed, kind in (
            (child.needs_school, InstitutionKind.SCHOOL),
            (child.needs_daycare, InstitutionKind.DAYCARE),
        ):
            enrolled = any(
                e.member_id == child.member_id and e.institution_kind == kind for e in household.enrolments
            )
            if needed and not enrolled:
                gaps.append(f"child {child.member_id} is not enrolled in a new {kind}")
    return gaps


def contact_person_in_receiving_area(household: Household) -> list[str]:
    """ "At least one new contact person in the receiving area": the area of the latest move."""
    area = household.move.place if household.move is not None else None
    if area is not None and any(person.place == area for person in household.contact_persons):
        return []
    where = f"{area.area}, {area.municipality}" if area is not None else "the receiving area"
    return [f"no active contact person in {where}"]


def practical_matters_in_order(household: Household) -> list[str]:
    """ "Practical and economic matters are in order", as recorded by the bridge builder."""
    if household.practical_matters_note is not None:
        return []
    return ["practical and economic matters are not recorded as in order"]


def no_longer_asks_for_help(household: Household) -> list[str]:
    """ "The household no longer asks for help"."""
    return [] if household.no_longer_asks_for_help_at is not None else ["the household still asks for help"]


CRITERIA: tuple[Criterion, ...] = (
    moved,
    children_enrolled,
    contact_person_in_receiving_area,
    practical_matters_in_order,
    no_longer_asks_for_help,
)


def settlement_gaps(household: Household) -> list[str]:
    return [gap for criterion in CRITERIA for gap in criterion(household)]
