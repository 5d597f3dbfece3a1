"""The hash chain over stored events on SQLite and PostgreSQL: tampering directly in the database is named.

Each test stores twelve events, seals them, tampers with the events table as someone with database
access could, and checks that `verify` fails at the chain position of the first tampered row.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from adapters.eventstore.audit_chain import Anchor, Sealer, verify
from adapters.eventstore.transcoding import register_domain_transcodings
from adapters.sql.node_db import database_for
from ops.bench.fixtures import read_model_support as rm


class _Store(Application):
    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)


class Tamper:
    """Direct SQL on a node's events table, the way someone with database access would change it."""

    def __init__(self, env: dict[str, str], table: str) -> None:
        self.env = env
        self.table = table
        self.postgres = env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
        self.id = "notification_id" if self.postgres else "rowid"

    def run(self, *statements: str) -> None:
        if self.postgres:
            with psycopg.connect(
                host=self.env["POSTGRES_HOST"],
                port=self.env["POSTGRES_PORT"],
                user=self.env["POSTGRES_USER"],
                password=self.env["POSTGRES_PASSWORD"],
                dbname=self.env["POSTGRES_DBNAME"],
                autocommit=True,
            ) as conn:
                conn.execute(f"SET search_path TO {self.env['POSTGRES_SCHEMA']}")
                for statement in statements:
                    conn.execute(self._sql(statement))  # type: ignore[arg-type]
        else:
            with sqlite3.connect(self.env["SQLITE_DBNAME"]) as conn:
                for statement in statements:
                    conn.execute(self._sql(statement))

    def _sql(self, statement: str) -> str:
        return statement.replace("{id}", self.id).replace("stored_events", self.table)

    def set_state(self, notification_id: int, state: bytes) -> None:
        literal = f"'\\x{state.hex()}'::bytea" if self.postgres else f"x'{state.hex()}'"
        self.run(f"UPDATE stored_events SET state = {literal} WHERE {{id}} = {notification_id}")

    def swap_ids(self, a: int, b: int) -> None:
        self.run(
            f"UPDATE stored_events SET {{id}} = -1 WHERE {{id}} = {a}",
            f"UPDATE stored_events SET {{id}} = {a} WHERE {{id}} = {b}",
            f"UPDATE stored_events SET {{id}} = {b} WHERE {{id}} = -1",
        )


@pytest.fixture
def env(shared_store_env: dict[str, str]) -> dict[str, str]:
    return shared_store_env


Sealed = tuple[Application, Any, Tamper]


@pytest.fixture
def sealed(env: dict[str, str]) -> Iterator[Callable[..., Sealed]]:
    opened: list[Any] = []

    def make(*, encrypted: bool = False, events: int = 12) -> Sealed:
        store_env = dict(env)
        if encrypted:
            store_env |= {
                "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
                "CIPHER_KEY": base64.b64encode(b"k" * 32).decode(),
            }
        app = _Store(env=store_env)
        db = database_for(store_env)
        opened.extend([app, db])
        while (app.recorder.max_notification_id() or 0) < events:
            rm.publish(app)  # one event each
        Sealer(app, db).seal()
        return app, db, Tamper(env, app.recorder.events_table_name.split(".")[-1])

    yield make
    for thing in reversed(opened):
        getattr(thing, "close", lambda: None)()


def test_an_untampered_store_verifies(sealed: Callable[..., Sealed]) -> None:
    app, db, _ = sealed()
    verdict = verify(app, db)
    assert verdict.ok, verdict
    assert (verdict.sealed, verdict.unsealed) == (12, 0)


def test_a_page_sealed_in_several_inserts_verifies(sealed: Callable[..., Sealed]) -> None:
    app, db, _ = sealed(events=600)  # one page, three multi-row inserts
    verdict = verify(app, db)
    assert verdict.ok, verdict
    assert (verdict.sealed, verdict.unsealed) == (600, 0)


def test_an_encrypted_store_verifies_and_an_edited_ciphertext_is_named(sealed: Callable[..., Sealed]) -> None:
    app, db, tamper = sealed(encrypted=True)
    assert verify(app, db).ok
    [stored] = app.recorder.select_notifications(start=7, limit=1)
    flipped = bytes(stored.state)[:-1] + bytes([stored.state[-1] ^ 1])
    tamper.set_state(7, flipped)
    verdict = verify(app, db)
    assert verdict.broken_at == 7
    assert "edited" in (verdict.reason or "")


def test_events_stored_after_the_head_are_unsealed_not_broken(sealed: Callable[..., Sealed]) -> None:
    app, db, _ = sealed()
    rm.publish(app)
    rm.publish(app)
    verdict = verify(app, db)
    assert verdict.ok
    assert (verdict.sealed, verdict.unsealed) == (12, 2)
    assert "2 event(s) after the head are not sealed" in str(verdict)


