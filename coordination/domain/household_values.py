"""The values a Household is registered and judged by: members, origin, rehousing kind, offers, moves."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from pydantic import Field, model_validator

from coordination.domain.values import (
    Address,
    Count,
    Dwelling,
    Holder,
    Money,
    NonEmpty,
    Override,
    Place,
    Value,
    YearMonth,
)
from coordination.domain.waterbed import AreaWarning


class Need(StrEnum):
    """What the household needs beyond a dwelling (docs/design.md §3)."""

    SCHOOL_CHANGE = "school_change"
    DAYCARE = "daycare"
    ELDERLY_DWELLING = "elderly_dwelling"
    ACCESSIBLE_DWELLING = "accessible_dwelling"
    INTERPRETER = "interpreter"
    FINANCIAL_ADVICE = "financial_advice"
    MENTAL_HEALTH = "mental_health"
    PHYSICAL_HEALTH = "physical_health"


class MemberKind(StrEnum):
    ADULT = "adult"
    CHILD = "child"


class Member(Value):
    """A member of the household, by a short id ("A1", "C3") and never by name (data minimisation)."""

    member_id: str = Field(pattern=r"^[A-Za-z0-9]{1,8}$")
    kind: MemberKind
    # A month is enough for school year and daycare age; the day would identify the child.
    birth_month: YearMonth | None = None
    needs_school: bool = False
    needs_daycare: bool = False

    @model_validator(mode="after")
    def _children_have_birth_month(self) -> Member:
        if self.kind == MemberKind.CHILD and self.birth_month is None:
            raise ValueError(f"child {self.member_id} needs a birth month")
        if self.kind == MemberKind.ADULT and (self.needs_school or self.needs_daycare):
            raise ValueError(f"adult {self.member_id} cannot need school or daycare")
        return self


class Origin(Value):
    """Where the household is rehoused from: estate, transformation area, municipality, previous rooms."""

    estate: NonEmpty
    transformation_area: NonEmpty
    municipality: NonEmpty
    previous_rooms: int = Count(ge=1, le=20)


class Permanence(StrEnum):
    TEMPORARY = "temporary"
    PERMANENT = "permanent"


class Scope(StrEnum):
    INTERNAL = "internal"
    EXTERNAL = "external"


class RehousingKind(Value):
    """Internal or external, temporary (with its expected length) or permanent (almenlejeloven § 86)."""

    scope: Scope
    permanence: Permanence
    expected_months: int | None = Field(default=None, strict=True, ge=1, le=120)

    @model_validator(mode="after")
    def _only_temporary_has_length(self) -> RehousingKind:
        if self.permanence == Permanence.PERMANENT and self.expected_months is not None:
            raise ValueError("only temporary rehousing has an expected length in months")
        return self

    @property
    def permanent(self) -> bool:
        return self.permanence == Permanence.PERMANENT


class Preferences(Value):
    """The household's own wishes: the influence the 2020 article recommends it be given."""

    areas: list[NonEmpty] = []
    min_rooms: int | None = Field(default=None, strict=True, ge=1, le=20)
    max_rent: Money | None = None


class InstitutionKind(StrEnum):
    SCHOOL = "school"
    DAYCARE = "daycare"


class Enrolment(Value):
    """A child's place in a new school or daycare institution, as learned from the municipality."""

    member_id: NonEmpty
    institution_kind: InstitutionKind
    institution: NonEmpty
    starts_on: date


class OfferStatus(StrEnum):
    LIVE = "live"
    ACCEPTED = "accepted"
    DECLINED_BY_HOUSEHOLD = "declined_by_household"
    DECLINED_BY_PROVIDER = "declined_by_provider"
    EXPIRED = "expired"
    # An offer of another organisation's vacancy that its owner has not reserved (yet, or ever): shown with
    # the household's offers, never held by the household (the household's record starts at the reservation).
    REQUESTED = "requested"
    REFUSED = "refused"


class OfferRecord(Value):
    """A housing offer as the household saw it: the overrides that allowed it, its warnings, the answer."""

    offer_id: UUID
    vacancy_id: UUID
    dwelling: Dwelling
    expires_at: datetime
    status: OfferStatus = OfferStatus.LIVE
    overrides: list[Override] = []
    reason: str | None = None
    warnings: list[AreaWarning] = []  # the waterbed guard's, each covered by one of `overrides`
    reason_code: str | None = None  # a decline's coded reason (domain/reasons.py)

    @property
    def decided_by_household(self) -> bool:
        """Counts towards the offer limit: the household said yes or no (not the provider, not the clock)."""
        return self.status in (OfferStatus.ACCEPTED, OfferStatus.DECLINED_BY_HOUSEHOLD)


class Move(Value):
    """The move itself: new address and receiving area, rents before and after, temporary or permanent."""

    new_address: Address
    place: Place
    moved_on: date
    old_rent: Money
    new_rent: Money
    rooms: int = Count(ge=1, le=20)
    permanent: bool

    @property
    def rent_rise(self) -> bool:
        return self.new_rent.dkk > self.old_rent.dkk


class PendingHandoff(Value):
    """A handoff issued under a referral and not yet acknowledged by the receiving organisation."""

    referral_id: UUID
    to: Holder
    issued_at: datetime


class ContactPerson(Value):
    """An active contact person of the household (from a SupportLink) and where that person is."""

    link_id: UUID
    place: Place
