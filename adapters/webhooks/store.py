"""The webhooks' tables in the node's database: subscriptions, deliveries (one per event and subscription,
its webhook-id fixed for every retry and replay), each attempt, and how far the worker has read the log.

SQL written once for SQLite and PostgreSQL (`?` placeholders); times as ISO text in UTC, which sorts.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from pydantic import BaseModel

from adapters.sql.node_db import SqlDatabase, Tx

SUBSCRIPTIONS = "webhook_subscriptions"
DELIVERIES = "webhook_deliveries"
ATTEMPTS = "webhook_attempts"
POSITION = "webhook_position"


class Subscription(BaseModel):
    """A subscription as listed: never its secret (shown once, when it is made)."""

    id: UUID
    organisation: str
    url: str
    types: list[str]
    created_at: datetime


class Delivery(BaseModel):
    """One event for one subscription: pending (retried with backoff), delivered, or failed (retries
    exhausted: replay it)."""

    id: UUID
    subscription_id: UUID
    event_id: str
    event_type: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def delivery_id(subscription_id: UUID, event_id: str) -> UUID:
    """The delivery's id, sent as webhook-id: the same for every retry and replay of this event here."""
    return uuid5(NAMESPACE_URL, f"urn:rehousing-webhook:{subscription_id}:{event_id}")


_DELIVERY_COLUMNS = (
    "id, subscription_id, event_id, event_type, state, attempts, next_attempt_at, last_status, "
    "last_error, created_at, delivered_at"
)


def delivery_cursor(delivery: Delivery) -> str:
    return f"{_iso(delivery.created_at)}/{delivery.id}"


def _delivery(row: tuple[Any, ...]) -> Delivery:
    return Delivery(
        id=UUID(row[0]),
        subscription_id=UUID(row[1]),
        event_id=row[2],
        event_type=row[3],
        state=row[4],
        attempts=row[5],
        next_attempt_at=_at(row[6]),
        last_status=row[7],
        last_error=row[8],
        created_at=_at(row[9]),  # type: ignore[arg-type]
        delivered_at=_at(row[10]),
    )


