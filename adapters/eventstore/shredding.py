"""Crypto-shredding: each household's personal event attributes encrypted under a key of its own.

The ShreddingMapper finds the household a stored event is about and encrypts only the attributes that
coordination/domain/personal_fields.py does not allow in clear, with AES-GCM under that household's key;
field names, the key id (the household id) and the nonce stay readable, and so does every other
attribute. Erasing the household deletes its key: its personal attributes then read as the stand-ins the
same module defines, and the rest of the history replays as before. Events stored before shredding
existed (plain attributes) load unchanged. The library's cipher, when configured, still encrypts the whole
stored state on top of this, and wraps the household keys kept in the node's database.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import Aggregate, DomainEventProtocol, Snapshot
from eventsourcing.persistence import (
    ApplicationRecorder,
    Cipher,
    Compressor,
    Mapper,
    StoredEvent,
    Transcoder,
    Transcoding,
)
from eventsourcing.utils import get_topic

from adapters.eventstore.event_decoding import partial_domain_event
from adapters.sql.node_db import SqlDatabase, database_for
from coordination.domain.errors import HouseholdErased
from coordination.domain.household import Household
from coordination.domain.personal_fields import is_personal, redaction
from coordination.domain.vacancy import Vacancy

log = structlog.get_logger()

_HOUSEHOLD_EVENTS = frozenset(
    cls for cls in vars(Household).values() if isinstance(cls, type) and issubclass(cls, Aggregate.Event)
)
_HOUSEHOLD_TOPIC = get_topic(Household)
_WRAPPED, _PLAIN = "wrapped:", "plain:"


@dataclass(frozen=True)
class Shredded:
    """A personal attribute as stored: ciphertext under the household's key, and its non-personal part."""

    key_id: UUID
    nonce: bytes
    ciphertext: bytes
    kept: Any


class ShreddedTranscoding(Transcoding):
    type = Shredded
    name = "shredded"

    def __init__(self, transcoder: Transcoder) -> None:
        # The fast transcoder hands a typed value's data over undecoded; the kept part may hold values.
        self._walk = getattr(transcoder, "_walk", lambda value: value)

    def encode(self, obj: Shredded) -> dict[str, Any]:
        return {
            "key": obj.key_id.hex,
            "nonce": base64.b64encode(obj.nonce).decode("ascii"),
            "ciphertext": base64.b64encode(obj.ciphertext).decode("ascii"),
            "kept": obj.kept,
        }

    def decode(self, data: dict[str, Any]) -> Shredded:
        return Shredded(
            key_id=UUID(data["key"]),
            nonce=base64.b64decode(data["nonce"]),
            ciphertext=base64.b64decode(data["ciphertext"]),
            kept=self._walk(data["kept"]),
        )


