"""Reporting what an organisation learns about a household another organisation owns (to its owner), and
what the owner made of each report."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from coordination.applications.base import NodeApplication, derived_id
from coordination.applications.commands import Decision, command
from coordination.applications.network import network_id
from coordination.domain.entitlement import ENROLMENT_REFERRALS, fact_refusal
from coordination.domain.follow_up import FactKind, FollowedHousehold, HouseholdFact, ReportedFact
from coordination.domain.network import NetworkCopy, NetworkPicture
from coordination.domain.values import Actor


class FollowUpDesk(NodeApplication):
    """For the bridge builder and the municipal departments: facts that count for a household's settlement.

    Each fact is stored here first and published from this node's history to the owner's node, which
    records it on the household with this organisation's person as the actor, or refuses it; its answer
    comes back here and is the fact's state (`reported`, `applied`, `refused: <reason>`).
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
        return followed.last_fact_id, [followed]

    @command()
    def record_fact_outcome(
        self,
        *,
        command_id: UUID,
        household_id: UUID,
        fact_id: UUID,
        reason: str | None,
        at: datetime,
        by: Actor,
    ) -> Decision[UUID]:
        """The owner's answer to a fact this organisation reported: applied (`reason` None) or refused."""
        followed = self._get(FollowedHousehold, self._followed_id(household_id), "followed household")
        followed.record_outcome(fact_id=fact_id, reason=reason, at=at, owner=by.organisation)
        return fact_id, [followed]

    def reported_facts(self, household_id: UUID) -> list[ReportedFact]:
        """The facts this organisation reported about the household, oldest first, each with its state."""
        followed_id = self._followed_id(household_id)
        if not self._exists(followed_id):
            return []
        return list(self._get(FollowedHousehold, followed_id, "followed household").reported.values())

    def fact_refusal(self, household_id: UUID, fact: HouseholdFact) -> str | None:
        """Why this organisation may not report `fact` by its copy of the household's network (no copy:
        not a member); None if it may. The owner checks again on receipt."""
        child = None if fact.enrolment is None else fact.enrolment.member_id
        named = {
            referral.id: [c.member_id for c in referral.details.children]
            for referral in self.referrals_about(household_id)
            if str(referral.kind) in ENROLMENT_REFERRALS
        }
        picture = self._copied_picture(household_id)
        return fact_refusal(
            FactKind(fact.kind), self.organisation, picture, child=child, named_children=named
        )

    def _copied_picture(self, household_id: UUID) -> NetworkPicture | None:
        """The picture of this node's copy of the household's network; None without one, or once the
        owner erased the household. (Not `_network_copy`: NetworkCopies, mixed into the same apps, has
        that name for the copy itself.)"""
        try:
            copy = self.repository.get(network_id(household_id))
        except AggregateNotFoundError:
            return None
        if not isinstance(copy, NetworkCopy) or getattr(copy, "forgotten_at", None) is not None:
            return None
        return copy.picture

    def _followed_id(self, household_id: UUID) -> UUID:
        return derived_id("followed-household", self.organisation, household_id)

    def _followed(self, household_id: UUID, owner: str, at: datetime, by: Actor) -> FollowedHousehold:
        """This organisation's record of the household it reports on: the one it has, or a new one."""
        followed_id = self._followed_id(household_id)
        if self._exists(followed_id):
            return self._get(FollowedHousehold, followed_id, "followed household")
        return FollowedHousehold.follow(id=followed_id, household_id=household_id, owner=owner, at=at, by=by)
