"""Deleting an aggregate's stored snapshots (an erasure does: a snapshot holds personal state under one key)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from adapters.sql.node_db import SqlDatabase, database_for


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
