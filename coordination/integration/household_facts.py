"""Integration events on `rehousing.household-facts.<owner>`: what others learn about a household that
its housing organisation records (docs/design.md §3's settlement criteria, the follow-up visit, settling).

Sent by the organisation that holds or serves the household (the bridge builder, a municipal
department) to the organisation that owns it; applied there with the reporter as the actor if the
reporter's relation to the household entitles it to the fact (coordination/domain/entitlement.py).
Version 2 of each fact carries the reporter's id of the fact; the owner answers every fact with a
`FactOutcome` on `rehousing.network.<reporter>`: applied, or refused with the reason.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

from coordination.domain.follow_up import FactKind, HouseholdFact
from coordination.domain.household_values import Enrolment
from coordination.domain.values import Actor, Place
from coordination.integration.events import IntegrationEvent
from coordination.integration.topics import HOUSEHOLD_FACTS, NETWORK


class HouseholdFactReported(IntegrationEvent):
    """The fields every fact carries; a fact's own fields are the arguments of the owner's command."""

    topic: ClassVar[str] = HOUSEHOLD_FACTS

    household_id: UUID
    at: datetime
    by: Actor


class ChildEnrolmentReported(HouseholdFactReported):
    event_type: ClassVar[str] = "dk.rehousing.household.child_enrolled.v1"

    enrolment: Enrolment


class ContactPersonLinkReported(HouseholdFactReported):
    event_type: ClassVar[str] = "dk.rehousing.household.contact_person_linked.v1"

    link_id: UUID
    place: Place


class ContactPersonUnlinkReported(HouseholdFactReported):
    event_type: ClassVar[str] = "dk.rehousing.household.contact_person_unlinked.v1"

    link_id: UUID


class PracticalMattersReported(HouseholdFactReported):
    event_type: ClassVar[str] = "dk.rehousing.household.practical_matters_in_order.v1"

    note: str


class NoLongerAsksForHelpReported(HouseholdFactReported):
    event_type: ClassVar[str] = "dk.rehousing.household.no_longer_asks_for_help.v1"


class FollowUpVisitReported(HouseholdFactReported):
    event_type: ClassVar[str] = "dk.rehousing.household.follow_up_visit_done.v1"

    visited_on: date


class SettlementReported(HouseholdFactReported):
    """The holder judges that the bridge holds; the owner settles the household if its criteria agree."""

    event_type: ClassVar[str] = "dk.rehousing.household.settled.v1"


# Version 2: each fact with the reporter's id of it, so the owner's answer names the fact it answers.
# A v2 event extends its v1 class, so the owner applies both (dispatch finds the handler by the class's
# bases); a v1 fact from a node not yet upgraded is answered with no fact id.


class ChildEnrolmentReportedV2(ChildEnrolmentReported):
    event_type: ClassVar[str] = "dk.rehousing.household.child_enrolled.v2"

    fact_id: UUID


class ContactPersonLinkReportedV2(ContactPersonLinkReported):
    event_type: ClassVar[str] = "dk.rehousing.household.contact_person_linked.v2"

    fact_id: UUID


class ContactPersonUnlinkReportedV2(ContactPersonUnlinkReported):
    event_type: ClassVar[str] = "dk.rehousing.household.contact_person_unlinked.v2"

    fact_id: UUID


class PracticalMattersReportedV2(PracticalMattersReported):
    event_type: ClassVar[str] = "dk.rehousing.household.practical_matters_in_order.v2"

    fact_id: UUID


class NoLongerAsksForHelpReportedV2(NoLongerAsksForHelpReported):
    event_type: ClassVar[str] = "dk.rehousing.household.no_longer_asks_for_help.v2"

    fact_id: UUID


class FollowUpVisitReportedV2(FollowUpVisitReported):
    event_type: ClassVar[str] = "dk.rehousing.household.follow_up_visit_done.v2"

    fact_id: UUID


class SettlementReportedV2(SettlementReported):
    event_type: ClassVar[str] = "dk.rehousing.household.settled.v2"

    fact_id: UUID


class FactOutcome(IntegrationEvent):
    """The owner's answer to a reported fact: applied to the household, or refused with the reason (the
    reporter's relation does not entitle it to the fact, or the household refuses it)."""

    topic: ClassVar[str] = NETWORK
    event_type: ClassVar[str] = "dk.rehousing.household.fact_outcome.v1"

    household_id: UUID
    fact_id: UUID
    fact_kind: str
    applied: bool
    reason: str | None = None
    at: datetime
    by: Actor


# The kind of fact each message reports (a later version extends its earlier one's class).
KINDS: dict[type[HouseholdFactReported], FactKind] = {
    ChildEnrolmentReported: FactKind.CHILD_ENROLLED,
    ContactPersonLinkReported: FactKind.CONTACT_PERSON_LINKED,
    ContactPersonUnlinkReported: FactKind.CONTACT_PERSON_UNLINKED,
    PracticalMattersReported: FactKind.PRACTICAL_MATTERS_IN_ORDER,
    NoLongerAsksForHelpReported: FactKind.NO_LONGER_ASKS_FOR_HELP,
    FollowUpVisitReported: FactKind.FOLLOW_UP_VISIT_DONE,
    SettlementReported: FactKind.SETTLED,
}
# What the reporter publishes for each kind: the latest version.
REPORTED: dict[FactKind, type[HouseholdFactReported]] = {
    FactKind.CHILD_ENROLLED: ChildEnrolmentReportedV2,
    FactKind.CONTACT_PERSON_LINKED: ContactPersonLinkReportedV2,
    FactKind.CONTACT_PERSON_UNLINKED: ContactPersonUnlinkReportedV2,
    FactKind.PRACTICAL_MATTERS_IN_ORDER: PracticalMattersReportedV2,
    FactKind.NO_LONGER_ASKS_FOR_HELP: NoLongerAsksForHelpReportedV2,
    FactKind.FOLLOW_UP_VISIT_DONE: FollowUpVisitReportedV2,
    FactKind.SETTLED: SettlementReportedV2,
}
_FACT_FIELDS = tuple(name for name in HouseholdFact.model_fields if name != "kind")


def reported_fact(event: HouseholdFactReported) -> HouseholdFact:
    """The fact a message reports, as the reporter recorded it."""
    kind = next(KINDS[cls] for cls in type(event).__mro__ if cls in KINDS)
    fields = {name: getattr(event, name) for name in _FACT_FIELDS if name in type(event).model_fields}
    return HouseholdFact(kind=kind, **fields)


def fact_id_of(event: HouseholdFactReported) -> UUID | None:
    """The reporter's id of the fact (None from a reporter that sends version 1)."""
    value = getattr(event, "fact_id", None)
    return value if isinstance(value, UUID) else None
