"""Row writes a projection queues by key, folded into each row's final state before they reach the database.

A rebuild touches the same row many times in one batch (a vacancy published, offered, declined and let);
sending every change costs a statement each (~20 µs on psycopg). Folding the changes per key and sending
each table's final rows as multi-row upserts turns thousands of statements into a handful, with the same
result: the writes of one batch commit together with its tracking position, so nothing in between is
ever seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

# Bound parameters per multi-row statement: under SQLite's 32,766 and PostgreSQL's 65,535.
_MAX_PARAMS = 30_000
_MAX_ROWS = 1_000


@dataclass(frozen=True, slots=True)
class Column:
    """In an update's values: the value another column of the same row had before the update."""

    name: str


# Not frozen: a frozen dataclass sets each field through object.__setattr__, which made creating one cost
# ten times as much, and a batch creates one for every row write. Nothing changes one once queued.
@dataclass(slots=True)
class RowWrite:
    """One queued change to the row of `table` (physical name) whose primary key is `key`.

    An update with `when` changes the row only if each named column holds the given (non-null) value;
    its values may be `Column`s. Folded in Python when the batch already knows those columns of the row,
    sent as its own UPDATE otherwise.
    """

    table: str
    key_columns: tuple[str, ...]
    key: tuple[Any, ...]
    kind: Literal["upsert", "update", "delete"]
    values: Mapping[str, Any]
    types: Mapping[str, str] | None = None  # column → SQL type word, for stores that send typed arrays
    when: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class UpsertRows:
    """In place of SQL in a statement: upsert these columns, params being the rows; each store renders it."""

    table: str
    key_columns: tuple[str, ...]
    columns: tuple[str, ...]
    types: tuple[str, ...]

    def on_conflict(self) -> str:
        others = [c for c in self.columns if c not in self.key_columns]
        if not others:
            return f"ON CONFLICT ({', '.join(self.key_columns)}) DO NOTHING"
        updates = ", ".join(f"{c} = excluded.{c}" for c in others)
        return f"ON CONFLICT ({', '.join(self.key_columns)}) DO UPDATE SET {updates}"

    def values_statements(self, rows: list[tuple[Any, ...]]) -> list[tuple[str, list[Any]]]:
        """Multi-row INSERT ... VALUES statements, each under the bound-parameter limit."""
        one_row = f"({', '.join('?' for _ in self.columns)})"
        per_statement = max(1, min(_MAX_ROWS, _MAX_PARAMS // max(len(self.columns), 1)))
        statements = []
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            sql = (
                f"INSERT INTO {self.table} ({', '.join(self.columns)}) "
                f"VALUES {', '.join([one_row] * len(chunk))} {self.on_conflict()}"
            )
            statements.append((sql, [value for row in chunk for value in row]))
        return statements


@dataclass(frozen=True, slots=True)
class InsertRows:
    """In place of SQL: append these rows (params) to a table no write of the batch touches otherwise.

    For insert-only tables (a timeline): each store sends them its fastest bulk way (COPY on PostgreSQL).
    """

    table: str
    columns: tuple[str, ...]

    def sql(self) -> str:
        marks = ", ".join("?" for _ in self.columns)
        return f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES ({marks})"


@dataclass(slots=True)
class _Final:
    kind: Literal["row", "changes", "deleted"]
    values: dict[str, Any]
    types: Mapping[str, str] | None = None  # the upsert's; later writes to the row do not repeat them


def fold(writes: Iterable[RowWrite]) -> list[tuple[str, Any, bool]]:
    """The statements that leave every touched row as the writes, applied in order, would have left it.

    An update of a row not written in this run stays an UPDATE (of whatever the table holds); an update
    after a delete changes nothing, as it would in the database. A conditional update (`when`) of a row
    whose columns the run does not know ends the fold there: what came before is sent first, then it.
    """
    statements: list[tuple[str, Any, bool]] = []
    final: dict[tuple[str, tuple[Any, ...]], tuple[RowWrite, _Final]] = {}
    for write in writes:
        slot = (write.table, write.key)
        found = final.get(slot)
        state = found[1] if found else None
        if write.when is not None:
            if state is not None and state.kind == "deleted":
                continue
            known = None if state is None else _known(state, write)
            if known is None:
                statements += _statements(final.values())
                final = {}
                statements.append(_conditional_update(write))
                continue
            if all(v is not None and known[c] == v for c, v in write.when.items()):
                state.values.update(  # type: ignore[union-attr]
                    {c: known[v.name] if type(v) is Column else v for c, v in write.values.items()}
                )
            continue
        if write.kind == "upsert":
            state = _Final("row", dict(write.values), write.types)
        elif write.kind == "delete":
            state = _Final("deleted", {})
        elif state is None:
            state = _Final("changes", dict(write.values))
        elif state.kind != "deleted":
            state.values.update(write.values)
        final[slot] = (write, state)
    return statements + _statements(final.values())


def _known(state: _Final, write: RowWrite) -> dict[str, Any] | None:
    """The row's columns as the fold knows them, or None if a conditional update reads any other."""
    known = {**dict(zip(write.key_columns, write.key, strict=True)), **state.values}
    wanted = [*(write.when or ()), *(v.name for v in write.values.values() if type(v) is Column)]
    return known if all(c in known for c in wanted) else None


def _conditional_update(write: RowWrite) -> tuple[str, Any, bool]:
    assignments, params = [], []
    for column, value in write.values.items():
        if type(value) is Column:
            assignments.append(f"{column} = {value.name}")
        else:
            assignments.append(f"{column} = ?")
            params.append(value)
    where = [f"{c} = ?" for c in write.key_columns] + [f"{c} = ?" for c in write.when or ()]
    params += [*write.key, *(write.when or {}).values()]
    return f"UPDATE {write.table} SET {', '.join(assignments)} WHERE {' AND '.join(where)}", params, False


def _statements(finals: Iterable[tuple[RowWrite, _Final]]) -> list[tuple[str, Any, bool]]:
    # Grouped by table and column set first; the statement for each group is made once.
    upserts: dict[tuple[str, tuple[str, ...], tuple[str, ...]], tuple[_Final, list[tuple[Any, ...]]]] = {}
    updates: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[tuple[Any, ...]]] = {}
    deletes: dict[tuple[str, tuple[str, ...]], list[tuple[Any, ...]]] = {}
    for write, state in finals:
        if state.kind == "row":
            group = (write.table, write.key_columns, tuple(state.values))
            found = upserts.get(group)
            if found is None:
                found = upserts[group] = (state, [])
            found[1].append(tuple(state.values.values()))
        elif state.kind == "changes":
            group = (write.table, write.key_columns, tuple(state.values))
            updates.setdefault(group, []).append((*state.values.values(), *write.key))
        else:
            deletes.setdefault((write.table, write.key_columns), []).append(write.key)
    statements: list[tuple[str, Any, bool]] = []
    for (table, key_columns), rows in deletes.items():
        where = " AND ".join(f"{c} = ?" for c in key_columns)
        statements.append((f"DELETE FROM {table} WHERE {where}", rows, True))
    for (table, key_columns, columns), (first, rows) in upserts.items():
        types = tuple((first.types or {}).get(c, "text") for c in columns)
        statements.append((UpsertRows(table, key_columns, columns, types), rows, False))  # type: ignore[arg-type]
    for (table, key_columns, columns), rows in updates.items():
        assignments = ", ".join(f"{c} = ?" for c in columns)
        where = " AND ".join(f"{c} = ?" for c in key_columns)
        statements.append((f"UPDATE {table} SET {assignments} WHERE {where}", rows, True))
    return statements
