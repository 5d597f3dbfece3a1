"""Who may report which fact about a household: every fact kind against every relation to the household."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from coordination.domain.entitlement import HOLDING_FACTS, fact_refusal
from coordination.domain.follow_up import FactKind
from coordination.domain.network import HouseholdNetwork, HouseholdState, Item, ItemKind, NetworkPicture
from coordination.domain.values import Holder, Role

T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)
OWNER, BRIDGE = "civica", "odense-brobygning"
CHILD, OTHER_CHILD = "child-1", "child-2"


def _item(kind: ItemKind, subtype: str, from_org: str, to_org: str, *, open: bool = True) -> Item:
    return Item(
        item_id=uuid4(),
        kind=kind,
        subtype=subtype,
        from_org=from_org,
        to_org=to_org,
        state="sent" if open else "completed",
        open=open,
        opened_at=T0,
        last_step_at=T0,
    )


def _picture(holder: str = OWNER, *items: Item) -> NetworkPicture:
    network = HouseholdNetwork.open(id=uuid4(), household_id=uuid4(), owner=OWNER, at=T0)
    role = Role.REHOUSING_CONSULTANT if holder == OWNER else Role.BRIDGE_BUILDER
    network.note_household(HouseholdState(phase="moved", holder=Holder(organisation=holder, role=role)), T0)
    for n, item in enumerate(items):
        at = T0 + timedelta(hours=n + 1)
        network.note_item(item.model_copy(update={"open": True, "state": "sent"}), at)
        if not item.open:
            network.note_item(item, at + timedelta(minutes=1))
    return network.picture()


def _children(picture: NetworkPicture, subtype: str, children: list[str]) -> dict[UUID, list[str]]:
    return {item.item_id: children for item in picture.items if item.subtype == subtype}


# (relation, the picture, the reporter, the children each referral names)
def _holder() -> tuple[NetworkPicture, str, dict[UUID, list[str]]]:
    return _picture(BRIDGE), BRIDGE, {}


def _handoff_receiver() -> tuple[NetworkPicture, str, dict[UUID, list[str]]]:
    return _picture(OWNER, _item(ItemKind.HANDOFF, "handoff", OWNER, BRIDGE)), BRIDGE, {}


def _bridge_building_receiver() -> tuple[NetworkPicture, str, dict[UUID, list[str]]]:
    return _picture(OWNER, _item(ItemKind.REFERRAL, "bridge_building", OWNER, BRIDGE)), BRIDGE, {}


def _bridge_building_receiver_closed() -> tuple[NetworkPicture, str, dict[UUID, list[str]]]:
    item = _item(ItemKind.REFERRAL, "bridge_building", OWNER, BRIDGE, open=False)
    return _picture(OWNER, item), BRIDGE, {}


def _daycare_receiver(names: str, *, open: bool = True) -> tuple[NetworkPicture, str, dict[UUID, list[str]]]:
    picture = _picture(OWNER, _item(ItemKind.REFERRAL, "daycare_fast_track", OWNER, "daycare", open=open))
    return picture, "daycare", _children(picture, "daycare_fast_track", [names])


def _school_receiver(names: str) -> tuple[NetworkPicture, str, dict[UUID, list[str]]]:
    picture = _picture(OWNER, _item(ItemKind.REFERRAL, "school_change", BRIDGE, "school"))
    return picture, "school", _children(picture, "school_change", [names])


def _referrer() -> tuple[NetworkPicture, str, dict[UUID, list[str]]]:
    return _picture(BRIDGE, _item(ItemKind.REFERRAL, "jobcentre", "kvinfo", "jobcentre")), "kvinfo", {}


def _jobcentre_receiver() -> tuple[NetworkPicture, str, dict[UUID, list[str]]]:
    return _picture(BRIDGE, _item(ItemKind.REFERRAL, "jobcentre", BRIDGE, "jobcentre")), "jobcentre", {}


def _support_provider() -> tuple[NetworkPicture, str, dict[UUID, list[str]]]:
    return _picture(BRIDGE, _item(ItemKind.SUPPORT_LINK, "mentor", "kvinfo", "kvinfo")), "kvinfo", {}


def _past_member() -> tuple[NetworkPicture, str, dict[UUID, list[str]]]:
    closed = _item(ItemKind.REFERRAL, "jobcentre", BRIDGE, "jobcentre", open=False)
    return _picture(BRIDGE, closed), "jobcentre", {}


def _past_holder() -> tuple[NetworkPicture, str, dict[UUID, list[str]]]:
    network = HouseholdNetwork.open(id=uuid4(), household_id=uuid4(), owner=OWNER, at=T0)
    for n, holder in enumerate((BRIDGE, "another-bridge")):
        state = HouseholdState(phase="moved", holder=Holder(organisation=holder, role=Role.BRIDGE_BUILDER))
        network.note_household(state, T0 + timedelta(days=n))
    return network.picture(), BRIDGE, {}


def _non_member() -> tuple[NetworkPicture, str, dict[UUID, list[str]]]:
    return _picture(BRIDGE), "jobcentre-odense", {}


ENTITLED_TO_HOLDING = {
    "holder": _holder,
    "handoff receiver": _handoff_receiver,
    "open bridge-building receiver": _bridge_building_receiver,
}
NOT_ENTITLED_TO_HOLDING = {
    "closed bridge-building receiver": _bridge_building_receiver_closed,
    "daycare receiver": lambda: _daycare_receiver(CHILD),
    "school receiver": lambda: _school_receiver(CHILD),
    "referrer": _referrer,
    "jobcentre receiver": _jobcentre_receiver,
    "support provider": _support_provider,
    "past member": _past_member,
    "past holder": _past_holder,
    "non-member": _non_member,
}


@pytest.mark.parametrize("kind", sorted(HOLDING_FACTS))
@pytest.mark.parametrize("relation", sorted(ENTITLED_TO_HOLDING))
def test_the_holder_and_the_receivers_of_the_handoff_or_an_open_bridge_building_referral_may_report_holding_facts(
    kind: FactKind, relation: str
) -> None:
    picture, reporter, _ = ENTITLED_TO_HOLDING[relation]()
    assert fact_refusal(kind, reporter, picture) is None


@pytest.mark.parametrize("kind", sorted(HOLDING_FACTS))
@pytest.mark.parametrize("relation", sorted(NOT_ENTITLED_TO_HOLDING))
def test_no_other_relation_may_report_holding_facts_and_the_reason_names_the_relation_missing(
    kind: FactKind, relation: str
) -> None:
    picture, reporter, named = NOT_ENTITLED_TO_HOLDING[relation]()
    reason = fact_refusal(kind, reporter, picture, named_children=named)
    assert reason is not None
    assert reason.startswith(reporter)
    if relation == "non-member":
        assert "not in this household's network" in reason
    else:
        assert "the household's holder, the receiver of its handoff" in reason


@pytest.mark.parametrize(
    "relation",
    [
        "holder",
        "daycare receiver naming the child",
        "past daycare receiver naming the child",
        "school receiver",
    ],
)
def test_the_holder_and_a_daycare_or_school_receiver_whose_referral_names_the_child_may_report_its_enrolment(
    relation: str,
) -> None:
    picture, reporter, named = {
        "holder": _holder,
        "daycare receiver naming the child": lambda: _daycare_receiver(CHILD),
        "past daycare receiver naming the child": lambda: _daycare_receiver(CHILD, open=False),
        "school receiver": lambda: _school_receiver(CHILD),
    }[relation]()
    assert fact_refusal(FactKind.CHILD_ENROLLED, reporter, picture, child=CHILD, named_children=named) is None


@pytest.mark.parametrize(
    "relation",
    [
        "daycare receiver naming another child",
        "school receiver naming another child",
        "handoff receiver",
        "open bridge-building receiver",
        "referrer",
        "jobcentre receiver",
        "support provider",
        "past member",
        "non-member",
    ],
)
def test_no_one_else_may_report_a_childs_enrolment(relation: str) -> None:
    picture, reporter, named = {
        "daycare receiver naming another child": lambda: _daycare_receiver(OTHER_CHILD),
        "school receiver naming another child": lambda: _school_receiver(OTHER_CHILD),
        "handoff receiver": _handoff_receiver,
        "open bridge-building receiver": _bridge_building_receiver,
        "referrer": _referrer,
        "jobcentre receiver": _jobcentre_receiver,
        "support provider": _support_provider,
        "past member": _past_member,
        "non-member": _non_member,
    }[relation]()
    reason = fact_refusal(FactKind.CHILD_ENROLLED, reporter, picture, child=CHILD, named_children=named)
    assert reason is not None
    assert CHILD not in reason  # a member code is personal: the reason does not repeat it


def test_without_a_picture_of_the_network_the_reporter_is_not_a_member() -> None:
    reason = fact_refusal(FactKind.SETTLED, BRIDGE, None)
    assert reason == f"{BRIDGE} is not in this household's network: only its members may report settled"


def test_the_reason_names_the_relations_the_reporter_has() -> None:
    picture, reporter, _ = _jobcentre_receiver()
    reason = fact_refusal(FactKind.NO_LONGER_ASKS_FOR_HELP, reporter, picture)
    assert reason == (
        "jobcentre may not report no longer asks for help: only the household's holder, the receiver of its "
        "handoff or the receiver of an open bridge-building referral may (jobcentre is the receiver of a "
        "referral about it)"
    )
    picture, reporter, _ = _past_member()
    assert "(jobcentre is a past member only)" in (fact_refusal(FactKind.SETTLED, reporter, picture) or "")
