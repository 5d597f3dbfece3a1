"""The owner's check of a reported step, by the reporter's relation to the household (not by its role)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from coordination.applications.network_reports import report_refusal
from coordination.domain.network import HouseholdNetwork, Item, ItemKind, NetworkPicture

T = datetime(2026, 9, 1, 9, tzinfo=UTC)
OWNER, BRIDGE, JOBCENTRE, KVINFO, FAB = "civica", "odense-brobygning", "jobcenter-odense", "kvinfo", "fab"
BRIDGE_REFERRAL = UUID(int=1)
OLD_REFERRAL = UUID(int=2)


def item(kind: ItemKind, from_org: str, to_org: str, *, item_id: UUID | None = None) -> Item:
    return Item(
        item_id=item_id or uuid4(),
        kind=kind,
        subtype="mentor" if kind is ItemKind.SUPPORT_LINK else "jobcentre",
        from_org=from_org,
        to_org=to_org,
        state="sent",
        open=True,
        opened_at=T,
        last_step_at=T,
    )


@pytest.fixture
def picture() -> NetworkPicture:
    """CIVICA's network of a family: the bridge builder received a referral (open); the department of an
    earlier referral completed it (a past member)."""
    network = HouseholdNetwork.open(id=uuid4(), household_id=uuid4(), owner=OWNER, at=T)
    network.note_item(item(ItemKind.REFERRAL, OWNER, BRIDGE, item_id=BRIDGE_REFERRAL), T)
    old = item(ItemKind.REFERRAL, OWNER, "odense-skoler", item_id=OLD_REFERRAL)
    network.note_item(old, T)
    network.note_item(old.model_copy(update={"state": "completed", "open": False}), T)
    return network.picture()


def test_a_current_member_may_report_the_referral_it_sent(picture: NetworkPicture) -> None:
    assert report_refusal(picture, item(ItemKind.REFERRAL, BRIDGE, JOBCENTRE), BRIDGE) is None


def test_an_organisation_outside_the_network_may_not_report_a_new_referral(picture: NetworkPicture) -> None:
    reason = report_refusal(picture, item(ItemKind.REFERRAL, FAB, JOBCENTRE), FAB)
    assert reason == f"fab is not in the network of household {picture.household_id}"


def test_a_past_member_may_not_report_a_new_referral(picture: NetworkPicture) -> None:
    assert picture.is_member("odense-skoler") and not picture.relations_of("odense-skoler")
    reason = report_refusal(picture, item(ItemKind.REFERRAL, "odense-skoler", JOBCENTRE), "odense-skoler")
    assert reason is not None and "is not in the network" in reason


def test_only_a_referrals_sender_reports_its_steps(picture: NetworkPicture) -> None:
    reason = report_refusal(picture, item(ItemKind.REFERRAL, BRIDGE, JOBCENTRE), JOBCENTRE)
    assert reason is not None and reason.startswith("jobcenter-odense did not send referral")


def test_a_reported_step_may_not_change_who_sent_a_known_item(picture: NetworkPicture) -> None:
    claimed = item(ItemKind.REFERRAL, BRIDGE, JOBCENTRE, item_id=OLD_REFERRAL)
    assert (
        report_refusal(picture, claimed, BRIDGE)
        == f"referral {OLD_REFERRAL} was sent by civica, as noted before"
    )


def test_a_redirected_referral_keeps_its_sender_and_may_change_its_receiver() -> None:
    network = HouseholdNetwork.open(id=uuid4(), household_id=uuid4(), owner=OWNER, at=T)
    network.note_item(item(ItemKind.REFERRAL, OWNER, BRIDGE), T)
    sent = item(ItemKind.REFERRAL, BRIDGE, JOBCENTRE)
    network.note_item(sent, T)
    redirected = sent.model_copy(update={"to_org": "odense-gaeldsraadgivning"})
    assert report_refusal(network.picture(), redirected, BRIDGE) is None


def test_only_the_owner_hands_a_household_off(picture: NetworkPicture) -> None:
    reason = report_refusal(picture, item(ItemKind.HANDOFF, BRIDGE, JOBCENTRE), BRIDGE)
    assert reason == f"Only civica, the owner, hands household {picture.household_id} off"


def test_a_support_provider_reports_its_own_link_and_joins_through_it(picture: NetworkPicture) -> None:
    assert report_refusal(picture, item(ItemKind.SUPPORT_LINK, KVINFO, KVINFO), KVINFO) is None


def test_no_one_reports_another_providers_support_link(picture: NetworkPicture) -> None:
    reason = report_refusal(picture, item(ItemKind.SUPPORT_LINK, KVINFO, KVINFO), BRIDGE)
    assert reason is not None and reason.startswith("odense-brobygning does not provide support link")
