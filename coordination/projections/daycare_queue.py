"""The fast-track daycare queue: children from daycare referrals, by the date the place is needed."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from coordination.domain.calendar import copenhagen_day
from coordination.domain.referral import Referral, ReferralKind, ReferralStatus
from coordination.domain.values import DeclinedBy
from coordination.projections.columns import day, from_instant, instant
from coordination.projections.definition import Projection, handles
from coordination.projections.transaction import ProjectionTx
from coordination.projections.view_store import ViewStore


class QueueStatus(StrEnum):
    """The department's words for where a child is (docs/design.md §5), from the referral's status."""

    WAITING = "waiting"
    PLACE_OFFERED = "place_offered"
    STARTED = "started"
    WITHDRAWN = "withdrawn"


_QUEUE_STATUS = {
    ReferralStatus.SENT: QueueStatus.WAITING,
    ReferralStatus.ACKNOWLEDGED: QueueStatus.WAITING,
    ReferralStatus.ACCEPTED: QueueStatus.PLACE_OFFERED,
    ReferralStatus.IN_PROGRESS: QueueStatus.PLACE_OFFERED,
    ReferralStatus.ON_HOLD: QueueStatus.PLACE_OFFERED,
    ReferralStatus.COMPLETED: QueueStatus.STARTED,
}  # every other status (declined, withdrawn, expired, entered in error) is WITHDRAWN


def queue_status(status: ReferralStatus) -> QueueStatus:
    return _QUEUE_STATUS.get(status, QueueStatus.WITHDRAWN)


class DaycareQueueProjection(Projection):
    """One row per daycare fast-track referral (one child each), at the receiver's and the referrer's node."""

    name = "daycare_queue"
    tables = {
        "daycare_children": "referral_id TEXT PRIMARY KEY, household_id TEXT NOT NULL, "
        "member_id TEXT NOT NULL, birth_month TEXT NOT NULL, needed_from TEXT NOT NULL, "
        "municipality TEXT NOT NULL, area TEXT NOT NULL, referrer TEXT NOT NULL, receiver TEXT NOT NULL, "
        "referral_status TEXT NOT NULL, sent_at TEXT NOT NULL, "
        "complete_by TEXT NOT NULL, offered_at TEXT, started_at TEXT, closed_at TEXT",
    }
    indexes = {"daycare_by_need": ("daycare_children", "needed_from, sent_at")}

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
        self._status(tx, event, ReferralStatus.ACCEPTED, offered_at=instant(event.at))

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


class DaycareQueue:
    """The queue as the children and youth department (or the referrer) sees it in its own store."""

    def __init__(self, view_store: ViewStore, suffix: str = "live") -> None:
        self._views = view_store
        self._table = DaycareQueueProjection(suffix).table_names["daycare_children"]

    def queue(
        self, now: datetime, status: QueueStatus | str | None = None, receiver: str | None = None
    ) -> list[QueuedChild]:
        """Children by the date the place is needed, then by referral time; `status` and `receiver` filter."""
        where, params = ["1 = 1"], []
        if status is not None:
            wanted = [s.value for s in ReferralStatus if queue_status(s) is QueueStatus(status)]
            where.append(f"referral_status IN ({', '.join('?' for _ in wanted)})")
            params += wanted
        if receiver is not None:
            where.append("receiver = ?")
            params.append(receiver)
        rows = self._views.query(
            f"SELECT * FROM {self._table} WHERE {' AND '.join(where)} "
            "ORDER BY needed_from, sent_at, referral_id",
            params,
        )
        return [_child(row, now) for row in rows]


def _child(row: dict[str, Any], now: datetime) -> QueuedChild:
    referral_status = ReferralStatus(row["referral_status"])
    status = queue_status(referral_status)
    sent_at = from_instant(row["sent_at"])
    complete_by = from_instant(row["complete_by"])
    assert sent_at is not None
    assert complete_by is not None
    # Waiting ends when a place is offered (or the referral is closed); until then it runs to `now`.
    ended = {
        QueueStatus.WAITING: now,
        QueueStatus.PLACE_OFFERED: from_instant(row["offered_at"]),
        QueueStatus.STARTED: from_instant(row["offered_at"]) or from_instant(row["started_at"]),
        QueueStatus.WITHDRAWN: from_instant(row["closed_at"]),
    }[status] or now
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
        days_waiting=max((ended - sent_at).days, 0),
        guarantee_date=copenhagen_day(complete_by),
        # A withdrawn child is no longer owed a place, so it is never overdue.
        overdue=status in (QueueStatus.WAITING, QueueStatus.PLACE_OFFERED) and now > complete_by,
    )
