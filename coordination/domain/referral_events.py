"""The steps recorded about a referral: the events of the Referral aggregate (referral.py).

Each is named in the Referral class's body, where the eventsourcing library defines it again as
`Referral.<name>` in referral.py: that is the class stored events name (their topic,
`coordination.domain.referral:Referral.Sent`), never a name in this module. Changing an event's fields
needs a `class_version` and an upcast.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from coordination.domain.reasons import UNSPECIFIED
from coordination.domain.referral_values import ReferralDetails, ReferralKind
from coordination.domain.values import Actor, Consent, DeclinedBy, Override


def _uncoded(state: dict[str, Any]) -> None:
    # Recorded before reasons were coded: the free text stays, the code reads as unspecified.
    state["reason_code"] = UNSPECIFIED


class Sent(Aggregate.Created):
    referrer: str
    receiver: str
    kind: ReferralKind
    household_id: UUID
    details: ReferralDetails
    consent: Consent | None
    legal_basis: str | None
    acknowledge_by: datetime
    complete_by: datetime
    at: datetime
    by: Actor


class Acknowledged(Aggregate.Event):
    at: datetime
    by: Actor


class Accepted(Aggregate.Event):
    assignee: str
    at: datetime
    by: Actor


class Started(Aggregate.Event):
    at: datetime
    by: Actor


class PutOnHold(Aggregate.Event):
    """v2 added `reason_code` (domain/reasons.py); the free text in `reason` became optional ("")."""

    class_version = 2

    reason_code: str
    reason: str
    at: datetime
    by: Actor

    upcast_v1_v2 = staticmethod(_uncoded)


class Declined(Aggregate.Event):
    """v2 added `reason_code` (domain/reasons.py); the free text in `reason` became optional ("")."""

    class_version = 2

    reason_code: str
    declined_by: DeclinedBy
    reason: str
    at: datetime
    by: Actor

    upcast_v1_v2 = staticmethod(_uncoded)


class DeclineOverridden(Aggregate.Event):
    """v2 added `reason_code` (domain/reasons.py); the free text in `reason` became optional ("")."""

    class_version = 2

    reason_code: str
    reason: str
    acknowledge_by: datetime
    at: datetime
    by: Actor

    upcast_v1_v2 = staticmethod(_uncoded)


class Redirected(Aggregate.Event):
    to: str
    reason: str
    consent: Consent | None
    acknowledge_by: datetime
    at: datetime
    by: Actor


class Withdrawn(Aggregate.Event):
    """v2 added `reason_code` (domain/reasons.py); the free text in `reason` became optional ("")."""

    class_version = 2

    reason_code: str
    reason: str
    at: datetime
    by: Actor

    upcast_v1_v2 = staticmethod(_uncoded)


class Expired(Aggregate.Event):
    reason: str
    at: datetime


class Completed(Aggregate.Event):
    outcome: str
    at: datetime
    by: Actor


class EnteredInError(Aggregate.Event):
    reason: str
    at: datetime
    by: Actor


# A daycare fast-track referral's place (referral_daycare.py): offered by the department, answered by the
# family; the child starts on the start date, whatever day the department completes the referral.


class PlaceOffered(Aggregate.Event):
    institution: str
    starts_on: date
    priority_reason: str
    counts_under_26a: bool
    overrides: list[Override]
    at: datetime
    by: Actor


class PlaceAccepted(Aggregate.Event):
    at: datetime
    by: Actor


class PlaceDeclined(Aggregate.Event):
    reason_code: str
    reason: str
    at: datetime
    by: Actor
