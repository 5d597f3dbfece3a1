"""The fast-track daycare queue: children from daycare referrals, by the date the place is needed; the
place offered for each and the family's answer; and an institution's intake for dagtilbudsloven § 26 a."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from coordination.domain.calendar import copenhagen_day
from coordination.domain.referral import Referral, ReferralKind, ReferralStatus
from coordination.domain.referral_daycare import InstitutionIntake
from coordination.domain.referral_values import PlaceAnswer
from coordination.domain.values import DeclinedBy
from coordination.projections.columns import day, from_instant, instant
from coordination.projections.definition import Projection, handles
from coordination.projections.transaction import ProjectionTx
from coordination.projections.view_store import ViewStore


class QueueStatus(StrEnum):
    """The department's words for where a child is (docs/design.md §5): waiting → place offered → accepted
    or declined by the family → started on the start date. A referral the department completed without a
    place recorded here reads `completed` (it says nothing of when the child starts)."""

    WAITING = "waiting"
    PLACE_OFFERED = "place_offered"
    PLACE_ACCEPTED = "place_accepted"
    PLACE_DECLINED = "place_declined"
    STARTED = "started"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


_CLOSED = frozenset(
    {
        ReferralStatus.DECLINED_BY_RECEIVER,
        ReferralStatus.DECLINED_BY_HOUSEHOLD,
        ReferralStatus.WITHDRAWN,
        ReferralStatus.EXPIRED,
        ReferralStatus.ENTERED_IN_ERROR,
    }
)


def queue_status(
    status: ReferralStatus, answer: str | None = None, offered: bool = False, started: bool = False
) -> QueueStatus:
    """Where the child is, from the referral's status, the place offered (if any), the family's answer and
    whether the place's start date has come."""
    if status in _CLOSED:
        return QueueStatus.WITHDRAWN
    if answer == PlaceAnswer.ACCEPTED:
        return QueueStatus.STARTED if started else QueueStatus.PLACE_ACCEPTED
    if status is ReferralStatus.COMPLETED:
        return QueueStatus.COMPLETED
    if answer == PlaceAnswer.DECLINED:
        return QueueStatus.PLACE_DECLINED
    return QueueStatus.PLACE_OFFERED if offered else QueueStatus.WAITING


