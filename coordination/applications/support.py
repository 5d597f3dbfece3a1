"""Support links: a household linked to a mentor, a club, a homework café or a local contact person."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from coordination.applications.base import NodeApplication, derived_id
from coordination.applications.commands import Decision, command
from coordination.domain.support_link import SupportLink, SupportOffer
from coordination.domain.values import Actor

SUPPORT_LINK = "support link"


class SupportDesk(NodeApplication):
    """Proposing, activating and ending support links (bridge builders and civil-society actors)."""

    @command()
    def propose_support_link(
        self,
        *,
        command_id: UUID,
        household_id: UUID,
        offer: SupportOffer,
        contact_person: bool = False,
        at: datetime,
        by: Actor,
    ) -> Decision[UUID]:
        link = SupportLink.propose(
            id=derived_id("support-link", self.organisation, command_id),
            household_id=household_id,
            offer=offer,
            contact_person=contact_person,
            at=at,
            by=by,
        )
        return link.id, [link]

    @command(aggregate_id="link_id")
    def activate_support_link(
        self, *, command_id: UUID, link_id: UUID, at: datetime, by: Actor
    ) -> Decision[UUID]:
        link = self._get(SupportLink, link_id, SUPPORT_LINK)
        link.activate(at=at, by=by)
        return link_id, [link]

    @command(aggregate_id="link_id")
    def end_support_link(
        self, *, command_id: UUID, link_id: UUID, reason: str, at: datetime, by: Actor
    ) -> Decision[UUID]:
        link = self._get(SupportLink, link_id, SUPPORT_LINK)
        link.end(reason=reason, at=at, by=by)
        return link_id, [link]
