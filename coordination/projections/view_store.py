"""The port a view store implements (adapters/sql/view_stores.py) and the bookkeeping tables it holds."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from coordination.projections.definition import Projection
    from coordination.projections.row_writes import InsertRows, UpsertRows

Params = Sequence[Any]
# (sql, params, many): `many` means params is a sequence of parameter rows for executemany.
Statement = tuple["str | UpsertRows | InsertRows", Any, bool]

# How far each projection instance has applied the log, and the events it could not apply.
TRACKING_TABLE = "projection_tracking"
PARKED_TABLE = "projection_parked"
BOOKKEEPING_DDL = (
    f"CREATE TABLE IF NOT EXISTS {TRACKING_TABLE} ("
    "projection TEXT PRIMARY KEY, position BIGINT NOT NULL, updated_at TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {PARKED_TABLE} ("
    "projection TEXT NOT NULL, position BIGINT NOT NULL, topic TEXT NOT NULL, originator_id TEXT NOT NULL, "
    "originator_version INTEGER NOT NULL, error_type TEXT NOT NULL, error_message TEXT NOT NULL, "
    "parked_at TEXT NOT NULL, attempts INTEGER NOT NULL, PRIMARY KEY (projection, position))",
)


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


def now() -> str:
    """The time a bookkeeping row records (ISO 8601, UTC)."""
    return datetime.now(UTC).isoformat()
