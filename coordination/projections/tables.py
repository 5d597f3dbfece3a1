"""A projection's tables: their names under an instance's suffix, the statements that create and drop them,
and what row writes need to know of them (keys, column types), read from their portable DDL."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar

from coordination.projections.row_writes import InsertRows, UpsertRows
from coordination.projections.view_store import BOOKKEEPING_DDL, PARKED_TABLE, TRACKING_TABLE, Params, now

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


class ProjectionTables:
    """The tables a projection declares, as one instance of it (a suffix) lays them out."""

    name: ClassVar[str]
    tables: ClassVar[Mapping[str, str]]
    indexes: ClassVar[Mapping[str, tuple[str, str]]] = {}

    def __init__(self, suffix: str = "live") -> None:
        for identifier in (self.name, suffix, *self.tables, *self.indexes):
            if not _IDENTIFIER.match(identifier):
                raise ValueError(f"{identifier!r} is not a plain lower-case SQL identifier")
        self.suffix = suffix
        self.instance_name = f"{self.name}__{suffix}"
        self.table_names = {logical: f"{logical}__{suffix}" for logical in self.tables}
        self._resolved: dict[str, str] = {}
        self._key_columns: dict[str, tuple[str, ...]] = {}
        self._column_types: dict[str, dict[str, str]] = {}
        self._insert_rows: dict[str | tuple[str, tuple[str, ...]], InsertRows] = {}
        self._upsert_rows: dict[str, UpsertRows] = {}
        self._upsert_targets: dict[str, tuple[str, tuple[str, ...], dict[str, str]]] = {}
        self.indexes_deferred = False

    def resolve(self, sql: str) -> str:
        """The statement with each `{logical_table}` replaced by this instance's physical table name."""
        resolved = self._resolved.get(sql)
        if resolved is None:
            resolved = self._resolved[sql] = sql.format_map(self.table_names)
        return resolved

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
            (self.instance_name, now()),
        )
        return [*((sql, ()) for sql in (*BOOKKEEPING_DDL, *creates, *indexes)), seed]

    def teardown_statements(self) -> list[tuple[str, Params]]:
        """Drops this instance's tables and forgets its tracking position and parked events."""
        drops = [(f"DROP TABLE IF EXISTS {physical}", ()) for physical in self.table_names.values()]
        forget = [
            (f"DELETE FROM {table} WHERE projection = ?", (self.instance_name,))
            for table in (TRACKING_TABLE, PARKED_TABLE)
        ]
        return [*((sql, ()) for sql in BOOKKEEPING_DDL), *drops, *forget]

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
