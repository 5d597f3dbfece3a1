"""What a referral is about and where it stands: kinds, statuses (with FHIR Task.status) and its details."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from coordination.domain.values import NonEmpty, Place, ReferralKind, Value, YearMonth

__all__ = [
    "ChildFacts",
    "DaycarePlace",
    "PlaceAnswer",
    "ReferralDetails",
    "ReferralKind",
    "ReferralStatus",
    "ReferralStep",
]


class ReferralStatus(StrEnum):
    """Where a referral is in its closed loop (docs/design.md §8), each mapped to an HL7 FHIR Task.status."""

    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    DECLINED_BY_RECEIVER = "declined_by_receiver"
    DECLINED_BY_HOUSEHOLD = "declined_by_household"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    COMPLETED = "completed"
    ENTERED_IN_ERROR = "entered_in_error"

    @property
    def fhir_status(self) -> str:
        return _FHIR_TASK_STATUS[self]

    @property
    def is_open(self) -> bool:
        return self in _OPEN

    @property
    def words(self) -> str:
        return self.value.replace("_", " ")


_FHIR_TASK_STATUS = {
    ReferralStatus.SENT: "requested",
    ReferralStatus.ACKNOWLEDGED: "received",
    ReferralStatus.ACCEPTED: "accepted",
    ReferralStatus.IN_PROGRESS: "in-progress",
    ReferralStatus.ON_HOLD: "on-hold",
    ReferralStatus.DECLINED_BY_RECEIVER: "rejected",
    ReferralStatus.DECLINED_BY_HOUSEHOLD: "cancelled",
    ReferralStatus.WITHDRAWN: "cancelled",
    ReferralStatus.EXPIRED: "failed",
    ReferralStatus.COMPLETED: "completed",
    ReferralStatus.ENTERED_IN_ERROR: "entered-in-error",
}
_OPEN = frozenset(
    {
        ReferralStatus.SENT,
        ReferralStatus.ACKNOWLEDGED,
        ReferralStatus.ACCEPTED,
        ReferralStatus.IN_PROGRESS,
        ReferralStatus.ON_HOLD,
    }
)


class ChildFacts(Value):
    """What a receiver may know about a child: the household's member id and the birth month, no name."""

    member_id: NonEmpty
    birth_month: YearMonth


class ReferralDetails(Value):
    """Only what the receiver needs to act (docs/design.md §4, data minimisation): no names, no CPR, no health."""

    children: list[ChildFacts] = Field(default_factory=list)
    needs: list[NonEmpty] = Field(default_factory=list)
    needed_from: date | None = None
    place: Place | None = None  # the new address's area, not the address
    language: NonEmpty | None = None
    household_size: int | None = Field(default=None, strict=True, ge=1, le=30)
    note: str | None = Field(default=None, max_length=500)  # a referral of kind `other`: what it asks
    # An acute evacuation: the policy's shorter deadlines apply (RehousingPolicy.urgent_*).
    urgent: bool = Field(default=False, strict=True)

    @model_serializer(mode="wrap")
    def _without_not_urgent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Written only when urgent: details stored, fingerprinted and sent before the flag existed read
        # and digest as they did, and a node that does not know the flag still reads a non-urgent referral.
        data: dict[str, Any] = handler(self)
        if not self.urgent:
            data.pop("urgent", None)
        return data


class ReferralStep(Value):
    """One line of a referral's history; organisation is None for a timer step.

    A Value rather than a NamedTuple: snapshot state goes through JSON, where a tuple comes back as a
    list and a StrEnum as a plain str; a Value comes back as itself, with its status a ReferralStatus.
    """

    status: ReferralStatus
    at: datetime
    organisation: str | None
    # The coded reason of a decline, withdrawal, hold or override (domain/reasons.py), and its free text.
    reason_code: str | None = None
    reason: str | None = None


class PlaceAnswer(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"


class DaycarePlace(Value):
    """The daycare place offered for the child of a fast-track referral, and the family's answer."""

    institution: NonEmpty
    starts_on: date
    priority_reason: str  # referral_daycare.PRIORITY_REASONS: "rehousing" is "i forbindelse med genhusning"
    counts_under_26a: bool  # the child lives in an area on the list of dagtilbudsloven § 26 a, stk. 2
    offered_at: datetime
    answer: PlaceAnswer | None = None
    answered_at: datetime | None = None
    reason_code: str | None = None  # a decline's (domain/reasons.py)