def test_an_edited_state_breaks_the_chain_at_its_position(sealed: Callable[..., Sealed]) -> None:
    app, db, tamper = sealed()
    first = app.recorder.select_notifications(start=5, limit=1)[0]
    edited = bytes(first.state).replace(b"Kochsgade", b"Kochsgady")
    assert edited != bytes(first.state)
    tamper.set_state(5, edited)
    assert verify(app, db).broken_at == 5


def test_a_deleted_row_breaks_the_chain_at_its_position(sealed: Callable[..., Sealed]) -> None:
    app, db, tamper = sealed()
    tamper.run("DELETE FROM stored_events WHERE {id} = 4")
    verdict = verify(app, db)
    assert verdict.broken_at == 4
    assert "notification 4 is sealed but missing" in (verdict.reason or "")


def test_two_rows_with_swapped_states_break_the_chain_at_the_first(sealed: Callable[..., Sealed]) -> None:
    app, db, tamper = sealed()
    tamper.run(
        "UPDATE stored_events SET state = (SELECT state FROM stored_events WHERE {id} = 9) WHERE {id} = 3",
    )
    assert verify(app, db).broken_at == 3


def test_two_rows_with_swapped_ids_break_the_chain_at_the_first(sealed: Callable[..., Sealed]) -> None:
    app, db, tamper = sealed()
    tamper.swap_ids(6, 10)
    verdict = verify(app, db)
    assert verdict.broken_at == 6
    assert "rows were swapped" in (verdict.reason or "")


def test_rows_deleted_at_the_end_leave_a_chain_longer_than_the_events(sealed: Callable[..., Sealed]) -> None:
    app, db, tamper = sealed()
    tamper.run("DELETE FROM stored_events WHERE {id} > 9")
    verdict = verify(app, db)
    assert verdict.broken_at == 10
    assert "no longer stored" in (verdict.reason or "")


def test_a_truncated_events_table_breaks_the_chain_at_the_start(sealed: Callable[..., Sealed]) -> None:
    app, db, tamper = sealed()
    tamper.run("DELETE FROM stored_events")
    assert verify(app, db).broken_at == 1


def test_sealing_again_after_a_deletion_does_not_hide_it(sealed: Callable[..., Sealed]) -> None:
    app, db, tamper = sealed()
    tamper.run("DELETE FROM stored_events WHERE {id} = 8")
    Sealer(app, db).seal()  # the sealer continues after its head; it never re-seals what is stored now
    assert verify(app, db).broken_at == 8


def test_gaps_in_notification_ids_that_were_there_when_sealed_are_fine(sealed: Callable[..., Sealed]) -> None:
    app, db, tamper = sealed(events=3)
    # Sequences skip ids after a rolled-back insert; here the gap is made by moving the next id on.
    if tamper.postgres:
        tamper.run("SELECT setval(pg_get_serial_sequence('stored_events', 'notification_id'), 40)")
        rm.publish(app)
    else:
        rm.publish(app)
        tamper.run("UPDATE stored_events SET rowid = 41 WHERE rowid = 4")
    Sealer(app, db).seal()
    rm.publish(app)
    Sealer(app, db).seal()
    verdict = verify(app, db)
    assert verdict.ok, verdict
    assert verdict.sealed == 5


def test_a_truncated_chain_is_caught_by_an_anchor_witnessed_before(sealed: Callable[..., Sealed]) -> None:
    app, db, _ = sealed()
    anchor = Sealer(app, db).anchor()
    assert isinstance(anchor, Anchor)
    assert Anchor.from_json(anchor.to_json()) == anchor
    with db.transaction() as tx:
        tx.execute("DELETE FROM audit_chain WHERE position > 8")
    assert verify(app, db).ok  # without the anchor the tail merely looks unsealed
    verdict = verify(app, db, anchors=[anchor])
    assert verdict.broken_at == 12
    assert "truncated" in (verdict.reason or "")


def test_a_rewritten_chain_differs_from_its_anchor(sealed: Callable[..., Sealed]) -> None:
    app, db, tamper = sealed()
    anchor = Sealer(app, db).anchor()
    assert anchor is not None
    # Someone edits an event and recomputes the whole chain so that it verifies on its own.
    tamper.run("UPDATE stored_events SET topic = topic || ' ' WHERE {id} = 2")
    with db.transaction() as tx:
        tx.execute("DELETE FROM audit_chain")
    Sealer(app, db).seal()
    assert verify(app, db).ok
    assert verify(app, db, anchors=[anchor]).broken_at == 12


def test_two_sealers_never_seal_one_event_twice(sealed: Callable[..., Sealed]) -> None:
    app, db, _ = sealed(events=2)
    for _ in range(3):
        rm.publish(app)
    first, second = Sealer(app, db), Sealer(app, db)
    assert first.seal() + second.seal() == 3
    assert verify(app, db).sealed == 5
    assert first.unsealed() == 0
