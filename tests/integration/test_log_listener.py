"""The log's followers woken by PostgreSQL: a commit that stores events wakes them, and a store that does
not notify (SQLite, memory) gets no listener, so its followers keep polling."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from uuid import uuid4

import pytest

from adapters.eventstore.storage import ShreddingStorage
from adapters.sql.log_listener import LogListener, log_listener
from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.values import Actor, Role
from ops.demo.reference_scenario import on, the_dwelling
from ops.devservices.pgcluster import PostgresServer
from tests.conftest import _fresh_schema, postgres_env

CONSULTANT = Actor(organisation="civica", person="civica-gk-01", role=Role.REHOUSING_CONSULTANT)


@pytest.fixture
def app(postgres_server: PostgresServer) -> Iterator[HousingOrganisationApp]:
    with _fresh_schema(postgres_server) as schema:
        app = HousingOrganisationApp(
            storage=ShreddingStorage(),
            organisation="civica",
            env=postgres_env(postgres_server, schema),
            cpr_secret=b"c" * 32,
        )
        try:
            yield app
        finally:
            app.close()


@pytest.mark.postgres
def test_a_command_stored_on_postgresql_wakes_the_followers_of_the_log(app: HousingOrganisationApp) -> None:
    woken = threading.Event()
    listener = log_listener(app.env, app.recorder, [woken.set])
    assert isinstance(listener, LogListener)
    listener.start()
    try:
        assert listener.listening.wait(10)
        woken.clear()  # the wake-up on connecting (for what was stored meanwhile)
        day = the_dwelling().available_from
        app.publish_vacancy(command_id=uuid4(), dwelling=the_dwelling(), at=on(day), by=CONSULTANT)
        assert woken.wait(5), "no wake-up within 5 s of the commit"
        assert listener.notifications >= 1
    finally:
        listener.stop()


def test_a_store_that_does_not_notify_gets_no_listener() -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"}
    assert log_listener(env, object(), []) is None
