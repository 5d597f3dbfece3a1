"""Which stored events become messages between a household's owner and the other members of its network.

* At the owner: each change of a `HouseholdNetwork` becomes the picture of the network at that version, to
  every organisation that is or was in it (not to itself); a refused report goes back to its reporter.
* At a member that does not own the household: each event of a referral it sent about the household (its
  own steps and the receiver's, as its copy records them), and each step of a support link it provides,
  becomes a step report to the owner, who finds no other way to see it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from coordination.applications.base import NodeApplication
from coordination.applications.network import NetworkKeeper, referral_item
from coordination.applications.network_copies import NetworkCopies
from coordination.domain.network import HouseholdNetwork, Item, ItemKind
from coordination.domain.referral import Referral
from coordination.domain.support_link import SupportLink, SupportLinkStatus
from coordination.domain.values import Actor, Role
from coordination.integration import network as n
from coordination.integration.events import Addressed
from coordination.integration.topics import Topics

# The fact kinds of refused reports (a household fact's refusal goes back its own way).
REPORT_KINDS = frozenset({"referral", str(ItemKind.SUPPORT_LINK)})

Mapping = Callable[[Any], list[Addressed]]


def support_link_item(link: SupportLink, last_step_at: Any) -> Item:
    """A support link as the network notes it: proposed is pending; an active link is ongoing support."""
    return Item(
        item_id=link.id,
        kind=ItemKind.SUPPORT_LINK,
        subtype=str(link.offer.kind),
        from_org=link.owner,
        to_org=link.owner,
        state=str(link.status),
        open=link.status == SupportLinkStatus.PROPOSED,
        opened_at=link.proposed_at,
        last_step_at=last_step_at,
    )


class NetworkMessages:
    """The network's part of a node's `Outbound` (its own table, merged into the Outbound's)."""

    def __init__(self, app: NodeApplication, topics: Topics, at_version: Callable[[Any], Any]) -> None:
        self.app = app
        self.topics = topics
        self.organisation = app.organisation
        self._at_version = at_version

    def mapping(self) -> dict[type[Any], Mapping]:
        """Event types only the network publishes."""
        return {
            HouseholdNetwork.Opened: self._network_changed,
            HouseholdNetwork.HouseholdNoted: self._network_changed,
            HouseholdNetwork.ItemNoted: self._network_changed,
            HouseholdNetwork.MemberJoined: self._network_changed,
            HouseholdNetwork.RelationEnded: self._network_changed,
            HouseholdNetwork.FactRefused: self._report_refused,
            SupportLink.Proposed: self._support_link_step,
            SupportLink.Activated: self._support_link_step,
            SupportLink.Ended: self._support_link_step,
        }

    def also(self) -> dict[type[Any], Mapping]:
        """Event types the Outbound publishes already, that the network publishes besides."""
        return dict.fromkeys(
            (
                Referral.Sent,
                Referral.Expired,
                Referral.Acknowledged,
                Referral.Accepted,
                Referral.Started,
                Referral.PutOnHold,
                Referral.Declined,
                Referral.DeclineOverridden,
                Referral.Redirected,
                Referral.Withdrawn,
                Referral.Completed,
                Referral.EnteredInError,
            ),
            self._referral_step,
        )

    # The owner: pictures to the members, refusals to the reporters

    def _network_changed(self, e: Any) -> list[Addressed]:
        # A member keeps the newest picture, and each holds all before it: when the network has changed
        # again since (the same command's next event, or a later one), that change's picture is enough.
        if self.app.recorder.select_events(e.originator_id, gt=e.originator_version, limit=1):
            return []
        network: HouseholdNetwork = self._at_version(e)
        if network.owner != self.organisation:
            return []  # only its owner speaks for a household's network (its members refuse anyone else)
        picture = network.picture()
        message = n.NetworkPictureSent(picture=picture)
        return [
            Addressed(message, self.topics.network(organisation))
            for organisation in picture.organisations()
            if organisation != self.organisation
        ]

    def _report_refused(self, e: HouseholdNetwork.FactRefused) -> list[Addressed]:
        refusal = e.refusal
        if refusal.fact_kind not in REPORT_KINDS or refusal.reporter == self.organisation:
            return []
        network: HouseholdNetwork = self._at_version(e)
        refused = n.NetworkReportRefused(
            household_id=network.household_id, refusal=refusal, at=refusal.at, by=self._speaker()
        )
        return [Addressed(refused, self.topics.network(refusal.reporter))]

    # A member: its steps to the owner

    def _referral_step(self, e: Any) -> list[Addressed]:
        referral: Referral = self._at_version(e)
        if referral.referrer != self.organisation:
            return []  # the referrer reports; a receiver's copy is the referrer's to report
        owner = self._owner_elsewhere(referral.household_id, None)
        if owner is None:
            return []
        return [self._step(referral.household_id, referral_item(referral), owner, e)]

    def _support_link_step(self, e: Any) -> list[Addressed]:
        link: SupportLink = self._at_version(e)
        if link.owner != self.organisation:
            return []
        owner = self._owner_elsewhere(link.household_id, getattr(link, "household_owner", None))
        if owner is None:
            return []
        place = (
            link.offer.place if link.contact_person and link.status != SupportLinkStatus.PROPOSED else None
        )
        item = support_link_item(link, e.at)
        return [self._step(link.household_id, item, owner, e, contact_person=place)]

    def _owner_elsewhere(self, household_id: UUID, named: str | None) -> str | None:
        """The household's owner, when it is another organisation: as this node's copy of its network
        says, else as the step named it. None: this node owns it (noted here) or knows no owner."""
        if isinstance(self.app, NetworkKeeper) and self.app.network_picture(household_id) is not None:
            return None
        copy = self.app.network_copy(household_id) if isinstance(self.app, NetworkCopies) else None
        owner = copy.owner if copy is not None else named
        return None if owner == self.organisation else owner

    def _step(
        self, household_id: UUID, item: Item, owner: str, e: Any, contact_person: Any = None
    ) -> Addressed:
        by = getattr(e, "by", None)
        if not isinstance(by, Actor) or by.organisation != self.organisation:
            by = self._speaker()  # the other side's step on our copy: we report it, not its person
        step = n.NetworkStepReported(
            household_id=household_id, item=item, contact_person=contact_person, at=e.at, by=by
        )
        return Addressed(step, self.topics.network(owner))

    def _speaker(self) -> Actor:
        return Actor(organisation=self.organisation, person="network-exchange", role=Role.SYSTEM)
