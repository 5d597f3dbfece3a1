"""The projection engine: what a projection is, and a runner that applies a node's events exactly once."""

from __future__ import annotations

import contextvars
import itertools
import operator
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, ClassVar, Protocol, TypeVar

import orjson
import structlog
from eventsourcing.application import Application
from eventsourcing.persistence import Mapper, MapperDeserialisationError, Notification
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import ValidationError

from coordination.projections.log_reads import log_reader, reads_concurrently
from coordination.projections.row_writes import InsertRows, RowWrite, UpsertRows, fold
from coordination.transient import is_transient

Params = Sequence[Any]
# (sql, params, many): `many` means params is a sequence of parameter rows for executemany.
Statement = tuple["str | UpsertRows | InsertRows", Any, bool]
Handler = Callable[[Any, "ProjectionTx"], None]
StoredHandler = Callable[[Any, dict[str, Any], "ProjectionTx"], bool]
F = TypeVar("F", bound=Callable[..., None])

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")

TRACKING_TABLE = "projection_tracking"
PARKED_TABLE = "projection_parked"
_BOOKKEEPING_DDL = (
    f"CREATE TABLE IF NOT EXISTS {TRACKING_TABLE} ("
    "projection TEXT PRIMARY KEY, position BIGINT NOT NULL, updated_at TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {PARKED_TABLE} ("
    "projection TEXT NOT NULL, position BIGINT NOT NULL, topic TEXT NOT NULL, originator_id TEXT NOT NULL, "
    "originator_version INTEGER NOT NULL, error_type TEXT NOT NULL, error_message TEXT NOT NULL, "
    "parked_at TEXT NOT NULL, attempts INTEGER NOT NULL, PRIMARY KEY (projection, position))",
)


# The port the view stores (adapters/views.py) implement.


class StatementFailed(Exception):
    """The database refused a view write: the event's fault, not the link's."""


class SavepointLost(Exception):
    """Rolling back to a savepoint failed: the transaction is unusable and nothing in it may be committed."""


class ViewTransaction(Protocol):
    def execute(self, sql: str, params: Params = ()) -> int: ...
    def executemany(self, sql: str, rows: Sequence[Params]) -> None: ...
    def run(self, statements: Sequence[Statement]) -> None: ...
    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]: ...
    def savepoint(self) -> AbstractContextManager[None]: ...


class ViewStore(Protocol):
    def transaction(self) -> AbstractContextManager[ViewTransaction]: ...
    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]: ...
    def ensure_tables(self, projection: Projection) -> None: ...
    def drop_tables(self, projection: Projection) -> None: ...
    def tracking_position(self, name: str) -> int: ...


# What a projection is.


def handles(
    *event_classes: type, header_only: bool = False, reads: Sequence[str] | None = None
) -> Callable[[F], F]:
    """Marks a projection method `(self, event, tx)` as the handler of these event classes.

    With `header_only`, the handler is given the stored notification instead of the decoded event: it may
    read only `originator_id`, `originator_version`, `topic` and `id`, which are stored in clear. Decoding
    is most of a rebuild's cost, so a handler that needs no attribute of the event should not pay for it
    (nor is it parked for an event whose state cannot be decoded: it never reads that state).

    With `reads`, the handler is given an event of its class with only these attributes decoded (those the
    event has), besides originator_id and originator_version, where the mapper can decode attributes one
    by one (see `decode_attributes`); the whole event otherwise.
    """

    def mark(method: F) -> F:
        method._handles = event_classes  # type: ignore[attr-defined]
        method._header_only = header_only  # type: ignore[attr-defined]
        method._reads = None if reads is None else tuple(reads)  # type: ignore[attr-defined]
        return method

    return mark


def handles_stored(*event_classes: type) -> Callable[[F], F]:
    """Marks a projection method `(self, stored, state, tx) -> bool` as a faster way to handle these event
    classes, beside their ordinary handlers (each class must have one).

    It is given the stored notification and its state as parsed JSON, undecoded (a typed value is still
    `{"_type_": name, "_data_": data}`), where the runner's mapper stores events as plain JSON (no cipher,
    no compressor) that it decodes attribute by attribute (see `decode_attributes`) and the event was
    stored at its class's current version (no upcast). It returns False, before writing anything, for
    whatever it does not know how to read as stored (an attribute encrypted under a household's key, an
    unusual form of a value); the runner then decodes the event and calls the ordinary handler. It must
    write exactly what the ordinary handler writes for the same event: it exists because decoding costs
    more than handling.
    """

    def mark(method: F) -> F:
        method._handles_stored = event_classes  # type: ignore[attr-defined]
        return method

    return mark


class EventHeader(Protocol):
    """What a `header_only` handler reads of an event: the stored notification's clear-text fields."""

    @property
    def id(self) -> int: ...
    @property
    def originator_id(self) -> Any: ...
    @property
    def originator_version(self) -> int: ...
    @property
    def topic(self) -> str: ...


