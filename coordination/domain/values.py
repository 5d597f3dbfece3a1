"""Small frozen values shared by the aggregates (pydantic models, validated on creation)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from coordination.domain.errors import InvalidInput

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]
_REASON: TypeAdapter[str] = TypeAdapter(Reason)


def checked_reason(text: str, *, what: str = "reason") -> str:
    """A caseworker's free-text reason: required, 3 to 2000 characters."""
    try:
        return _REASON.validate_python(text)
    except ValidationError:
        raise InvalidInput(f"A {what} of 3 to 2000 characters is required, got {text!r:.40}") from None


class Value(BaseModel):
    """Base of every domain value: immutable, validated, no extra fields.

    Every subclass is registered with the event store's transcoder under its
    class name (see adapters/transcoding.py), so the class name is part of the
    stored data: rename one only with an alias there.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")


class Role(StrEnum):
    """The roles people act in; who may do what is decided by role."""

    REHOUSING_CONSULTANT = "rehousing_consultant"
    BRIDGE_BUILDER = "bridge_builder"
    DAYCARE_ALLOCATOR = "daycare_allocator"
    DEPARTMENT_CASEWORKER = "department_caseworker"
    COORDINATOR = "coordinator"
    CIVIL_ACTOR = "civil_actor"
    AUDITOR = "auditor"
    OPERATOR = "operator"
    SYSTEM = "system"  # timers: expiry of offers and referrals


class Actor(Value):
    """Who did something: a person (staff id, not a name) in a role at an organisation."""

    organisation: NonEmpty
    person: NonEmpty
    role: Role


class Holder(Value):
    """Who holds a household now: the organisation and the role responsible for it."""

    organisation: NonEmpty
    role: Role


class Money(Value):
    """An amount in Danish kroner, never negative."""

    dkk: Decimal = Field(ge=0, max_digits=12, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.dkk} DKK"


class YearMonth(Value):
    """A month of a year, e.g. a child's birth month (the day is not needed)."""

    year: int = Field(ge=1900, le=2200)
    month: int = Field(ge=1, le=12)

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


class Address(Value):
    """A postal address in Denmark."""

    street: NonEmpty
    postcode: Annotated[str, StringConstraints(pattern=r"^\d{4}$")]
    city: NonEmpty


class Place(Value):
    """A place on the map of rehousing: a named area within a municipality."""

    municipality: NonEmpty
    area: NonEmpty


class DwellingType(StrEnum):
    FAMILY = "family"
    ELDERLY = "elderly"
    YOUTH = "youth"


class Accessibility(StrEnum):
    NONE = "none"
    STEP_FREE = "step_free"
    WHEELCHAIR = "wheelchair"


class Override(Value):
    """A caseworker's explicit decision to overrule a rule, with the reason recorded."""

    rule: NonEmpty
    reason: Reason
    by: Actor


class Consent(Value):
    """The household's consent to share its data with a named recipient for a purpose."""

    recipient: NonEmpty
    purpose: NonEmpty
    given_on: date

    @field_validator("recipient", "purpose")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class Dwelling(Value):
    """The facts of a replacement dwelling that offers are judged by (no personal data)."""

    estate: NonEmpty
    address: Address
    place: Place
    rooms: int = Field(ge=1, le=20)
    area_m2: Decimal = Field(gt=0, le=1000, max_digits=7, decimal_places=2)
    rent: Money
    available_from: date
    accessibility: Accessibility = Accessibility.NONE
    dwelling_type: DwellingType = DwellingType.FAMILY


class DeclinedBy(StrEnum):
    """Who said no to an offer or a referral (HMIS: client rejected / provider rejected)."""

    HOUSEHOLD = "household"
    PROVIDER = "provider"
