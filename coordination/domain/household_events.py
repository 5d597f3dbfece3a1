"""The facts recorded about a household: the events of the Household aggregate (household.py).

Each is named in the Household class's body, where the eventsourcing library defines it again as
`Household.<name>` in household.py: that is the class stored events name (their topic,
`coordination.domain.household:Household.Moved`), never a name in this module. Changing an event's fields
needs a `class_version` and an upcast, as `OfferReceived` has.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from coordination.domain.household_values import (
    Enrolment,
    Member,
    Move,
    Need,
    Origin,
    Preferences,
    RehousingKind,
)
from coordination.domain.reasons import UNSPECIFIED
from coordination.domain.values import Actor, Consent, DeclinedBy, Dwelling, Holder, Override, Place
from coordination.domain.waterbed import AreaWarning


class Registered(Aggregate.Created):
    owner: str
    holder: Holder
    case_reference: str
    cpr_digest: str | None
    origin: Origin
    members: list[Member]
    needs: list[Need]
    language: str | None
    rehousing: RehousingKind
    termination_date: date
    preferences: Preferences
    consents: list[Consent]
    right_to_permanent: bool
    at: datetime
    by: Actor


class FirstContactMade(Aggregate.Event):
    at: datetime
    by: Actor


class AreasExplored(Aggregate.Event):
    areas: list[str]
    at: datetime
    by: Actor


class TasksFoundOutsideRehousing(Aggregate.Event):
    tasks: list[str]
    at: datetime
    by: Actor


class BridgeBuildingStarted(Aggregate.Event):
    at: datetime
    by: Actor


class OfferReceived(Aggregate.Event):
    """v2 added `warnings`: the re-concentration warnings the offer carried (and `overrides` covered)."""

    class_version = 2

    offer_id: UUID
    vacancy_id: UUID
    dwelling: Dwelling
    expires_at: datetime
    overrides: list[Override]
    warnings: list[AreaWarning]
    at: datetime
    by: Actor

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        # Offers made before the waterbed guard existed were never assessed, so they carried no warning.
        state["warnings"] = []


class OfferRequested(Aggregate.Event):
    """An offer of another organisation's vacancy was asked of its owner; the household holds the offer
    only once the owner reserves the vacancy (the OfferRequest with this id says how it stands)."""

    offer_id: UUID
    vacancy_id: UUID
    at: datetime
    by: Actor


class OfferAccepted(Aggregate.Event):
    offer_id: UUID
    at: datetime
    by: Actor


class OfferDeclined(Aggregate.Event):
    """v2 added `reason_code` (domain/reasons.py); the free text in `reason` became optional ("")."""

    class_version = 2

    offer_id: UUID
    declined_by: DeclinedBy
    reason_code: str
    reason: str
    at: datetime
    by: Actor

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        # Declined before reasons were coded: the free text stays, the code reads as unspecified.
        state["reason_code"] = UNSPECIFIED


class OfferExpired(Aggregate.Event):
    offer_id: UUID
    at: datetime


class Moved(Aggregate.Event):
    move: Move
    at: datetime
    by: Actor


class FollowUpVisitDone(Aggregate.Event):
    visited_on: date
    at: datetime
    by: Actor


class Settled(Aggregate.Event):
    at: datetime
    by: Actor


class ConsentGiven(Aggregate.Event):
    consent: Consent
    at: datetime
    by: Actor


class ConsentWithdrawn(Aggregate.Event):
    recipient: str
    purpose: str
    at: datetime
    by: Actor


class HandoffIssued(Aggregate.Event):
    referral_id: UUID
    to: Holder
    at: datetime
    by: Actor


class HandoffAcknowledged(Aggregate.Event):
    referral_id: UUID
    at: datetime
    by: Actor


class ChildEnrolled(Aggregate.Event):
    enrolment: Enrolment
    at: datetime
    by: Actor


class ContactPersonLinked(Aggregate.Event):
    link_id: UUID
    place: Place
    at: datetime
    by: Actor


class ContactPersonUnlinked(Aggregate.Event):
    link_id: UUID
    at: datetime
    by: Actor


class PracticalMattersInOrder(Aggregate.Event):
    note: str
    at: datetime
    by: Actor


class NoLongerAsksForHelp(Aggregate.Event):
    at: datetime
    by: Actor


class ErasureProposed(Aggregate.Event):
    """The retention period ended; a caseworker is to confirm the erasure (a timer event)."""

    retention_ended_on: date
    at: datetime


class Erased(Aggregate.Event):
    """The household's personal data was erased (GDPR art. 17): its key is deleted after this.

    v2 added `notified`: the organisations in the household's network when it was erased, each told
    of the erasure (the network itself is erased with the household, so it can no longer name them)."""

    class_version = 2

    legal_ground: str
    notified: list[str]
    at: datetime
    by: Actor

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        # Erased before networks were kept: the referrals about the household named whom to tell.
        state["notified"] = []
