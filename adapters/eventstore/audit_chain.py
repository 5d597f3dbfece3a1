"""Tamper evidence: a hash chain over a node's stored events, kept by a sealer that follows the log.

Each link is H(previous link, notification id, originator id, version, topic, stored state bytes): the
bytes as stored, so encrypted and compressed payloads are covered without being read. The chain lives in
its own table (`audit_chain`), appended to by the sealer one page per transaction, and records the
notification id it saw at each position, so gaps in the ids (a PostgreSQL sequence after a rolled-back
insert) are part of what is sealed rather than a false alarm. Editing, deleting, reordering or truncating
stored rows then breaks the chain at a position `verify()` names; events not yet sealed are reported as
unsealed, not broken. A copy of the head link kept elsewhere (an anchor) also catches a rewritten or
truncated chain table.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from adapters.background_loop import BackgroundLoop
from adapters.sql.node_db import SqlDatabase

log = structlog.get_logger()

GENESIS = "0" * 64
_ROWS_PER_INSERT = 250  # 750 parameters: well within SQLite's and PostgreSQL's limits
_DDL = (
    "CREATE TABLE IF NOT EXISTS audit_chain (position BIGINT PRIMARY KEY, notification_id BIGINT NOT NULL,"
    " link TEXT NOT NULL)"
)


def chain_link(previous: str, notification: Notification) -> str:
    """The link sealing `notification` after `previous`; every part is length-prefixed, so none can bleed
    into its neighbour."""
    digest = hashlib.sha256(bytes.fromhex(previous))
    parts = (
        str(notification.id).encode(),
        str(notification.originator_id).encode(),
        str(notification.originator_version).encode(),
        notification.topic.encode(),
        bytes(notification.state),
    )
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True)
class Anchor:
    """The chain's head at a moment, for an external witness (printed, mailed, filed) to hold."""

    organisation: str
    position: int
    notification_id: int
    link: str
    anchored_at: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Anchor:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class ChainRow:
    position: int
    notification_id: int
    link: str


class Sealer:
    """Appends a link per stored event, following the notification log like the relay (append only)."""

    def __init__(self, app: Application[Any], db: SqlDatabase, *, organisation: str = "") -> None:
        self.app = app
        self.db = db
        self.organisation = organisation or getattr(app, "organisation", "")
        self._sealed_up_to: int | None = None
        with db.transaction() as tx:
            tx.execute(_DDL)

    def head(self) -> ChainRow | None:
        with self.db.transaction() as tx:
            return _head(tx)

    def seal_once(self, max_events: int = 1000) -> int:
        """Seal up to `max_events` events after the head, in one transaction; how many were sealed.

        The head is read in the same transaction as the new links are written, so two sealers racing
        collide on the position's primary key and the loser's page is rolled back whole.
        """
        # Nothing stored since the last page this sealer wrote: no write transaction (and lock) at all.
        top = self.app.recorder.max_notification_id() or 0
        if self._sealed_up_to is not None and top <= self._sealed_up_to:
            return 0
        with self.db.transaction() as tx:
            head = _head(tx)
            after, position, previous = (
                (0, 0, GENESIS) if head is None else (head.notification_id, head.position, head.link)
            )
            page = self.app.recorder.select_notifications(
                start=after, limit=max_events, inclusive_of_start=False
            )
            rows: list[tuple[int, int, str]] = []
            for notification in page:
                position += 1
                previous = chain_link(previous, notification)
                rows.append((position, notification.id, previous))
            # Many rows to a statement: a node seals after each of its commits, one statement a row was a
            # tenth of a busy receiving node's CPU.
            for start in range(0, len(rows), _ROWS_PER_INSERT):
                chunk = rows[start : start + _ROWS_PER_INSERT]
                tx.execute(
                    "INSERT INTO audit_chain (position, notification_id, link) VALUES "
                    + ", ".join(["(?, ?, ?)"] * len(chunk)),
                    [value for row in chunk for value in row],
                )
        self._sealed_up_to = page[-1].id if page else after
        return len(page)

    def seal(self) -> int:
        """Seal everything stored now; how many events were sealed."""
        total = 0
        while sealed := self.seal_once():
            total += sealed
        return total

    def unsealed(self) -> int:
        """How many stored events lie beyond the head (counted, not subtracted: ids may have gaps)."""
        head = self.head()
        after = 0 if head is None else head.notification_id
        return sum(1 for _ in _notifications(self.app, 1000, after=after))

    def anchor(self) -> Anchor | None:
        """The head as an anchor to hand to a witness (None while nothing is sealed)."""
        head = self.head()
        if head is None:
            return None
        return Anchor(
            self.organisation,
            head.position,
            head.notification_id,
            head.link,
            datetime.now(UTC).isoformat(timespec="seconds"),
        )


def _head(tx: Any) -> ChainRow | None:
    rows = tx.execute(
        "SELECT position, notification_id, link FROM audit_chain ORDER BY position DESC LIMIT 1"
    )
    return None if not rows else ChainRow(int(rows[0][0]), int(rows[0][1]), str(rows[0][2]))


