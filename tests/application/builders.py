"""Actors, times and inputs for driving the organisations' applications through their commands."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from coordination.applications.base import NodeApplication
from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.household import Member, MemberKind, Move, Need, Origin, Preferences
from coordination.domain.support_link import SupportKind, SupportOffer
from coordination.domain.values import Actor, Address, Consent, Dwelling, Money, Place, Role, YearMonth
from ops.bench.fixtures.household_builders import permanent

CIVICA = "civica"
BRIDGE = "odense-brobygning"
DAYCARE = "odense-pladsanvisning"
SCHOOLS = "odense-skoler"
JOBCENTRE = "jobcenter-odense"
ELDERLY = "odense-aeldreboliger"
DEBT = "odense-gaeldsraadgivning"

CONSULTANT = Actor(organisation=CIVICA, person="gk-17", role=Role.REHOUSING_CONSULTANT)
BRIDGE_BUILDER = Actor(organisation=BRIDGE, person="bb-3", role=Role.BRIDGE_BUILDER)
ALLOCATOR = Actor(organisation=DAYCARE, person="pa-4", role=Role.DAYCARE_ALLOCATOR)

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # a Monday
CASE_REFERENCE = "CIVICA-2026-0042"
STREET = "Ejerslykkevej 3, 2. th"
CPR = "070761-4285"  # valid in form and date; a made-up person
ODENSE_C = Place(municipality="Odense", area="Odense C")
VOLLSMOSE = Origin(
    estate="Bøgeparken", transformation_area="Vollsmose", municipality="Odense", previous_rooms=4
)
EVERY_PURPOSE = (
    (BRIDGE, "bridge_building"),
    (DAYCARE, "daycare_fast_track"),
    (SCHOOLS, "school_change"),
    (JOBCENTRE, "jobcentre"),
    (ELDERLY, "elderly_housing"),
    (DEBT, "financial_counselling"),
)


def at(days: float = 0, minutes: float = 0) -> datetime:
    return T0 + timedelta(days=days, minutes=minutes)


def cmd() -> UUID:
    return uuid4()


def family() -> list[Member]:
    """A mother with a 12-year-old who changes school and a 4-year-old who needs daycare."""
    return [
        Member(member_id="A1", kind=MemberKind.ADULT),
        Member(
            member_id="C1",
            kind=MemberKind.CHILD,
            birth_month=YearMonth(year=2014, month=1),
            needs_school=True,
        ),
        Member(
            member_id="C2",
            kind=MemberKind.CHILD,
            birth_month=YearMonth(year=2022, month=2),
            needs_daycare=True,
        ),
    ]


def consents(*recipients: str) -> list[Consent]:
    wanted = set(recipients) or {recipient for recipient, _ in EVERY_PURPOSE}
    return [
        Consent(recipient=recipient, purpose=purpose, given_on=date(2026, 5, 28))
        for recipient, purpose in EVERY_PURPOSE
        if recipient in wanted
    ]


def register_family(
    app: HousingOrganisationApp,
    *,
    command_id: UUID | None = None,
    given: list[Consent] | None = None,
    cpr: str | None = None,
    case_reference: str = CASE_REFERENCE,
    when: datetime = T0,
) -> UUID:
    return app.register_household(
        command_id=command_id or cmd(),
        case_reference=case_reference,
        origin=VOLLSMOSE,
        members=family(),
        needs=[Need.SCHOOL_CHANGE, Need.DAYCARE, Need.MENTAL_HEALTH, Need.INTERPRETER],
        language="ar",
        rehousing=permanent(),
        termination_date=date(2026, 12, 31),
        preferences=Preferences(areas=["Odense C"], min_rooms=4),
        consents=consents() if given is None else given,
        cpr=cpr,
        at=when,
        by=CONSULTANT,
    )


def dwelling(*, rooms: int = 5, street: str = STREET, rent: str = "7800") -> Dwelling:
    return Dwelling(
        estate="Ejerslykke",
        address=Address(street=street, postcode="5000", city="Odense C"),
        place=ODENSE_C,
        rooms=rooms,
        area_m2=Decimal("98.5"),
        rent=Money(dkk=Decimal(rent)),
        available_from=date(2026, 9, 1),
    )


def publish(app: HousingOrganisationApp, *, when: datetime = T0, rooms: int = 5) -> UUID:
    return app.publish_vacancy(command_id=cmd(), dwelling=dwelling(rooms=rooms), at=when, by=CONSULTANT)


def the_move(*, new_rent: str = "7800") -> Move:
    return Move(
        new_address=Address(street=STREET, postcode="5000", city="Odense C"),
        place=ODENSE_C,
        moved_on=date(2026, 9, 1),
        old_rent=Money(dkk=Decimal("6400")),
        new_rent=Money(dkk=Decimal(new_rent)),
        rooms=5,
        permanent=True,
    )


def local_contact(place: Place = ODENSE_C) -> SupportOffer:
    return SupportOffer(
        provider="Red Cross", service="neighbour contact", kind=SupportKind.CONTACT_PERSON, place=place
    )


def stored_events(app: NodeApplication, aggregate_id: UUID) -> list[Any]:
    """The aggregate's events as stored in the node's own log (not its pending events)."""
    return list(app.events.get(aggregate_id))


def event_names(app: NodeApplication, aggregate_id: UUID) -> list[str]:
    return [type(stored).__name__ for stored in stored_events(app, aggregate_id)]
