"""Erasure at the household's owner (GDPR art. 17): the erasure command and the retention timer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from coordination.applications.base import NodeApplication, derived_id, require_time
from coordination.applications.commands import Decision, command
from coordination.applications.network import NetworkKeeper
from coordination.applications.shredding import erasure_id
from coordination.applications.timers import originators
from coordination.domain.calendar import add_months, copenhagen_day
from coordination.domain.erasure import Erasure
from coordination.domain.errors import HouseholdErased, NotFound, NotPermitted
from coordination.domain.household import Household
from coordination.domain.values import Actor


@dataclass(frozen=True)
class ErasureView:
    """A household's erasure as the owner's data-protection role follows it: proposed (by a person, or by
    the retention timer), erasing (confirmed; waiting for the organisations in `not_confirmed`), complete."""

    household_id: UUID
    state: str
    proposed_at: datetime
    proposed_by: Actor | None  # None: the retention timer proposed it; a person adopts it by proposing
    legal_ground: str
    confirmed_at: datetime | None = None
    confirmed_by: Actor | None = None
    told: tuple[str, ...] = ()
    confirmed: tuple[str, ...] = ()
    not_confirmed: tuple[str, ...] = ()
    version: int = 0


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

    # Erasure as an operation: two people of the owner's data-protection role, every member confirming

    @command()
    def propose_household_erasure(
        self, *, command_id: UUID, household_id: UUID, legal_ground: str, at: datetime, by: Actor
    ) -> Decision[UUID]:
        """One person of the data-protection role proposes erasing a household this node owns (also one
        the retention timer proposed); another person confirms it."""
        household = self._get(Household, household_id, "household")
        if household.owner != self.organisation:
            raise NotPermitted(
                "{organisation} does not own household {household_id}",
                organisation=self.organisation,
                household_id=household_id,
            )
        if getattr(household, "erased_at", None) is not None:
            raise HouseholdErased(
                "Household {household_id} was erased at {erased_at}",
                household_id=household_id,
                erased_at=household.erased_at,
            )
        if self._erasure(household_id) is not None:
            raise HouseholdErased(
                "The erasure of household {household_id} is proposed already", household_id=household_id
            )
        erasure = Erasure.propose(
            id=erasure_id(household_id),
            household_id=household_id,
            owner=self.organisation,
            legal_ground=legal_ground,
            at=at,
            by=by,
        )
        return household_id, [erasure]

    def confirm_household_erasure(
        self, *, command_id: UUID, household_id: UUID, at: datetime, by: Actor
    ) -> UUID:
        """A second person of the data-protection role confirms the proposed erasure: the household is
        erased here, every organisation in its network is told, and each confirms back."""
        self._confirm_erasure(command_id=command_id, household_id=household_id, at=at, by=by)
        self.shred_household(household_id, at)  # as erase_household: after the event, on every retry
        return household_id

    @command("confirm_household_erasure")
    def _confirm_erasure(
        self, *, command_id: UUID, household_id: UUID, at: datetime, by: Actor
    ) -> Decision[UUID]:
        erasure = self._erasure(household_id)
        if erasure is None:
            raise NotFound(
                "No erasure of household {household_id} is proposed at {organisation}",
                household_id=household_id,
                organisation=self.organisation,
            )
        household = self._get(Household, household_id, "household")
        notified = self._network_of_erased(household_id)
        told = [*notified, *self._referral_parties(household_id)]
        erasure.confirm(awaiting=[org for org in told if org], at=at, by=by)
        household.erase(legal_ground=erasure.legal_ground, at=at, by=by, notified=notified)
        return household_id, [erasure, household]

    @command()
    def record_erasure_confirmed(
        self, *, command_id: UUID, household_id: UUID, at: datetime, by: Actor
    ) -> Decision[UUID]:
        """An organisation told of the erasure (`by`) erased the household too."""
        erasure = self._erasure(household_id)
        if erasure is None:
            household = self._get(Household, household_id, "household")
            if getattr(household, "erased_at", None) is None:
                raise NotPermitted(
                    "{organisation} erased no household {household_id}",
                    organisation=self.organisation,
                    household_id=household_id,
                )
            return household_id, []  # erased by erase_household, which follows no confirmations
        erasure.member_confirmed(by.organisation, at)
        return household_id, [erasure]

    def erasure(self, household_id: UUID) -> ErasureView:
        """The erasure of one household (proposed by a person or the timer), or NotFound."""
        found = next((view for view in self.erasures() if view.household_id == household_id), None)
        if found is None:
            raise NotFound(
                "No erasure of household {household_id} is proposed at {organisation}",
                household_id=household_id,
                organisation=self.organisation,
            )
        return found

    def erasures(self) -> list[ErasureView]:
        """Every erasure proposed here, by people and by the retention timer, oldest first."""
        views: dict[UUID, ErasureView] = {}
        for aggregate_id in originators(self, Erasure.Proposed):
            erasure = self._get(Erasure, aggregate_id, "erasure")
            views[erasure.household_id] = _erasure_view(erasure)
        for household_id in originators(self, Household.ErasureProposed):
            if household_id in views:
                continue
            household = self._get(Household, household_id, "household")
            erased_at = getattr(household, "erased_at", None)
            views[household_id] = ErasureView(
                household_id=household_id,
                state="erased" if erased_at is not None else "proposed",
                proposed_at=household.erasure_proposed_at,
                proposed_by=None,
                legal_ground=f"retention ended on {self._retention_ends(household).isoformat()}",
                confirmed_at=erased_at,
                version=0,
            )
        return sorted(views.values(), key=lambda view: (view.proposed_at, str(view.household_id)))

    def _erasure(self, household_id: UUID) -> Erasure | None:
        try:
            return self._get(Erasure, erasure_id(household_id), "erasure")
        except NotFound:
            return None

    def _referral_parties(self, household_id: UUID) -> list[str]:
        # Those the outbound relay tells of the erasure besides the network (Outbound._household_erased).
        parties: list[str] = []
        for referral in self.referrals_about(household_id):
            parties += [referral.receiver, *(step.organisation for step in referral.history)]
        return parties

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


def _erasure_view(erasure: Erasure) -> ErasureView:
    return ErasureView(
        household_id=erasure.household_id,
        state=erasure.state,
        proposed_at=erasure.proposed_at,
        proposed_by=erasure.proposed_by,
        legal_ground=erasure.legal_ground,
        confirmed_at=erasure.confirmed_at,
        confirmed_by=erasure.confirmed_by,
        told=tuple(erasure.awaiting),
        confirmed=tuple(org for org in erasure.awaiting if org in erasure.confirmed_by_members),
        not_confirmed=tuple(erasure.not_confirmed),
        version=erasure.version,
    )


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
