"""Erasure across organisations over the real broker: CIVICA erases a household, the bridge builder and the
children and youth department erase their copies, and nothing personal is left readable anywhere: not in any
store, view, log line or export, nor in any message on the broker (personal fields travel sealed under
exchange keys that the erasure deletes)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from kafka import KafkaConsumer, TopicPartition
from psycopg import sql

from adapters.eventstore.audit_chain import verify
from adapters.eventstore.event_decoding import StoredEventDecoder
from adapters.exchange.key_directory import InProcessKeyDirectory
from adapters.sql.view_stores import SQLiteViewStore
from coordination.audit import trail as audit_timeline
from coordination.domain.follow_up import FactKind, HouseholdFact
from coordination.domain.household import Household, Move
from coordination.domain.referral import ReferralKind
from coordination.domain.support_link import SupportKind, SupportOffer
from coordination.domain.values import Address, Money
from coordination.projections.rebuild import compare, rebuild
from ops.demo.reference_scenario import (
    BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH,
    CIVICA,
    ODENSE_C,
    bridge_builder,
    consultant,
    daycare_allocator,
    on,
    the_family,
)
from ops.devservices.pgcluster import PostgresServer
from ops.logging import configure
from ops.node.read_models import ReadModels
from tests.integration.conftest import BrokerProcess
from tests.integration.flow_support import Organisations, organisations

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]

CASE_REFERENCE = "CIV-ERASE-4711"
STREET = "Skibhusvej 999"
ASSIGNEE = "bb-anne-marie-oestergaard"
OUTCOME = "Mentor Fatima Khalil found through KVINFO"
NOTE = "Debt of 41500 kr settled with the jobcentre"
SERVICE = "Homework help from Yasmin Haddad"
DAYCARE_ASSIGNEE = "pladsanvisning-jytte"
# The household's personal values, as they would appear in any dump: texts, and the children's birth months
# in both stored forms (a Value's JSON, and the daycare queue's column).
PERSONAL = [
    CASE_REFERENCE,
    STREET,
    ASSIGNEE,
    OUTCOME,
    NOTE,
    SERVICE,
    DAYCARE_ASSIGNEE,
    "arabic",
    "financial_advice",
    "2022-02",
    '"year": 2022',
    '"year":2022',
    '"year":2010',
    '"year":2014',
]


@pytest.fixture
def orgs(postgres_server: PostgresServer, kafka_broker: BrokerProcess) -> Iterator[Organisations]:
    with ExitStack() as stack:
        yield organisations(postgres_server, kafka_broker.bootstrap_servers, stack)


def _play(orgs: Organisations) -> UUID:
    civica, bridge, department = orgs.civica, orgs.bridge_builder, orgs.department
    family = {**the_family(), "case_reference": CASE_REFERENCE}
    household = civica.register_household(
        command_id=uuid4(), **family, at=on(date(2026, 6, 2)), by=consultant
    )  # type: ignore[arg-type]
    referral = civica.refer_household(
        command_id=uuid4(),
        household_id=household,
        receiver=BRIDGE_BUILDER,
        kind=ReferralKind.BRIDGE_BUILDING,
        at=on(date(2026, 6, 3)),
        by=consultant,
    )
    move = Move(
        new_address=Address(street=STREET, postcode="5000", city="Odense C"),
        place=ODENSE_C,
        moved_on=date(2026, 7, 10),
        old_rent=Money(dkk=6400),
        new_rent=Money(dkk=7650),
        rooms=5,
        permanent=True,
    )
    civica.record_move(
        command_id=uuid4(), household_id=household, move=move, at=on(date(2026, 7, 10)), by=consultant
    )
    daycare = civica.refer_household(
        command_id=uuid4(),
        household_id=household,
        receiver=CHILDREN_AND_YOUTH,
        kind=ReferralKind.DAYCARE_FAST_TRACK,
        child_id="C4",
        needed_from=date(2026, 8, 3),
        at=on(date(2026, 7, 11)),
        by=consultant,
    )
    orgs.settle()
    bridge.acknowledge_referral(
        command_id=uuid4(), referral_id=referral, at=on(date(2026, 6, 4)), by=bridge_builder
    )
    bridge.accept_referral(
        command_id=uuid4(),
        referral_id=referral,
        assignee=ASSIGNEE,
        at=on(date(2026, 6, 4), 14),
        by=bridge_builder,
    )
    offer = SupportOffer(
        provider="Red Cross", service=SERVICE, kind=SupportKind.HOMEWORK_CAFE, place=ODENSE_C
    )
    bridge.propose_support_link(
        command_id=uuid4(), household_id=household, offer=offer, at=on(date(2026, 7, 12)), by=bridge_builder
    )
    bridge.report_household_fact(
        command_id=uuid4(),
        household_id=household,
        owner=CIVICA,
        fact=HouseholdFact(kind=FactKind.PRACTICAL_MATTERS_IN_ORDER, note=NOTE),
        at=on(date(2026, 7, 20)),
        by=bridge_builder,
    )
    bridge.complete_referral(
        command_id=uuid4(), referral_id=referral, outcome=OUTCOME, at=on(date(2026, 7, 21)), by=bridge_builder
    )
    department.acknowledge_referral(
        command_id=uuid4(), referral_id=daycare, at=on(date(2026, 7, 13)), by=daycare_allocator
    )
    department.accept_referral(
        command_id=uuid4(),
        referral_id=daycare,
        assignee=DAYCARE_ASSIGNEE,
        at=on(date(2026, 7, 13), 13),
        by=daycare_allocator,
    )
    orgs.settle()
    return household


def _schema_dump(app: Any) -> str:
    """Every value of every row of every table in the node's schema (bytes decoded leniently)."""
    env = app.env
    dsn = (
        f"host={env['POSTGRES_HOST']} port={env['POSTGRES_PORT']} dbname={env['POSTGRES_DBNAME']} "
        f"user={env['POSTGRES_USER']} password={env['POSTGRES_PASSWORD']}"
    )
    chunks = []
    with psycopg.connect(dsn, connect_timeout=10) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (env["POSTGRES_SCHEMA"],),
        ).fetchall()
        assert tables
        for (table,) in tables:
            query = sql.SQL("SELECT * FROM {}.{}").format(
                sql.Identifier(env["POSTGRES_SCHEMA"]), sql.Identifier(table)
            )
            for row in conn.execute(query):
                for value in row:
                    text = (
                        bytes(value).decode("utf-8", "replace")
                        if isinstance(value, bytes | memoryview)
                        else str(value)
                    )
                    chunks.append(f"{table}: {text}")
    return "\n".join(chunks)


