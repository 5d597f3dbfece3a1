"""Handoff status: who holds each household, its open referrals and handoffs, what is overdue, and latency."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema

from coordination.domain.household import Household
from coordination.domain.policy import DEFAULT_POLICY, RehousingPolicy
from coordination.domain.referral import Referral, ReferralKind, ReferralStatus
from coordination.domain.values import DeclinedBy, Holder
from coordination.projections.columns import day, from_day, from_instant, instant
from coordination.projections.definition import Projection, handles
from coordination.projections.row_writes import Column
from coordination.projections.transaction import ProjectionTx
from coordination.projections.view_store import Params, ViewStore

_OPEN = tuple(s.value for s in ReferralStatus if s.is_open)
_IS_OPEN = f"status IN ({', '.join('?' * len(_OPEN))})"


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


class HandoffStatusProjection(Projection):
    """Households with their holder and pending handoff; referrals with their due dates; handoff latency.

    Latency is measured from the latest issue (sent, redirected or sent again after an overridden
    decline) to the current receiver's acknowledgement and acceptance, in milliseconds since the epoch
    so that a dashboard can subtract columns in plain SQL on any database.
    """

    name = "handoff_status"
    tables = {
        "hs_households": "household_id TEXT PRIMARY KEY, owner TEXT NOT NULL, holder_org TEXT NOT NULL, "
        "holder_role TEXT NOT NULL, pending_referral_id TEXT, pending_to_org TEXT, pending_to_role TEXT, "
        "pending_issued_at TEXT, moved_on TEXT, visited_on TEXT, settled_at TEXT",
        "hs_referrals": "referral_id TEXT PRIMARY KEY, household_id TEXT NOT NULL, kind TEXT NOT NULL, "
        "referrer TEXT NOT NULL, receiver TEXT NOT NULL, status TEXT NOT NULL, sent_at TEXT NOT NULL, "
        "acknowledge_by TEXT NOT NULL, complete_by TEXT NOT NULL, acknowledged_at TEXT, accepted_at TEXT, "
        "completed_at TEXT, last_step_at TEXT NOT NULL",
        "hs_latency": "referral_id TEXT PRIMARY KEY, from_org TEXT NOT NULL, to_org TEXT NOT NULL, "
        "kind TEXT NOT NULL, issued_ms BIGINT NOT NULL, acknowledged_ms BIGINT, accepted_ms BIGINT",
    }
    indexes = {
        "hs_households_by_holder": ("hs_households", "holder_org"),
        "hs_referrals_by_household": ("hs_referrals", "household_id"),
        "hs_referrals_by_receiver": ("hs_referrals", "receiver, status"),
        "hs_latency_by_pair": ("hs_latency", "from_org, to_org, kind"),
    }

    # Households (at the owner's node).

    @handles(Household.Registered)
    def registered(self, event: Household.Registered, tx: ProjectionTx) -> None:
        tx.upsert(
            "hs_households",
            {
                "household_id": str(event.originator_id),
                "owner": event.owner,
                "holder_org": event.holder.organisation,
                "holder_role": str(event.holder.role),
                "pending_referral_id": None,
                "pending_to_org": None,
                "pending_to_role": None,
                "pending_issued_at": None,
                "moved_on": None,
                "visited_on": None,
                "settled_at": None,
            },
        )

    @handles(Household.HandoffIssued)
    def handoff_issued(self, event: Household.HandoffIssued, tx: ProjectionTx) -> None:
        tx.update(
            "hs_households",
            (str(event.originator_id),),
            pending_referral_id=str(event.referral_id),
            pending_to_org=event.to.organisation,
            pending_to_role=str(event.to.role),
            pending_issued_at=instant(event.at),
        )

    @handles(Household.HandoffAcknowledged)
    def handoff_acknowledged(self, event: Household.HandoffAcknowledged, tx: ProjectionTx) -> None:
        # The event does not repeat whom the household went to: the pending handoff in the row says it.
        # A conditional row write, not raw SQL, so it folds with the household's other writes in a batch.
        tx.update_where(
            "hs_households",
            (str(event.originator_id),),
            when={"pending_referral_id": str(event.referral_id)},
            holder_org=Column("pending_to_org"),
            holder_role=Column("pending_to_role"),
            pending_referral_id=None,
            pending_to_org=None,
            pending_to_role=None,
            pending_issued_at=None,
        )

    @handles(Household.Moved)
    def moved(self, event: Household.Moved, tx: ProjectionTx) -> None:
        tx.update("hs_households", (str(event.originator_id),), moved_on=day(event.move.moved_on))

    @handles(Household.FollowUpVisitDone)
    def visited(self, event: Household.FollowUpVisitDone, tx: ProjectionTx) -> None:
        # The domain accepts a visit only on or after the latest move, so the latest visit is the one to keep.
        tx.update("hs_households", (str(event.originator_id),), visited_on=day(event.visited_on))

    @handles(Household.Settled)
    def settled(self, event: Household.Settled, tx: ProjectionTx) -> None:
        tx.update("hs_households", (str(event.originator_id),), settled_at=instant(event.at))

    # Referrals and handoffs (at both the referrer's and the receiver's node).

    @handles(Referral.Sent)
    def sent(self, event: Referral.Sent, tx: ProjectionTx) -> None:
        referral_id, at = str(event.originator_id), instant(event.at)
        tx.upsert(
            "hs_referrals",
            {
                "referral_id": referral_id,
                "household_id": str(event.household_id),
                "kind": str(event.kind),
                "referrer": event.referrer,
                "receiver": event.receiver,
                "status": ReferralStatus.SENT.value,
                "sent_at": at,
                "acknowledge_by": instant(event.acknowledge_by),
                "complete_by": instant(event.complete_by),
                "acknowledged_at": None,
                "accepted_at": None,
                "completed_at": None,
                "last_step_at": at,
            },
        )
        tx.upsert(
            "hs_latency",
            {
                "referral_id": referral_id,
                "from_org": event.referrer,
                "to_org": event.receiver,
                "kind": str(event.kind),
                "issued_ms": _ms(event.at),
                "acknowledged_ms": None,
                "accepted_ms": None,
            },
        )

    @handles(Referral.Acknowledged)
    def acknowledged(self, event: Referral.Acknowledged, tx: ProjectionTx) -> None:
        self._step(tx, event, ReferralStatus.ACKNOWLEDGED, acknowledged_at=instant(event.at))
        tx.update("hs_latency", (str(event.originator_id),), acknowledged_ms=_ms(event.at))

    @handles(Referral.Accepted)
    def accepted(self, event: Referral.Accepted, tx: ProjectionTx) -> None:
        self._step(tx, event, ReferralStatus.ACCEPTED, accepted_at=instant(event.at))
        tx.update("hs_latency", (str(event.originator_id),), accepted_ms=_ms(event.at))

    @handles(Referral.Started)
    def started(self, event: Referral.Started, tx: ProjectionTx) -> None:
        self._step(tx, event, ReferralStatus.IN_PROGRESS)

    @handles(Referral.PutOnHold)
    def on_hold(self, event: Referral.PutOnHold, tx: ProjectionTx) -> None:
        self._step(tx, event, ReferralStatus.ON_HOLD)

    @handles(Referral.Completed)
    def completed(self, event: Referral.Completed, tx: ProjectionTx) -> None:
        self._step(tx, event, ReferralStatus.COMPLETED, completed_at=instant(event.at))

    @handles(Referral.Declined)
    def declined(self, event: Referral.Declined, tx: ProjectionTx) -> None:
        by_receiver = DeclinedBy(event.declined_by) is DeclinedBy.PROVIDER
        self._step(
            tx,
            event,
            ReferralStatus.DECLINED_BY_RECEIVER if by_receiver else ReferralStatus.DECLINED_BY_HOUSEHOLD,
        )

    @handles(Referral.Withdrawn)
    def withdrawn(self, event: Referral.Withdrawn, tx: ProjectionTx) -> None:
        self._step(tx, event, ReferralStatus.WITHDRAWN)

    @handles(Referral.Expired)
    def expired(self, event: Referral.Expired, tx: ProjectionTx) -> None:
        self._step(tx, event, ReferralStatus.EXPIRED)

    @handles(Referral.EnteredInError)
    def entered_in_error(self, event: Referral.EnteredInError, tx: ProjectionTx) -> None:
        self._step(tx, event, ReferralStatus.ENTERED_IN_ERROR)

    @handles(Referral.DeclineOverridden)
    def decline_overridden(self, event: Referral.DeclineOverridden, tx: ProjectionTx) -> None:
        self._reissued(tx, event, event.acknowledge_by)

    @handles(Referral.Redirected)
    def redirected(self, event: Referral.Redirected, tx: ProjectionTx) -> None:
        self._reissued(tx, event, event.acknowledge_by, receiver=event.to)
        tx.update("hs_latency", (str(event.originator_id),), to_org=event.to)

    def _reissued(self, tx: ProjectionTx, event: Any, acknowledge_by: datetime, **changes: Any) -> None:
        self._step(
            tx,
            event,
            ReferralStatus.SENT,
            acknowledge_by=instant(acknowledge_by),
            acknowledged_at=None,
            accepted_at=None,
            **changes,
        )
        tx.update(
            "hs_latency",
            (str(event.originator_id),),
            issued_ms=_ms(event.at),
            acknowledged_ms=None,
            accepted_ms=None,
        )

    @staticmethod
    def _step(tx: ProjectionTx, event: Any, status: ReferralStatus, **changes: Any) -> None:
        tx.update(
            "hs_referrals",
            (str(event.originator_id),),
            status=status.value,
            last_step_at=instant(event.at),
            **changes,
        )


def iso_duration(value: timedelta) -> str:
    """An RFC 3339 duration (JSON Schema's `duration`) of whole days and seconds, e.g. "P542DT9H18M28S".

    pydantic writes "P1Y177DT9H18M28.66S": 365-day years, a year followed by days without months, and
    fractions of a second, none of which RFC 3339's grammar allows. An age is never negative (a referral
    stamped later than the reader's clock is zero days old)."""
    seconds = max(0, int(value.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    return f"P{days}DT{hours}H{minutes}M{seconds}S"


Duration = Annotated[
    timedelta,
    PlainSerializer(iso_duration, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "duration"}),
]


class ReferralState(BaseModel):
    """An open referral or handoff as of `now`, with its due dates and what is overdue."""

    model_config = ConfigDict(frozen=True)

    referral_id: UUID
    household_id: UUID
    kind: ReferralKind
    is_handoff: bool
    referrer: str
    receiver: str
    status: ReferralStatus
    sent_at: datetime
    age: Duration
    acknowledge_by: datetime
    complete_by: datetime
    acknowledged_at: datetime | None
    accepted_at: datetime | None
    acknowledgement_overdue: bool  # still not acknowledged after acknowledge_by
    acknowledged_late: bool  # acknowledged, but after acknowledge_by
    completion_overdue: bool
    stalled: bool


class PendingHandoffState(BaseModel):
    model_config = ConfigDict(frozen=True)

    referral_id: UUID
    to: Holder
    issued_at: datetime


class HouseholdStatus(BaseModel):
    """Who holds a household now and what is open about it (holder is None where the node does not own it)."""

    model_config = ConfigDict(frozen=True)

    household_id: UUID
    holder: Holder | None
    pending_handoff: PendingHandoffState | None
    moved_on: date | None
    follow_up_due: date | None
    follow_up_done: bool
    follow_up_overdue: bool
    open_referrals: list[ReferralState]


class HandoffLatency(BaseModel):
    model_config = ConfigDict(frozen=True)

    referral_id: UUID
    from_org: str
    to_org: str
    kind: str
    to_acknowledgement: timedelta | None
    to_acceptance: timedelta | None


class HandoffStatus:
    """Questions asked of the handoff-status projection of one view store, with an explicit `now`."""

    def __init__(
        self, view_store: ViewStore, suffix: str = "live", policy: RehousingPolicy = DEFAULT_POLICY
    ) -> None:
        self._views = view_store
        self._t = HandoffStatusProjection(suffix).table_names
        self.policy = policy

    def _query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        return self._views.query(sql.format_map(self._t), params)

    def for_household(self, household_id: UUID, now: datetime) -> HouseholdStatus:
        """One household by primary key, and its open referrals by index."""
        rows = self._query("SELECT * FROM {hs_households} WHERE household_id = ?", (str(household_id),))
        referrals = self._query(
            f"SELECT * FROM {{hs_referrals}} WHERE household_id = ? AND {_IS_OPEN} "
            "ORDER BY sent_at, referral_id",
            (str(household_id), *_OPEN),
        )
        open_referrals = [self._referral(row, now) for row in referrals]
        if not rows:
            return HouseholdStatus(
                household_id=household_id,
                holder=None,
                pending_handoff=None,
                moved_on=None,
                follow_up_due=None,
                follow_up_done=False,
                follow_up_overdue=False,
                open_referrals=open_referrals,
            )
        row = rows[0]
        moved_on, visited_on = from_day(row["moved_on"]), from_day(row["visited_on"])
        due = None if moved_on is None else self.policy.follow_up_due(moved_on)
        done = moved_on is not None and visited_on is not None and visited_on >= moved_on
        pending = None
        if row["pending_referral_id"] is not None:
            pending = PendingHandoffState(
                referral_id=UUID(row["pending_referral_id"]),
                to=Holder(organisation=row["pending_to_org"], role=row["pending_to_role"]),
                issued_at=from_instant(row["pending_issued_at"]),
            )
        return HouseholdStatus(
            household_id=household_id,
            holder=Holder(organisation=row["holder_org"], role=row["holder_role"]),
            pending_handoff=pending,
            moved_on=moved_on,
            follow_up_due=due,
            follow_up_done=done,
            follow_up_overdue=due is not None and not done and now.date() > due,
            open_referrals=open_referrals,
        )

    def held_by(self, organisation: str) -> list[UUID]:
        """The households this organisation holds now, as recorded at this node."""
        rows = self._query(
            "SELECT household_id FROM {hs_households} WHERE holder_org = ? ORDER BY household_id",
            (organisation,),
        )
        return [UUID(row["household_id"]) for row in rows]

    def owed_by(self, organisation: str, now: datetime) -> list[ReferralState]:
        """Open referrals and handoffs where the organisation is the receiver and owes the next step."""
        rows = self._query(
            f"SELECT * FROM {{hs_referrals}} WHERE receiver = ? AND {_IS_OPEN} ORDER BY sent_at, referral_id",
            (organisation, *_OPEN),
        )
        return [self._referral(row, now) for row in rows]

    def latencies(self, kind: str | None = None) -> list[HandoffLatency]:
        where, params = ("WHERE kind = ?", (kind,)) if kind else ("", ())
        rows = self._query(f"SELECT * FROM {{hs_latency}} {where} ORDER BY referral_id", params)
        return [
            HandoffLatency(
                referral_id=UUID(row["referral_id"]),
                from_org=row["from_org"],
                to_org=row["to_org"],
                kind=row["kind"],
                to_acknowledgement=_delta(row["issued_ms"], row["acknowledged_ms"]),
                to_acceptance=_delta(row["issued_ms"], row["accepted_ms"]),
            )
            for row in rows
        ]

    def _referral(self, row: dict[str, Any], now: datetime) -> ReferralState:
        status = ReferralStatus(row["status"])
        sent_at, last_step_at = from_instant(row["sent_at"]), from_instant(row["last_step_at"])
        acknowledge_by, complete_by = from_instant(row["acknowledge_by"]), from_instant(row["complete_by"])
        acknowledged_at = from_instant(row["acknowledged_at"])
        assert sent_at is not None
        assert last_step_at is not None
        assert acknowledge_by is not None
        assert complete_by is not None
        kind = ReferralKind(row["kind"])
        return ReferralState(
            referral_id=UUID(row["referral_id"]),
            household_id=UUID(row["household_id"]),
            kind=kind,
            is_handoff=kind is ReferralKind.HANDOFF,
            referrer=row["referrer"],
            receiver=row["receiver"],
            status=status,
            sent_at=sent_at,
            age=now - sent_at,
            acknowledge_by=acknowledge_by,
            complete_by=complete_by,
            acknowledged_at=acknowledged_at,
            accepted_at=from_instant(row["accepted_at"]),
            acknowledgement_overdue=status is ReferralStatus.SENT and now > acknowledge_by,
            acknowledged_late=acknowledged_at is not None and acknowledged_at > acknowledge_by,
            completion_overdue=status.is_open and now > complete_by,
            stalled=status.is_open and now - last_step_at > timedelta(days=self.policy.stalled_after_days),
        )


def _delta(start_ms: int, end_ms: int | None) -> timedelta | None:
    return None if end_ms is None else timedelta(milliseconds=end_ms - start_ms)
