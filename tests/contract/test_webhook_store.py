"""The webhooks' tables on SQLite and PostgreSQL: an event is queued once per subscription however often it
is read, retried until delivered or failed, replayed with its webhook-id, and a deleted subscription stops."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from adapters.sql.node_db import PostgresDatabase, SqliteDatabase, database_for
from adapters.webhooks.store import WebhookStore, delivery_cursor, delivery_id

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
EVENT = {"id": "e-1", "type": "dk.rehousing.referral.sent", "data": {"referral_id": "r-1"}}


@pytest.fixture
def db(shared_store_env: dict[str, str]) -> Iterator[SqliteDatabase | PostgresDatabase]:
    database = database_for(shared_store_env)
    yield database
    database.close()


def test_an_event_is_queued_once_per_subscription_and_the_position_moves_with_it(
    db: SqliteDatabase | PostgresDatabase,
) -> None:
    store = WebhookStore(db)
    ours, _, _ = store.subscribe(
        organisation="bridge", url="http://127.0.0.1/a", types=["dk.*"], secret="s", at=T0
    )
    store.subscribe(organisation="other", url="http://127.0.0.1/b", types=["dk.*"], secret="t", at=T0)
    (subscription,) = store.subscriptions("bridge")
    assert len(store.subscriptions()) == 2

    assert store.enqueue([(subscription, EVENT)], position=7, at=T0) == 1
    assert store.enqueue([(subscription, EVENT)], position=7, at=T0) == 0  # read again: nothing new
    assert store.position() == 7
    due = store.due(T0, 10)
    assert [(d.id, url, body) for d, url, _, body in due] == [
        (
            delivery_id(ours, "e-1"),
            "http://127.0.0.1/a",
            b'{"id":"e-1","type":"dk.rehousing.referral.sent","data":{"referral_id":"r-1"}}',
        )
    ]


def test_a_failed_attempt_waits_for_its_retry_and_a_replay_sends_it_again(
    db: SqliteDatabase | PostgresDatabase,
) -> None:
    store = WebhookStore(db)
    ours, _, _ = store.subscribe(
        organisation="bridge", url="http://127.0.0.1/a", types=["dk.*"], secret="s", at=T0
    )
    (subscription,) = store.subscriptions("bridge")
    store.enqueue([(subscription, EVENT)], position=1, at=T0)
    ((delivery, *_),) = store.due(T0, 10)

    store.attempted(
        delivery, at=T0, status=503, error=None, delivered=False, retry_at=T0 + timedelta(seconds=5)
    )
    assert store.due(T0 + timedelta(seconds=4), 10) == []
    ((again, *_),) = store.due(T0 + timedelta(seconds=5), 10)
    store.attempted(again, at=T0, status=204, error=None, delivered=True, retry_at=None)
    (logged,) = store.deliveries(ours)
    assert (logged.state, logged.attempts, logged.last_status) == ("delivered", 2, 204)

    assert store.replay(ours, logged.id, T0 + timedelta(seconds=9))
    ((replayed, *_),) = store.due(T0 + timedelta(seconds=9), 10)
    assert replayed.id == logged.id  # the same webhook-id
    assert store.replay_events(subscription, [EVENT], T0) == 1
    assert len(store.deliveries(ours)) == 1

    assert store.unsubscribe("bridge", ours, T0)
    assert not store.unsubscribe("bridge", ours, T0)
    assert store.due(T0 + timedelta(days=1), 10) == []
    assert store.subscriptions("bridge") == []


def test_the_delivery_log_pages_newest_first(db: SqliteDatabase | PostgresDatabase) -> None:
    store = WebhookStore(db)
    ours, _, _ = store.subscribe(
        organisation="bridge", url="http://127.0.0.1/a", types=["dk.*"], secret="s", at=T0
    )
    (subscription,) = store.subscriptions("bridge")
    for n in range(3):
        store.enqueue([(subscription, {**EVENT, "id": f"e-{n}"})], position=n, at=T0 + timedelta(seconds=n))

    first = store.deliveries(ours, limit=2)
    rest = store.deliveries(ours, after=delivery_cursor(first[-1]), limit=2)

    assert [d.event_id for d in first + rest] == ["e-2", "e-1", "e-0"]


def test_a_subscription_repeated_with_its_key_is_the_first_with_its_secret(
    db: SqliteDatabase | PostgresDatabase,
) -> None:
    store = WebhookStore(db)
    key = uuid4()
    first = store.subscribe(
        organisation="bridge", url="http://127.0.0.1/a", types=["dk.*"], secret="s1", at=T0, key=key
    )
    again = store.subscribe(
        organisation="bridge", url="http://127.0.0.1/a", types=["dk.*"], secret="s2", at=T0, key=key
    )
    other = store.subscribe(
        organisation="other", url="http://127.0.0.1/a", types=["dk.*"], secret="s3", at=T0, key=key
    )

    assert (first[1:], again) == (("s1", True), (first[0], "s1", False))
    assert other[0] != first[0] and other[2]