def _views_dump(path: Path) -> str:
    import sqlite3

    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return "\n".join(f"{t}: {row}" for t in tables for row in conn.execute(f'SELECT * FROM "{t}"'))


def _broker_messages(bootstrap_servers: str, prefix: str) -> list[tuple[str, dict[str, bytes], bytes]]:
    """Every message on every topic of this test's deployment, read from the beginning by a plain consumer."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, consumer_timeout_ms=3000
    )
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in consumer.topics()
            if topic.startswith(prefix)
            for p in consumer.partitions_for_topic(topic) or ()
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        return [(m.topic, dict(m.headers), m.value) for m in consumer]
    finally:
        consumer.close()


def _found(text: str) -> list[str]:
    return [value for value in PERSONAL if value in text]


def test_an_erasure_at_civica_reaches_the_other_nodes_and_leaves_nothing_personal_readable(
    orgs: Organisations, kafka_broker: BrokerProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(json=True)
    apps = {CIVICA: orgs.civica, BRIDGE_BUILDER: orgs.bridge_builder, CHILDREN_AND_YOUTH: orgs.department}
    views = {org: tmp_path / f"{org}.views.sqlite3" for org in apps}
    read_models = {org: ReadModels(app, SQLiteViewStore(views[org])) for org, app in apps.items()}
    for org, models in read_models.items():
        orgs.with_read_models(org, models)
    household = _play(orgs)
    for models in read_models.values():
        models.catch_up()
    # Readable before: through each node's keys, and in clear in the views that show them.
    assert orgs.civica.household(household, today=date(2026, 8, 1)).case_reference == CASE_REFERENCE
    assert {r.assignee for r in orgs.bridge_builder.referrals_about(household)} == {ASSIGNEE}
    assert "2022-02" in _views_dump(views[CHILDREN_AND_YOUTH])
    assert all(_found(_schema_dump(app)) == [] for app in apps.values()), "shredded, not in clear"

    orgs.civica.take_snapshot(household)  # a snapshot holds the whole state: erasure deletes it
    orgs.civica.erase_household(
        command_id=uuid4(),
        household_id=household,
        legal_ground="GDPR art. 17(1)(a)",
        at=on(date(2026, 9, 1)),
        by=consultant,
    )
    orgs.settle()
    for models in read_models.values():
        models.catch_up()

    # Every table of every node's store and views (events, snapshots, keys, parked messages, tracking, ...).
    for org, app in apps.items():
        assert app.mapper.keys.is_erased(household), org  # type: ignore[attr-defined]
        assert _found(_schema_dump(app)) == [], org
        assert _found(_views_dump(views[org])) == [], org
    # The non-personal history still replays: every aggregate loads, the audit chain verifies, and every
    # projection rebuilt from the erased history equals the live one (purged in place at the erasure).
    erased: Household = orgs.civica.repository.get(household)
    assert (erased.case_reference, erased.erased_at, erased.move.place) == (
        "[erased]",
        on(date(2026, 9, 1)),
        ODENSE_C,
    )  # type: ignore[union-attr]
    for org, app in apps.items():
        for referral in app.referrals_about(household):
            assert referral.status in ("completed", "accepted"), org
        for name, make in read_models[org].projections().items():
            rebuilt = rebuild(
                app, make, read_models[org].views, suffix="rebuilt", decoding=StoredEventDecoder(app.mapper)
            )
            assert compare(read_models[org].runners[name], rebuilt) == [], (org, name)
    for node in orgs.exchange.nodes:
        assert verify(node.app, node.db).ok, node.organisation
    # The exported audit trail (what `coordination audit timeline --format jsonl` writes).
    for app in apps.values():
        out = io.StringIO()
        audit_timeline.write(audit_timeline.timeline(app, household), "jsonl", out)
        assert out.getvalue()
        assert _found(out.getvalue()) == []
    # Every log line of the whole scenario and the erasure.
    logs = capsys.readouterr().err
    assert "erasure.parked_purged" in logs
    assert _found(logs) == []

    # The broker: messages already published cannot be deleted from a Kafka log, so no personal value was
    # ever in one. The personal fields each recipient was allowed (referral details and consent, the
    # receivers' assignee and outcome, the bridge builder's note to CIVICA) travelled sealed under the
    # sender's exchange key, which the erasure deleted at every node: no message value or header holds
    # any personal value in clear, and what is sealed no longer opens.
    messages = _broker_messages(kafka_broker.bootstrap_servers, orgs.prefix)
    assert any(h.get("ce_type") == b"dk.rehousing.household.erased.v1" for _, h, _ in messages)
    sealed = 0
    for topic, headers, value in messages:
        assert _found(json.dumps({k: v.decode("utf-8", "replace") for k, v in headers.items()})) == []
        assert _found(value.decode("utf-8")) == [], headers["ce_type"]
        data = json.loads(value)
        if data.get("sealed"):
            sealed += 1
            owner, household_id = data["sealed"]["owner"], UUID(data["sealed"]["household_id"])
            assert household_id == household
            (recipient,) = [n.organisation for n in orgs.exchange.nodes if topic in n.subscribed]
            assert data["sealed"]["recipient"] == recipient
            # Asked afresh (no cached key), as the recipient: the owner has no key to give any more.
            asked = InProcessKeyDirectory(recipient, orgs.exchange.key_owners)
            assert asked.key(owner, household_id, recipient) is None, (owner, recipient)
    assert sealed >= 5  # the referrals sent, the receivers' acceptances, the outcome, the note
