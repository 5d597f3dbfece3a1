"""What a node's webhooks deliver: its referral steps and its notifications as CloudEvents (structured
mode, JSON), minimised to ids, kinds, statuses and dates — never a name, a CPR number, needs or free text.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.utils import get_topic

from coordination.applications.base import NodeApplication
from coordination.domain.notification import Notification
from coordination.domain.referral import Referral

TYPE_PREFIX = "dk.rehousing."
_REFERRAL_STEPS: dict[type[Any], str] = {
    Referral.Sent: "sent",
    Referral.Acknowledged: "acknowledged",
    Referral.Accepted: "accepted",
    Referral.Started: "started",
    Referral.PutOnHold: "put_on_hold",
    Referral.Declined: "declined",
    Referral.DeclineOverridden: "decline_overridden",
    Referral.Redirected: "redirected",
    Referral.Withdrawn: "withdrawn",
    Referral.Expired: "expired",
    Referral.Completed: "completed",
    Referral.EnteredInError: "entered_in_error",
    # A daycare referral's place (its status stays; the department's own system follows the queue by these).
    Referral.PlaceOffered: "place_offered",
    Referral.PlaceAccepted: "place_accepted",
    Referral.PlaceDeclined: "place_declined",
}
DELIVERED = (*_REFERRAL_STEPS, Notification.Raised)
TOPICS = [get_topic(cls) for cls in DELIVERED]
# Every type a subscription may ask for.
EVENT_TYPES = sorted(
    [f"{TYPE_PREFIX}referral.{step}" for step in _REFERRAL_STEPS.values()]
    + [f"{TYPE_PREFIX}notification.raised"]
)


def event_id(originator_id: UUID, version: int) -> str:
    """The CloudEvent's id: one per stored event, the same however often it is built."""
    return str(uuid5(NAMESPACE_URL, f"urn:rehousing-event:{originator_id}:{version}"))


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def cloud_event(app: NodeApplication, domain_event: Any) -> dict[str, Any] | None:
    """The CloudEvent of a stored event, or None when it is not delivered (another's step of a referral
    this node neither sent nor received cannot be here; a notification's later events are not news)."""
    step = _REFERRAL_STEPS.get(type(domain_event))
    if step is not None:
        referral = app.repository.get(domain_event.originator_id, version=domain_event.originator_version)
        assert isinstance(referral, Referral)
        data: dict[str, Any] = {
            "referral_id": str(referral.id),
            "household_id": str(referral.household_id),
            "kind": str(referral.kind),
            "status": str(referral.status),
            "referrer": referral.referrer,
            "receiver": referral.receiver,
            "direction": "received" if referral.receiver == app.organisation else "sent",
            "acknowledge_by": _iso(referral.acknowledge_by),
            "complete_by": _iso(referral.complete_by),
            "assignee": referral.assignee,
        }
        place = referral.daycare_place
        if step.startswith("place_") and place is not None:
            # Its start date and the family's answer, coded: no institution's name, no free text.
            data["daycare_place"] = {
                "starts_on": place.starts_on.isoformat(),
                "answer": None if place.answer is None else str(place.answer),
                "reason_code": place.reason_code,
            }
        kind, subject = f"referral.{step}", str(referral.id)
    elif isinstance(domain_event, Notification.Raised):
        recipients = domain_event.recipients
        data = {
            "notification_id": str(domain_event.originator_id),
            "kind": str(domain_event.kind),
            "subject": domain_event.subject,
            "subject_id": str(domain_event.subject_id),
            "household_id": None if domain_event.household_id is None else str(domain_event.household_id),
            "due": _iso(domain_event.due),
            "escalates": None if domain_event.escalates is None else str(domain_event.escalates),
            "person": recipients.person,
            "roles": [str(role) for role in recipients.roles],
        }
        kind, subject = "notification.raised", str(domain_event.originator_id)
    else:
        return None
    return {
        "specversion": "1.0",
        "id": event_id(domain_event.originator_id, domain_event.originator_version),
        "source": f"urn:rehousing:node:{app.organisation}",
        "type": TYPE_PREFIX + kind,
        "subject": subject,
        "time": domain_event.timestamp.isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }


def stored_events(app: NodeApplication, *, after: int, limit: int) -> Iterator[tuple[int, Any]]:
    """The delivered kinds of stored event after log position `after`, with their positions."""
    for notification in app.recorder.select_notifications(
        start=after, limit=limit, topics=TOPICS, inclusive_of_start=False
    ):
        yield notification.id, app.mapper.to_domain_event(notification)


def subscribed(types: list[str], event_type: str) -> bool:
    """Whether a subscription to `types` (exact, or a prefix ending in `*`) wants `event_type`."""
    return any(
        event_type == wanted or (wanted.endswith("*") and event_type.startswith(wanted[:-1]))
        for wanted in types
    )
