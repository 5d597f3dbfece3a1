"""Test helpers for the exchange: a tiny aggregate, two sample integration events, and an idempotent apply."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any, ClassVar
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from adapters.eventstore.storage import ShreddingStorage
from adapters.exchange.consumer import Consumer
from adapters.exchange.transport import Transport
from adapters.settings import NodeSettings
from adapters.sql.node_db import SqlDatabase
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp, CivilActorApp, MunicipalDepartmentApp
from coordination.integration.events import IntegrationEvent
from coordination.integration.received import AlreadyApplied, ReceivedEvent
from ops.demo.nodes import DEMO_ROLES, on_exchange
from ops.demo.reference_scenario import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, CIVICA, KVINFO, Nodes

SOURCE = "urn:dk:rehousing:org:civica"
TOPIC = "test.cases"


class Case(Aggregate):
    """A stand-in aggregate: notes are what others need to hear about, remarks stay at home."""

    class Opened(Aggregate.Created):
        pass

    class Noted(Aggregate.Event):
        n: int
        note: str

    class Remarked(Aggregate.Event):
        remark: str

    @event(Opened)
    def __init__(self) -> None:
        self.notes: list[str] = []

    @event(Noted)
    def note(self, n: int, note: str) -> None:
        self.notes.append(note)

    @event(Remarked)
    def remark(self, remark: str) -> None:
        pass


class CaseNoted(IntegrationEvent):
    event_type: ClassVar[str] = "dk.rehousing.test.case.noted.v1"
    topic: ClassVar[str] = TOPIC

    case_id: UUID
    n: int
    note: str


class CaseOpened(IntegrationEvent):
    event_type: ClassVar[str] = "dk.rehousing.test.case.opened.v1"
    topic: ClassVar[str] = TOPIC

    case_id: UUID


def case_messages(domain_event: Any) -> list[IntegrationEvent]:
    """Only what others need: openings and notes, never remarks."""
    if isinstance(domain_event, Case.Opened):
        return [CaseOpened(case_id=domain_event.originator_id)]
    if isinstance(domain_event, Case.Noted):
        return [CaseNoted(case_id=domain_event.originator_id, n=domain_event.n, note=domain_event.note)]
    return []


def new_case_app(env: dict[str, str]) -> Application[UUID]:
    return Application[UUID](env=env)


class ReceivedLog:
    """An idempotent effect for tests: a row per message, keyed by its CloudEvents id, in one transaction."""

    def __init__(self, db: SqlDatabase, table: str = "received") -> None:
        self._db = db
        self._table = table
        with db.transaction() as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (ce_id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
                " type TEXT NOT NULL, subject TEXT NOT NULL, data TEXT NOT NULL, traceparent TEXT)"
            )

    def apply(self, received: ReceivedEvent) -> None:
        try:
            with self._db.transaction() as tx:
                tx.execute(
                    f"INSERT INTO {self._table} (ce_id, seq, type, subject, data, traceparent)"
                    f" VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM {self._table}), ?, ?, ?, ?)",
                    (
                        received.id,
                        received.type,
                        received.subject,
                        json.dumps(received.event.model_dump(mode="json")),
                        received.traceparent,
                    ),
                )
        except (sqlite3.IntegrityError, psycopg.IntegrityError):
            raise AlreadyApplied(received.id) from None

    def rows(self) -> list[tuple[str, str, str, dict[str, Any]]]:
        """(ce_id, type, subject, data) in the order applied."""
        with self._db.transaction() as tx:
            found = tx.execute(f"SELECT ce_id, type, subject, data FROM {self._table} ORDER BY seq")
        return [(str(i), str(t), str(s), json.loads(str(d))) for i, t, s, d in found]


def run_until_handled(consumer: Consumer, handled: int, within: float = 20.0) -> None:
    """Poll until the consumer has applied, suppressed or parked `handled` messages (bounded in time)."""
    deadline = time.monotonic() + within
    stats = consumer.stats
    while stats.applied + stats.duplicates + stats.parked < handled:
        assert time.monotonic() < deadline, f"{stats} within {within} s"
        consumer.run_once(0.2)


def reference_nodes(broker: Transport, *, topic_prefix: str = "", poll_timeout: float = 0.0) -> Nodes:
    """The reference scenario's four organisations in memory, on `broker` (close them when done)."""
    memory = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    nodes = Nodes(
        civica=HousingOrganisationApp(
            storage=ShreddingStorage(), organisation=CIVICA, env=memory, cpr_secret=b"s" * 32
        ),
        bridge_builder=BridgeBuilderApp(storage=ShreddingStorage(), organisation=BRIDGE_BUILDER, env=memory),
        children_and_youth=MunicipalDepartmentApp(
            storage=ShreddingStorage(), organisation=CHILDREN_AND_YOUTH, env=memory
        ),
        kvinfo=CivilActorApp(storage=ShreddingStorage(), organisation=KVINFO, env=memory),
    )
    settings = {
        org: NodeSettings(organisation=org, role=role, kafka_topic_prefix=topic_prefix)
        for org, role in DEMO_ROLES.items()
    }
    on_exchange(nodes, settings, broker, poll_timeout=poll_timeout)
    return nodes