class Projection:
    """A read model that answers one question and owns its tables.

    Subclasses declare `name`, `tables` (logical name → portable column DDL), optional `indexes`
    (index name → (logical table, columns)) and `@handles(...)` methods that only write, through
    `tx.execute("... {logical_table} ...", params)`. Every table lives as `<logical>__<suffix>`, so a
    rebuild under another suffix can sit beside the live instance.
    """

    name: ClassVar[str]
    tables: ClassVar[Mapping[str, str]]
    indexes: ClassVar[Mapping[str, tuple[str, str]]] = {}
    _handler_names: ClassVar[dict[type, str]] = {}
    _stored_handler_names: ClassVar[dict[type, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[type, str] = {}
        stored: dict[type, str] = {}
        # Base classes first, so a subclass's handler for the same event class wins.
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                for event_class in getattr(value, "_handles", ()):
                    found[event_class] = attr
                for event_class in getattr(value, "_handles_stored", ()):
                    stored[event_class] = attr
        cls._handler_names = found
        cls._stored_handler_names = stored

    def __init__(self, suffix: str = "live") -> None:
        for identifier in (self.name, suffix, *self.tables, *self.indexes):
            if not _IDENTIFIER.match(identifier):
                raise ValueError(f"{identifier!r} is not a plain lower-case SQL identifier")
        self.suffix = suffix
        self.instance_name = f"{self.name}__{suffix}"
        self.table_names = {logical: f"{logical}__{suffix}" for logical in self.tables}
        self._resolved: dict[str, str] = {}
        self._by_topic: dict[str, Handler | None] = {}
        self._stored_by_topic: dict[str, tuple[StoredHandler, int] | None] = {}
        self._header_only_topics: set[str] = set()
        self._reads: dict[str, tuple[str, ...]] = {}
        self._key_columns: dict[str, tuple[str, ...]] = {}
        self._column_types: dict[str, dict[str, str]] = {}
        self._insert_rows: dict[str | tuple[str, tuple[str, ...]], InsertRows] = {}
        self._upsert_rows: dict[str, UpsertRows] = {}
        self._upsert_targets: dict[str, tuple[str, tuple[str, ...], dict[str, str]]] = {}
        self._topics: tuple[str, ...] | None = None
        self.indexes_deferred = False

    def resolve(self, sql: str) -> str:
        """The statement with each `{logical_table}` replaced by this instance's physical table name."""
        resolved = self._resolved.get(sql)
        if resolved is None:
            resolved = self._resolved[sql] = sql.format_map(self.table_names)
        return resolved

    def handler_for(self, topic: str) -> Handler | None:
        """The bound handler for a stored event's topic, or None; raises if the topic names no class."""
        if topic in self._by_topic:
            return self._by_topic[topic]
        handler = self._by_topic[topic] = self._method_for(resolve_topic(topic), self._handler_names)
        if handler is not None and getattr(handler, "_header_only", False):
            self._header_only_topics.add(topic)
        if handler is not None and getattr(handler, "_reads", None) is not None:
            self._reads[topic] = handler._reads  # type: ignore[attr-defined]
        return handler

    def stored_handler_for(self, topic: str) -> tuple[StoredHandler, int] | None:
        """The bound `handles_stored` method for a stored event's topic and the version of its class (the
        handler is for events stored at that version), or None."""
        if topic in self._stored_by_topic:
            return self._stored_by_topic[topic]
        event_class = resolve_topic(topic)
        handler = self._method_for(event_class, self._stored_handler_names)
        found = None if handler is None else (handler, getattr(event_class, "class_version", 1))
        self._stored_by_topic[topic] = found
        return found

    def _method_for(self, event_class: type, names: dict[type, str]) -> Any:
        """The bound method named for the nearest of `event_class`'s classes (itself first), or None."""
        for klass in getattr(event_class, "__mro__", (event_class,)):
            if klass in names:
                return getattr(self, names[klass])
        return None

    def reads(self, topic: str) -> tuple[str, ...] | None:
        """The attributes the handler of this topic reads, or None if it reads the whole event."""
        return self._reads.get(topic)

    def wants_header_only(self, topic: str) -> bool:
        """Whether the handler of this topic (looked up with `handler_for` first) takes the notification."""
        return topic in self._header_only_topics

    def handled_topics(self) -> tuple[str, ...] | None:
        """The stored topics of every event class a handler takes (subclasses included), or None if a topic
        might be stored under another name (a registered alias): then the runner reads every event."""
        if self._topics is not None:
            return self._topics or None
        if _topic_aliases():
            return None
        found: list[str] = []
        pending = list(self._handler_names)
        while pending:
            cls = pending.pop()
            # Not get_topic(): the library may copy an event class under the same name, which it refuses.
            found.append(f"{cls.__module__}:{cls.__qualname__}")
            pending += cls.__subclasses__()
        self._topics = tuple(sorted(set(found)))
        return self._topics

    def setup_statements(self) -> list[tuple[str, Params]]:
        """Creates the bookkeeping tables, this instance's tables and indexes, and its tracking row at 0.

        Without the indexes while `indexes_deferred` (a rebuild, until it has caught up): one index built
        from the finished table costs a fraction of keeping it up to date row by row.
        """
        creates = [
            f"CREATE TABLE IF NOT EXISTS {self.table_names[t]} ({ddl})" for t, ddl in self.tables.items()
        ]
        indexes = [
            f"CREATE INDEX IF NOT EXISTS {index}__{self.suffix} ON {self.table_names[table]} ({columns})"
            for index, (table, columns) in self.indexes.items()
            if not self.indexes_deferred
        ]
        seed = (
            f"INSERT INTO {TRACKING_TABLE} (projection, position, updated_at) VALUES (?, 0, ?) "
            "ON CONFLICT (projection) DO NOTHING",
            (self.instance_name, _now()),
        )
        return [*((sql, ()) for sql in (*_BOOKKEEPING_DDL, *creates, *indexes)), seed]

    def teardown_statements(self) -> list[tuple[str, Params]]:
        """Drops this instance's tables and forgets its tracking position and parked events."""
        drops = [(f"DROP TABLE IF EXISTS {physical}", ()) for physical in self.table_names.values()]
        forget = [
            (f"DELETE FROM {table} WHERE projection = ?", (self.instance_name,))
            for table in (TRACKING_TABLE, PARKED_TABLE)
        ]
        return [*((sql, ()) for sql in _BOOKKEEPING_DDL), *drops, *forget]

    def column_types(self, table: str) -> dict[str, str]:
        """Each column's SQL type word (text, integer, bigint, ...) as declared in the table's DDL."""
        found = self._column_types.get(table)
        if found is None:
            found = self._column_types[table] = {
                words[0]: words[1].lower()
                for column in self.tables[table].split(",")
                if len(words := column.split()) > 1
                and words[0].upper() not in ("PRIMARY", "UNIQUE")
                and not words[0].endswith(")")
            }
        return found

    def insert_rows(self, table: str, columns: tuple[str, ...] | None = None) -> InsertRows:
        """The bulk insert of these columns (all, in DDL order, by default) into a logical table's rows."""
        found = self._insert_rows.get(table if columns is None else (table, columns))
        if found is None:
            names = tuple(self.column_types(table)) if columns is None else columns
            found = InsertRows(self.table_names[table], names)
            self._insert_rows[table if columns is None else (table, columns)] = found
        return found

    def upsert_rows(self, table: str) -> UpsertRows:
        """The bulk upsert of whole rows (every column, in DDL order) into a logical table."""
        found = self._upsert_rows.get(table)
        if found is None:
            types = self.column_types(table)
            found = self._upsert_rows[table] = UpsertRows(
                self.table_names[table], self.key_columns(table), tuple(types), tuple(types.values())
            )
        return found

    def upsert_target(self, table: str) -> tuple[str, tuple[str, ...], dict[str, str]]:
        """A logical table's physical name, primary key and column types, for row writes."""
        found = self._upsert_targets.get(table)
        if found is None:
            found = self._upsert_targets[table] = (
                self.table_names[table],
                self.key_columns(table),
                self.column_types(table),
            )
        return found

    def key_columns(self, table: str) -> tuple[str, ...]:
        """The primary key of a table that row writes (`upsert`, `update`, `delete`) address."""
        found = self._key_columns.get(table)
        if found is None:
            found = self._key_columns[table] = self.primary_key(table)
            if not found:
                raise ValueError(f"{table} has no primary key, so its rows cannot be written by key")
        return found

    def primary_key(self, table: str) -> tuple[str, ...]:
        """The table's primary key columns as declared in its DDL, or () when it has none."""
        ddl = self.tables[table]
        constraint = re.search(r"PRIMARY\s+KEY\s*\(([^)]*)\)", ddl, re.IGNORECASE)
        if constraint:
            return tuple(column.strip() for column in constraint.group(1).split(","))
        for column in ddl.split(","):
            if re.search(r"PRIMARY\s+KEY", column, re.IGNORECASE):
                return (column.split()[0],)
        return ()


class ProjectionTx:
    """What a handler writes through: statements are queued and sent to the database in bulk.

    Queuing is what makes a batch fast (one pipeline or executemany instead of a round trip per
    write). `query()` sends the queue first, so a handler reads its own batch's writes.
    """

    def __init__(self, projection: Projection, tx: ViewTransaction) -> None:
        self._projection = projection
        self._tx = tx
        self._queue: list[Statement | RowWrite] = []
        # Rows for insert-only tables, kept apart as they come: no object per row, nothing to fold.
        self._appended: list[tuple[InsertRows | UpsertRows, tuple[Any, ...]]] = []
        self.flushes = 0
        # The log position of the event being handled (a timeline orders by it).
        self.position = 0

    def execute(self, sql: str, params: Params = ()) -> None:
        self._queue.append((self._projection.resolve(sql), params, False))

    # Writes by primary key: folded per row at flush, so a batch sends each row's final state once.

    def upsert(self, table: str, row: Mapping[str, Any]) -> None:
        """Sets the whole row (every column) of a logical table, inserting it if absent."""
        physical, key_columns, types = self._projection.upsert_target(table)
        key = tuple(row[c] for c in key_columns)
        self._queue.append(RowWrite(physical, key_columns, key, "upsert", row, types))

    def update(self, table: str, key: Sequence[Any], **changes: Any) -> None:
        """Changes some columns of the row with this primary key; nothing if there is no such row."""
        physical = self._projection.table_names[table]
        key_columns = self._projection.key_columns(table)
        self._queue.append(RowWrite(physical, key_columns, tuple(key), "update", changes))

    def update_where(self, table: str, key: Sequence[Any], when: Mapping[str, Any], **changes: Any) -> None:
        """Changes the row with this key only if each column in `when` holds that (non-null) value.

        A change may be `Column(name)`: the value that column had before this update. Unlike a raw UPDATE,
        this folds with the batch's other writes to the row.
        """
        physical = self._projection.table_names[table]
        key_columns = self._projection.key_columns(table)
        self._queue.append(RowWrite(physical, key_columns, tuple(key), "update", changes, when=dict(when)))

    def insert(self, table: str, row: Mapping[str, Any]) -> None:
        """Appends a row to a table the projection only ever inserts into (each row written once).

        Sent in bulk (COPY on PostgreSQL), before the other writes queued with it: nothing else writes
        such a table. A row whose key exists already fails the batch like any refused write, so it is
        not for rows a redelivered event could write again.
        """
        self._appended.append((self._projection.insert_rows(table, tuple(row)), tuple(row.values())))

    def append(self, table: str, row: tuple[Any, ...]) -> None:
        """`insert` of a row given as the value of each of the table's columns, in the order of its DDL."""
        self._appended.append((self._projection.insert_rows(table), row))

    def upsert_row(self, table: str, row: tuple[Any, ...]) -> None:
        """`upsert` of a whole row given in the order of the table's DDL, sent in bulk with the appended
        rows (the last row per key wins) instead of folded with the other row writes: for a table that no
        other kind of write of the projection touches."""
        self._appended.append((self._projection.upsert_rows(table), row))

    def delete(self, table: str, key: Sequence[Any]) -> None:
        physical = self._projection.table_names[table]
        self._queue.append(RowWrite(physical, self._projection.key_columns(table), tuple(key), "delete", {}))

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        self._queue.append((self._projection.resolve(sql), list(rows), True))

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        self.flush()
        return self._tx.query(self._projection.resolve(sql), params)

    def flush(self) -> None:
        if self._queue or self._appended:
            queue, self._queue = self._queue, []
            appended, self._appended = self._appended, []
            self.flushes += 1
            self._tx.run([*_grouped(appended), *_folded(queue)])

    def flush_into(self, tx: ViewTransaction) -> None:
        """Sends what was queued ahead of a transaction (a batch handled while the last one was written)."""
        self._tx = tx
        self.flush()

    def mark(self) -> tuple[int, int, int]:
        return len(self._queue), len(self._appended), self.flushes

    def discard_since(self, mark: tuple[int, int, int]) -> bool:
        """Drops what was queued after `mark`; False if some of it already reached the database."""
        queued, appended, flushes = mark
        if self.flushes != flushes:
            return False
        del self._queue[queued:]
        del self._appended[appended:]
        return True


def _grouped(appended: list[tuple[InsertRows | UpsertRows, tuple[Any, ...]]]) -> list[Statement]:
    """Appended rows as one bulk insert (or upsert) per table (rows of one table mostly come in long runs)."""
    by_table: dict[InsertRows | UpsertRows, list[tuple[Any, ...]]] = {}
    for insert, run in itertools.groupby(appended, key=operator.itemgetter(0)):
        rows = by_table.get(insert)
        if rows is None:
            rows = by_table[insert] = []
        rows += map(operator.itemgetter(1), run)
    statements: list[Statement] = []
    for insert, rows in by_table.items():
        if isinstance(insert, UpsertRows):
            # One row per key, the last written (an upsert may not touch a row twice in one statement).
            key = operator.itemgetter(*(insert.columns.index(c) for c in insert.key_columns))
            rows = list({key(row): row for row in rows}.values())
        statements.append((insert, rows, False))
    return statements


def _folded(queue: Sequence[Statement | RowWrite]) -> list[Statement]:
    """The queue with each run of row writes folded into final-state statements; SQL keeps its place."""
    statements: list[Statement] = []
    run: list[RowWrite] = []
    for item in queue:
        if type(item) is RowWrite:
            run.append(item)
            continue
        if run:
            statements += fold(run)
            run = []
        statements.append(item)
    if run:
        statements += fold(run)
    return statements


# Running a projection.


@dataclass(frozen=True)
class ParkedEvent:
    """An event a projection could not apply: where it is and why, never what it says."""

    projection: str
    position: int
    topic: str
    originator_id: str
    originator_version: int
    error_type: str
    error_message: str
    parked_at: str
    attempts: int


@dataclass(frozen=True)
class Batch:
    """Notifications read after the tracked position `after`; applying it moves tracking to `last`.

    `through` is the end of the range of the log that was read, when the read skipped events the
    projection has no handler for: tracking moves there even if no notification came back.
    """

    after: int
    notifications: Sequence[Notification]
    through: int | None = None

    @property
    def last(self) -> int:
        if self.through is not None:
            return self.through
        return self.notifications[-1].id if self.notifications else self.after


class _Stale(Exception):
    """Tracking moved past the batch's start: someone else applied it."""


class _NeedSavepoints(Exception):
    """The optimistic path cannot isolate a failure; redo the batch with a savepoint per event."""


class _NeedsTransaction(Exception):
    """A handler read the views: its batch is handled inside the transaction that writes it."""


class _Unbound:
    """The transaction of a batch handled ahead of it: handlers may queue writes, not send them."""

    def _refuse(self, *_: Any, **__: Any) -> Any:
        raise _NeedsTransaction

    execute = executemany = run = query = savepoint = _refuse


@dataclass
class _Handled:
    """A batch handled ahead of its transaction: the writes it queued and the events it parked."""

    ptx: ProjectionTx
    parked: list[ParkedEvent]


def describe(exc: BaseException) -> str:
    """The exception's message without event data: pydantic errors are listed without their input values."""
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)
        )
    if isinstance(exc, MapperDeserialisationError) and exc.__cause__ is not None:
        # The library's message embeds the cause's text, which may quote the stored state.
        return f"stored event could not be decoded: {type(exc.__cause__).__name__}: {describe(exc.__cause__)}"
    return str(exc)[:1000]


