"""Faults of issue 3 with every organisation's node a separate OS process (PostgreSQL schema each, one broker).

CIVICA and FAB (housing organisations), the bridge builder and the children and youth department run as
`python -m ops.node.serve --org ...`; the test issues commands at each node's own store (the store is the outbox,
so the node process publishes them) with a seeded load, injects one fault per scenario, waits until every
message is applied or parked everywhere it is due, and then requires every node's state to equal a replay
of its history from scratch and no effect to have been applied twice. Each scenario prints its figures:

    .venv/bin/python -m pytest tests/integration/test_exchange_faults.py -s
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from random import Random
from uuid import UUID, uuid4

import httpx
import pytest
from kafka import KafkaConsumer, TopicPartition

from adapters.exchange.envelope import DecodeError, decode
from adapters.exchange.keys import NODE_PERSON, SealBroken, open_sealed
from adapters.exchange.transport import IncomingMessage
from adapters.http.auth import issue_token, load_private_key, private_key_path
from adapters.settings import OrganisationRole
from coordination.domain.values import Role
from coordination.integration.events import IntegrationEvent
from coordination.integration.topics import Topics, org_source
from ops.demo.reference_scenario import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, CIVICA
from ops.devservices.pgcluster import PostgresServer
from tests.integration.conftest import BrokerProcess
from tests.integration.exchange_checks import no_effect_applied_twice, replayed_equals_live
from tests.integration.exchange_load import FAB, HOUSING, Load
from tests.integration.fault_support import ROOT, Deployment, Figures

pytestmark = [pytest.mark.postgres, pytest.mark.kafka, pytest.mark.timeout(240)]

SEED = int(os.environ.get("FAULTS_SEED", "20260601"))
ROLES = {
    CIVICA: OrganisationRole.HOUSING_ORGANISATION,
    FAB: OrganisationRole.HOUSING_ORGANISATION,
    BRIDGE_BUILDER: OrganisationRole.BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH: OrganisationRole.MUNICIPAL_DEPARTMENT,
}
POOL = (CIVICA, FAB, CHILDREN_AND_YOUTH)  # the nodes that keep the Odense vacancy pool
FIGURES: list[Figures] = []


@pytest.fixture(scope="module")
def deployment(
    postgres_server: PostgresServer, kafka_broker: BrokerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    started = time.monotonic()
    with ExitStack() as stack:
        # Whatever happens, the broker runs again afterwards (a scenario pauses it) and every node process
        # started here is killed (registered inside Deployment).
        stack.callback(lambda: os.kill(kafka_broker.process.pid, signal.SIGCONT))
        deployment = Deployment(
            postgres_server,
            kafka_broker.bootstrap_servers,
            ROLES,
            tmp_path_factory.mktemp("fault-nodes"),
            stack,
        )
        deployment.start()
        yield deployment
        total = Figures("all scenarios", seconds=time.monotonic() - started)
        for figures in FIGURES:
            total.messages += figures.messages
            total.unique_messages += figures.unique_messages
            total.duplicates_suppressed += figures.duplicates_suppressed
            total.parked += figures.parked
        print(f"\n{total.line()} (seed {SEED})")
        for process in deployment.processes.values():
            process.stop()


@pytest.fixture(scope="module")
def load(deployment: Deployment) -> Load:
    return Load(deployment.apps, lambda condition, what: deployment.wait_until(condition, what), seed=SEED)


def _report(figures: Figures, capsys: pytest.CaptureFixture[str]) -> None:
    FIGURES.append(figures)
    with capsys.disabled():
        print(f"\n{figures.line()}")


def _settled_and_consistent(deployment: Deployment) -> dict[str, int]:
    deployment.settle()
    states = {org: replayed_equals_live(app) for org, app in deployment.apps.items()}
    checked = no_effect_applied_twice(states, HOUSING, POOL)
    checked["aggregates replayed"] = sum(len(s.aggregates) for s in states.values())
    checked["receipts"] = sum(s.receipts for s in states.values())
    return checked


def _meanwhile(deployment: Deployment, action: Callable[[], None]) -> threading.Thread:
    """Run the fault injection beside the load; its failure stops the load's waits at once."""

    def run() -> None:
        try:
            action()
        except BaseException as error:  # reported by the test thread
            deployment.failures.append(error)

    deployment.failures.clear()
    thread = threading.Thread(target=run, name="fault", daemon=True)
    thread.start()
    return thread