class DaycareQueueProjection(Projection):
    """One row per daycare fast-track referral (one child each), at the receiver's and the referrer's node."""

    name = "daycare_queue"
    tables = {
        "daycare_children": "referral_id TEXT PRIMARY KEY, household_id TEXT NOT NULL, "
        "member_id TEXT NOT NULL, birth_month TEXT NOT NULL, needed_from TEXT NOT NULL, "
        "municipality TEXT NOT NULL, area TEXT NOT NULL, referrer TEXT NOT NULL, receiver TEXT NOT NULL, "
        "referral_status TEXT NOT NULL, sent_at TEXT NOT NULL, "
        "complete_by TEXT NOT NULL, offered_at TEXT, started_at TEXT, closed_at TEXT",
        # The place offered and the family's answer: a table of its own, so a node's queue keeps its layout.
        "daycare_places": "referral_id TEXT PRIMARY KEY, institution TEXT NOT NULL, starts_on TEXT NOT NULL, "
        "priority_reason TEXT NOT NULL, counts_under_26a INTEGER NOT NULL, offered_at TEXT NOT NULL, "
        "answer TEXT, answered_at TEXT, reason_code TEXT",
    }
    indexes = {
        "daycare_by_need": ("daycare_children", "needed_from, sent_at"),
        "daycare_places_by_institution": ("daycare_places", "institution, starts_on"),
    }

    @handles(Referral.Sent)
    def sent(self, event: Referral.Sent, tx: ProjectionTx) -> None:
        if ReferralKind(event.kind) is not ReferralKind.DAYCARE_FAST_TRACK:
            return
        details = event.details
        child, place = details.children[0], details.place
        # Referral.send refused a daycare referral without these.
        assert details.needed_from is not None
        assert place is not None
        tx.upsert(
            "daycare_children",
            {
                "referral_id": str(event.originator_id),
                "household_id": str(event.household_id),
                "member_id": child.member_id,
                "birth_month": str(child.birth_month),
                "needed_from": day(details.needed_from),
                "municipality": place.municipality,
                "area": place.area,
                "referrer": event.referrer,
                "receiver": event.receiver,
                "referral_status": ReferralStatus.SENT.value,
                "sent_at": instant(event.at),
                # The pasningsgaranti date, computed by the domain when the referral was sent.
                "complete_by": instant(event.complete_by),
                "offered_at": None,
                "started_at": None,
                "closed_at": None,
            },
        )

    # Steps of referrals of other kinds update no row: those referrals are not in the table.

    @handles(Referral.Acknowledged)
    def acknowledged(self, event: Referral.Acknowledged, tx: ProjectionTx) -> None:
        self._status(tx, event, ReferralStatus.ACKNOWLEDGED)

    @handles(Referral.Accepted)
    def accepted(self, event: Referral.Accepted, tx: ProjectionTx) -> None:
        # The department took the case: the child waits on until a place is offered.
        self._status(tx, event, ReferralStatus.ACCEPTED)

    @handles(Referral.PlaceOffered)
    def place_offered(self, event: Referral.PlaceOffered, tx: ProjectionTx) -> None:
        tx.upsert(
            "daycare_places",
            {
                "referral_id": str(event.originator_id),
                "institution": event.institution,
                "starts_on": day(event.starts_on),
                "priority_reason": event.priority_reason,
                "counts_under_26a": int(event.counts_under_26a),
                "offered_at": instant(event.at),
                "answer": None,
                "answered_at": None,
                "reason_code": None,
            },
        )
        tx.update("daycare_children", (str(event.originator_id),), offered_at=instant(event.at))

    @handles(Referral.PlaceAccepted)
    def place_accepted(self, event: Referral.PlaceAccepted, tx: ProjectionTx) -> None:
        self._answer(tx, event, PlaceAnswer.ACCEPTED, None)

    @handles(Referral.PlaceDeclined)
    def place_declined(self, event: Referral.PlaceDeclined, tx: ProjectionTx) -> None:
        self._answer(tx, event, PlaceAnswer.DECLINED, event.reason_code)

    @staticmethod
    def _answer(
        tx: ProjectionTx, event: Referral.Event, answer: PlaceAnswer, reason_code: str | None
    ) -> None:
        tx.update(
            "daycare_places",
            (str(event.originator_id),),
            answer=answer.value,
            answered_at=instant(event.at),
            reason_code=reason_code,
        )

    @handles(Referral.Started)
    def started(self, event: Referral.Started, tx: ProjectionTx) -> None:
        self._status(tx, event, ReferralStatus.IN_PROGRESS)

    @handles(Referral.PutOnHold)
    def on_hold(self, event: Referral.PutOnHold, tx: ProjectionTx) -> None:
        self._status(tx, event, ReferralStatus.ON_HOLD)

    @handles(Referral.Completed)
    def completed(self, event: Referral.Completed, tx: ProjectionTx) -> None:
        self._status(tx, event, ReferralStatus.COMPLETED, started_at=instant(event.at))

    @handles(Referral.Declined)
    def declined(self, event: Referral.Declined, tx: ProjectionTx) -> None:
        by_receiver = DeclinedBy(event.declined_by) is DeclinedBy.PROVIDER
        status = ReferralStatus.DECLINED_BY_RECEIVER if by_receiver else ReferralStatus.DECLINED_BY_HOUSEHOLD
        self._status(tx, event, status, closed_at=instant(event.at))

    @handles(Referral.Withdrawn)
    def withdrawn(self, event: Referral.Withdrawn, tx: ProjectionTx) -> None:
        self._status(tx, event, ReferralStatus.WITHDRAWN, closed_at=instant(event.at))

    @handles(Referral.Expired)
    def expired(self, event: Referral.Expired, tx: ProjectionTx) -> None:
        self._status(tx, event, ReferralStatus.EXPIRED, closed_at=instant(event.at))

    @handles(Referral.EnteredInError)
    def entered_in_error(self, event: Referral.EnteredInError, tx: ProjectionTx) -> None:
        self._status(tx, event, ReferralStatus.ENTERED_IN_ERROR, closed_at=instant(event.at))

    @handles(Referral.DeclineOverridden)
    def decline_overridden(self, event: Referral.DeclineOverridden, tx: ProjectionTx) -> None:
        self._status(tx, event, ReferralStatus.SENT, offered_at=None, closed_at=None)

    @handles(Referral.Redirected)
    def redirected(self, event: Referral.Redirected, tx: ProjectionTx) -> None:
        self._status(tx, event, ReferralStatus.SENT, receiver=event.to, offered_at=None, closed_at=None)

    @staticmethod
    def _status(tx: ProjectionTx, event: Referral.Event, status: ReferralStatus, **changes: Any) -> None:
        tx.update("daycare_children", (str(event.originator_id),), referral_status=status.value, **changes)


