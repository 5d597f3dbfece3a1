"""The household's network: who works with a household, in which relation, and what is open between them.

The owner's node keeps a `HouseholdNetwork` beside each household it owns. Every step that creates or ends a
relation, or moves an item (a referral, a handoff, a support link), is noted on it, whoever took the step:
the owner's own steps, and the steps other members report to the owner. What it holds is coordination only
— organisations, kinds, states, dates — never needs, names or addresses, so every member may be sent it.

Its picture (`NetworkPicture`) is the one answer to "who holds the family and what is pending": the owner
sends it to every organisation that is or was in the network, and each keeps the latest in a
`NetworkCopy`. Owner and members thus answer from the same picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from coordination.domain.household_values import PendingHandoff
from coordination.domain.values import Holder, Value


class Relation(StrEnum):
    """What an organisation is to a household; one organisation may hold several relations at once."""

    OWNER = "owner"  # the housing organisation of the lease
    HOLDER = "holder"  # holds the household now (the consultant's organisation, then the bridge builder)
    HANDOFF_RECEIVER = "handoff_receiver"  # the household was handed to it
    REFERRAL_RECEIVER = "referral_receiver"  # a referral about the household was sent to it
    REFERRER = "referrer"  # referred the household on (a bridge builder to the jobcentre)
    SUPPORT_PROVIDER = "support_provider"  # provides a support link (a mentor, a contact person)


class ItemKind(StrEnum):
    REFERRAL = "referral"
    HANDOFF = "handoff"
    SUPPORT_LINK = "support_link"


class Membership(Value):
    """One relation of one organisation to the household, from `since` (and until `until` once ended)."""

    organisation: str
    relation: Relation
    item_id: UUID | None = None  # the referral, handoff or support link the relation comes from
    since: datetime
    until: datetime | None = None

    @property
    def current(self) -> bool:
        return self.until is None


class Item(Value):
    """One thing pending or done between members: a referral, a handoff or a support link, as it stands.

    `subtype` is the referral kind or the support kind; `state` the referral's status or the link's state.
    The due dates are a referral's; a support link has none.
    """

    item_id: UUID
    kind: ItemKind
    subtype: str
    from_org: str
    to_org: str
    state: str
    open: bool
    opened_at: datetime
    last_step_at: datetime
    acknowledge_by: datetime | None = None
    complete_by: datetime | None = None
    acknowledged_at: datetime | None = None
    accepted_at: datetime | None = None


class HouseholdState(Value):
    """What the owner's household says that every member needs: who holds it, the move, the follow-up visit
    and what is still missing for settlement (gap names, no personal data)."""

    phase: str
    holder: Holder
    pending_handoff: PendingHandoff | None = None
    moved_on: date | None = None
    follow_up_due: date | None = None
    follow_up_done: bool = False
    settlement_gaps: list[str] = []
    settled_at: datetime | None = None


class RefusedFact(Value):
    """A fact a member reported that the owner refused, with the reason it was sent back."""

    reporter: str
    fact_kind: str
    reason: str
    reported_at: datetime
    at: datetime
    fact_id: UUID | None = None  # the reporter's id of the fact (a household fact), to answer it by


class AppliedFact(Value):
    """A fact a member reported that the owner applied to the household, as answered to the reporter."""

    reporter: str
    fact_kind: str
    fact_id: UUID
    reported_at: datetime
    at: datetime


class NetworkPicture(Value):
    """The household's network at the owner's `version` of it: the same for owner and members."""

    household_id: UUID
    owner: str
    version: int
    changed_at: datetime
    household: HouseholdState | None
    members: list[Membership]
    items: list[Item]

    def organisations(self) -> list[str]:
        """Every organisation that is or was in the network, the owner first."""
        seen = [self.owner]
        for membership in self.members:
            if membership.organisation not in seen:
                seen.append(membership.organisation)
        return seen

    def relations_of(self, organisation: str) -> set[Relation]:
        """The current relations of `organisation` to the household (empty: not a member now)."""
        return {m.relation for m in self.members if m.organisation == organisation and m.current}

    def is_member(self, organisation: str) -> bool:
        """Whether `organisation` is or was in the network (a past member keeps its history)."""
        return any(m.organisation == organisation for m in self.members)

    def open_items(self) -> list[Item]:
        return [item for item in self.items if item.open]

    def settlement_gaps(self) -> list[str]:
        """What the network adds to the household's settlement gaps: its open items, named."""
        return open_items_gap(self.open_items())


