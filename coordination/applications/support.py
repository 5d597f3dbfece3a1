"""Support links: a household linked to a mentor, a club, a homework café or a local contact person."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from coordination.applications.base import NodeApplication, derived_id
from coordination.applications.commands import Decision, command
from coordination.domain.support_link import SupportLink, SupportOffer
from coordination.domain.values import Actor

SUPPORT_LINK = "support link"


def _owner_named_or_not(app: object, call: dict[str, Any]) -> dict[str, Any]:
    # A proposal naming no owner is fingerprinted as before the owner could be named (stored receipts
    # hold those fingerprints), so the argument is left out of it then.
    if call.get("household_owner") is None:
        call.pop("household_owner", None)
    return {}


class SupportDesk(NodeApplication):
    """Proposing, activating and ending support links (bridge builders and civil-society actors)."""

    @command(also=_owner_named_or_not)
    def propose_support_link(
        self,
        *,
        command_id: UUID,
        household_id: UUID,
        offer: SupportOffer,
        contact_person: bool = False,
        household_owner: str | None = None,
        at: datetime,
        by: Actor,
    ) -> Decision[UUID]:
        """`household_owner`: the housing organisation the link's steps are reported to (a provider not
        yet in the household's network has no copy of it to find the owner in)."""
        link = SupportLink.propose(
            id=derived_id("support-link", self.organisation, command_id),
            household_id=household_id,
            offer=offer,
            contact_person=contact_person,
            household_owner=household_owner,
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
