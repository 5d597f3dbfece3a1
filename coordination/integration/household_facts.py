"""Integration events on `rehousing.household-facts.<owner>`: what others learn about a household that
its housing organisation records (docs/design.md §3's settlement criteria, the follow-up visit, settling).

Sent by the organisation that holds or serves the household (the bridge builder, a municipal
department) to the organisation that owns it; applied there with the reporter as the actor.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

from coordination.domain.household_values import Enrolment
from coordination.domain.values import Actor, Place
from coordination.integration.events import IntegrationEvent
from coordination.integration.topics import HOUSEHOLD_FACTS


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
