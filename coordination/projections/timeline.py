"""Household timeline: every event about one household in this node's store, in order, by who and when.

Later events of a referral, support link or offer do not repeat the household's id, so each entry is
filed under its subject (the household, referral, support link or offer) and each subject is mapped to
its household once, from the event that created it. A lookup is then two indexed reads, however long
the node's log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.utils import resolve_topic

from coordination.domain.follow_up import FollowedHousehold
from coordination.domain.household import Household
from coordination.domain.offer_request import OfferRequest
from coordination.domain.referral import Referral
from coordination.domain.support_link import SupportLink
from coordination.domain.vacancy import Vacancy
from coordination.domain.values import Role
from coordination.projections.columns import from_instant, instant, stored_id, stored_instant
from coordination.projections.definition import Projection, handles, handles_stored
from coordination.projections.history import HistoryEntry
from coordination.projections.transaction import ProjectionTx
from coordination.projections.view_store import ViewStore

# Only a vacancy's offers are about a household: publishing and withdrawing are not (nor read).
_OFFERS = (Vacancy.OfferReserved, Vacancy.OfferAccepted, Vacancy.OfferDeclined, Vacancy.OfferExpired)
_FILED = (
    Household.Event,
    Referral.Event,
    SupportLink.Event,
    FollowedHousehold.Event,
    OfferRequest.Event,
    *_OFFERS,
)

# What the timeline reads of an event besides its header: never a personal attribute, and only these are
# decoded in a rebuild (most of its cost was decoding every attribute of nine events in ten).
_READS = ("timestamp", "at", "by", "household_id", "offer_id", "reason_code")

_ROLES = frozenset(role.value for role in Role)


@dataclass(frozen=True, slots=True)
class _Filing:
    """How the timeline files the events of one class."""

    aggregate: str  # the aggregate's name in the timeline
    event: str  # the event class's name
    subject: str | None  # the attribute naming the entry's subject; None: the aggregate itself
    creates: bool  # whether the event creates its subject, mapping it to its household
    household: str | None  # the attribute naming the subject's household; None: the aggregate itself


def _filing(event_class: type) -> _Filing:
    name = event_class.__name__
    if issubclass(event_class, Household.Event):
        return _Filing("Household", name, None, issubclass(event_class, Household.Registered), None)
    if issubclass(event_class, Vacancy.Event):
        return _Filing(
            "Vacancy", name, "offer_id", issubclass(event_class, Vacancy.OfferReserved), "household_id"
        )
    # Facts a receiving organisation reports on a household another organisation owns are FollowedHousehold.
    for aggregate, created in (
        (Referral, Referral.Sent),
        (SupportLink, SupportLink.Proposed),
        (FollowedHousehold, FollowedHousehold.Followed),
        (OfferRequest, OfferRequest.Requested),
    ):
        if issubclass(event_class, aggregate.Event):
            return _Filing(aggregate.__name__, name, None, issubclass(event_class, created), "household_id")
    raise TypeError(f"the timeline does not file {name}")


def _stored_actor(value: Any) -> tuple[str, str, str] | None:
    """Organisation, person and role of an Actor as stored (its JSON dump), if it is in the form its
    decoder rebuilds field by field; None otherwise."""
    if type(value) is not dict or len(value) != 2 or value.get("_type_") != "Actor":
        return None
    data = value.get("_data_")
    if type(data) is not dict or len(data) != 3:
        return None
    organisation, person, role = data.get("organisation"), data.get("person"), data.get("role")
    if (
        type(organisation) is not str
        or type(person) is not str
        or type(role) is not str
        or role not in _ROLES
    ):
        return None
    return organisation, person, role


class TimelineProjection(Projection):
    """The audit trail of each household at this node: its own events, its referrals', links' and offers'."""

    name = "timeline"
    tables = {
        "timeline_entries": "position BIGINT PRIMARY KEY, subject_id TEXT NOT NULL, aggregate TEXT NOT NULL, "
        "aggregate_id TEXT NOT NULL, version INTEGER NOT NULL, event TEXT NOT NULL, at TEXT, "
        "recorded_at TEXT NOT NULL, organisation TEXT, person TEXT, role TEXT",
        "timeline_subjects": "subject_id TEXT PRIMARY KEY, household_id TEXT NOT NULL",
        # A table of its own, not a column: a node's existing timeline table keeps its layout.
        "timeline_reasons": "position BIGINT PRIMARY KEY, reason_code TEXT NOT NULL",
    }
    indexes = {
        "timeline_by_subject": ("timeline_entries", "subject_id, position"),
        "timeline_subjects_by_household": ("timeline_subjects", "household_id"),
    }

    def __init__(self, suffix: str = "live") -> None:
        super().__init__(suffix)
        self._filings_by_class: dict[type, _Filing] = {}
        self._filings_by_topic: dict[str, _Filing] = {}

    @handles(*_FILED, reads=_READS)
    def entry(self, event: Any, tx: ProjectionTx) -> None:
        filing = self._filings_by_class.get(type(event))
        if filing is None:
            filing = self._filings_by_class[type(event)] = _filing(type(event))
        aggregate_id = str(event.originator_id)
        subject_id = aggregate_id if filing.subject is None else str(getattr(event, filing.subject))
        household_id = None
        if filing.creates:
            named = aggregate_id if filing.household is None else getattr(event, filing.household)
            household_id = None if named is None else str(named)  # None: an erased household's offer
        by = getattr(event, "by", None)
        at = getattr(event, "at", None)
        _file(
            tx,
            filing,
            aggregate_id,
            event.originator_version,
            subject_id,
            household_id,
            None if at is None else instant(at),
            instant(event.timestamp),
            (by.organisation, by.person, str(by.role)) if by else (None, None, None),
            getattr(event, "reason_code", None),
        )

    @handles_stored(*_FILED)
    def stored_entry(self, stored: Any, state: dict[str, Any], tx: ProjectionTx) -> bool:
        """`entry` read straight from the stored JSON: the stored ISO moments are the column text already."""
        filing = self._filings_by_topic.get(stored.topic)
        if filing is None:
            filing = self._filings_by_topic[stored.topic] = _filing(resolve_topic(stored.topic))
        recorded_at = stored_instant(state.get("timestamp"))
        at = state.get("at")
        if recorded_at is None or (at is not None and (at := stored_instant(at)) is None):
            return False
        by = state.get("by")
        actor = (None, None, None) if by is None else _stored_actor(by)
        if actor is None:
            return False
        aggregate_id = str(stored.originator_id)
        subject_id = aggregate_id if filing.subject is None else stored_id(state.get(filing.subject))
        if subject_id is None:
            return False
        household_id = None
        if filing.creates:
            household_id = (
                aggregate_id if filing.household is None else stored_id(state.get(filing.household))
            )
            if household_id is None:
                return False
        reason_code = state.get("reason_code")
        if reason_code is not None and type(reason_code) is not str:
            return False
        _file(
            tx,
            filing,
            aggregate_id,
            stored.originator_version,
            subject_id,
            household_id,
            at,
            recorded_at,
            actor,
            reason_code,
        )
        return True


