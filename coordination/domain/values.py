"""Small frozen values shared by the aggregates (pydantic models, validated on creation)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue

from coordination.domain.errors import InvalidInput

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]
_REASON: TypeAdapter[str] = TypeAdapter(Reason)

# Python's int(), Decimal() and str.isdigit() take any Unicode digit (Arabic-Indic ones, say) and
# underscores ("5_000"), and pydantic's lax mode takes true for 1 and "3" for 3. The edge takes numbers
# as JSON numbers and amounts as plain decimal text in ASCII, so a slip is refused rather than misread.
# These are Annotated metadata, not validator methods: loading a stored value never re-checks it
# (adapters/eventstore/value_decoding.py), so whatever was stored before keeps loading.
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _plain_decimal(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("an amount is a number, not true or false")
    if isinstance(value, str) and not _PLAIN_DECIMAL.fullmatch(value):
        raise ValueError("an amount is plain decimal text in ASCII digits, e.g. 5000 or 5000.50")
    return value


class _PlainDecimalSchema:
    """Says in the JSON schema what _plain_decimal checks: the text form of an amount is ASCII digits."""

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        generated = handler(schema)
        for option in generated.get("anyOf", [generated]):
            if option.get("type") == "string":
                option["pattern"] = f"^{_PLAIN_DECIMAL.pattern}$"
        return generated


Amount = Annotated[Decimal, BeforeValidator(_plain_decimal), _PlainDecimalSchema()]
Digits4 = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]  # [0-9], not \d: ASCII only


def Count(*, ge: int, le: int) -> Any:  # noqa: N802 - reads as a type at the field
    """A whole number as a JSON integer: true, 3.0 and "3" are refused (strict), within [ge, le]."""
    return Field(strict=True, ge=ge, le=le)


def checked_reason(text: str, *, what: str = "reason") -> str:
    """A caseworker's free-text reason: required, 3 to 2000 characters."""
    try:
        return _REASON.validate_python(text)
    except ValidationError:
        raise InvalidInput(f"A {what} of 3 to 2000 characters is required, got {text!r:.40}") from None


class Value(BaseModel):
    """Base of every domain value: immutable, validated, no extra fields.

    Every subclass is registered with the event store's transcoder under its
    class name (see adapters/eventstore/transcoding.py), so the class name is part of the
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
    # Steers placements across housing organisations from the municipality's picture (no household in it).
    MUNICIPAL_COORDINATOR = "municipal_coordinator"
    # Proposes and confirms the erasure of the households its organisation owns (two different people).
    DATA_PROTECTION = "data_protection"


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

    dkk: Amount = Field(ge=0, max_digits=12, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.dkk} DKK"


class YearMonth(Value):
    """A month of a year, e.g. a child's birth month (the day is not needed)."""

    year: int = Count(ge=1900, le=2200)
    month: int = Count(ge=1, le=12)

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


class Address(Value):
    """A postal address in Denmark."""

    street: NonEmpty
    postcode: Digits4
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


# Defined here rather than in referral_values.py (which re-exports it) because a Consent names one.
class ReferralKind(StrEnum):
    """What the receiving organisation is asked to do for the household."""

    BRIDGE_BUILDING = "bridge_building"
    HANDOFF = "handoff"  # the consultant hands the household to the bridge builder at the move
    DAYCARE_FAST_TRACK = "daycare_fast_track"
    SCHOOL_CHANGE = "school_change"
    JOBCENTRE = "jobcentre"
    ELDERLY_HOUSING = "elderly_housing"
    FINANCIAL_COUNSELLING = "financial_counselling"
    SOCIAL_SERVICES = "social_services"  # the municipality's social services (socialforvaltningen)
    CITIZEN_SERVICE = "citizen_service"  # borgerservice: housing benefit, deposit loan
    HEALTH = "health"  # the municipality's health services
    OTHER = "other"  # anything else, described in the referral's note


# A handoff rests on the consent to bridge building (domain/sharing.py PURPOSE), so no consent names it.
CONSENT_PURPOSES = tuple(kind.value for kind in ReferralKind if kind is not ReferralKind.HANDOFF)


# What an erased or sealed text reads as (domain/personal_fields.py): a consent's purpose may be it, so
# that an erased household or a sealed referral still validates; a command never takes it (household.py).
ERASED = "[erased]"


def _known_purpose(purpose: str) -> str:
    if purpose not in CONSENT_PURPOSES and purpose != ERASED:
        raise ValueError(f"a consent's purpose is a kind of referral: one of {', '.join(CONSENT_PURPOSES)}")
    return purpose


ConsentPurpose = Annotated[
    str,
    BeforeValidator(lambda value: value.strip().lower() if isinstance(value, str) else value),
    AfterValidator(_known_purpose),
    # "[erased]" is listed because sealed exchange messages and erased records carry it; commands refuse it.
    WithJsonSchema(
        {
            "type": "string",
            "enum": [*CONSENT_PURPOSES, ERASED],
            "description": "The kind of referral the consent is for (a handoff rests on bridge_building). "
            f"'{ERASED}' stands in for an erased or sealed purpose and is refused as input.",
        }
    ),
]


class Consent(Value):
    """The household's consent to share its data with a named recipient for a purpose (a referral kind)."""

    # Consents stored before the purpose was checked keep loading as they were (adapters/eventstore/value_decoding.py
    # does not re-validate); they were never consulted, as a referral looks for its own kind's purpose.

    recipient: Annotated[NonEmpty, AfterValidator(str.lower)]
    purpose: ConsentPurpose
    given_on: date


class Dwelling(Value):
    """The facts of a replacement dwelling that offers are judged by (no personal data)."""

    estate: NonEmpty
    address: Address
    place: Place
    rooms: int = Count(ge=1, le=20)
    area_m2: Amount = Field(gt=0, le=1000, max_digits=7, decimal_places=2)
    rent: Money
    available_from: date
    accessibility: Accessibility = Accessibility.NONE
    dwelling_type: DwellingType = DwellingType.FAMILY


class DeclinedBy(StrEnum):
    """Who said no to an offer or a referral (HMIS: client rejected / provider rejected)."""

    HOUSEHOLD = "household"
    PROVIDER = "provider"
