"""Notifications through the applications: raised on receipt and by the timers, once per step, escalated
once to the coordinators, resolved when the step is taken, read per person."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import pytest

from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp
from coordination.domain.errors import NotPermitted
from coordination.domain.notification import Notification
from coordination.domain.referral import ReferralKind
from coordination.domain.values import Actor, Role
from tests.application.builders import (
    BRIDGE,
    BRIDGE_BUILDER,
    CONSULTANT,
    cmd,
    event_names,
    publish,
    register_family,
    the_move,
)
from tests.application.builders import at as day_of_june
from tests.application.test_referral_desk import _received_at


def at(days: float = 0, minutes: float = 0) -> datetime:
    """`days` after Monday 15 June 2026, 09:00 UTC: two weeks with no closed day (5 June, Grundlovsdag,
    is closed by the default policy and would move the first week's due dates)."""
    return day_of_june(days + 14, minutes)


BRIDGE_COORDINATOR = Actor(organisation=BRIDGE, person="ko-9", role=Role.COORDINATOR)
OTHER_BRIDGE_BUILDER = Actor(organisation=BRIDGE, person="bb-8", role=Role.BRIDGE_BUILDER)


def _referral_received(housing: HousingOrganisationApp, bridge: BridgeBuilderApp) -> UUID:
    household_id = register_family(housing)
    referral_id = housing.refer_household(
        command_id=cmd(),
        household_id=household_id,
        receiver=BRIDGE,
        kind=ReferralKind.BRIDGE_BUILDING,
        at=at(1),
        by=CONSULTANT,
    )
    _received_at(bridge, housing, referral_id)
    return referral_id


def _kinds(app: BridgeBuilderApp | HousingOrganisationApp, reader: Actor, **options: bool) -> list[str]:
    views = app.inbox(reader, **options)
    return [str(view.kind) for view in views]


def test_a_referral_received_notifies_the_receiving_organisation_on_receipt_and_only_once(
    housing: HousingOrganisationApp, bridge: BridgeBuilderApp
) -> None:
    referral_id = _referral_received(housing, bridge)

    assert _kinds(bridge, BRIDGE_BUILDER) == ["referral_received"]
    views = bridge.inbox(BRIDGE_BUILDER)
    assert (views[0].subject_id, views[0].read) == (referral_id, False)
    # The timers see the same step and notify nothing more; the referrer's copy notifies no one there.
    assert bridge.notify_due(now=at(1, minutes=5)).raised == ()
    assert housing.notify_due(now=at(1, minutes=5)).raised == ()
    assert _kinds(housing, CONSULTANT) == []


def test_an_unacknowledged_referral_is_notified_overdue_then_escalated_once_to_the_coordinators(
    housing: HousingOrganisationApp, bridge: BridgeBuilderApp
) -> None:
    _referral_received(housing, bridge)

    first = bridge.notify_due(now=at(5))  # sent Tuesday 16 June: due Friday 19 June
    assert len(first.raised) == 1
    assert bridge.notify_due(now=at(6)).raised == ()
    assert _kinds(bridge, BRIDGE_COORDINATOR) == ["acknowledgement_overdue", "referral_received"]

    later = bridge.notify_due(now=at(9))  # two working days after it was raised
    assert len(later.escalated) == 1
    assert bridge.notify_due(now=at(12)).escalated == ()
    assert _kinds(bridge, BRIDGE_COORDINATOR)[0] == "escalation"
    # A bridge builder's inbox has no escalation: it is for the coordinators.
    assert "escalation" not in _kinds(bridge, BRIDGE_BUILDER)
    assert event_names(bridge, first.raised[0]) == ["Raised", "Escalated"]


def test_a_step_taken_before_the_escalation_resolves_the_notification_instead(
    housing: HousingOrganisationApp, bridge: BridgeBuilderApp
) -> None:
    referral_id = _referral_received(housing, bridge)
    overdue = bridge.notify_due(now=at(5)).raised[0]
    bridge.acknowledge_referral(command_id=cmd(), referral_id=referral_id, at=at(6), by=BRIDGE_BUILDER)

    notices = bridge.notify_due(now=at(9))

    assert (notices.escalated, notices.resolved) == ((), (overdue,))
    assert event_names(bridge, overdue) == ["Raised", "Resolved"]


def test_a_notification_is_read_per_person_and_only_by_whom_it_is_for(
    housing: HousingOrganisationApp, bridge: BridgeBuilderApp
) -> None:
    _referral_received(housing, bridge)
    (received,) = bridge.inbox(BRIDGE_BUILDER)

    bridge.mark_notification_read(
        command_id=cmd(), notification_id=received.notification_id, at=at(2), by=BRIDGE_BUILDER
    )
    bridge.mark_notification_read(
        command_id=cmd(), notification_id=received.notification_id, at=at(2), by=BRIDGE_BUILDER
    )

    assert _kinds(bridge, BRIDGE_BUILDER, unread=True) == []
    assert _kinds(bridge, OTHER_BRIDGE_BUILDER, unread=True) == ["referral_received"]
    assert event_names(bridge, received.notification_id) == ["Raised", "Read"]
    with pytest.raises(NotPermitted):
        bridge.mark_notification_read(
            command_id=cmd(), notification_id=received.notification_id, at=at(2), by=CONSULTANT
        )


def test_an_offer_about_to_expire_and_an_overdue_follow_up_visit_notify_the_consultants(
    housing: HousingOrganisationApp,
) -> None:
    household_id = register_family(housing)
    housing.make_offer(
        command_id=cmd(),
        household_id=household_id,
        vacancy_id=publish(housing),
        expires_at=at(15),
        at=at(1),
        by=CONSULTANT,
    )

    assert housing.notify_due(now=at(7)).raised == ()
    assert len(housing.notify_due(now=at(9)).raised) == 1  # within the seven days before expiry
    assert _kinds(housing, CONSULTANT) == ["offer_expiring"]
    assert _kinds(housing, BRIDGE_BUILDER) == []
    assert all(
        isinstance(housing.repository.get(n), Notification) for n in housing.notify_due(now=at(9)).raised
    )


def test_an_accepted_referral_without_a_step_for_a_week_is_notified_stalled_to_its_assignee_alone(
    housing: HousingOrganisationApp, bridge: BridgeBuilderApp
) -> None:
    referral_id = _referral_received(housing, bridge)
    bridge.acknowledge_referral(command_id=cmd(), referral_id=referral_id, at=at(2), by=BRIDGE_BUILDER)
    bridge.accept_referral(
        command_id=cmd(), referral_id=referral_id, assignee="bb-3", at=at(2), by=BRIDGE_BUILDER
    )

    assert bridge.notify_due(now=at(8)).raised == ()  # six days without a step
    assert len(bridge.notify_due(now=at(10)).raised) == 1

    assert _kinds(bridge, BRIDGE_BUILDER, unread=True) == ["referral_stalled", "referral_received"]
    assert _kinds(bridge, OTHER_BRIDGE_BUILDER, unread=True) == ["referral_received"]
    assert _kinds(bridge, OTHER_BRIDGE_BUILDER, everyone=True)[0] == "referral_stalled"


def test_a_follow_up_visit_not_made_after_the_move_is_notified_to_the_consultants_once(
    housing: HousingOrganisationApp,
) -> None:
    household_id = register_family(housing)
    housing.record_move(
        command_id=cmd(), household_id=household_id, move=the_move(), at=at(90), by=CONSULTANT
    )

    first = housing.notify_due(now=at(200))

    assert _kinds(housing, CONSULTANT) == ["follow_up_overdue"]
    assert housing.notify_due(now=at(201)).raised == ()
    assert len(first.raised) == 1
