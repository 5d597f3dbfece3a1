"""The API's own tables in the node's database: first responses by idempotency key, and the access log."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel

from adapters.sql.node_db import SqlDatabase

RESPONSES = "api_idempotent_responses"
ACCESS_LOG = "api_access_log"


class StoredResponse(BaseModel):
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    fingerprint: str


class AccessEntry(BaseModel):
    """One read of personal data: who, what, when and for which purpose."""

    id: UUID
    at: datetime
    organisation: str
    person: str
    role: str
    operation: str
    subject: str
    purpose: str


class ApiRecords:
    """Both tables, created on first use; SQL written once for SQLite and PostgreSQL (`?` placeholders)."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db
        with self._db.transaction() as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {RESPONSES} (organisation TEXT NOT NULL, idempotency_key TEXT "
                f"NOT NULL, fingerprint TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL, "
                f"headers TEXT NOT NULL, PRIMARY KEY (organisation, idempotency_key))"
            )
            # `at` as ISO text in UTC sorts in time order on both databases; id breaks ties for the cursor.
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {ACCESS_LOG} (at TEXT NOT NULL, id TEXT NOT NULL PRIMARY KEY, "
                f"organisation TEXT NOT NULL, person TEXT NOT NULL, role TEXT NOT NULL, "
                f"operation TEXT NOT NULL, subject TEXT NOT NULL, purpose TEXT NOT NULL)"
            )
            tx.execute(f"CREATE INDEX IF NOT EXISTS {ACCESS_LOG}_at ON {ACCESS_LOG} (at, id)")

    # Idempotency

    def first_response(self, organisation: str, key: UUID) -> StoredResponse | None:
        with self._db.transaction() as tx:
            rows = tx.execute(
                f"SELECT status, body, headers, fingerprint FROM {RESPONSES} "
                "WHERE organisation = ? AND idempotency_key = ?",
                (organisation, str(key)),
            )
        if not rows:
            return None
        status, body, headers, fingerprint = rows[0]
        return StoredResponse(
            status=status, body=json.loads(body), headers=json.loads(headers), fingerprint=fingerprint
        )

    def keep_first(self, organisation: str, key: UUID, response: StoredResponse) -> StoredResponse:
        """Store the response unless one is already stored for the key; return the stored (first) one."""
        with self._db.transaction() as tx:
            tx.execute(
                f"INSERT INTO {RESPONSES} "
                "(organisation, idempotency_key, fingerprint, status, body, headers) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    organisation,
                    str(key),
                    response.fingerprint,
                    response.status,
                    json.dumps(response.body),
                    json.dumps(response.headers),
                ),
            )
        first = self.first_response(organisation, key)
        assert first is not None
        return first

    # Access log

    def log_access(
        self,
        *,
        at: datetime,
        organisation: str,
        person: str,
        role: str,
        operation: str,
        subject: str,
        purpose: str,
    ) -> None:
        with self._db.transaction() as tx:
            tx.execute(
                f"INSERT INTO {ACCESS_LOG} (at, id, organisation, person, role, operation, subject, purpose) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    at.isoformat(timespec="microseconds"),
                    str(uuid4()),
                    organisation,
                    person,
                    role,
                    operation,
                    subject,
                    purpose,
                ),
            )

    def access_log(
        self, *, limit: int, after: str | None = None, subject: str | None = None
    ) -> list[AccessEntry]:
        """Entries in time order; `after` is the cursor of the last entry of the previous page."""
        where, params = ["1 = 1"], []
        if after:
            at, _, entry_id = after.partition("/")
            where.append("(at > ? OR (at = ? AND id > ?))")
            params += [at, at, entry_id]
        if subject:
            where.append("subject = ?")
            params.append(subject)
        with self._db.transaction() as tx:
            rows = tx.execute(
                f"SELECT at, id, organisation, person, role, operation, subject, purpose FROM {ACCESS_LOG} "
                f"WHERE {' AND '.join(where)} ORDER BY at, id LIMIT ?",
                (*params, limit),
            )
        return [
            AccessEntry(
                at=datetime.fromisoformat(r[0]),
                id=UUID(r[1]),
                organisation=r[2],
                person=r[3],
                role=r[4],
                operation=r[5],
                subject=r[6],
                purpose=r[7],
            )
            for r in rows
        ]


def access_cursor(entry: AccessEntry) -> str:
    return f"{entry.at.isoformat(timespec='microseconds')}/{entry.id}"
