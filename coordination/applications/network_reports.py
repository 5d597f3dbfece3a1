"""The owner's check of the steps members report about its households (docs/design.md §4).

A member that is not the owner reports what the owner cannot see: the referrals it sent about the household
(a bridge builder's to the jobcentre, with the receiver's steps as its copy records them) and its support
links. The owner notes a report on the household's network only when the reporter's relation entitles it;
otherwise it records the refusal with its reason, and the refusal goes back to the reporter. Never applied
silently, never parked silently.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from coordination.applications.commands import Decision, command
from coordination.applications.network import NetworkKeeper
from coordination.domain.errors import NotPermitted
from coordination.domain.household import Household
from coordination.domain.network import Item, ItemKind, NetworkPicture, RefusedFact
from coordination.domain.support_link import SupportLinkStatus
from coordination.domain.values import Actor, Place


def report_refusal(picture: NetworkPicture, item: Item, reporter: str) -> str | None:
    """Why `reporter` may not report `item` on this network, in a sentence; None if it may.

    A referral's steps are its referrer's to report, and a new referral only from a current member; a
    support link's are its provider's (who joins the network through it). Handoffs are the owner's own.
    """
    known = next((i for i in picture.items if i.item_id == item.item_id), None)
    # The receiver may change (a redirected referral); the kind and who sent it may not.
    if known is not None and (known.kind, known.from_org) != (item.kind, item.from_org):
        return f"{known.kind} {item.item_id} was sent by {known.from_org}, as noted before"
    if item.kind is ItemKind.HANDOFF:
        return f"Only {picture.owner}, the owner, hands household {picture.household_id} off"
    if item.kind is ItemKind.SUPPORT_LINK:
        if reporter != item.to_org or item.from_org != item.to_org:
            return f"{reporter} does not provide support link {item.item_id} ({item.to_org} does)"
        return None
    if reporter != item.from_org:
        return f"{reporter} did not send referral {item.item_id} ({item.from_org} did)"
    if known is None and not picture.relations_of(reporter):
        return f"{reporter} is not in the network of household {picture.household_id}"
    return None


class NetworkReports(NetworkKeeper):
    """Applying members' reports to the networks of this node's households (the housing organisation)."""

    @command()
    def apply_network_report(
        self,
        *,
        command_id: UUID,
        household_id: UUID,
        item: Item,
        contact_person: Place | None = None,
        at: datetime,
        by: Actor,
    ) -> Decision[UUID]:
        """Note a member's step on the household's network, or record why it is refused. An activated
        contact-person link is also the household's contact person (and an ended one no longer)."""
        household = self._get(Household, household_id, "household")
        network = (
            self._network_for(household_id, at, {}, (household,))
            if household.owner == self.organisation
            else None
        )
        if network is None:  # not this node's household, or erased
            raise NotPermitted(
                "{organisation} keeps no network of household {household_id}",
                organisation=self.organisation,
                household_id=household_id,
            )
        reason = report_refusal(network.picture(), item, by.organisation)
        if reason is not None:
            network.refuse_fact(
                RefusedFact(
                    reporter=by.organisation,
                    fact_kind="support_link" if item.kind is ItemKind.SUPPORT_LINK else "referral",
                    reason=reason,
                    reported_at=at,
                    at=at,
                )
            )
            return network.id, [network]
        known = network.items.get(item.item_id)
        if known is not None and known.last_step_at > item.last_step_at:
            return network.id, []  # an older report arriving late: the network has the newer step
        network.note_item(item, at)
        changed: list[Aggregate] = [network]
        if contact_person is not None and self._contact_person_changed(
            household, item, contact_person, at, by
        ):
            changed.append(household)
        return network.id, changed

    @staticmethod
    def _contact_person_changed(
        household: Household, item: Item, place: Place, at: datetime, by: Actor
    ) -> bool:
        """Records (or ends) the link's person as the household's contact person; False if it already is
        (or is not): the bridge builder may have reported the same link as a fact as well."""
        linked = any(person.link_id == item.item_id for person in household.contact_persons)
        if item.state == SupportLinkStatus.ACTIVE and not linked:
            household.record_contact_person(link_id=item.item_id, place=place, at=at, by=by)
            return True
        if item.state == SupportLinkStatus.ENDED and linked:
            household.end_contact_person(link_id=item.item_id, at=at, by=by)
            return True
        return False
