"""Reporting what an organisation learns about a household another organisation owns (to its owner)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from coordination.applications.base import NodeApplication, derived_id
from coordination.applications.commands import Decision, command
from coordination.domain.follow_up import FollowedHousehold, HouseholdFact
from coordination.domain.values import Actor


class FollowUpDesk(NodeApplication):
    """For the bridge builder and the municipal departments: facts that count for a household's settlement.

    Each fact is stored here first and published from this node's history to the owner's node, which
    records it on the household with this organisation's person as the actor.
    """

    @command()
    def report_household_fact(
        self,
        *,
        command_id: UUID,
        household_id: UUID,
        owner: str,
        fact: HouseholdFact,
        at: datetime,
        by: Actor,
    ) -> Decision[UUID]:
        followed = self._followed(household_id, owner, at, by)
        followed.report(fact=fact, at=at, by=by)
        return followed.id, [followed]

    def _followed(self, household_id: UUID, owner: str, at: datetime, by: Actor) -> FollowedHousehold:
        """This organisation's record of the household it reports on: the one it has, or a new one."""
        followed_id = derived_id("followed-household", self.organisation, household_id)
        if self._exists(followed_id):
            return self._get(FollowedHousehold, followed_id, "followed household")
        return FollowedHousehold.follow(id=followed_id, household_id=household_id, owner=owner, at=at, by=by)
