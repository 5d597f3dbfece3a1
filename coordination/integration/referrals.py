"""Integration events on `rehousing.referrals.<organisation>`: a referral sent, and each step of its loop.

A referral travels to its receiver's topic; every later step goes to the topic of the other party
(the receiver's steps to the referrer, the referrer's to the receiver), who applies it to its own copy.
The details are the ones `coordination.domain.sharing` cut to what the receiver needs.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from coordination.domain.referral_values import ReferralDetails, ReferralKind
from coordination.domain.values import Actor, Consent, DeclinedBy, Override
from coordination.integration.events import IntegrationEvent
from coordination.integration.topics import REFERRALS

# Added after v1 with a default: a message from a node that did not code its reasons has none, and its
# free text is recorded as `other` (domain/reasons.py).
_REASON_CODE = "The reason's code (domain/reasons.py); absent from a sender that gave free text only"


class ReferralSent(IntegrationEvent):
    """A referral for the receiver's node to keep a copy of (also sent to a new receiver on redirect)."""

    event_type: ClassVar[str] = "dk.rehousing.referral.sent.v1"
    topic: ClassVar[str] = REFERRALS

    referral_id: UUID
    referrer: str
    receiver: str
    kind: ReferralKind
    household_id: UUID  # a random id: the receiver's handle for the household, meaningless elsewhere
    details: ReferralDetails
    consent: Consent | None
    legal_basis: str | None
    acknowledge_by: datetime
    complete_by: datetime
    at: datetime
    by: Actor


class ReferralStepTaken(IntegrationEvent):
    """The fields every step carries; a step's own fields are the arguments of the same step there."""

    topic: ClassVar[str] = REFERRALS

    referral_id: UUID
    at: datetime
    by: Actor


class ReferralAcknowledged(ReferralStepTaken):
    event_type: ClassVar[str] = "dk.rehousing.referral.acknowledged.v1"


class ReferralAccepted(ReferralStepTaken):
    event_type: ClassVar[str] = "dk.rehousing.referral.accepted.v1"

    assignee: str


class ReferralStarted(ReferralStepTaken):
    event_type: ClassVar[str] = "dk.rehousing.referral.started.v1"


class ReferralPutOnHold(ReferralStepTaken):
    event_type: ClassVar[str] = "dk.rehousing.referral.put_on_hold.v1"

    reason: str
    reason_code: str | None = Field(default=None, description=_REASON_CODE)


class ReferralDeclined(ReferralStepTaken):
    event_type: ClassVar[str] = "dk.rehousing.referral.declined.v1"

    declined_by: DeclinedBy
    reason: str
    reason_code: str | None = Field(default=None, description=_REASON_CODE)


class ReferralDeclineOverridden(ReferralStepTaken):
    event_type: ClassVar[str] = "dk.rehousing.referral.decline_overridden.v1"

    reason: str
    reason_code: str | None = Field(default=None, description=_REASON_CODE)


class ReferralRedirected(ReferralStepTaken):
    event_type: ClassVar[str] = "dk.rehousing.referral.redirected.v1"

    to: str
    reason: str
    consent: Consent | None


class ReferralWithdrawn(ReferralStepTaken):
    event_type: ClassVar[str] = "dk.rehousing.referral.withdrawn.v1"

    reason: str
    reason_code: str | None = Field(default=None, description=_REASON_CODE)


class ReferralCompleted(ReferralStepTaken):
    event_type: ClassVar[str] = "dk.rehousing.referral.completed.v1"

    outcome: str


class ReferralEnteredInError(ReferralStepTaken):
    event_type: ClassVar[str] = "dk.rehousing.referral.entered_in_error.v1"

    reason: str


class ReferralPlaceOffered(ReferralStepTaken):
    """The children and youth department offered a daycare place; § 26 a was checked where it was offered."""

    event_type: ClassVar[str] = "dk.rehousing.referral.place_offered.v1"

    institution: str
    starts_on: date
    priority_reason: str
    counts_under_26a: bool
    overrides: list[Override]


class ReferralPlaceAccepted(ReferralStepTaken):
    event_type: ClassVar[str] = "dk.rehousing.referral.place_accepted.v1"


class ReferralPlaceDeclined(ReferralStepTaken):
    event_type: ClassVar[str] = "dk.rehousing.referral.place_declined.v1"

    reason_code: str
    reason: str


class ReferralExpired(IntegrationEvent):
    """The referrer's timer expired the referral (not accepted by its due date); no person acted."""

    event_type: ClassVar[str] = "dk.rehousing.referral.expired.v1"
    topic: ClassVar[str] = REFERRALS

    referral_id: UUID
    at: datetime
