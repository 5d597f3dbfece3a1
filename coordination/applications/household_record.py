"""Keeping a household's record true at its housing organisation's node: amendments of members, needs,
preferences and contact details, a temporary rehousing made permanent, a settled household reopened and a
follow-up visit the household declined (the rules in coordination/domain/household_record.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from coordination.applications.base import NodeApplication
from coordination.applications.commands import Decision, command
from coordination.domain.household import Household
from coordination.domain.household_values import ChildCpr, ContactDetails, Member, Need, Preferences
from coordination.domain.values import Actor
from coordination.personal_data import checked_cpr


class HouseholdRecordDesk(NodeApplication):
    """The owner's commands that change what a household was registered with."""

    def _household(self, household_id: UUID) -> Household:
        return self._get(Household, household_id, "household")

    @command(aggregate_id="household_id")
    def amend_members(
        self,
        *,
        command_id: UUID,
        household_id: UUID,
        members: Sequence[Member],
        reason: str,
        at: datetime,
        by: Actor,
    ) -> Decision[UUID]:
        household = self._household(household_id)
        household.amend_members(members=list(members), reason=reason, at=at, by=by)
        return household_id, [household]

    @command(aggregate_id="household_id")
    def amend_needs(
        self, *, command_id: UUID, household_id: UUID, needs: Sequence[Need], at: datetime, by: Actor
    ) -> Decision[UUID]:
        household = self._household(household_id)
        household.amend_needs(needs=list(needs), at=at, by=by)
        return household_id, [household]

    @command(aggregate_id="household_id")
    def amend_preferences(
        self, *, command_id: UUID, household_id: UUID, preferences: Preferences, at: datetime, by: Actor
    ) -> Decision[UUID]:
        household = self._household(household_id)
        household.amend_preferences(preferences=preferences, at=at, by=by)
        return household_id, [household]

    @command(aggregate_id="household_id")
    def record_contact_details(
        self, *, command_id: UUID, household_id: UUID, contact: ContactDetails, at: datetime, by: Actor
    ) -> Decision[UUID]:
        """The children's CPR numbers are checked here (the CPR rules are no domain's), kept compact."""
        children = [ChildCpr(member_id=c.member_id, cpr=checked_cpr(c.cpr)) for c in contact.children_cpr]
        household = self._household(household_id)
        household.record_contact_details(
            contact=contact.model_copy(update={"children_cpr": children}), at=at, by=by
        )
        return household_id, [household]

    @command(aggregate_id="household_id")
    def make_rehousing_permanent(
        self, *, command_id: UUID, household_id: UUID, at: datetime, by: Actor
    ) -> Decision[UUID]:
        household = self._household(household_id)
        household.make_rehousing_permanent(at=at, by=by)
        return household_id, [household]

    @command(aggregate_id="household_id")
    def reopen_household(
        self, *, command_id: UUID, household_id: UUID, reason: str, at: datetime, by: Actor
    ) -> Decision[UUID]:
        household = self._household(household_id)
        household.reopen(reason=reason, at=at, by=by)
        return household_id, [household]

    @command(aggregate_id="household_id")
    def record_follow_up_visit_declined(
        self, *, command_id: UUID, household_id: UUID, declined_on: date, at: datetime, by: Actor
    ) -> Decision[UUID]:
        household = self._household(household_id)
        household.record_follow_up_visit_declined(declined_on=declined_on, at=at, by=by)
        return household_id, [household]