# How long another process may go on using a cached key of a household erased elsewhere, at most.
ERASURES_CHECKED_EVERY_S = 1.0
# How often a watching process looks for other processes' erasures without being asked (`watch`): well
# inside the second the README promises, at one indexed query each time.
ERASURES_WATCHED_EVERY_S = 0.25
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
    a thread of their own looks every `ERASURES_WATCHED_EVERY_S`, so an idle process (no key used for
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
        sqlite = db.dialect == "sqlite"
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
            watcher.join(timeout=5)

    def _watch(self, every: float) -> None:
        failing = False  # logged once a streak, not four times a second while the database is away
        while not self._stop_watching.wait(every):
            try:
                self.notice_erasures(now=True)
            except Exception as error:  # the database away for a moment: the next look tries again
                if not failing:
                    log.warning("erasures.watch_failed", error=type(error).__name__)
                failing = True
            else:
                if failing:
                    log.info("erasures.watch_resumed")
                failing = False

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
            raise HouseholdErased(f"Household {household_id} was erased; nothing personal is stored about it")
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

    def remember(self, subject_id: UUID, household_id: UUID) -> None:
        """`subject_id` (an aggregate or an offer) is about `household_id`."""
        if self._subjects.get(subject_id) == household_id:
            return
        self._db.run(
            "INSERT INTO household_subjects (subject_id, household_id) VALUES (?, ?)"
            " ON CONFLICT (subject_id) DO NOTHING",
            (str(subject_id), str(household_id)),
        )
        self._subjects[subject_id] = household_id

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


class ShreddingMapper(Mapper[UUID]):
    """The library's Mapper, with each household's personal attributes under the household's own key."""

    def __init__(
        self,
        transcoder: Transcoder,
        keys: HouseholdKeys,
        compressor: Compressor | None = None,
        cipher: Cipher | None = None,
    ) -> None:
        super().__init__(transcoder, compressor=compressor, cipher=cipher)
        transcoder.register(ShreddedTranscoding(transcoder))
        self.keys = keys
        # Set once the application has its recorder: finds the household of an aggregate created before
        # shredding existed, from its first stored event.
        self.recorder: ApplicationRecorder | None = None

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        state = vars(domain_event)
        cls = type(domain_event)
        if cls is Snapshot:
            household_id = self._household(domain_event, cls, state)
            names = ["state"] if household_id is not None else []
        else:
            names = [name for name, value in state.items() if value is not None and is_personal(cls, name)]
            household_id = self._household(domain_event, cls, state) if names else self._remember(cls, state)
        if not names:
            return super().to_stored_event(domain_event)
        if household_id is None:
            # Only an aggregate created before shredding whose first event says nothing of a household.
            log.warning(
                "shredding.no_household",
                event_class=cls.__qualname__,
                originator_id=str(domain_event.originator_id),
            )
            return super().to_stored_event(domain_event)
        key = AESGCM(self.keys.for_writing(household_id))
        shredded = dict(state)
        for name in names:
            value = state[name]
            nonce = os.urandom(12)
            plain = self.transcoder.encode({"v": value})
            ciphertext = key.encrypt(nonce, plain, _aad(domain_event, name))
            kept = None if cls is Snapshot else redaction(cls, name).keep(value)
            shredded[name] = Shredded(key_id=household_id, nonce=nonce, ciphertext=ciphertext, kept=kept)
        stand_in = object.__new__(cls)
        object.__setattr__(stand_in, "__dict__", shredded)
        return super().to_stored_event(stand_in)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        domain_event = super().to_domain_event(stored_event)
        state = domain_event.__dict__
        for name, value in state.items():
            if type(value) is Shredded:
                state[name] = self._open(domain_event, name, value)
        return domain_event

    def to_partial_domain_event(self, stored_event: Any, names: tuple[str, ...]) -> DomainEventProtocol[UUID]:
        """The event with only the named attributes decoded (a projection's `reads`), opened as above."""
        if self.cipher or self.compressor:
            return self.to_domain_event(stored_event)
        domain_event = partial_domain_event(self, stored_event, names)
        state = domain_event.__dict__
        for name, value in state.items():
            if type(value) is Shredded:
                state[name] = self._open(domain_event, name, value)
        return domain_event

    def _open(self, domain_event: Any, name: str, shredded: Shredded) -> Any:
        key = self.keys.for_reading(shredded.key_id)
        if key is None:
            if type(domain_event) is Snapshot:
                # Erasure deletes the snapshots of the household's aggregates; this one was missed.
                raise HouseholdErased(f"A snapshot of {domain_event.originator_id} is of an erased household")
            return redaction(type(domain_event), name).erased(shredded.kept)
        try:
            plain = AESGCM(key).decrypt(shredded.nonce, shredded.ciphertext, _aad(domain_event, name))
        except InvalidTag:
            where = f"{name} of {domain_event.originator_id} v{domain_event.originator_version}"
            raise ValueError(f"{where} does not decrypt under its household's key") from None
        return self.transcoder.decode(plain)["v"]

    def _household(self, domain_event: Any, cls: type[Any], state: dict[str, Any]) -> UUID | None:
        """The household the event is about, remembering which aggregates and offers are about it."""
        originator_id: UUID = domain_event.originator_id
        if cls in _HOUSEHOLD_EVENTS or (cls is Snapshot and state.get("topic") == _HOUSEHOLD_TOPIC):
            return originator_id
        household_id = self._remember(cls, state)
        if household_id is not None:
            return household_id
        if cls is Vacancy.OfferDeclined:
            return self.keys.household_of(state["offer_id"])
        return self.keys.household_of(originator_id) or self._from_first_event(originator_id)

    def _remember(self, cls: type[Any], state: dict[str, Any]) -> UUID | None:
        """An event naming its household: what it is about (its aggregate; for a vacancy's reservation,
        the offer) is remembered as about that household, for the aggregate's later events."""
        household_id = state.get("household_id")
        if not isinstance(household_id, UUID) or cls in _HOUSEHOLD_EVENTS:
            return None
        self.keys.remember(
            state["offer_id"] if cls is Vacancy.OfferReserved else state["originator_id"], household_id
        )
        return household_id

    def _from_first_event(self, originator_id: UUID) -> UUID | None:
        if self.recorder is None:
            return None
        first = self.recorder.select_events(originator_id, lte=1, limit=1)
        if not first or first[0].topic == get_topic(Snapshot):
            return None
        household_id = getattr(self.to_domain_event(first[0]), "household_id", None)
        if isinstance(household_id, UUID):
            self.keys.remember(originator_id, household_id)
            return household_id
        return None


def _aad(domain_event: Any, name: str) -> bytes:
    # Binds the ciphertext to its place: moved to another attribute, event or aggregate, it will not open.
    return f"{domain_event.originator_id}|{domain_event.originator_version}|{name}".encode()


def shredding_mapper(app: Any, db: SqlDatabase | None = None) -> ShreddingMapper:
    """The mapper for an application on a node's store: the library's (its transcoder, compressor and
    cipher from the app's env) with the household keys in `db`, by default the database of that store."""
    stock = app.factory.mapper(transcoder=app.construct_transcoder())
    keys = HouseholdKeys(database_for(app.env) if db is None else db, stock.cipher)
    return ShreddingMapper(stock.transcoder, keys, compressor=stock.compressor, cipher=stock.cipher)


def delete_snapshots(app: Any, originator_ids: list[UUID], db: SqlDatabase | None = None) -> None:
    """Delete the stored snapshots of these aggregates: a snapshot holds personal state under one key, and
    the aggregates replay from their events without it. (Snapshots are not sealed by the audit chain.)"""
    if app.snapshots is None or not originator_ids:
        return
    recorder = app.snapshots.recorder
    table = getattr(recorder, "events_table_name", None)
    if table is None:  # POPO: snapshots in memory only
        store = getattr(recorder, "_stored_events_index", None)
        for originator_id in originator_ids:
            if store is not None:
                store.pop(str(originator_id), None)
        return
    own = db is None  # opened here for this deletion, and closed after it
    db = database_for(app.env) if db is None else db
    with db.transaction() as tx:
        for originator_id in originator_ids:
            tx.execute(f"DELETE FROM {table} WHERE originator_id = ?", (_id_param(db, originator_id),))
    close = getattr(db, "close", None)
    if own and close is not None:
        close()


def _id_param(db: SqlDatabase, originator_id: UUID) -> Any:
    # The library's SQLite recorder stores ids as 32 hex digits; PostgreSQL as uuid.
    return originator_id.hex if db.dialect == "sqlite" else originator_id
