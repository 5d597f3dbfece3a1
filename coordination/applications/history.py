"""A household's history read from the whole log, when no timeline projection answers for the node."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

from coordination.domain.network import HouseholdNetwork
from coordination.domain.notification import Notification
from coordination.domain.values import Actor
from coordination.projections.history import HistoryEntry


def _history_entry(position: int, domain_event: Any) -> HistoryEntry:
    by: Actor | None = getattr(domain_event, "by", None)
    event_class = type(domain_event)
    return HistoryEntry(
        position=position,
        aggregate=event_class.__qualname__.split(".")[0],
        aggregate_id=domain_event.originator_id,
        version=domain_event.originator_version,
        event=event_class.__name__,
        at=getattr(domain_event, "at", None),
        recorded_at=domain_event.timestamp,
        organisation=by.organisation if by else None,
        person=by.person if by else None,
        role=str(by.role) if by else None,
        reason_code=getattr(domain_event, "reason_code", None),
    )


# Who answers `history()` instead of the log: the timeline projection, when the node runs its read models.
HistorySource = Callable[[UUID], list[HistoryEntry]]


class HistoryFromLog(Application[UUID]):
    """`history`: from `history_source` (the timeline projection) when the node has one, else the log."""

    def __init__(self, *, history_source: HistorySource | None = None, **kwargs: Any) -> None:
        self._history_source = history_source
        super().__init__(**kwargs)

    def history(self, household_id: UUID, page_size: int = 500) -> list[HistoryEntry]:
        """Every fact this node recorded about a household, its referrals and support links, in order
        (the steps themselves: not the notes on its network the steps made).

        Answered by the timeline projection when the node was built with one (`history_source`); without
        one, by reading the whole log of this node.
        """
        if self._history_source is not None:
            return self._history_source(household_id)
        return self.history_in_log(household_id, page_size)

    def history_in_log(self, household_id: UUID, page_size: int = 500) -> list[HistoryEntry]:
        """`history` read from the whole log of this node, whoever else could answer it."""
        related = {household_id}
        entries: list[HistoryEntry] = []
        position = 0
        while page := self.recorder.select_notifications(
            start=position, limit=page_size, inclusive_of_start=False
        ):
            for notification in page:
                position = notification.id
                domain_event = self.mapper.to_domain_event(notification)
                if isinstance(domain_event, HouseholdNetwork.Event):
                    continue  # derived from the steps listed here (nor does the timeline file it)
                if isinstance(domain_event, Notification.Event):
                    continue  # what the node told its people of the steps, not a step (nor filed)
                if getattr(domain_event, "household_id", None) == household_id:
                    related.add(domain_event.originator_id)
                if domain_event.originator_id in related:
                    entries.append(_history_entry(notification.id, domain_event))
        return entries
