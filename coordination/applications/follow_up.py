"""Reporting what an organisation learns about a household another organisation owns (to its owner)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from coordination.applications.base import NodeApplication, derived_id
from coordination.domain.follow_up import FollowedHousehold, HouseholdFact
from coordination.domain.values import Actor


class FollowUpDesk(NodeApplication):
    """For the bridge builder and the municipal departments: facts that count for a household's settlement.

    Each fact is stored here first and published from this node's history to the owner's node, which
    records it on the household with this organisation's person as the actor.
    """

    def report_household_fact(
        self,
        *,
        command_id: UUID,
        household_id: UUID,
        owner: str,
        fact: HouseholdFact,
        at: datetime,
        by: Actor,
    ) -> UUID:
        followed_id = derived_id("followed-household", self.organisation, household_id)

        def work() -> tuple[UUID, list[Aggregate]]:
            if self._exists(followed_id):
                followed = self._get(FollowedHousehold, followed_id, "followed household")
            else:
                followed = FollowedHousehold.follow(
                    id=followed_id, household_id=household_id, owner=owner, at=at, by=by
                )
            followed.report(fact=fact, at=at, by=by)
            return followed_id, [followed]

        arguments = dict(household_id=household_id, owner=owner, fact=fact, at=at, by=by)
        self._once("report_household_fact", command_id, arguments, work)
        return followed_id
