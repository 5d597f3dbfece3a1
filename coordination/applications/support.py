"""Support links: a household linked to a mentor, a club, a homework café or a local contact person."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from coordination.applications.base import NodeApplication, derived_id
from coordination.domain.support_link import SupportLink, SupportOffer
from coordination.domain.values import Actor

SUPPORT_LINK = "support link"


class SupportDesk(NodeApplication):
    """Proposing, activating and ending support links (bridge builders and civil-society actors)."""

    def propose_support_link(
        self,
        *,
        command_id: UUID,
        household_id: UUID,
        offer: SupportOffer,
        contact_person: bool = False,
        at: datetime,
        by: Actor,
    ) -> UUID:
        link_id = derived_id("support-link", self.organisation, command_id)

        def work() -> tuple[UUID, list[Aggregate]]:
            link = SupportLink.propose(
                id=link_id,
                household_id=household_id,
                offer=offer,
                contact_person=contact_person,
                at=at,
                by=by,
            )
            return link_id, [link]

        arguments = dict(household_id=household_id, offer=offer, contact_person=contact_person, at=at, by=by)
        self._once("propose_support_link", command_id, arguments, work)
        return link_id

    def activate_support_link(self, *, command_id: UUID, link_id: UUID, at: datetime, by: Actor) -> UUID:
        return self._change(
            SupportLink,
            SUPPORT_LINK,
            command="activate_support_link",
            command_id=command_id,
            aggregate_id=link_id,
            at=at,
            by=by,
            decide=lambda s: s.activate(at=at, by=by),
        )

    def end_support_link(
        self, *, command_id: UUID, link_id: UUID, reason: str, at: datetime, by: Actor
    ) -> UUID:
        return self._change(
            SupportLink,
            SUPPORT_LINK,
            command="end_support_link",
            command_id=command_id,
            aggregate_id=link_id,
            at=at,
            by=by,
            decide=lambda s: s.end(reason=reason, at=at, by=by),
            reason=reason,
        )
