"""Household timeline: every event about one household in this node's store, in order, by who and when.

Later events of a referral, support link or offer do not repeat the household's id, so each entry is
filed under its subject (the household, referral, support link or offer) and each subject is mapped to
its household once, from the event that created it. A lookup is then two indexed reads, however long
the node's log.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from coordination.applications.views import HistoryEntry
from coordination.domain.follow_up import FollowedHousehold
from coordination.domain.household import Household
from coordination.domain.offer_request import OfferRequest
from coordination.domain.referral import Referral
from coordination.domain.support_link import SupportLink
from coordination.domain.vacancy import Vacancy
from coordination.projections.columns import from_instant, instant
from coordination.projections.engine import Projection, ProjectionTx, ViewStore, handles

# What the timeline reads of an event besides its header: never a personal attribute, and only these are
# decoded in a rebuild (most of its cost was decoding every attribute of nine events in ten).
_READS = ("timestamp", "at", "by")


class TimelineProjection(Projection):
    """The audit trail of each household at this node: its own events, its referrals', links' and offers'."""

    name = "timeline"
    tables = {
        "timeline_entries": "position BIGINT PRIMARY KEY, subject_id TEXT NOT NULL, aggregate TEXT NOT NULL, "
        "aggregate_id TEXT NOT NULL, version INTEGER NOT NULL, event TEXT NOT NULL, at TEXT, "
        "recorded_at TEXT NOT NULL, organisation TEXT, person TEXT, role TEXT",
        "timeline_subjects": "subject_id TEXT PRIMARY KEY, household_id TEXT NOT NULL",
    }
    indexes = {
        "timeline_by_subject": ("timeline_entries", "subject_id, position"),
        "timeline_subjects_by_household": ("timeline_subjects", "household_id"),
    }

    @handles(Household.Event, reads=_READS)
    def household(self, event: Household.Event, tx: ProjectionTx) -> None:
        if isinstance(event, Household.Registered):
            self._subject(tx, event.originator_id, event.originator_id)
        self._entry(tx, event, event.originator_id, "Household")

    @handles(Referral.Event, reads=(*_READS, "household_id"))
    def referral(self, event: Referral.Event, tx: ProjectionTx) -> None:
        if isinstance(event, Referral.Sent):
            self._subject(tx, event.originator_id, event.household_id)
        self._entry(tx, event, event.originator_id, "Referral")

    @handles(SupportLink.Event, reads=(*_READS, "household_id"))
    def support_link(self, event: SupportLink.Event, tx: ProjectionTx) -> None:
        if isinstance(event, SupportLink.Proposed):
            self._subject(tx, event.originator_id, event.household_id)
        self._entry(tx, event, event.originator_id, "SupportLink")

    @handles(FollowedHousehold.Event, reads=(*_READS, "household_id"))
    def followed_household(self, event: FollowedHousehold.Event, tx: ProjectionTx) -> None:
        # Facts a receiving organisation reports on a household another organisation owns.
        if isinstance(event, FollowedHousehold.Followed):
            self._subject(tx, event.originator_id, event.household_id)
        self._entry(tx, event, event.originator_id, "FollowedHousehold")

    @handles(OfferRequest.Event, reads=(*_READS, "household_id"))
    def offer_request(self, event: OfferRequest.Event, tx: ProjectionTx) -> None:
        if isinstance(event, OfferRequest.Requested):
            self._subject(tx, event.originator_id, event.household_id)
        self._entry(tx, event, event.originator_id, "OfferRequest")

    # Only a vacancy's offers are about a household: publishing and withdrawing are not (nor read).
    @handles(
        Vacancy.OfferReserved,
        Vacancy.OfferAccepted,
        Vacancy.OfferDeclined,
        Vacancy.OfferExpired,
        reads=(*_READS, "offer_id", "household_id"),
    )
    def vacancy(self, event: Vacancy.Event, tx: ProjectionTx) -> None:
        offer_id = event.offer_id  # type: ignore[attr-defined]
        if isinstance(event, Vacancy.OfferReserved):
            self._subject(tx, offer_id, event.household_id)
        self._entry(tx, event, offer_id, "Vacancy")

    @staticmethod
    def _subject(tx: ProjectionTx, subject_id: UUID, household_id: UUID) -> None:
        tx.upsert("timeline_subjects", {"subject_id": str(subject_id), "household_id": str(household_id)})

    @staticmethod
    def _entry(tx: ProjectionTx, event: Any, subject_id: UUID, aggregate: str) -> None:
        by = getattr(event, "by", None)
        at = getattr(event, "at", None)
        # One row per position, written once (tracking sees to that): appended in bulk, not upserted.
        tx.insert(
            "timeline_entries",
            {
                "position": tx.position,
                "subject_id": str(subject_id),
                "aggregate": aggregate,
                "aggregate_id": str(event.originator_id),
                "version": event.originator_version,
                "event": type(event).__name__,
                "at": None if at is None else instant(at),
                "recorded_at": instant(event.timestamp),
                "organisation": by.organisation if by else None,
                "person": by.person if by else None,
                "role": str(by.role) if by else None,
            },
        )


class Timeline:
    """A household's timeline from one view store."""

    def __init__(self, view_store: ViewStore, suffix: str = "live") -> None:
        self._views = view_store
        self._t = TimelineProjection(suffix).table_names

    def entries(self, household_id: UUID) -> list[HistoryEntry]:
        rows = self._views.query(
            "SELECT e.* FROM {timeline_entries} e JOIN {timeline_subjects} s ON s.subject_id = e.subject_id "
            "WHERE s.household_id = ? ORDER BY e.position".format_map(self._t),
            (str(household_id),),
        )
        return [
            HistoryEntry(
                position=row["position"],
                aggregate=row["aggregate"],
                aggregate_id=UUID(row["aggregate_id"]),
                version=row["version"],
                event=row["event"],
                at=from_instant(row["at"]),
                recorded_at=from_instant(row["recorded_at"]),
                organisation=row["organisation"],
                person=row["person"],
                role=row["role"],
            )
            for row in rows
        ]
