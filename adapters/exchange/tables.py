"""The exchange's own tables in a node's database: how far the relay published, and the parked messages."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from adapters.exchange.transport import IncomingMessage
from adapters.sql.node_db import SqlDatabase


class RelayPositions:
    """The last notification id each relay has published up to, durable in the node's own database.

    The event store is the outbox: nothing else records what is due, so this one number per relay is
    all the state publishing needs.
    """

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db
        with db.transaction() as tx:
            tx.execute(
                "CREATE TABLE IF NOT EXISTS relay_position (name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
            )

    def get(self, name: str) -> int:
        with self._db.transaction() as tx:
            rows = tx.execute("SELECT position FROM relay_position WHERE name = ?", (name,))
        return int(rows[0][0]) if rows else 0

    def set(self, name: str, position: int) -> None:
        # Only forward: a stale relay finishing late must not make a newer one publish everything again.
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO relay_position (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE"
                " SET position = excluded.position WHERE relay_position.position < excluded.position",
                (name, position),
            )

    def rewind(self, name: str, position: int) -> None:
        """Move back to `position` (never forward): a broker that forgot what was published after it (the
        in-process one, at a restart) is given it again; consumers suppress what they had applied."""
        with self._db.transaction() as tx:
            tx.execute(
                "UPDATE relay_position SET position = ? WHERE name = ? AND position > ?",
                (position, name, position),
            )


@dataclass(frozen=True)
class ParkedMessage:
    """A message a consumer could not apply, kept with where it came from and why; its bytes are not shown."""

    id: str
    consumer: str
    topic: str
    partition: int
    offset: int
    ce_id: str | None
    reason: str
    parked_at: datetime
    attempts: int
    message: IncomingMessage = field(repr=False)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class ParkedMessages:
    """Parked messages with their raw bytes: these may hold personal data, so they stay here, not in logs."""

    _COLUMNS = (
        "id, consumer, topic, part, kafka_offset, ce_id, reason, parked_at, attempts, msg_key, headers, value"
    )

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db
        with db.transaction() as tx:
            tx.execute(
                "CREATE TABLE IF NOT EXISTS parked_message (id TEXT PRIMARY KEY, consumer TEXT NOT NULL,"
                " topic TEXT NOT NULL, part INTEGER NOT NULL, kafka_offset BIGINT NOT NULL, ce_id TEXT,"
                " reason TEXT NOT NULL, parked_at TEXT NOT NULL, attempts INTEGER NOT NULL,"
                " msg_key TEXT, headers TEXT NOT NULL, value TEXT NOT NULL)"
            )

    def park(self, consumer: str, message: IncomingMessage, *, reason: str, ce_id: str | None) -> str:
        """Keep `message`; parking the same message again (a redelivery) keeps the first record."""
        digest = hashlib.sha256(message.value).hexdigest()
        parked_id = hashlib.sha256(
            f"{consumer}|{message.topic}|{message.partition}|{message.offset}|{digest}".encode()
        ).hexdigest()[:32]
        headers = json.dumps([[name, _b64(value)] for name, value in message.headers])
        with self._db.transaction() as tx:
            tx.execute(
                f"INSERT INTO parked_message ({self._COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO NOTHING",
                (
                    parked_id,
                    consumer,
                    message.topic,
                    message.partition,
                    message.offset,
                    ce_id,
                    reason,
                    datetime.now(UTC).isoformat(),
                    0,
                    None if message.key is None else _b64(message.key),
                    headers,
                    _b64(message.value),
                ),
            )
        return parked_id

    def list(self, consumer: str | None = None) -> list[ParkedMessage]:
        """Parked messages in the order they were read (by topic, partition and offset)."""
        where, params = ("WHERE consumer = ?", (consumer,)) if consumer is not None else ("", ())
        with self._db.transaction() as tx:
            rows = tx.execute(
                f"SELECT {self._COLUMNS} FROM parked_message {where} ORDER BY topic, part, kafka_offset",
                params,
            )
        return [self._parked(row) for row in rows]

    def count(self, consumer: str | None = None) -> int:
        """How many are parked now (a retry that applied one removed it)."""
        where, params = ("WHERE consumer = ?", (consumer,)) if consumer is not None else ("", ())
        return int(self._db.run(f"SELECT count(*) FROM parked_message {where}", params)[0][0])

    def remove(self, parked_id: str) -> None:
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM parked_message WHERE id = ?", (parked_id,))

    def failed_again(self, parked_id: str, reason: str) -> None:
        with self._db.transaction() as tx:
            tx.execute(
                "UPDATE parked_message SET reason = ?, attempts = attempts + 1 WHERE id = ?",
                (reason, parked_id),
            )

    @staticmethod
    def _parked(row: tuple[object, ...]) -> ParkedMessage:
        (
            parked_id,
            consumer,
            topic,
            part,
            offset,
            ce_id,
            reason,
            parked_at,
            attempts,
            key,
            headers,
            value,
        ) = row
        message = IncomingMessage(
            topic=str(topic),
            partition=int(str(part)),
            offset=int(str(offset)),
            key=None if key is None else base64.b64decode(str(key)),
            headers=tuple((name, base64.b64decode(data)) for name, data in json.loads(str(headers))),
            value=base64.b64decode(str(value)),
        )
        return ParkedMessage(
            id=str(parked_id),
            consumer=str(consumer),
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            ce_id=None if ce_id is None else str(ce_id),
            reason=str(reason),
            parked_at=datetime.fromisoformat(str(parked_at)),
            attempts=int(str(attempts)),
            message=message,
        )
