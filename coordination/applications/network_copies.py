"""A member's side of the networks of households it works with but does not own (every role).

Each member keeps the newest picture the owner sent of a household's network (`NetworkCopy`), answers the
household's status from it, and finds there whom to report its own steps to. What the owner refused of its
reports it records too (`RefusedReports`), so its API can say so. When the owner erases the household, the
copy is forgotten with whatever else this node holds of it.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from coordination.applications.base import NodeApplication, derived_id
from coordination.applications.commands import Decision, command
from coordination.applications.network import NetworkKeeper, network_id
from coordination.domain.errors import NotFound, NotPermitted
from coordination.domain.network import NetworkCopy, NetworkPicture, RefusedFact, RefusedReports
from coordination.domain.values import Actor


def refused_reports_id(household_id: UUID) -> UUID:
    return derived_id("network-refused-reports", household_id)


class NetworkCopies(NodeApplication):
    """Copies of the networks this organisation is a member of, and the refusals of what it reported."""

    # Queries

    def network_copy(self, household_id: UUID) -> NetworkPicture | None:
        """The newest picture the owner sent of the household's network; None if none came (or the
        household was erased)."""
        copy = self._network_copy(household_id)
        return None if copy is None or copy.forgotten_at is not None else copy.picture

    def known_network(self, household_id: UUID) -> NetworkPicture | None:
        """The household's network as this node knows it: its own as the owner, else its copy."""
        if isinstance(self, NetworkKeeper):
            own = self.network_picture(household_id)
            if own is not None:
                return own
        return self.network_copy(household_id)

    def refused_reports(self, household_id: UUID) -> list[RefusedFact]:
        """What the owner refused of the steps this node reported about the household, with its reasons."""
        try:
            reports = self._load(refused_reports_id(household_id))
        except AggregateNotFoundError:
            return []
        return list(reports.refusals) if isinstance(reports, RefusedReports) else []

    def _network_copy(self, household_id: UUID) -> NetworkCopy | None:
        try:
            copy = self._load(network_id(household_id))
        except AggregateNotFoundError:
            return None
        return copy if isinstance(copy, NetworkCopy) else None

    # Commands (from the owner, over the exchange)

    @command()
    def receive_network_picture(
        self, *, command_id: UUID, picture: NetworkPicture, at: datetime
    ) -> Decision[UUID]:
        """Keep the owner's picture if it is newer than the one kept (a late older one changes nothing)."""
        if picture.owner == self.organisation:
            raise NotPermitted(
                "{organisation} keeps its own households' networks; it takes no copy",
                organisation=self.organisation,
            )
        if not picture.is_member(self.organisation):
            raise NotPermitted(
                "{owner} sent {organisation} a network it is not in",
                owner=picture.owner,
                organisation=self.organisation,
            )
        copy = self._network_copy(picture.household_id)
        if copy is None:
            copy = NetworkCopy.receive(id=network_id(picture.household_id), picture=picture)
        elif copy.picture.owner != picture.owner:
            raise NotPermitted(
                "{sender} sent a picture of a household {owner} owns",
                sender=picture.owner,
                owner=copy.picture.owner,
            )
        else:
            copy.update(picture)
        return copy.id, [copy]

    @command()
    def record_refused_report(
        self, *, command_id: UUID, household_id: UUID, refusal: RefusedFact, at: datetime, by: Actor
    ) -> Decision[UUID]:
        """The household's owner (`by`) refused a step this node reported: kept with its reason."""
        if refusal.reporter != self.organisation:
            raise NotPermitted(
                "A refusal of {reporter}'s report reached {organisation}",
                reporter=refusal.reporter,
                organisation=self.organisation,
            )
        reports_id = refused_reports_id(household_id)
        try:
            reports = self._get(RefusedReports, reports_id, "refused reports")
        except NotFound:
            reports = RefusedReports.start(id=reports_id, household_id=household_id, owner=by.organisation)
        reports.record(refusal)
        return reports.id, [reports]

    def forget_household(self, *, command_id: UUID, household_id: UUID, at: datetime, by: Actor) -> UUID:
        """The owner erased the household: a member forgets it (its copy of the network too), whether or
        not the owner itself referred it here (a jobcentre the bridge builder referred it to, a mentor
        network through its link). Anyone else's notice goes the referral parties' way (shredding.py)."""
        copy = self._network_copy(household_id)
        if copy is None or copy.picture.owner != by.organisation:
            return super().forget_household(command_id=command_id, household_id=household_id, at=at, by=by)
        # The shredding comes before the receipt, as in shredding.py: a crash in between is applied again.
        if not self.has_handled(command_id) and self.household_keys is not None:
            self.shred_household(household_id, at)

        def work() -> tuple[UUID, list[NetworkCopy]]:
            kept = self._network_copy(household_id)
            assert kept is not None
            kept.forget(at)
            return household_id, [kept, *self._erasure_done(household_id, by.organisation, at)]

        self._once("forget_household", command_id, {"household_id": household_id, "at": at, "by": by}, work)
        return household_id