class WebhookStore:
    """The four tables, created on first use."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db
        with db.transaction() as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {SUBSCRIPTIONS} (id TEXT PRIMARY KEY, organisation TEXT NOT NULL, "
                "url TEXT NOT NULL, types TEXT NOT NULL, secret TEXT NOT NULL, created_at TEXT NOT NULL, "
                "deleted_at TEXT)"
            )
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {DELIVERIES} (id TEXT PRIMARY KEY, subscription_id TEXT NOT NULL, "
                "event_id TEXT NOT NULL, event_type TEXT NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL, "
                "attempts INTEGER NOT NULL, next_attempt_at TEXT, last_status INTEGER, last_error TEXT, "
                "created_at TEXT NOT NULL, delivered_at TEXT)"
            )
            tx.execute(
                f"CREATE INDEX IF NOT EXISTS {DELIVERIES}_due ON {DELIVERIES} (state, next_attempt_at)"
            )
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {ATTEMPTS} (delivery_id TEXT NOT NULL, attempt INTEGER NOT NULL, "
                "at TEXT NOT NULL, status INTEGER, error TEXT, PRIMARY KEY (delivery_id, attempt))"
            )
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {POSITION} (name TEXT PRIMARY KEY, position INTEGER NOT NULL)"
            )

    # Subscriptions

    def subscribe(
        self,
        *,
        organisation: str,
        url: str,
        types: list[str],
        secret: str,
        at: datetime,
        key: UUID | None = None,
    ) -> tuple[UUID, str, bool]:
        """(id, secret, whether it was new): a request repeated with its idempotency `key` finds the
        subscription the first one made (and its secret, which that one's lost answer carried)."""
        subscription_id = (
            uuid4() if key is None else uuid5(NAMESPACE_URL, f"urn:webhook:{organisation}:{key}")
        )
        made = self._db.run(
            f"INSERT INTO {SUBSCRIPTIONS} (id, organisation, url, types, secret, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id",
            (str(subscription_id), organisation, url, json.dumps(types), secret, _iso(at)),
        )
        if made:
            return subscription_id, secret, True
        rows = self._db.run(f"SELECT secret FROM {SUBSCRIPTIONS} WHERE id = ?", (str(subscription_id),))
        return subscription_id, str(rows[0][0]), False

    def subscriptions(self, organisation: str | None = None) -> list[Subscription]:
        """The live subscriptions (of `organisation`, or all), oldest first."""
        whose, params = ("", ()) if organisation is None else ("AND organisation = ? ", (organisation,))
        rows = self._db.run(
            f"SELECT id, organisation, url, types, created_at FROM {SUBSCRIPTIONS} "
            f"WHERE deleted_at IS NULL {whose}ORDER BY created_at, id",
            params,
        )
        return [
            Subscription(
                id=UUID(r[0]), organisation=r[1], url=r[2], types=json.loads(r[3]), created_at=_at(r[4])
            )
            for r in rows
        ]

    def subscription(self, organisation: str, subscription_id: UUID) -> Subscription | None:
        found = [s for s in self.subscriptions(organisation) if s.id == subscription_id]
        return found[0] if found else None

    def unsubscribe(self, organisation: str, subscription_id: UUID, at: datetime) -> bool:
        """Stops deliveries to it (pending ones are dropped from the queue, kept in the log)."""
        with self._db.transaction() as tx:
            found = tx.execute(
                f"SELECT id FROM {SUBSCRIPTIONS} WHERE id = ? AND organisation = ? AND deleted_at IS NULL",
                (str(subscription_id), organisation),
            )
            if not found:
                return False
            tx.execute(
                f"UPDATE {SUBSCRIPTIONS} SET deleted_at = ? WHERE id = ?", (_iso(at), str(subscription_id))
            )
            tx.execute(
                f"UPDATE {DELIVERIES} SET state = 'cancelled', next_attempt_at = NULL "
                "WHERE subscription_id = ? AND state = 'pending'",
                (str(subscription_id),),
            )
        return True

    # The worker's position in the node's log

    def position(self) -> int:
        rows = self._db.run(f"SELECT position FROM {POSITION} WHERE name = 'log'")
        return int(rows[0][0]) if rows else 0

    def enqueue(
        self, events: list[tuple[Subscription, dict[str, Any]]], *, position: int | None, at: datetime
    ) -> int:
        """Queue each (subscription, CloudEvent) once (a repeat changes nothing) and move the position to
        `position` in the same transaction, so a restart neither loses nor doubles a delivery."""
        queued = 0
        with self._db.transaction() as tx:
            for subscription, event in events:
                queued += self._queue(tx, subscription.id, event, at)
            if position is not None:
                tx.execute(
                    f"INSERT INTO {POSITION} (name, position) VALUES ('log', ?) "
                    "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                    (position,),
                )
        return queued

    def _queue(self, tx: Tx, subscription_id: UUID, event: dict[str, Any], at: datetime) -> int:
        rows = tx.execute(
            f"INSERT INTO {DELIVERIES} (id, subscription_id, event_id, event_type, body, state, attempts, "
            "next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?) "
            "ON CONFLICT (id) DO NOTHING RETURNING id",
            (
                str(delivery_id(subscription_id, event["id"])),
                str(subscription_id),
                event["id"],
                event["type"],
                json.dumps(event, separators=(",", ":")),
                _iso(at),
                _iso(at),
            ),
        )
        return len(rows)

    # Deliveries

    def due(self, now: datetime, limit: int) -> list[tuple[Delivery, str, str, bytes]]:
        """Pending deliveries due by `now`, oldest first, each with its subscription's url and secret and the
        body to send."""
        rows = self._db.run(
            f"SELECT {', '.join('d.' + c.strip() for c in _DELIVERY_COLUMNS.split(','))}, s.url, s.secret, d.body "
            f"FROM {DELIVERIES} d JOIN {SUBSCRIPTIONS} s ON s.id = d.subscription_id "
            "WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND s.deleted_at IS NULL "
            "ORDER BY d.next_attempt_at, d.created_at, d.id LIMIT ?",
            (_iso(now), limit),
        )
        return [(_delivery(r[:11]), r[11], r[12], r[13].encode()) for r in rows]

    def next_due(self) -> datetime | None:
        """When the earliest pending delivery is due (None: nothing is pending)."""
        rows = self._db.run(f"SELECT MIN(next_attempt_at) FROM {DELIVERIES} WHERE state = 'pending'")
        return _at(rows[0][0]) if rows else None

    def attempted(
        self,
        delivery: Delivery,
        *,
        at: datetime,
        status: int | None,
        error: str | None,
        delivered: bool,
        retry_at: datetime | None,
    ) -> None:
        """Record one attempt: delivered, or retried at `retry_at`, or failed for good (no `retry_at`)."""
        attempt = delivery.attempts + 1
        state = "delivered" if delivered else ("pending" if retry_at is not None else "failed")
        with self._db.transaction() as tx:
            tx.execute(
                f"INSERT INTO {ATTEMPTS} (delivery_id, attempt, at, status, error) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (str(delivery.id), attempt, _iso(at), status, error),
            )
            tx.execute(
                f"UPDATE {DELIVERIES} SET state = ?, attempts = ?, next_attempt_at = ?, last_status = ?, "
                "last_error = ?, delivered_at = ? WHERE id = ?",
                (
                    state,
                    attempt,
                    None if retry_at is None else _iso(retry_at),
                    status,
                    error,
                    _iso(at) if delivered else None,
                    str(delivery.id),
                ),
            )

    def deliveries(
        self, subscription_id: UUID, *, after: str | None = None, limit: int = 50
    ) -> list[Delivery]:
        """The delivery log of a subscription, newest first, from the one after `after` (`delivery_cursor`
        of the last of the previous page)."""
        where, params = "", [str(subscription_id)]
        if after:
            created_at, _, last_id = after.partition("/")
            where = "AND (created_at < ? OR (created_at = ? AND id < ?)) "
            params += [created_at, created_at, last_id]
        rows = self._db.run(
            f"SELECT {_DELIVERY_COLUMNS} FROM {DELIVERIES} WHERE subscription_id = ? {where}"
            "ORDER BY created_at DESC, id DESC LIMIT ?",
            (*params, limit),
        )
        return [_delivery(r) for r in rows]

    def replay(self, subscription_id: UUID, delivery: UUID, now: datetime) -> bool:
        """Send a delivery again now, with the same webhook-id (whatever its state)."""
        rows = self._db.run(
            f"UPDATE {DELIVERIES} SET state = 'pending', next_attempt_at = ? "
            "WHERE id = ? AND subscription_id = ? RETURNING id",
            (_iso(now), str(delivery), str(subscription_id)),
        )
        return bool(rows)

    def replay_events(self, subscription: Subscription, events: list[dict[str, Any]], now: datetime) -> int:
        """Queue these events for the subscription again (new ones, and ones sent before: same webhook-id)."""
        self.enqueue([(subscription, event) for event in events], position=None, at=now)
        with self._db.transaction() as tx:
            for event in events:
                tx.execute(
                    f"UPDATE {DELIVERIES} SET state = 'pending', next_attempt_at = ? WHERE id = ?",
                    (_iso(now), str(delivery_id(subscription.id, event["id"]))),
                )
        return len(events)
