"""Row writes folded per key leave each row as the writes, applied one by one, would have left it."""

from __future__ import annotations

import sqlite3

from coordination.projections.row_writes import Column, RowWrite, UpsertRows, fold

KEY = ("vacancy_id",)


def _write(kind: str, key: str, **values: object) -> RowWrite:
    return RowWrite("pool", KEY, (key,), kind, {"vacancy_id": key, **values} if kind == "upsert" else values)  # type: ignore[arg-type]


def _apply(statements: list[tuple[str, object, bool]]) -> list[tuple[object, ...]]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE pool (vacancy_id TEXT PRIMARY KEY, status TEXT, rooms INTEGER)")
    db.execute("INSERT INTO pool VALUES ('old', 'open', 3), ('gone', 'open', 2)")
    for sql, params, many in statements:
        if isinstance(sql, UpsertRows):
            for one, values in sql.values_statements(params):  # type: ignore[arg-type]
                db.execute(one, values)
        else:
            (db.executemany if many else db.execute)(sql, params)  # type: ignore[operator]
    return sorted(db.execute("SELECT * FROM pool").fetchall())


def test_many_changes_to_one_row_become_one_write_of_its_final_state() -> None:
    writes = [
        _write("upsert", "new", status="open", rooms=4),
        _write("update", "new", status="reserved"),
        _write("update", "old", status="reserved"),
        _write("update", "new", status="let"),
        _write("update", "old", status="open"),
        _write("delete", "gone"),
        _write("update", "gone", status="let"),
    ]

    statements = fold(writes)

    assert len(statements) == 3  # one delete, one upsert, one update
    assert _apply(statements) == [("new", "let", 4), ("old", "open", 3)]


def test_a_row_deleted_and_written_again_is_its_new_state() -> None:
    writes = [_write("delete", "old"), _write("upsert", "old", status="let", rooms=5)]

    assert _apply(fold(writes)) == [("gone", "open", 2), ("old", "let", 5)]


def test_a_large_batch_is_split_into_statements_under_the_parameter_limit() -> None:
    writes = [_write("upsert", f"v{i}", status="open", rooms=i % 9 + 1) for i in range(25_000)]

    [(upsert, rows, _)] = fold(writes)

    assert len(upsert.values_statements(rows)) == 25
    assert len(_apply([(upsert, rows, False)])) == 25_002


def test_a_row_upserted_then_updated_keeps_the_column_types_of_its_upsert() -> None:
    types = {"vacancy_id": "text", "status": "text", "rooms": "integer"}
    upsert = RowWrite(
        "pool", KEY, ("new",), "upsert", {"vacancy_id": "new", "status": "open", "rooms": 4}, types
    )

    [(statement, _, _)] = fold([upsert, _write("update", "new", status="let")])

    assert isinstance(statement, UpsertRows)
    assert statement.types == ("text", "text", "integer")


def _when(key: str, when: dict[str, object], **values: object) -> RowWrite:
    return RowWrite("pool", KEY, (key,), "update", values, when=when)


def _one_by_one(writes: list[RowWrite]) -> list[tuple[object, ...]]:
    return _apply([statement for write in writes for statement in fold([write])])


def test_a_conditional_update_of_a_row_the_batch_knows_folds_into_its_final_state() -> None:
    writes = [
        _write("upsert", "new", status="open", rooms=4),
        _write("update", "new", status="reserved"),
        _when("new", {"status": "reserved"}, status="let", rooms=Column("rooms")),
        _when("new", {"status": "reserved"}, status="withdrawn"),  # no longer reserved: no change
        _write("update", "old", status="reserved", rooms=3),
        _when("old", {"status": "reserved"}, status=Column("vacancy_id")),
    ]

    statements = fold(writes)

    assert len(statements) == 2  # one upsert, one update: no statement of its own for either condition
    assert (
        _apply(statements)
        == _one_by_one(writes)
        == [("gone", "open", 2), ("new", "let", 4), ("old", "old", 3)]
    )


def test_a_conditional_update_of_a_row_the_batch_does_not_know_is_sent_in_its_place() -> None:
    writes = [
        _write("update", "old", rooms=5),
        _when("old", {"status": "open"}, status="reserved", rooms=Column("rooms")),
        _when("gone", {"status": "let"}, status="withdrawn"),  # the table's row is open: no change
        _write("update", "old", status="let"),
    ]

    statements = fold(writes)

    assert any(
        isinstance(sql, str) and "status = ?" in sql and "rooms = rooms" in sql for sql, _, _ in statements
    )
    assert _apply(statements) == _one_by_one(writes) == [("gone", "open", 2), ("old", "let", 5)]