def open_items_gap(items: Sequence[Item]) -> list[str]:
    """The settlement gap of open items ("open items: …", each named by kind, parties and state); none
    when nothing is open. A household is not settled while anyone working with it has an item open."""
    if not items:
        return []
    named = [
        f"{item.subtype.replace('_', ' ')} {item.from_org} → {item.to_org} ({item.state.replace('_', ' ')})"
        for item in items
    ]
    return ["open items: " + ", ".join(named)]


_RECEIVER_RELATION = {
    ItemKind.REFERRAL: Relation.REFERRAL_RECEIVER,
    ItemKind.HANDOFF: Relation.HANDOFF_RECEIVER,
    ItemKind.SUPPORT_LINK: Relation.SUPPORT_PROVIDER,
}


class HouseholdNetwork(Aggregate):
    """The network of one household, kept at its owner's node (id: derived from the household's id)."""

    class Opened(Aggregate.Created):
        household_id: UUID
        owner: str
        at: datetime

    class HouseholdNoted(Aggregate.Event):
        state: HouseholdState
        at: datetime

    class ItemNoted(Aggregate.Event):
        item: Item
        at: datetime

    class MemberJoined(Aggregate.Event):
        membership: Membership

    class RelationEnded(Aggregate.Event):
        organisation: str
        relation: Relation
        item_id: UUID | None
        at: datetime

    class FactRefused(Aggregate.Event):
        refusal: RefusedFact

    class FactApplied(Aggregate.Event):
        applied: AppliedFact

    @event(Opened)
    def __init__(self, id: UUID, household_id: UUID, owner: str, at: datetime) -> None:
        self.household_id = household_id
        self.owner = owner
        self.household: HouseholdState | None = None
        self.members: list[Membership] = [Membership(organisation=owner, relation=Relation.OWNER, since=at)]
        self.items: dict[UUID, Item] = {}
        self.refused: list[RefusedFact] = []
        self.applied: list[AppliedFact] = []
        self.changed_at = at

    @classmethod
    def open(cls, *, id: UUID, household_id: UUID, owner: str, at: datetime) -> HouseholdNetwork:
        return cls(id=id, household_id=household_id, owner=owner, at=at)

    # Commands: each notes what changed and nothing when nothing did, so noting the same step twice
    # (a redelivered report, a replayed command) records nothing new.

    def note_household(self, state: HouseholdState, at: datetime) -> None:
        """The owner's household as it now stands; a new holder joins and the previous one's hold ends."""
        if state == self.household:
            return
        before = self.household.holder if self.household is not None else None
        self._household_noted(state=state, at=at)
        if before is None or before.organisation != state.holder.organisation:
            if before is not None:
                self._end(before.organisation, Relation.HOLDER, None, at)
            self._join(state.holder.organisation, Relation.HOLDER, None, at)

    def note_item(self, item: Item, at: datetime) -> None:
        """An item as it now stands: its receiver (and a referrer other than the owner) join while it is
        open; their relations through it end when it closes."""
        if self.items.get(item.item_id) == item:
            return
        self._item_noted(item=item, at=at)
        relations = [(item.to_org, _RECEIVER_RELATION[item.kind])]
        if item.kind is ItemKind.REFERRAL and item.from_org != self.owner:
            relations.append((item.from_org, Relation.REFERRER))
        for organisation, relation in relations:
            if item.open:
                self._join(organisation, relation, item.item_id, at)
            else:
                self._end(organisation, relation, item.item_id, at)

    def refuse_fact(self, refusal: RefusedFact) -> None:
        self._fact_refused(refusal=refusal)

    def note_fact_applied(self, applied: AppliedFact) -> None:
        """A member's fact applied to the household (in the same transaction), to be answered to it."""
        self._fact_applied(applied=applied)

    def _join(self, organisation: str, relation: Relation, item_id: UUID | None, at: datetime) -> None:
        if not any(
            m.organisation == organisation and m.relation == relation and m.item_id == item_id and m.current
            for m in self.members
        ):
            membership = Membership(organisation=organisation, relation=relation, item_id=item_id, since=at)
            self._member_joined(membership=membership)

    def _end(self, organisation: str, relation: Relation, item_id: UUID | None, at: datetime) -> None:
        if any(
            m.organisation == organisation and m.relation == relation and m.item_id == item_id and m.current
            for m in self.members
        ):
            self._relation_ended(organisation=organisation, relation=relation, item_id=item_id, at=at)

    # Events. Once the household is erased, what they noted reads as None (personal_fields.py): the
    # network then replays as opened, naming no one but its owner.

    @event(HouseholdNoted)
    def _household_noted(self, state: HouseholdState | None, at: datetime) -> None:
        self.household = state
        self.changed_at = at

    @event(ItemNoted)
    def _item_noted(self, item: Item | None, at: datetime) -> None:
        if item is not None:
            self.items[item.item_id] = item
        self.changed_at = at

    @event(MemberJoined)
    def _member_joined(self, membership: Membership | None) -> None:
        if membership is not None:
            self.members.append(membership)
            self.changed_at = max(self.changed_at, membership.since)

    @event(RelationEnded)
    def _relation_ended(
        self, organisation: str | None, relation: Relation, item_id: UUID | None, at: datetime
    ) -> None:
        self.members = [
            m.model_copy(update={"until": at})
            if m.organisation == organisation
            and m.relation == relation
            and m.item_id == item_id
            and m.current
            else m
            for m in self.members
        ]
        self.changed_at = at

    @event(FactRefused)
    def _fact_refused(self, refusal: RefusedFact | None) -> None:
        if refusal is not None:
            self.refused.append(refusal)

    @event(FactApplied)
    def _fact_applied(self, applied: AppliedFact) -> None:
        self.applied.append(applied)

    # Queries

    def picture(self) -> NetworkPicture:
        return NetworkPicture(
            household_id=self.household_id,
            owner=self.owner,
            version=self.version,
            changed_at=self.changed_at,
            household=self.household,
            members=list(self.members),
            items=sorted(self.items.values(), key=lambda i: (i.opened_at, str(i.item_id))),
        )

    def relations_of(self, organisation: str) -> set[Relation]:
        return self.picture().relations_of(organisation)