def _joined(deployment: Deployment, thread: threading.Thread, seconds: float = 120) -> None:
    thread.join(seconds)
    assert not thread.is_alive(), "the fault thread did not finish"
    if deployment.failures:
        raise deployment.failures[0]


def test_a_broker_paused_for_20_s_under_load_loses_and_doubles_nothing(
    deployment: Deployment, load: Load, kafka_broker: BrokerProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = Random(SEED + 1)

    def pause() -> None:
        time.sleep(rng.uniform(0.5, 1.5))
        os.kill(kafka_broker.process.pid, signal.SIGSTOP)
        try:
            time.sleep(20)
        finally:
            os.kill(kafka_broker.process.pid, signal.SIGCONT)

    with deployment.scenario("(a) broker SIGSTOP 20 s under load") as figures:
        fault = _meanwhile(deployment, pause)
        wave = load.wave("a", households=9, vacancies=10)
        _joined(deployment, fault)
        figures.notes.update(_settled_and_consistent(deployment), commands=wave.commands)
    _report(figures, capsys)
    assert figures.parked == 0


def test_a_consumer_node_killed_at_ten_random_points_and_restarted_applies_everything_once(
    deployment: Deployment, load: Load, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = Random(SEED + 2)
    consumer = deployment.processes[BRIDGE_BUILDER]

    def kill_and_restart() -> None:
        # Down long enough for a backlog to build up, killed soon after it is back: mid-batch, most likely.
        for _ in range(10):
            consumer.kill()
            time.sleep(rng.uniform(0.3, 2.0))
            consumer.start()
            consumer.wait_started()
            time.sleep(rng.uniform(0.02, 0.6))

    with deployment.scenario("(b) consumer node SIGKILL x10") as figures:
        kills = consumer.kills
        fault = _meanwhile(deployment, kill_and_restart)
        waves = [load.wave("b1", households=9, vacancies=10)]
        while fault.is_alive() and len(waves) < 3:
            waves.append(load.wave(f"b{len(waves) + 1}", households=3, vacancies=4))
        _joined(deployment, fault)
        figures.notes.update(
            _settled_and_consistent(deployment),
            kills=consumer.kills - kills,
            commands=sum(w.commands for w in waves),
        )
    _report(figures, capsys)
    assert consumer.kills - kills == 10
    assert figures.parked == 0


def test_the_relay_killed_at_random_points_republishes_and_consumers_suppress_the_copies(
    deployment: Deployment, load: Load, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = Random(SEED + 3)
    killed: list[str] = []

    def kill_the_publisher() -> None:
        for _ in range(8):
            # The node with the most to publish right now is the one mid-batch, most likely; it comes back
            # to a backlog written meanwhile, and is killed again soon after.
            lags = deployment.relay_lag()
            process = deployment.processes[max(HOUSING, key=lambda o: (lags[o], rng.random()))]
            process.kill()
            killed.append(process.organisation)
            time.sleep(rng.uniform(0.3, 1.5))
            process.start()
            process.wait_started()
            time.sleep(rng.uniform(0.02, 0.6))

    with deployment.scenario("(c) publishing node SIGKILL x8") as figures:
        fault = _meanwhile(deployment, kill_the_publisher)
        waves = [load.wave("c1", households=9, vacancies=10)]
        while fault.is_alive() and len(waves) < 3:
            waves.append(load.wave(f"c{len(waves) + 1}", households=3, vacancies=4))
        _joined(deployment, fault)
        figures.notes.update(
            _settled_and_consistent(deployment), kills=len(killed), commands=sum(w.commands for w in waves)
        )
    _report(figures, capsys)
    assert len(killed) == 8
    assert figures.parked == 0


def test_a_message_delivered_twice_on_purpose_is_suppressed_everywhere_and_stores_nothing(
    deployment: Deployment, load: Load, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = Random(SEED + 4)
    with deployment.scenario("(d) 25 messages produced again with a plain producer") as figures:
        load.wave("d", households=3, vacancies=4)
        deployment.settle()
        before = {org: app.recorder.max_notification_id() for org, app in deployment.apps.items()}
        suppressed = deployment.duplicates_suppressed()
        deliveries = {(d.topic, d.partition, d.offset): d for d in deployment.deliveries()}
        chosen = rng.sample(
            [m for m in deployment.observer.messages if deliveries[m.topic, m.partition, m.offset].readers],
            25,
        )
        producer = deployment.producer()
        for message in chosen:
            producer.send(
                message.topic,
                partition=message.partition,
                key=message.key,
                value=message.value,
                headers=list(message.headers),
            )
        producer.flush(10)
        producer.close(5)
        expected = sum(len(deliveries[m.topic, m.partition, m.offset].readers) for m in chosen)
        deployment.wait_until(
            lambda: deployment.duplicates_suppressed() - suppressed >= expected,
            "every copy was read and suppressed",
            max_seconds=60,
        )
        figures.notes.update(
            _settled_and_consistent(deployment), copies=len(chosen), copy_deliveries=expected
        )
    _report(figures, capsys)
    assert deployment.duplicates_suppressed() - suppressed == expected
    assert {org: app.recorder.max_notification_id() for org, app in deployment.apps.items()} == before
    assert figures.parked == 0


def _poison(topic: str, partition: int, deployment: Deployment) -> list[int]:
    """A malformed message and one of an unknown type, amid the partition's traffic; their offsets."""
    civica = org_source(CIVICA).encode()
    now = datetime.now(UTC).isoformat().encode()
    sent = "dk.rehousing.referral.sent.v1"
    malformed = [
        ("ce_specversion", b"1.0"),
        ("ce_id", str(uuid4()).encode()),
        ("ce_source", civica),
        ("ce_type", sent.encode()),
        ("ce_subject", str(uuid4()).encode()),
        ("ce_time", now),
        ("ce_dataschema", f"urn:dk:rehousing:schema:{sent}".encode()),
        ("content-type", b"application/json"),
    ]
    unknown_type = "dk.rehousing.referral.teleported.v1"
    unknown = [
        ("ce_specversion", b"1.0"),
        ("ce_id", str(uuid4()).encode()),
        ("ce_source", civica),
        ("ce_type", unknown_type.encode()),
        ("ce_subject", str(uuid4()).encode()),
        ("ce_time", now),
        ("ce_dataschema", f"urn:dk:rehousing:schema:{unknown_type}".encode()),
        ("content-type", b"application/json"),
    ]
    producer = deployment.producer()
    futures = [
        producer.send(
            topic, partition=partition, key=b"poison", value=b'{"referral_id": "3f0c', headers=malformed
        ),
        producer.send(
            topic,
            partition=partition,
            key=b"poison",
            headers=unknown,
            value=json.dumps({"referral_id": str(uuid4())}).encode(),
        ),
    ]
    offsets = [future.get(timeout=10).offset for future in futures]
    producer.close(5)
    return offsets


def test_a_malformed_message_and_an_unknown_type_mid_partition_are_parked_and_the_partition_goes_on(
    deployment: Deployment, load: Load, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = Topics(deployment.prefix).referrals(BRIDGE_BUILDER)
    with deployment.scenario("(e) malformed + unknown type mid-partition") as figures:
        load.wave("e1", households=3, vacancies=4)
        offsets = [offset for partition in range(3) for offset in _poison(topic, partition, deployment)]
        load.wave("e2", households=6, vacancies=4)
        figures.notes.update(_settled_and_consistent(deployment))
    _report(figures, capsys)

    assert figures.parked == 6
    parked = deployment.nodes[BRIDGE_BUILDER].consumer.list_parked()
    assert sorted((p.partition, p.offset) for p in parked) == sorted(
        zip([0, 0, 1, 1, 2, 2], offsets, strict=True)
    )
    unknown = [p for p in parked if "unknown integration event type" in p.reason]
    assert len(unknown) == 3
    assert all("JSON" in p.reason for p in parked if p not in unknown), [p.reason for p in parked]
    # The partitions went on: messages written after the poison were applied there.
    later = [
        d
        for d in deployment.deliveries()
        if d.topic == topic
        and d.offset > max(o for (p, o) in zip([0, 0, 1, 1, 2, 2], offsets, strict=True) if p == d.partition)
    ]
    assert later, "traffic followed the poison on the partitions"
    assert deployment.handled(BRIDGE_BUILDER, [d.ce_id for d in later if d.ce_id]) == {d.ce_id for d in later}

    listed = subprocess.run(
        [sys.executable, "-m", "ops.cli.main", "parked", "list", "--org", BRIDGE_BUILDER],
        cwd=ROOT,
        env=deployment.processes[BRIDGE_BUILDER].env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert f"6 parked message(s) at {BRIDGE_BUILDER}" in listed.stdout
    assert listed.stdout.count(topic) == 6


def test_a_households_exchange_key_crosses_processes_only_to_the_organisations_it_was_sent_to(
    deployment: Deployment, load: Load
) -> None:
    """CIVICA's node process hands a household's exchange key to the node of each organisation it sent the
    household to, and refuses every other organisation's node: FAB and the department were sent nothing
    about the second household, the department something about the first."""
    wave = load.wave("keys", households=2, vacancies=1)
    deployment.settle()
    both, bridge_only = wave.households[CIVICA]  # the first is also referred to the department
    port = deployment.processes[CIVICA].env["COORDINATION_HTTP_PORT"]
    keys = deployment.logs / "keys"

    def ask(household: UUID, organisation: str) -> int:
        token = issue_token(
            load_private_key(private_key_path(keys, organisation)),
            organisation=organisation,
            person=NODE_PERSON,
            role=Role.OPERATOR,
            audience=CIVICA,
        )
        headers = {"Authorization": f"Bearer {token}", "X-Purpose": "open received integration events"}
        url = f"http://127.0.0.1:{port}/v1/exchange-keys/{household}/{organisation}"
        return httpx.get(url, headers=headers, timeout=10).status_code

    assert {org: ask(bridge_only, org) for org in (BRIDGE_BUILDER, FAB, CHILDREN_AND_YOUTH)} == {
        BRIDGE_BUILDER: 200,
        FAB: 403,
        CHILDREN_AND_YOUTH: 403,
    }
    assert {org: ask(both, org) for org in (BRIDGE_BUILDER, FAB, CHILDREN_AND_YOUTH)} == {
        BRIDGE_BUILDER: 200,
        FAB: 403,
        CHILDREN_AND_YOUTH: 200,
    }


def test_what_each_node_process_sealed_for_one_organisation_opens_with_no_key_another_can_obtain(
    deployment: Deployment, load: Load
) -> None:
    """Production-like cross-recipient check (issue 20, W1): every sealed message on the broker about a
    wave's households, tried with every key any other organisation's node token obtains from any node's
    API — for any household, asked under any recipient's name, or the old scheme's one key."""
    wave = load.wave("sealed-for", households=2, vacancies=1)
    deployment.settle()
    households = {str(h) for hs in wave.households.values() for h in hs}
    keys_dir = deployment.logs / "keys"
    organisations = sorted(deployment.processes)

    def obtainable(organisation: str) -> set[bytes]:
        found = set()
        for owner in organisations:
            port = deployment.processes[owner].env["COORDINATION_HTTP_PORT"]
            token = issue_token(
                load_private_key(private_key_path(keys_dir, organisation)),
                organisation=organisation,
                person=NODE_PERSON,
                role=Role.OPERATOR,
                audience=owner,
            )
            headers = {"Authorization": f"Bearer {token}", "X-Purpose": "open received integration events"}
            for household in households:
                for sealed_for in [*(f"/{name}" for name in organisations), ""]:
                    url = f"http://127.0.0.1:{port}/v1/exchange-keys/{household}{sealed_for}"
                    response = httpx.get(url, headers=headers, timeout=10)
                    assert response.status_code in (200, 403), response.text
                    if response.status_code == 200:
                        assert sealed_for == f"/{organisation}"  # its own, never another's or the old key
                        found.add(base64.b64decode(response.json()["key"]))
        return found

    keys = {organisation: obtainable(organisation) for organisation in organisations}
    messages = [
        event
        for event in _sealed_on_the_broker(deployment)
        if event.sealed is not None and str(event.sealed.household_id) in households
    ]
    recipients = {event.sealed.recipient for event in messages if event.sealed is not None}
    assert {BRIDGE_BUILDER, CIVICA} <= recipients
    for event in messages:
        assert event.sealed is not None
        opened_by = set()
        for organisation in organisations:
            for key in keys[organisation]:
                try:
                    open_sealed(event, key)
                except SealBroken:
                    continue
                opened_by.add(organisation)
        assert opened_by == {event.sealed.recipient}, event.event_type


def _sealed_on_the_broker(deployment: Deployment) -> list[IntegrationEvent]:
    consumer = KafkaConsumer(
        bootstrap_servers=deployment.bootstrap_servers, enable_auto_commit=False, consumer_timeout_ms=3000
    )
    try:
        partitions = [
            TopicPartition(topic, number)
            for topic in consumer.topics()
            if topic.startswith(deployment.prefix)
            for number in consumer.partitions_for_topic(topic) or ()
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        events = []
        for record in consumer:
            message = IncomingMessage(
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                key=record.key,
                value=record.value,
                headers=tuple(record.headers),
            )
            try:
                events.append(decode(message).event)
            except DecodeError:
                continue  # what the malformed-message scenario put on the broker on purpose
        return [event for event in events if event.sealed is not None]
    finally:
        consumer.close()
