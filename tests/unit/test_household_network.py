"""The household's network as a domain object: who joins and leaves through which steps, and the copies."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from coordination.domain.network import (
    HouseholdNetwork,
    HouseholdState,
    Item,
    ItemKind,
    NetworkCopy,
    Relation,
)
from coordination.domain.values import Holder, Role

T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)


def _network() -> HouseholdNetwork:
    return HouseholdNetwork.open(id=uuid4(), household_id=uuid4(), owner="civica", at=T0)


def _referral(from_org: str, to_org: str, state: str = "sent", open: bool = True, **more: object) -> Item:
    return Item(
        item_id=more.pop("item_id", uuid4()),  # type: ignore[arg-type]
        kind=more.pop("kind", ItemKind.REFERRAL),  # type: ignore[arg-type]
        subtype="jobcentre",
        from_org=from_org,
        to_org=to_org,
        state=state,
        open=open,
        opened_at=T0,
        last_step_at=T0,
        acknowledge_by=T0 + timedelta(days=3),
        complete_by=T0 + timedelta(days=30),
    )


def test_the_owner_is_a_member_from_the_start_and_the_holder_joins_when_the_household_is_noted() -> None:
    network = _network()
    network.note_household(
        HouseholdState(
            phase="first_contact", holder=Holder(organisation="civica", role=Role.REHOUSING_CONSULTANT)
        ),
        T0,
    )
    assert network.relations_of("civica") == {Relation.OWNER, Relation.HOLDER}
    assert network.relations_of("bridge-builder") == set()


def test_a_new_holder_joins_and_the_previous_holders_hold_ends_but_it_stays_a_member() -> None:
    network = _network()
    consultant = Holder(organisation="civica", role=Role.REHOUSING_CONSULTANT)
    network.note_household(HouseholdState(phase="move", holder=consultant), T0)
    builder = Holder(organisation="bridge-builder", role=Role.BRIDGE_BUILDER)
    network.note_household(HouseholdState(phase="follow_up", holder=builder), T0 + timedelta(days=1))
    assert network.relations_of("civica") == {Relation.OWNER}
    assert network.relations_of("bridge-builder") == {Relation.HOLDER}
    assert network.picture().is_member("civica")


def test_a_referral_from_a_member_other_than_the_owner_makes_both_sides_members_until_it_closes() -> None:
    network = _network()
    referral = _referral("bridge-builder", "jobcentre")
    network.note_item(referral, T0)
    assert network.relations_of("jobcentre") == {Relation.REFERRAL_RECEIVER}
    assert network.relations_of("bridge-builder") == {Relation.REFERRER}
    closed = referral.model_copy(update={"state": "completed", "open": False})
    network.note_item(closed, T0 + timedelta(days=5))
    picture = network.picture()
    assert picture.relations_of("jobcentre") == set()
    assert picture.is_member("jobcentre")  # history: it was sent the household
    assert picture.open_items() == []


def test_noting_the_same_step_twice_records_nothing_new() -> None:
    network = _network()
    item = _referral("civica", "children-and-youth")
    network.note_item(item, T0)
    version = network.version
    network.note_item(item, T0)
    assert network.version == version


def test_a_copy_keeps_the_newest_picture_whatever_order_they_arrive_in() -> None:
    network = _network()
    first = network.picture()
    network.note_item(_referral("civica", "jobcentre"), T0)
    second = network.picture()
    copy = NetworkCopy.receive(id=uuid4(), picture=second)
    copy.update(first)
    assert copy.picture == second
    assert copy.picture.relations_of("jobcentre") == {Relation.REFERRAL_RECEIVER}
