"""The steps recorded about a referral: the events of the Referral aggregate (referral.py).

Each is named in the Referral class's body, where the eventsourcing library defines it again as
`Referral.<name>` in referral.py: that is the class stored events name (their topic,
`coordination.domain.referral:Referral.Sent`), never a name in this module. Changing an event's fields
needs a `class_version` and an upcast.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from coordination.domain.referral_values import ReferralDetails, ReferralKind
from coordination.domain.values import Actor, Consent, DeclinedBy


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
    reason: str
    at: datetime
    by: Actor


class Declined(Aggregate.Event):
    declined_by: DeclinedBy
    reason: str
    at: datetime
    by: Actor


class DeclineOverridden(Aggregate.Event):
    reason: str
    acknowledge_by: datetime
    at: datetime
    by: Actor


class Redirected(Aggregate.Event):
    to: str
    reason: str
    consent: Consent | None
    acknowledge_by: datetime
    at: datetime
    by: Actor


class Withdrawn(Aggregate.Event):
    reason: str
    at: datetime
    by: Actor


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