@dataclass(frozen=True)
class Verdict:
    """What `verify` found: `broken_at` is the first chain position that does not hold (None if all do)."""

    sealed: int
    events: int
    unsealed: int
    broken_at: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None

    def __str__(self) -> str:
        if self.broken_at is not None:
            return f"BROKEN at chain position {self.broken_at}: {self.reason}"
        tail = f"; {self.unsealed} event(s) after the head are not sealed yet" if self.unsealed else ""
        return f"ok: {self.sealed} sealed event(s) verify{tail}"


def verify(
    app: Application[Any], db: SqlDatabase, *, anchors: Sequence[Anchor] = (), page: int = 1000
) -> Verdict:
    """Re-read the stored events and the chain side by side and name the first position that breaks."""
    chain = _chain_rows(db, page)
    events = _notifications(app, page)
    previous, sealed, seen = GENESIS, 0, 0
    pending: Notification | None = next(events, None)
    by_position = {a.position: a for a in anchors}

    def broken(position: int, reason: str) -> Verdict:
        return Verdict(sealed, seen, 0, position, reason)

    for expected, row in enumerate(chain, start=1):
        if row.position != expected:
            return broken(expected, f"the chain has no row at position {expected} (next is {row.position})")
        if pending is None:
            return broken(
                row.position,
                f"notification {row.notification_id} is sealed but no longer stored "
                "(rows deleted at the end, or the table truncated)",
            )
        if pending.id < row.notification_id:
            return broken(
                row.position,
                f"notification {pending.id} is stored where the chain sealed "
                f"{row.notification_id} (a row inserted or renumbered)",
            )
        if pending.id > row.notification_id:
            return broken(
                row.position,
                f"notification {row.notification_id} is sealed but missing (a row deleted or renumbered)",
            )
        if chain_link(previous, pending) != row.link:
            return broken(
                row.position,
                f"notification {pending.id} ({pending.originator_id} v"
                f"{pending.originator_version}) is not what was sealed "
                "(its state, topic or identity was edited, "
                "or rows were swapped)",
            )
        anchor = by_position.pop(row.position, None)
        if anchor is not None and anchor.link != row.link:
            return broken(row.position, "the chain differs from the anchor witnessed at this position")
        previous, sealed, seen = row.link, sealed + 1, seen + 1
        pending = next(events, None)
    if by_position:
        lost = min(by_position)
        return broken(
            lost,
            f"an anchor was witnessed at position {lost}, beyond the chain's head: "
            "the chain table was truncated",
        )
    unsealed = 0
    while pending is not None:
        unsealed, seen, pending = unsealed + 1, seen + 1, next(events, None)
    return Verdict(sealed, seen, unsealed)


def _chain_rows(db: SqlDatabase, page: int) -> Iterator[ChainRow]:
    with db.transaction() as tx:
        tx.execute(_DDL)
    after = 0
    while True:
        with db.transaction() as tx:
            rows = tx.execute(
                "SELECT position, notification_id, link FROM audit_chain WHERE position > ? ORDER BY position"
                " LIMIT ?",
                (after, page),
            )
        if not rows:
            return
        for position, notification_id, link in rows:
            yield ChainRow(int(position), int(notification_id), str(link))
        after = int(rows[-1][0])


def _notifications(app: Application[Any], page: int, after: int = 0) -> Iterator[Notification]:
    while batch := app.recorder.select_notifications(start=after, limit=page, inclusive_of_start=False):
        yield from batch
        after = batch[-1].id


def read_anchors(lines: Iterable[str]) -> list[Anchor]:
    return [Anchor.from_json(line) for line in lines if line.strip()]


class SealingLoop:
    """The sealer run in the node's loop: seals what is stored, and logs the head as an anchor now and then
    (position and link only: a witness can file the log line; nothing personal is in it)."""

    def __init__(self, sealer: Sealer, *, anchor_every_s: float = 3600.0, idle_sleep: float = 0.5) -> None:
        self.sealer = sealer
        self._anchor_every_s = anchor_every_s
        self._last_anchor = 0.0
        self._loop = BackgroundLoop("audit:sealer", self.run_once_busy, idle_sleep=idle_sleep)

    def run_once(self) -> int:
        sealed = self.sealer.seal_once()
        now = time.monotonic()
        if sealed and now - self._last_anchor >= self._anchor_every_s:
            self._last_anchor = now
            anchor = self.sealer.anchor()
            if anchor is not None:
                log.info(
                    "audit.anchor",
                    position=anchor.position,
                    notification_id=anchor.notification_id,
                    link=anchor.link,
                )
        return sealed

    def wake(self) -> None:
        self._loop.wake()

    def sleep_when_idle(self, seconds: float) -> None:
        """Look for unsealed events this seldom when idle (something else wakes the loop when events are
        stored)."""
        self._loop.idle_sleep = seconds

    def run_once_busy(self) -> bool:
        return self.run_once() > 0

    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop()
