"""A node's timers: what is due at an explicit `now` (offers past expiry, referrals past their due date)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.utils import get_topic

from coordination.applications.base import derived_id


@dataclass(frozen=True)
class Expiries:
    """What one run of the timers expired, by id; `skipped` changed meanwhile and is looked at next run."""

    offers: tuple[UUID, ...] = ()  # offers of our vacancies to our own households
    requested_offers: tuple[UUID, ...] = ()  # offers of our vacancies that another organisation requested
    referrals: tuple[UUID, ...] = ()  # referrals we sent that were not accepted by their due date
    skipped: tuple[UUID, ...] = ()


def timer_command_id(command: str, aggregate_id: UUID, step_id: UUID | None = None) -> UUID:
    """The command id of a timer step, derived from what expires: a second run (or a second process
    running the timers at once) repeats the command instead of applying it twice."""
    return derived_id("timer", command, aggregate_id, step_id or aggregate_id)


def originators(app: Application[UUID], *event_classes: type, page_size: int = 500) -> list[UUID]:
    """Distinct ids of the aggregates that recorded any of `event_classes` in the node's log, in log order.

    Reads the log's index of those event types on every call: timers run seldom, and this needs no
    read model to be attached.
    """
    topics = [get_topic(cls) for cls in event_classes]
    found: dict[UUID, None] = {}
    position = 0
    while page := app.recorder.select_notifications(
        start=position, limit=page_size, topics=topics, inclusive_of_start=False
    ):
        for notification in page:
            position = notification.id
            found.setdefault(UUID(str(notification.originator_id)), None)
    return list(found)
