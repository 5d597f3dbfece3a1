"""Erasure at the household's owner (GDPR art. 17): the erasure command and the retention timer."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from coordination.applications.base import NodeApplication, derived_id, require_time
from coordination.applications.commands import Decision, command
from coordination.applications.network import NetworkKeeper
from coordination.applications.timers import originators
from coordination.domain.calendar import add_months, copenhagen_day
from coordination.domain.household import Household
from coordination.domain.values import Actor


class ErasureDesk(NodeApplication):
    """A housing organisation's erasure of the households it owns, and the proposals of its retention timer.

    Erasing records Household.Erased (no personal data: the relay publishes it to every organisation the
    household was referred to), then deletes the household's key here, so everything personal stored about
    it at this node reads as erased; the hooks purge the views and parked messages that held it in clear,
    and delete this node's exchange key of the household (what it sent others stays sealed on the broker).
    """

    def erase_household(
        self, *, command_id: UUID, household_id: UUID, legal_ground: str, at: datetime, by: Actor
    ) -> UUID:
        self._record_erasure(
            command_id=command_id, household_id=household_id, legal_ground=legal_ground, at=at, by=by
        )
        # After the event is stored, and on every retry: a crash in between is completed by repeating.
        self.shred_household(household_id, at)
        return household_id

    @command("erase_household")
    def _record_erasure(
        self, *, command_id: UUID, household_id: UUID, legal_ground: str, at: datetime, by: Actor
    ) -> Decision[UUID]:
        household = self._get(Household, household_id, "household")
        household.erase(
            legal_ground=legal_ground, at=at, by=by, notified=self._network_of_erased(household_id)
        )
        return household_id, [household]

    def _network_of_erased(self, household_id: UUID) -> list[str]:
        """The organisations in the household's network as it stands before the erasure, which erases it
        too (none where this node keeps no networks)."""
        picture = self.network_picture(household_id) if isinstance(self, NetworkKeeper) else None
        return [] if picture is None else picture.organisations()

    def propose_erasures(self, *, now: datetime) -> list[UUID]:
        """Record ErasureProposed for every household past retention as of `now`; a caseworker confirms
        each with erase_household. Retention runs from settling, or from the last step recorded on an
        unsettled case (business time, so a replay or a second run decides the same)."""
        today = copenhagen_day(require_time(now))
        proposed = []
        for household_id in originators(self, Household.Registered):
            household = self._get(Household, household_id, "household")
            if getattr(household, "erased_at", None) or getattr(household, "erasure_proposed_at", None):
                continue
            if self._retention_ends(household) > today:
                continue
            command_id = derived_id("timer", "propose_erasure", household_id)
            self._propose_erasure(command_id=command_id, household_id=household_id, at=now)
            proposed.append(household_id)
        return proposed

    @command("propose_erasure")
    def _propose_erasure(self, *, command_id: UUID, household_id: UUID, at: datetime) -> Decision[UUID]:
        household = self._get(Household, household_id, "household")
        household.propose_erasure(retention_ended_on=self._retention_ends(household), at=at)
        return household_id, [household]

    def _retention_ends(self, household: Household) -> date:
        return add_months(_retention_starts(household), self.policy.retention_months)


def _retention_starts(household: Household) -> date:
    if household.settled_at is not None:
        return copenhagen_day(household.settled_at)
    stamps = [
        household.registered_at,
        household.first_contact_at,
        household.bridge_building_started_at,
        household.no_longer_asks_for_help_at,
    ]
    days = [copenhagen_day(stamp) for stamp in stamps if stamp is not None]
    days += [move.moved_on for move in household.moves] + list(household.follow_up_visits)
    return max(days)