def _file(
    tx: ProjectionTx,
    filing: _Filing,
    aggregate_id: str,
    version: int,
    subject_id: str,
    household_id: str | None,
    at: str | None,
    recorded_at: str,
    actor: tuple[str | None, str | None, str | None],
    reason_code: str | None = None,
) -> None:
    """The entry's row, and its subject's household when the event creates the subject (`entry` and
    `stored_entry` read the values each its own way; the rows must be the same)."""
    if filing.creates and household_id is not None:
        tx.upsert_row("timeline_subjects", (subject_id, household_id))
    # One row per position, written once (tracking sees to that): appended in bulk, not upserted.
    tx.append(
        "timeline_entries",
        (
            tx.position,
            subject_id,
            filing.aggregate,
            aggregate_id,
            version,
            filing.event,
            at,
            recorded_at,
            *actor,
        ),
    )
    if reason_code is not None:
        tx.append("timeline_reasons", (tx.position, reason_code))


class Timeline:
    """A household's timeline from one view store."""

    def __init__(self, view_store: ViewStore, suffix: str = "live") -> None:
        self._views = view_store
        self._t = TimelineProjection(suffix).table_names

    def entries(self, household_id: UUID) -> list[HistoryEntry]:
        rows = self._views.query(
            "SELECT e.*, r.reason_code FROM {timeline_entries} e "
            "JOIN {timeline_subjects} s ON s.subject_id = e.subject_id "
            "LEFT JOIN {timeline_reasons} r ON r.position = e.position "
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
                reason_code=row["reason_code"],
            )
            for row in rows
        ]
