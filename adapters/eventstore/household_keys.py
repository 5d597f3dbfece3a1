"""The node's household keys: one key per household for its personal event attributes (shredding.py uses
them), which aggregates and offers are about which household, and erasures: a key erased here or in another
process of the node is forgotten everywhere within a second.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import (
    Cipher,
)

from adapters.sql.node_db import SqlDatabase
from coordination.domain.errors import HouseholdErased

log = structlog.get_logger()

_WRAPPED, _PLAIN = "wrapped:", "plain:"


# How long another process may go on using a cached key of a household erased elsewhere, at most.
ERASURES_CHECKED_EVERY_S = 1.0
# How often a watching process looks for other processes' erasures without being asked (`watch`): well
# inside the second the README promises, at one indexed query each time. On PostgreSQL an erasure NOTIFYs
# the node's channel and the watch is woken by it; it then looks only every
# ERASURES_POLLED_WHEN_LISTENING_S as a safety net (a notification missed while it reconnected).
ERASURES_WATCHED_EVERY_S = 0.25
ERASURES_POLLED_WHEN_LISTENING_S = 5.0
# How long a listening watch waits at most before it looks up to see whether it is asked to stop.
_STOP_CHECK_S = 1.0
# The advisory lock an erasure holds on PostgreSQL while it numbers itself (any fixed 64-bit number).
_ERASURES_LOCK = 0x6572617375726573


class HouseholdKeys:
    """The node's household keys (`household_keys`) and which aggregate or offer is about which household
    (`household_subjects`), in the node's own database beside its store.

    A key is created on first use; erasing it wipes the key bytes and keeps a tombstone, so nothing about
    that household can be encrypted readably here again. Keys are wrapped with the node's cipher when it
    has one. Looked-up keys are cached. An erasure is seen at once in this process, and each erasure is
    also numbered in `household_erasures`, which every other process using the same database reads at
    most `check_erasures_every` seconds apart when it next uses a key (and `notice_erasures` when a
    command borrows kept aggregates): it forgets the erased household's cached key and tells its
    listeners (`on_erased_elsewhere`), e.g. `coordination parked retry` applying an erasure notice while
    the node serves. A process skips the erasures it made itself. A node's applications also `watch`:
    a thread of their own looks every `ERASURES_WATCHED_EVERY_S` (on PostgreSQL: when an erasure's NOTIFY
    wakes it, and every `ERASURES_POLLED_WHEN_LISTENING_S` besides), so an idle process (no key used for
    minutes) forgets the household, and its listeners purge its views, within a second all the same.
    """

    def __init__(
        self,
        db: SqlDatabase,
        cipher: Cipher | None = None,
        *,
        table: str = "household_keys",
        check_erasures_every: float = ERASURES_CHECKED_EVERY_S,
    ) -> None:
        """`table` names where the keys are kept (the exchange keys are a second set, kept apart)."""
        self._db = db
        self._cipher = cipher
        self._table = table
        self._keys: dict[UUID, bytes | None] = {}
        self._subjects: dict[UUID, UUID] = {}
        self._erasure_listeners: list[Callable[[UUID], None]] = []
        self._check_every = check_erasures_every
        self._next_check = time.monotonic() + check_erasures_every
        self._checking = threading.Lock()
        self._forgotten = 0  # how many times keys were forgotten: a key read before then is not cached
        self._own_erasures: set[int] = set()
        self._watcher: threading.Thread | None = None
        self._stop_watching = threading.Event()
        self._watch_failing = False
        sqlite = db.dialect == "sqlite"
        # On PostgreSQL every erasure of this node's keys, in any of its processes, wakes their watches
        # (a database that cannot LISTEN is polled).
        channel = None if sqlite else getattr(db, "channel", None)
        self._channel: str | None = None if channel is None else channel("household_erasures")
        with db.transaction() as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (household_id TEXT PRIMARY KEY, key TEXT,"
                " created_at TEXT NOT NULL, erased_at TEXT)"
            )
            tx.execute(
                "CREATE TABLE IF NOT EXISTS household_subjects (subject_id TEXT PRIMARY KEY,"
                " household_id TEXT NOT NULL)"
            )
            tx.execute(
                "CREATE TABLE IF NOT EXISTS household_erasures ("
                + ("seq INTEGER PRIMARY KEY AUTOINCREMENT" if sqlite else "seq BIGSERIAL PRIMARY KEY")
                + ", key_table TEXT NOT NULL, household_id TEXT NOT NULL)"
            )
            # What was erased before this point is in the tombstones, read with each key.
            self._erasures_seen = int(
                tx.execute("SELECT COALESCE(MAX(seq), 0) FROM household_erasures")[0][0]
            )

    def on_erased_elsewhere(self, listener: Callable[[UUID], None]) -> None:
        """Call `listener(household_id)` when a household erased by another process is noticed here."""
        self._erasure_listeners.append(listener)

    def watch(self, every: float = ERASURES_WATCHED_EVERY_S) -> None:
        """Look for other processes' erasures every `every` seconds on a thread of its own, until
        `stop_watching`: noticing must not wait for this process's next use of a key."""
        if self._watcher is not None:
            return
        self._stop_watching.clear()
        self._watcher = threading.Thread(
            target=self._watch, args=(every,), name="erasures-watch", daemon=True
        )
        self._watcher.start()

    def stop_watching(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            self._stop_watching.set()
            # A listening watch wakes at once, not at its next look up (within a second if the database
            # is away).
            if self._channel is not None:
                with suppress(Exception):
                    self._db.run("SELECT pg_notify(?, '')", (self._channel,))
            watcher.join(timeout=5)

    def _watch(self, every: float) -> None:
        if self._channel is not None:
            self._watch_listening(self._channel)
            return
        while not self._stop_watching.wait(every):
            self._look()

    def _watch_listening(self, channel: str) -> None:
        """Look when an erasure's notification arrives, and every ERASURES_POLLED_WHEN_LISTENING_S
        anyway; reconnect (looking meanwhile) when the listening connection is lost."""
        while not self._stop_watching.is_set():
            try:
                with self._db.listening(channel) as wait:  # type: ignore[attr-defined]
                    self._look()  # what was erased while nobody listened
                    looked = time.monotonic()
                    while not self._stop_watching.is_set():
                        woken = wait(_STOP_CHECK_S)
                        if woken or time.monotonic() - looked >= ERASURES_POLLED_WHEN_LISTENING_S:
                            self._look()
                            looked = time.monotonic()
            except Exception as error:  # the database away: look at the old pace until it is back
                self._failed(error)
                self._stop_watching.wait(ERASURES_WATCHED_EVERY_S)
                self._look()

    def _look(self) -> None:
        try:
            self.notice_erasures(now=True)
        except Exception as error:  # the database away for a moment: the next look tries again
            self._failed(error)
        else:
            if self._watch_failing:
                log.info("erasures.watch_resumed")
            self._watch_failing = False

    def _failed(self, error: Exception) -> None:
        # Logged once a streak, not four times a second while the database is away.
        if not self._watch_failing:
            log.warning("erasures.watch_failed", error=type(error).__name__)
        self._watch_failing = True

    def notice_erasures(self, *, now: bool = False) -> None:
        """Forget the cached keys of households that other processes erased since the last look; at most
        one look (a query) every `check_erasures_every` seconds, so callers may ask on every use (`now`:
        look whenever it was last, as the watching thread does)."""
        clock = time.monotonic()
        if (clock < self._next_check and not now) or not self._checking.acquire(blocking=False):
            return
        try:
            self._next_check = clock + self._check_every
            rows = self._db.run(
                "SELECT seq, key_table, household_id FROM household_erasures WHERE seq > ? ORDER BY seq",
                (self._erasures_seen,),
            )
            for seq, key_table, household in rows:
                self._erasures_seen = int(seq)
                if self._erasures_seen in self._own_erasures:
                    self._own_erasures.remove(self._erasures_seen)
                    continue
                if key_table != self._table:
                    continue
                household_id = UUID(str(household))
                self._forgotten += 1
                self._keys.pop(household_id, None)
                for listener in self._erasure_listeners:
                    listener(household_id)
        finally:
            self._checking.release()

    def for_writing(self, household_id: UUID) -> bytes:
        self.notice_erasures()
        try:
            key = self._keys[household_id]  # one lookup: another thread may forget it meanwhile
        except KeyError:
            forgotten = self._forgotten
            # A key is made unless the household has one (or a tombstone): one statement, and a second
            # only to read what another process made first.
            fresh = AESGCM.generate_key(bit_length=256)
            rows = self._db.run(
                f"INSERT INTO {self._table} (household_id, key, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (household_id) DO NOTHING RETURNING key, erased_at",
                (str(household_id), self._wrap(fresh), datetime.now(UTC).isoformat()),
            ) or self._db.run(
                f"SELECT key, erased_at FROM {self._table} WHERE household_id = ?", (str(household_id),)
            )
            key = self._kept(rows[0])
            if forgotten == self._forgotten:  # not erased elsewhere while it was read
                self._keys[household_id] = key
        if key is None:
            raise HouseholdErased(
                "Household {household_id} was erased; nothing personal is stored about it",
                household_id=household_id,
            )
        return key

    def for_reading(self, household_id: UUID) -> bytes | None:
        """The household's key; None when it was erased or never made (the cache remembers an erasure)."""
        self.notice_erasures()
        try:
            return self._keys[household_id]
        except KeyError:
            pass
        forgotten = self._forgotten
        rows = self._db.run(
            f"SELECT key, erased_at FROM {self._table} WHERE household_id = ?", (str(household_id),)
        )
        if not rows:
            return None
        key = self._kept(rows[0])
        if forgotten == self._forgotten:  # not erased elsewhere while it was read
            self._keys[household_id] = key
        return key

    def _kept(self, row: tuple[Any, ...]) -> bytes | None:
        """A stored row's key, unwrapped; None for a tombstone."""
        key, erased_at = row
        return None if erased_at is not None or not key else self._unwrap(str(key))

    def erase(self, household_id: UUID, at: datetime) -> bool:
        """Wipe the household's key (a tombstone if it had none); whether a key was wiped now."""
        had = self.for_reading(household_id) is not None
        with self._db.transaction() as tx:
            if self._db.dialect == "sqlite":
                # Overwrite the freed page too, so the key bytes are not left in the file.
                tx.execute("PRAGMA secure_delete = ON")
            else:
                # Erasures commit one at a time, so their numbers commit in order and a reader that has
                # seen number n has seen every erasure before it (SQLite has one writer anyway).
                tx.execute("SELECT pg_advisory_xact_lock(?)", (_ERASURES_LOCK,))
                if self._channel is not None:  # wakes every process's watch when this commits
                    tx.execute("SELECT pg_notify(?, '')", (self._channel,))
            tx.execute(
                f"INSERT INTO {self._table} (household_id, key, created_at, erased_at) VALUES (?, NULL, ?, ?)"
                " ON CONFLICT (household_id) DO UPDATE SET key = NULL,"
                f" erased_at = COALESCE({self._table}.erased_at, excluded.erased_at)",
                (str(household_id), at.isoformat(), at.isoformat()),
            )
            numbered = tx.execute(
                "INSERT INTO household_erasures (key_table, household_id) VALUES (?, ?) RETURNING seq",
                (self._table, str(household_id)),
            )
        self._keys[household_id] = None
        self._own_erasures.add(int(numbered[0][0]))  # done here already: not noticed as another's
        return had

    def is_erased(self, household_id: UUID) -> bool:
        self.for_reading(household_id)
        rows = self._db.run(
            f"SELECT erased_at FROM {self._table} WHERE household_id = ?", (str(household_id),)
        )
        return bool(rows) and rows[0][0] is not None

    def remember(self, subject_id: UUID, household_id: UUID) -> UUID:
        """`subject_id` (an aggregate or an offer) is about `household_id`, unless it is already remembered
        as about another household (by any process): the household it is remembered about, the same in
        every process. (An offer our organisation requested is about our household; the mirror of the
        owner's reservation names only a stand-in for it.)"""
        known = self._subjects.get(subject_id)
        if known is not None:
            return known
        rows = self._db.run(
            "INSERT INTO household_subjects (subject_id, household_id) VALUES (?, ?)"
            " ON CONFLICT (subject_id) DO NOTHING RETURNING household_id",
            (str(subject_id), str(household_id)),
        ) or self._db.run(
            "SELECT household_id FROM household_subjects WHERE subject_id = ?", (str(subject_id),)
        )
        self._subjects[subject_id] = UUID(str(rows[0][0]))
        return self._subjects[subject_id]

    def household_of(self, subject_id: UUID) -> UUID | None:
        if subject_id in self._subjects:
            return self._subjects[subject_id]
        rows = self._db.run(
            "SELECT household_id FROM household_subjects WHERE subject_id = ?", (str(subject_id),)
        )
        if not rows:
            return None
        self._subjects[subject_id] = UUID(str(rows[0][0]))
        return self._subjects[subject_id]

    def subjects_of(self, household_id: UUID) -> list[UUID]:
        """Every aggregate and offer known here to be about the household."""
        rows = self._db.run(
            "SELECT subject_id FROM household_subjects WHERE household_id = ?", (str(household_id),)
        )
        return [UUID(str(row[0])) for row in rows]

    def _wrap(self, key: bytes) -> str:
        if self._cipher is None:
            return _PLAIN + base64.b64encode(key).decode("ascii")
        return _WRAPPED + base64.b64encode(self._cipher.encrypt(key)).decode("ascii")

    def _unwrap(self, stored: str) -> bytes:
        if stored.startswith(_WRAPPED):
            if self._cipher is None:
                raise ValueError(
                    "A household key is wrapped with the node's cipher, and no cipher key is set"
                )
            return self._cipher.decrypt(base64.b64decode(stored[len(_WRAPPED) :]))
        return base64.b64decode(stored.removeprefix(_PLAIN))
