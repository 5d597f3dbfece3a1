"""Keeping each household's network at its owner's node, in the same transaction as the step that changes it.

Whatever command changes a household this node owns, or a referral about one (its own, or its copy of the
other side's step), also notes the change on the household's `HouseholdNetwork`; `@command` saves both
with the receipt. Steps other members report arrive as commands here too (`note_network_item`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from coordination.applications.base import NodeApplication, derived_id
from coordination.applications.commands import Decision, command
from coordination.domain.errors import HouseholdErased
from coordination.domain.household import Household
from coordination.domain.network import (
    HouseholdNetwork,
    HouseholdState,
    Item,
    ItemKind,
    NetworkPicture,
    RefusedFact,
)
from coordination.domain.referral import Referral, ReferralKind
from coordination.domain.values import Actor

A = TypeVar("A", bound=Aggregate)


def network_id(household_id: UUID) -> UUID:
    """The id of a household's network at its owner and of every member's copy of it."""
    return derived_id("network", household_id)


def household_state(household: Household, app: NodeApplication) -> HouseholdState:
    return HouseholdState(
        phase=str(household.phase),
        holder=household.holder,
        pending_handoff=household.pending_handoff,
        moved_on=None if household.move is None else household.move.moved_on,
        follow_up_due=household.follow_up_due(app.policy),
        # A visit the household declined closes the follow-up as a visit does (household_record.py).
        follow_up_done=household.follow_up_visited or household.follow_up_declined,
        settlement_gaps=household.settlement_gaps(),
        settled_at=household.settled_at,
    )


def referral_item(referral: Referral) -> Item:
    return Item(
        item_id=referral.id,
        kind=ItemKind.HANDOFF if referral.kind is ReferralKind.HANDOFF else ItemKind.REFERRAL,
        subtype=str(referral.kind),
        from_org=referral.referrer,
        to_org=referral.receiver,
        state=str(referral.status),
        open=referral.status.is_open,
        opened_at=referral.sent_at,
        last_step_at=referral.last_step_at,
        acknowledge_by=referral.acknowledge_by,
        complete_by=referral.complete_by,
        acknowledged_at=referral.acknowledged_at,
        accepted_at=referral.accepted_at,
    )


def _last_at(aggregate: Aggregate) -> datetime | None:
    for pending in reversed(aggregate.pending_events):
        at = getattr(pending, "at", None)
        if isinstance(at, datetime):
            return at
    return None


class NetworkKeeper(NodeApplication):
    """The owner's side of the household's network (mixed into the housing organisation's application)."""

    def network_picture(self, household_id: UUID) -> NetworkPicture | None:
        """The household's network as this node keeps it; None if this node does not own the household
        (or erased it). A household registered before networks were kept gets its network worked out,
        not saved."""
        household = self._loaded(Household, household_id)
        if household is None or household.erased_at is not None:
            return None
        network = self._loaded(HouseholdNetwork, network_id(household_id))
        if network is not None:
            return network.picture()
        return self._opened(household, household.registered_at).picture()

    @command()
    def note_network_item(
        self, *, command_id: UUID, household_id: UUID, item: Item, at: datetime, by: Actor
    ) -> Decision[UUID]:
        """A member reported a step of its item (a referral it sent on, its support link): noted on the
        network as it stands. Whether `by` may report it is checked before (the inbound exchange)."""
        network = self._network_of(household_id, at)
        network.note_item(item, at)
        return network.id, [network]

    @command(also=lambda app, arguments: {"at": arguments["refusal"].at})  # when it was refused
    def refuse_network_report(
        self, *, command_id: UUID, household_id: UUID, refusal: RefusedFact
    ) -> Decision[UUID]:
        """A member's report the owner refused, recorded with its reason (and sent back to the reporter)."""
        network = self._network_of(household_id, refusal.at)
        network.refuse_fact(refusal)
        return network.id, [network]

    def network_gaps(self, household: Household) -> list[str]:
        """What the household's network still has open, as a settlement gap (none when nothing is)."""
        kept = self._loaded(HouseholdNetwork, network_id(household.id))
        network = kept if kept is not None else self._opened(household, household.registered_at)
        return network.picture().settlement_gaps()

    def _network_of(self, household_id: UUID, at: datetime) -> HouseholdNetwork:
        """The network of a household this node owns, for a command (opened if it has none yet)."""
        household = self._get(Household, household_id, "household")
        if household.erased_at is not None:
            raise HouseholdErased(
                "Household {household_id} was erased; its network with it", household_id=household_id
            )
        kept = self._loaded(HouseholdNetwork, network_id(household_id))
        return kept if kept is not None else self._opened(household, at)

    def _loaded(self, cls: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate if this node has it (as a command borrows it: kept, or replayed), else None."""
        try:
            aggregate = self._load(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def _also_changed(self, changed: Sequence[Aggregate]) -> list[Aggregate]:
        """The networks the changed households and referrals about them are noted on."""
        # A command that changed a network itself (a member's report, the answer to a reported fact) has
        # it noted on, not a second copy.
        networks: dict[UUID, HouseholdNetwork | None] = {
            a.household_id: a for a in changed if isinstance(a, HouseholdNetwork)
        }
        already = set(networks)
        for aggregate in changed:
            at = _last_at(aggregate)
            if at is None:
                continue
            if isinstance(aggregate, Household):
                network = self._network_for(aggregate.id, at, networks, changed)
                if network is not None:
                    network.note_household(household_state(aggregate, self), at)
            elif isinstance(aggregate, Referral):
                network = self._network_for(aggregate.household_id, at, networks, changed)
                if network is not None:
                    network.note_item(referral_item(aggregate), at)
        return [
            network
            for key, network in networks.items()
            if key not in already and network is not None and network.pending_events
        ]

    def _network_for(
        self,
        household_id: UUID,
        at: datetime,
        networks: dict[UUID, HouseholdNetwork | None],
        changed: Sequence[Aggregate],
    ) -> HouseholdNetwork | None:
        """The household's network for this command; None if this node does not own the household, or it
        is erased. The network is asked first: most commands need not load the household for it."""
        if household_id not in networks:
            networks[household_id] = self._network_or_none(household_id, at, changed)
        return networks[household_id]

    def _network_or_none(
        self, household_id: UUID, at: datetime, changed: Sequence[Aggregate]
    ) -> HouseholdNetwork | None:
        household = next((a for a in changed if a.id == household_id and isinstance(a, Household)), None)
        if household is not None and household.erased_at is not None:
            return None
        kept = self._loaded(HouseholdNetwork, network_id(household_id))
        if kept is not None:
            # A network always notes its household when opened; once erased, what it noted reads as None.
            return kept if kept.household is not None else None
        household = household or self._loaded(Household, household_id)
        if household is None or household.erased_at is not None:
            return None
        return self._opened(household, at, changed)

    def _opened(
        self, household: Household, at: datetime, changed: Sequence[Aggregate] = ()
    ) -> HouseholdNetwork:
        """A new network; for a household registered before networks were kept, with what this node knows
        of it already (its state, its referrals), so nothing earlier is missing from the picture."""
        network = HouseholdNetwork.open(
            id=network_id(household.id), household_id=household.id, owner=household.owner, at=at
        )
        if household.version > 1 or not household.pending_events:
            network.note_household(household_state(household, self), at)
            in_this_command = {a.id for a in changed}
            for referral in self.referrals_about(household.id):
                if referral.id not in in_this_command:
                    network.note_item(referral_item(referral), referral.last_step_at)
        return network
