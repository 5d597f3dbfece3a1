"""The reference family of the Odense scenario (2023 report), written once for the scenario, the demo,
the benchmarks and the tests: a single mother in Vollsmose with four children (16, 12, 10 and 4 in June
2026), the organisations around her, the dwelling she is offered and the move into it.

No names, no CPR numbers: the children are known by birth month only, as the consultant registers them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from coordination.domain.household import (
    Member,
    MemberKind,
    Move,
    Need,
    Origin,
    Permanence,
    Preferences,
    RehousingKind,
    Scope,
)
from coordination.domain.values import Address, Consent, Dwelling, Money, Place, YearMonth

CIVICA = "civica"
BRIDGE_BUILDER = "odense-brobygning"
CHILDREN_AND_YOUTH = "odense-boern-og-unge"
KVINFO = "kvinfo-mentornetvaerk"

ODENSE_C = Place(municipality="Odense", area="Odense C")
VOLLSMOSE = Origin(
    estate="Bøgeparken", transformation_area="Vollsmose", municipality="Odense", previous_rooms=4
)
KOCHSGADE = Address(street="Kochsgade 31, 2. th", postcode="5000", city="Odense C")


def mother_and_four_children() -> list[Member]:
    """The mother (A1) and her children C1 to C4, by birth month; the three eldest change school, the
    youngest needs a daycare place."""
    return [
        Member(member_id="A1", kind=MemberKind.ADULT),
        Member(
            member_id="C1",
            kind=MemberKind.CHILD,
            birth_month=YearMonth(year=2010, month=3),
            needs_school=True,
        ),
        Member(
            member_id="C2",
            kind=MemberKind.CHILD,
            birth_month=YearMonth(year=2014, month=1),
            needs_school=True,
        ),
        Member(
            member_id="C3",
            kind=MemberKind.CHILD,
            birth_month=YearMonth(year=2016, month=5),
            needs_school=True,
        ),
        Member(
            member_id="C4",
            kind=MemberKind.CHILD,
            birth_month=YearMonth(year=2022, month=2),
            needs_daycare=True,
        ),
    ]


def the_family() -> dict[str, object]:
    """The household as the consultant registers it (the arguments of `register_household`)."""
    return dict(
        case_reference="CIV-2026-0412",
        origin=VOLLSMOSE,
        members=mother_and_four_children(),
        needs=[Need.SCHOOL_CHANGE, Need.DAYCARE, Need.INTERPRETER, Need.FINANCIAL_ADVICE],
        language="arabic",
        rehousing=RehousingKind(scope=Scope.EXTERNAL, permanence=Permanence.PERMANENT),
        termination_date=date(2026, 10, 31),
        preferences=Preferences(areas=["Odense C"], min_rooms=5, max_rent=Money(dkk=Decimal("8000"))),
        consents=[
            Consent(recipient=BRIDGE_BUILDER, purpose="bridge_building", given_on=date(2026, 6, 2)),
            Consent(recipient=CHILDREN_AND_YOUTH, purpose="daycare_fast_track", given_on=date(2026, 6, 2)),
            Consent(recipient=CHILDREN_AND_YOUTH, purpose="school_change", given_on=date(2026, 6, 2)),
        ],
    )


def the_dwelling() -> Dwelling:
    """The five rooms in central Odense the family is offered."""
    return Dwelling(
        estate="Kochsgade",
        address=KOCHSGADE,
        place=ODENSE_C,
        rooms=5,
        area_m2=Decimal("112"),
        rent=Money(dkk=Decimal("7650")),
        available_from=date(2026, 7, 15),
    )


def the_move() -> Move:
    """The family's move into the dwelling on the day it is available."""
    return Move(
        new_address=KOCHSGADE,
        place=ODENSE_C,
        moved_on=date(2026, 7, 15),
        old_rent=Money(dkk=Decimal("6120")),
        new_rent=Money(dkk=Decimal("7650")),
        rooms=5,
        permanent=True,
    )
