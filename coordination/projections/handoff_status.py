"""Handoff status: who holds each household, its open referrals and handoffs, what is overdue, and latency."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from coordination.domain.household import Household
from coordination.domain.policy import DEFAULT_POLICY, RehousingPolicy
from coordination.domain.referral import Referral, ReferralKind, ReferralStatus
from coordination.domain.values import DeclinedBy, Holder
from coordination.projections.columns import day, from_day, from_instant, instant
from coordination.projections.definition import Projection, handles
from coordination.projections.household_status import (
    HandoffLatency,
    HouseholdStatus,
    PendingHandoffState,
    ReferralState,
    household_status,
    referral_state,
)
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

    @handles(Household.FollowUpVisitDeclined)
    def visit_declined(self, event: Household.FollowUpVisitDeclined, tx: ProjectionTx) -> None:
        # Declined by the household: the follow-up is closed as by a visit, and no longer overdue.
        tx.update("hs_households", (str(event.originator_id),), visited_on=day(event.declined_on))

    @handles(Household.Settled)
    def settled(self, event: Household.Settled, tx: ProjectionTx) -> None:
        tx.update("hs_households", (str(event.originator_id),), settled_at=instant(event.at))

    @handles(Household.Reopened)
    def reopened(self, event: Household.Reopened, tx: ProjectionTx) -> None:
        tx.update("hs_households", (str(event.originator_id),), settled_at=None)

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
        at = instant(event.at)
        self._step(tx, event, ReferralStatus.ACKNOWLEDGED, acknowledged_at=at)
        # A handoff is complete once acknowledged, as the Referral's own state rule has it.
        tx.update_where(
            "hs_referrals",
            (str(event.originator_id),),
            when={"kind": ReferralKind.HANDOFF.value},
            status=ReferralStatus.COMPLETED.value,
            completed_at=at,
        )
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
            return household_status(household_id, now, self.policy, open_referrals)
        row = rows[0]
        pending = None
        if row["pending_referral_id"] is not None:
            pending = PendingHandoffState(
                referral_id=UUID(row["pending_referral_id"]),
                to=Holder(organisation=row["pending_to_org"], role=row["pending_to_role"]),
                issued_at=from_instant(row["pending_issued_at"]),
            )
        return household_status(
            household_id,
            now,
            self.policy,
            open_referrals,
            holder=Holder(organisation=row["holder_org"], role=row["holder_role"]),
            pending_handoff=pending,
            moved_on=from_day(row["moved_on"]),
            visited_on=from_day(row["visited_on"]),
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

    def latencies(
        self,
        kind: str | None = None,
        *,
        issued: tuple[datetime, datetime] | None = None,
        organisation: str | None = None,
    ) -> list[HandoffLatency]:
        """Handoff latencies, of one `kind`, of referrals (latest) issued in [start, end), or to or from an
        `organisation`, as asked."""
        where, params = ["1 = 1"], []
        if kind:
            where, params = [*where, "kind = ?"], [*params, kind]
        if issued is not None:
            where, params = [*where, "issued_ms >= ? AND issued_ms < ?"], [*params, *map(_ms, issued)]
        if organisation:
            where, params = [*where, "(from_org = ? OR to_org = ?)"], [*params, organisation, organisation]
        rows = self._query(
            f"SELECT * FROM {{hs_latency}} WHERE {' AND '.join(where)} ORDER BY referral_id", params
        )
        return [
            HandoffLatency(
                referral_id=UUID(row["referral_id"]),
                from_org=row["from_org"],
                to_org=row["to_org"],
                kind=row["kind"],
                issued_at=datetime.fromtimestamp(row["issued_ms"] / 1000, UTC),
                to_acknowledgement=_delta(row["issued_ms"], row["acknowledged_ms"]),
                to_acceptance=_delta(row["issued_ms"], row["accepted_ms"]),
            )
            for row in rows
        ]

    def sent_between(
        self, start: datetime, end: datetime, organisation: str | None, now: datetime
    ) -> list[ReferralState]:
        """Referrals and handoffs (open or closed) sent in [start, end), by or to `organisation` if given."""
        where, params = "sent_at >= ? AND sent_at < ?", [instant(start), instant(end)]
        if organisation:
            where, params = (
                f"{where} AND (referrer = ? OR receiver = ?)",
                [*params, organisation, organisation],
            )
        rows = self._query(
            f"SELECT * FROM {{hs_referrals}} WHERE {where} ORDER BY sent_at, referral_id", params
        )
        return [self._referral(row, now) for row in rows]

    def moved_between(self, start: date, end: date, owner: str | None) -> list[tuple[date, date | None]]:
        """(moved on, latest follow-up visit) of the households that moved in [start, end), of one `owner`."""
        where, params = "moved_on IS NOT NULL AND moved_on >= ? AND moved_on < ?", [day(start), day(end)]
        if owner:
            where, params = f"{where} AND owner = ?", [*params, owner]
        rows = self._query(f"SELECT moved_on, visited_on FROM {{hs_households}} WHERE {where}", params)
        return [(date.fromisoformat(row["moved_on"]), from_day(row["visited_on"])) for row in rows]

    def _referral(self, row: dict[str, Any], now: datetime) -> ReferralState:
        sent_at, last_step_at = from_instant(row["sent_at"]), from_instant(row["last_step_at"])
        acknowledge_by, complete_by = from_instant(row["acknowledge_by"]), from_instant(row["complete_by"])
        assert sent_at is not None
        assert last_step_at is not None
        assert acknowledge_by is not None
        assert complete_by is not None
        return referral_state(
            now,
            self.policy,
            referral_id=UUID(row["referral_id"]),
            household_id=UUID(row["household_id"]),
            kind=ReferralKind(row["kind"]),
            referrer=row["referrer"],
            receiver=row["receiver"],
            status=ReferralStatus(row["status"]),
            sent_at=sent_at,
            acknowledge_by=acknowledge_by,
            complete_by=complete_by,
            acknowledged_at=from_instant(row["acknowledged_at"]),
            accepted_at=from_instant(row["accepted_at"]),
            last_step_at=last_step_at,
        )


def _delta(start_ms: int, end_ms: int | None) -> timedelta | None:
    return None if end_ms is None else timedelta(milliseconds=end_ms - start_ms)