class QueuedChild(BaseModel):
    """A child in the fast-track queue as of `now`: no name, the household's member id and birth month."""

    model_config = ConfigDict(frozen=True)

    referral_id: UUID
    household_id: UUID
    member_id: str
    birth_month: str
    needed_from: date
    municipality: str
    area: str
    referrer: str
    receiver: str
    status: QueueStatus
    referral_status: ReferralStatus
    sent_at: datetime
    days_waiting: int
    guarantee_date: date
    overdue: bool
    # The place offered, if any: where, from when, why the child was given priority, and a decline's code.
    institution: str | None = None
    starts_on: date | None = None
    priority_reason: str | None = None
    declined_reason_code: str | None = None


class DaycareQueue:
    """The queue as the children and youth department (or the referrer) sees it in its own store."""

    def __init__(self, view_store: ViewStore, suffix: str = "live") -> None:
        self._views = view_store
        tables = DaycareQueueProjection(suffix).table_names
        self._table, self._places = tables["daycare_children"], tables["daycare_places"]

    def queue(
        self, now: datetime, status: QueueStatus | str | None = None, receiver: str | None = None
    ) -> list[QueuedChild]:
        """Children by the date the place is needed, then by referral time; `status` and `receiver` filter.

        A child's status depends on `now` (a place starts on its date), so `status` filters the children
        read rather than the rows."""
        where, params = ["1 = 1"], []
        if receiver is not None:
            where.append("c.receiver = ?")
            params.append(receiver)
        rows = self._views.query(
            f"SELECT c.*, p.institution, p.starts_on, p.priority_reason, p.answer, p.reason_code "
            f"FROM {self._table} c LEFT JOIN {self._places} p ON p.referral_id = c.referral_id "
            f"WHERE {' AND '.join(where)} ORDER BY c.needed_from, c.sent_at, c.referral_id",
            params,
        )
        children = [_child(row, now) for row in rows]
        return children if status is None else [c for c in children if c.status is QueueStatus(status)]

    def intake(self, institution: str, year: int, planned: int | None = None) -> InstitutionIntake:
        """The places at `institution` starting in `year` that are taken or still open to the family (not
        declined, not on a closed referral), and how many of them count under dagtilbudsloven § 26 a."""
        closed = [s.value for s in _CLOSED]
        rows = self._views.query(
            f"SELECT p.counts_under_26a FROM {self._places} p JOIN {self._table} c "
            "ON c.referral_id = p.referral_id WHERE p.institution = ? AND p.starts_on >= ? AND p.starts_on < ? "
            f"AND (p.answer = ? OR (p.answer IS NULL AND c.referral_status NOT IN "
            f"({', '.join('?' for _ in closed)})))",
            [institution, f"{year:04d}-01-01", f"{year + 1:04d}-01-01", PlaceAnswer.ACCEPTED.value, *closed],
        )
        return InstitutionIntake(
            institution=institution,
            year=year,
            admitted=len(rows),
            counted=sum(1 for row in rows if row["counts_under_26a"]),
            planned=planned,
        )


def _child(row: dict[str, Any], now: datetime) -> QueuedChild:
    referral_status = ReferralStatus(row["referral_status"])
    starts_on = None if row["starts_on"] is None else date.fromisoformat(row["starts_on"])
    answer = row["answer"]
    started = starts_on is not None and copenhagen_day(now) >= starts_on
    status = queue_status(referral_status, answer, offered=starts_on is not None, started=started)
    sent_at = from_instant(row["sent_at"])
    complete_by = from_instant(row["complete_by"])
    assert sent_at is not None
    assert complete_by is not None
    # Waiting ends when a place is offered (or the referral is closed or completed); until then it runs to `now`.
    ended = (
        from_instant(row["offered_at"]) or from_instant(row["closed_at"]) or from_instant(row["started_at"])
    )
    return QueuedChild(
        referral_id=UUID(row["referral_id"]),
        household_id=UUID(row["household_id"]),
        member_id=row["member_id"],
        birth_month=row["birth_month"],
        needed_from=date.fromisoformat(row["needed_from"]),
        municipality=row["municipality"],
        area=row["area"],
        referrer=row["referrer"],
        receiver=row["receiver"],
        status=status,
        referral_status=referral_status,
        sent_at=sent_at,
        days_waiting=max(((ended or now) - sent_at).days, 0),
        guarantee_date=copenhagen_day(complete_by),
        # The guarantee is met by offering a place in time; a withdrawn child is no longer owed one.
        overdue=status is QueueStatus.WAITING and now > complete_by,
        institution=row["institution"],
        starts_on=starts_on,
        priority_reason=row["priority_reason"],
        declined_reason_code=row["reason_code"],
    )