class NetworkCopy(Aggregate):
    """A member's copy of a household's network: the latest picture its owner sent (id: derived from the
    household's id, as at the owner). An older picture arriving late changes nothing."""

    class Received(Aggregate.Created):
        picture: NetworkPicture

    class Updated(Aggregate.Event):
        picture: NetworkPicture

    class Forgotten(Aggregate.Event):
        """The owner erased the household: this copy reads as gone, and later pictures change nothing."""

        at: datetime

    @event(Received)
    def __init__(self, id: UUID, picture: NetworkPicture) -> None:
        self.picture = picture
        self.forgotten_at: datetime | None = None

    @classmethod
    def receive(cls, *, id: UUID, picture: NetworkPicture) -> NetworkCopy:
        return cls(id=id, picture=picture)

    def update(self, picture: NetworkPicture) -> None:
        if picture.household_id != self.picture.household_id:
            raise ValueError("A picture of another household")
        if picture.version > self.picture.version and self.forgotten_at is None:
            self._updated(picture=picture)

    def forget(self, at: datetime) -> None:
        if self.forgotten_at is None:
            self._forgotten(at=at)

    @event(Updated)
    def _updated(self, picture: NetworkPicture) -> None:
        self.picture = picture

    @event(Forgotten)
    def _forgotten(self, at: datetime) -> None:
        self.forgotten_at = at


class RefusedReports(Aggregate):
    """A reporter's record of the steps it reported about one household that the owner refused, with the
    owner's reasons (id: derived from the household's id). Kept by whoever reported, member or not."""

    class Started(Aggregate.Created):
        household_id: UUID
        owner: str

    class Recorded(Aggregate.Event):
        refusal: RefusedFact

    @event(Started)
    def __init__(self, id: UUID, household_id: UUID, owner: str) -> None:
        self.household_id = household_id
        self.owner = owner
        self.refusals: list[RefusedFact] = []

    @classmethod
    def start(cls, *, id: UUID, household_id: UUID, owner: str) -> RefusedReports:
        return cls(id=id, household_id=household_id, owner=owner)

    def record(self, refusal: RefusedFact) -> None:
        """The owner's refusal of a reported step (its reason names the step); recorded once."""
        if refusal not in self.refusals:
            self._recorded(refusal=refusal)

    @event(Recorded)
    def _recorded(self, refusal: RefusedFact) -> None:
        self.refusals.append(refusal)