class ProjectionRunner:
    """Follows an application's notification log and applies it to a projection in batches, exactly once.

    Each batch is one transaction that first moves the tracking row from the position the batch was read
    after to its last position (a conditional update), then writes the views and any parked events. A
    runner whose batch is stale (another runner got there first) updates no row and rolls back: nothing
    is applied twice, whatever the number of runners, restarts or duplicate runs.
    """

    def __init__(
        self, app: Application, projection: Projection, view_store: ViewStore, batch_size: int = 1000
    ) -> None:
        self.app = app
        self.projection = projection
        self.view_store = view_store
        self.batch_size = batch_size
        self.log = structlog.get_logger(__name__).bind(projection=projection.instance_name)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        # How far past the tracked position a filtered read looks (see fetch_batch).
        self._window = 2 * batch_size
        self._read_log = log_reader(app.recorder)
        self._read_ahead = reads_concurrently(app.recorder)
        # Whether `handles_stored` methods may be given stored events (False: always the ordinary handlers).
        self.stored_handlers = stores_plain_json(app.mapper)
        # Whether a handler has read the views (see _handle_ahead).
        self._reads_views = False
        view_store.ensure_tables(projection)

    @property
    def name(self) -> str:
        return self.projection.instance_name

    def position(self) -> int:
        return self.view_store.tracking_position(self.name)

    def lag(self) -> int:
        """How many notification ids the log has beyond the tracked position (gaps count, too)."""
        return max((self.app.recorder.max_notification_id() or 0) - self.position(), 0)

    def fetch_batch(self, up_to: int | None = None, after: int | None = None) -> Batch:
        """The next events after the tracked position (or `after`); only those of handled topics, where
        that is safe.

        A filtered read covers the range up to the log's end as it is now (or `up_to`): notification ids
        become visible in order (one writer at a time), so no id at or below it can appear later.
        """
        if after is None:
            after = self.position()
        topics = self.projection.handled_topics()
        if topics is None:
            notifications = self._read_log(after, self.batch_size, up_to, None)
            return Batch(after=after, notifications=notifications)
        end = self.app.recorder.max_notification_id() or 0
        if up_to is not None:
            end = min(end, up_to)
        if end <= after:
            return Batch(after=after, notifications=[])
        # A bounded range: PostgreSQL may fetch every matching row up to `end` and sort them all to return
        # the first page (a rebuild right after a bulk load, before statistics catch up, did: each page
        # cost a sort of the rest of the log). The window adapts to how many of the log's events match.
        end = min(end, after + self._window)
        notifications = self._read_log(after, self.batch_size, end, topics)
        full = len(notifications) == self.batch_size
        if full:
            self._window = max(2 * self.batch_size, self._window // 2)
        else:
            self._window = min(64 * self.batch_size, self._window * 2)
        return Batch(after=after, notifications=notifications, through=notifications[-1].id if full else end)

    def run_once(self, up_to: int | None = None) -> int:
        """Applies the next batch; returns how many notifications it consumed (0 if none or stale)."""
        return self.apply_batch(self.fetch_batch(up_to))

    def run_until_caught_up(self, max_seconds: float = 60.0, up_to: int | None = None) -> int:
        """Applies batches until tracking reaches the log's end as it was at the call (or `up_to`).

        Three batches are in flight at once: the next is read (where the recorder reads concurrently) and
        the current handled while the last one is written and committed, so the database's work for one
        overlaps the handlers' for the other. Each batch is still its own transaction claiming tracking
        from where the one before left it.
        """
        target = up_to if up_to is not None else (self.app.recorder.max_notification_id() or 0)
        deadline = time.monotonic() + max_seconds
        total = 0
        reader = writer = None
        writing: Future[int] | None = None
        batch = self.fetch_batch(up_to=target)
        try:
            while True:
                following = None
                if batch.after < batch.last < target and self._read_ahead:
                    reader = reader or ThreadPoolExecutor(1, thread_name_prefix=f"{self.name}-read")
                    following = reader.submit(self.fetch_batch, target, batch.last)
                handled = self._handle_ahead(batch) if batch.last > batch.after else None
                if writing is not None:
                    applied = writing.result()
                    total += applied
                    writing = None
                    if not applied:
                        # The last batch was stale: tracking is elsewhere, so read on from where it is.
                        batch = self.fetch_batch(up_to=target)
                        continue
                if batch.last <= batch.after:
                    return total
                writer = writer or ThreadPoolExecutor(1, thread_name_prefix=f"{self.name}-write")
                # In the caller's context, so the batch's log lines keep what it bound (the organisation).
                writing = writer.submit(contextvars.copy_context().run, self.apply_batch, batch, handled)
                if batch.last >= target:
                    total += writing.result()
                    writing = None
                    return total
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{self.name} at {batch.last} did not reach {target} in {max_seconds} s"
                    )
                batch = following.result() if following else self.fetch_batch(up_to=target, after=batch.last)
        finally:
            for pool in (reader, writer):
                if pool is not None:
                    pool.shutdown(wait=True, cancel_futures=True)

    def apply_batch(self, batch: Batch, handled: _Handled | None = None) -> int:
        """Applies a batch; returns how many positions of the log it moved tracking over (0 if stale).

        `handled`: the batch as `_handle_ahead` handled it, if it did (else it is handled here).
        """
        if batch.last <= batch.after:
            return 0
        if handled is None:
            handled = self._handle_ahead(batch)
        try:
            try:
                parked = (
                    self._apply(batch, with_savepoints=False)
                    if handled is None
                    else self._write(batch, handled)
                )
            except _NeedSavepoints:
                parked = self._apply(batch, with_savepoints=True)
        except _Stale:
            self.log.info("batch skipped as duplicate", after=batch.after, last=batch.last)
            return 0
        self.log.info(
            "batch applied", count=len(batch.notifications), position=batch.last, parked=len(parked)
        )
        for event in parked:
            self.log.warning(
                "event parked",
                position=event.position,
                topic=event.topic,
                originator_id=event.originator_id,
                version=event.originator_version,
                error_type=event.error_type,
            )
        return batch.last - batch.after

    def _handle_ahead(self, batch: Batch) -> _Handled | None:
        """The batch handled before its transaction opens (handlers mostly only queue writes); None if a
        handler reads the views (then never again: it is handled in its transaction from then on), or a
        failure cannot be isolated without savepoints."""
        if self._reads_views:
            return None
        ptx = ProjectionTx(self.projection, _Unbound())  # type: ignore[arg-type]
        parked: list[ParkedEvent] = []
        try:
            for notification in batch.notifications:
                failure = self._apply_optimistically(notification, ptx)
                if failure is not None:
                    parked.append(self._parked(notification, failure))
        except _NeedsTransaction:
            self._reads_views = True
            return None
        except _NeedSavepoints:
            return None
        return _Handled(ptx, parked)

    def _write(self, batch: Batch, handled: _Handled) -> list[ParkedEvent]:
        with self.view_store.transaction() as tx:
            self._claim(tx, batch)
            try:
                handled.ptx.flush_into(tx)
            except StatementFailed as exc:
                raise _NeedSavepoints from exc
            self._park(tx, handled.parked)
        return handled.parked

    def _apply(self, batch: Batch, *, with_savepoints: bool) -> list[ParkedEvent]:
        parked: list[ParkedEvent] = []
        with self.view_store.transaction() as tx:
            self._claim(tx, batch)
            ptx = ProjectionTx(self.projection, tx)
            for notification in batch.notifications:
                if with_savepoints:
                    failure = self._apply_isolated(notification, ptx, tx)
                else:
                    failure = self._apply_optimistically(notification, ptx)
                if failure is not None:
                    parked.append(self._parked(notification, failure))
            if not with_savepoints:
                try:
                    ptx.flush()
                except StatementFailed as exc:
                    raise _NeedSavepoints from exc
            self._park(tx, parked)
        return parked

    def _claim(self, tx: ViewTransaction, batch: Batch) -> None:
        # Claim first: the row lock serialises racing runners, and a loser stops before writing.
        claimed = tx.execute(
            f"UPDATE {TRACKING_TABLE} SET position = ?, updated_at = ? WHERE projection = ? AND position = ?",
            (batch.last, _now(), self.name, batch.after),
        )
        if claimed != 1:
            raise _Stale

    def _park(self, tx: ViewTransaction, parked: list[ParkedEvent]) -> None:
        for event in parked:
            tx.execute(
                f"INSERT INTO {PARKED_TABLE} (projection, position, topic, originator_id, "
                "originator_version, error_type, error_message, parked_at, attempts) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _parked_row(event),
            )

    def _apply_optimistically(self, notification: Notification, ptx: ProjectionTx) -> Exception | None:
        mark = ptx.mark()
        try:
            self._handle(notification, ptx)
        except StatementFailed as exc:
            # A read inside a handler failed: on PostgreSQL the transaction is now aborted.
            raise _NeedSavepoints from exc
        except _NeedsTransaction:
            raise
        except Exception as exc:
            if is_transient(exc):
                raise  # the database, network or disk failed, not the event: the batch is tried again
            if not ptx.discard_since(mark):
                raise _NeedSavepoints from exc
            return exc
        return None

    def _apply_isolated(
        self, notification: Notification, ptx: ProjectionTx, tx: ViewTransaction
    ) -> Exception | None:
        mark = ptx.mark()
        try:
            with tx.savepoint():
                self._handle(notification, ptx)
                ptx.flush()
        except SavepointLost:
            raise
        except Exception as exc:
            if is_transient(exc):
                raise  # never parked for this: the batch (or the retry) is tried again
            ptx.discard_since(mark)
            return exc
        return None

    def _handle(self, notification: Notification, ptx: ProjectionTx) -> None:
        projection = self.projection
        topic = notification.topic
        handler = projection.handler_for(topic)
        if handler is not None:
            ptx.position = notification.id
            if self.stored_handlers:
                stored = projection.stored_handler_for(topic)
                if stored is not None:
                    state = stored_state(notification.state, stored[1])
                    if state is not None and stored[0](notification, state, ptx):
                        return
            if projection.wants_header_only(topic):
                handler(notification, ptx)
                return
            names = projection.reads(topic)
            if names is None:
                handler(self.app.mapper.to_domain_event(notification), ptx)
            else:
                handler(decode_attributes(self.app.mapper, notification, names), ptx)

    def _parked(self, notification: Notification, exc: Exception) -> ParkedEvent:
        return ParkedEvent(
            projection=self.name,
            position=notification.id,
            topic=notification.topic,
            originator_id=str(notification.originator_id),
            originator_version=notification.originator_version,
            error_type=type(exc).__name__,
            error_message=describe(exc),
            parked_at=_now(),
            attempts=1,
        )

    # Parked events.

    def parked(self) -> list[ParkedEvent]:
        rows = self.view_store.query(
            f"SELECT * FROM {PARKED_TABLE} WHERE projection = ? ORDER BY position", (self.name,)
        )
        return [ParkedEvent(**row) for row in rows]

    def retry_parked(self, position: int | None = None) -> list[ParkedEvent]:
        """Re-applies each parked event (after a fix), or the one at `position`, unparking those that succeed;
        returns those still parked.

        Each is applied in one transaction with the removal of its parked row, claimed by its attempt
        count: two retries of one event never both apply it, and one that succeeded leaves nothing to retry.
        A transient failure (coordination/transient.py) is raised, leaving the event parked as it was.
        """
        for event in self.parked():
            if position is not None and event.position != position:
                continue
            found = self.app.recorder.select_notifications(start=event.position, limit=1, stop=event.position)
            if found:
                self._retry(event, found[0])
        return self.parked()

    def _retry(self, event: ParkedEvent, notification: Notification) -> None:
        where = "WHERE projection = ? AND position = ?"
        with self.view_store.transaction() as tx:
            # Claim by attempt count, so two retries of one parked event never both apply it.
            claimed = tx.execute(
                f"UPDATE {PARKED_TABLE} SET attempts = attempts + 1 {where} AND attempts = ?",
                (self.name, event.position, event.attempts),
            )
            if claimed != 1:
                return
            failure = self._apply_isolated(notification, ProjectionTx(self.projection, tx), tx)
            if failure is None:
                tx.execute(f"DELETE FROM {PARKED_TABLE} {where}", (self.name, event.position))
            else:
                tx.execute(
                    f"UPDATE {PARKED_TABLE} SET error_type = ?, error_message = ?, parked_at = ? {where}",
                    (type(failure).__name__, describe(failure), _now(), self.name, event.position),
                )
        if failure is None:
            self.log.info("parked event applied", position=event.position, attempts=event.attempts + 1)
        else:
            self.log.warning(
                "parked event failed again", position=event.position, error_type=type(failure).__name__
            )

    # Following the log in the background.

    def start(self, *, max_sleep: float = 1.0) -> None:
        """Polls the log on a thread: at once while there is work, backing off to `max_sleep` when idle."""
        if self._thread is not None:
            raise RuntimeError(f"{self.name} is already running")
        self._stopping.clear()
        self._thread = threading.Thread(target=self._follow, args=(max_sleep,), name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _follow(self, max_sleep: float) -> None:
        sleep = 0.01
        while not self._stopping.is_set():
            try:
                applied = self.run_once()
            except Exception:
                # A lost connection or a locked database: keep the thread alive and try again later.
                self.log.exception("batch failed; retrying")
                applied = 0
            if applied:
                sleep = 0.01
                continue
            self._stopping.wait(sleep)
            sleep = min(sleep * 2, max_sleep)


def decode_attributes(mapper: Any, stored: Notification, names: tuple[str, ...]) -> Any:
    """The stored event as an instance of its class holding only the named attributes (those it has).

    Only where that is the same as decoding it whole and then forgetting the rest: a mapper that says how
    (`to_partial_domain_event`), or the library's own mapper without cipher or compressor whose transcoder
    decodes attributes one by one (`decode_attributes`), and an event stored at its class's version (an
    upcast may rename or derive attributes, so an older one is decoded whole and upcast).
    """
    partial = getattr(mapper, "to_partial_domain_event", None)
    if partial is not None:
        return partial(stored, names)
    if type(mapper) is not Mapper or mapper.cipher or mapper.compressor:
        return mapper.to_domain_event(stored)
    return partial_domain_event(mapper, stored, names)


def stores_plain_json(mapper: Any) -> bool:
    """Whether `decode_attributes` reads this mapper's stored events attribute by attribute: they are then
    plain JSON objects, and `handles_stored` methods may read them as stored."""
    if mapper.cipher or mapper.compressor or getattr(mapper.transcoder, "decode_attributes", None) is None:
        return False
    return type(mapper) is Mapper or getattr(mapper, "to_partial_domain_event", None) is not None


def stored_state(data: bytes, class_version: int = 1) -> dict[str, Any] | None:
    """A stored event's state as parsed JSON, for a `handles_stored` method; None unless it is a JSON
    object stored at this version of its class (an older one would be upcast when decoded)."""
    try:
        state = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if type(state) is not dict or state.get("class_version", 1) != class_version:
        return None
    return state


def partial_domain_event(mapper: Any, stored: Notification, names: tuple[str, ...]) -> Any:
    """What `decode_attributes` does for the library's mapper (for mappers that add to it)."""
    decode = getattr(mapper.transcoder, "decode_attributes", None)
    cls = resolve_topic(stored.topic)
    class_version = getattr(cls, "class_version", 1)
    if decode is None or class_version != 1:
        return mapper.to_domain_event(stored)
    try:
        state: dict[str, Any] = decode(stored.state, (*names, "class_version"))
    except Exception as e:
        msg = (
            f"Failed to deserialise state of stored event with topic '{stored.topic}', originator_id "
            f"'{stored.originator_id}' and originator_version {stored.originator_version}: {e}"
        )
        raise MapperDeserialisationError(msg) from e
    if state.pop("class_version", 1) != class_version:
        return mapper.to_domain_event(stored)
    state["originator_id"] = stored.originator_id
    state["originator_version"] = stored.originator_version
    event = object.__new__(cls)
    object.__setattr__(event, "__dict__", state)
    return event


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _topic_aliases() -> bool:
    """Whether any stored topic is registered to resolve to a class under another name (a moved class)."""
    # The library keeps registered aliases in its topic cache beside the topics it has resolved.
    from eventsourcing.utils import _topic_cache

    return any(
        (isinstance(obj, ModuleType) and obj.__name__ != topic)
        or (isinstance(obj, type) and get_topic(obj) != topic)
        for topic, obj in list(_topic_cache.items())
    )


def _parked_row(event: ParkedEvent) -> tuple[Any, ...]:
    return (
        event.projection,
        event.position,
        event.topic,
        event.originator_id,
        event.originator_version,
        event.error_type,
        event.error_message,
        event.parked_at,
        event.attempts,
    )
