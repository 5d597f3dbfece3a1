"""Builders for Household tests: the Odense reference family (`ops.reference_family`, docs/design.md §6)
registered at T0, and dwellings and moves to try on it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from coordination.domain.household import (
    Household,
    Member,
    Move,
    Origin,
    Permanence,
    Preferences,
    RehousingKind,
    Scope,
)
from coordination.domain.values import (
    Actor,
    Address,
    Consent,
    Dwelling,
    Holder,
    Money,
    Place,
    Role,
)
from ops.reference_family import ODENSE_C, VOLLSMOSE, mother_and_four_children

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
CONSULTANT = Actor(organisation="CIVICA", person="gk-17", role=Role.REHOUSING_CONSULTANT)
BRIDGE_BUILDER = Actor(organisation="Odense bridge builders", person="bb-3", role=Role.BRIDGE_BUILDER)
BRIDGE_HOLDER = Holder(organisation="Odense bridge builders", role=Role.BRIDGE_BUILDER)
CENTRAL_ODENSE = ODENSE_C


def at(days: float = 0) -> datetime:
    return T0 + timedelta(days=days)


def permanent() -> RehousingKind:
    return RehousingKind(scope=Scope.EXTERNAL, permanence=Permanence.PERMANENT)


def temporary(months: int | None = 6) -> RehousingKind:
    return RehousingKind(scope=Scope.INTERNAL, permanence=Permanence.TEMPORARY, expected_months=months)


def register(
    *,
    members: list[Member] | None = None,
    rehousing: RehousingKind | None = None,
    origin: Origin = VOLLSMOSE,
    by: Actor = CONSULTANT,
    id: UUID | None = None,
) -> Household:
    return Household.register(
        id=id or uuid4(),
        case_reference="CIVICA-2026-0042",
        cpr_digest="sha256:9f2c",
        origin=origin,
        members=mother_and_four_children() if members is None else members,
        needs=[],
        language="ar",
        rehousing=rehousing or permanent(),
        termination_date=date(2026, 12, 31),
        preferences=Preferences(areas=["Odense C"], min_rooms=5),
        consents=[
            Consent(recipient="Odense bridge builders", purpose="bridge_building", given_on=date(2026, 6, 1))
        ],
        at=at(),
        by=by,
    )


def dwelling(*, rooms: int = 6, place: Place = CENTRAL_ODENSE, rent: str = "7800") -> Dwelling:
    return Dwelling(
        estate="Ejerslykke",
        address=Address(street="Ejerslykkevej 3, 2. th", postcode="5000", city="Odense C"),
        place=place,
        rooms=rooms,
        area_m2=Decimal("112.5"),
        rent=Money(dkk=Decimal(rent)),
        available_from=date(2026, 9, 1),
    )


def a_move(
    *,
    permanent: bool = True,
    moved_on: date = date(2026, 9, 1),
    place: Place = CENTRAL_ODENSE,
    new_rent: str = "7800",
) -> Move:
    return Move(
        new_address=Address(street="Ejerslykkevej 3, 2. th", postcode="5000", city="Odense C"),
        place=place,
        moved_on=moved_on,
        old_rent=Money(dkk=Decimal("6400")),
        new_rent=Money(dkk=Decimal(new_rent)),
        rooms=6,
        permanent=permanent,
    )
