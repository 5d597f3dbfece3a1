"""A poll's messages applied together: in lanes on several threads, their saves sharing store transactions,
and still each message applied once in effect, in order per aggregate, a poison one parked on its own."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError

from adapters.eventstore.storage import ShreddingStorage
from adapters.exchange.consumer import Consumer, _Item, _lanes
from adapters.exchange.envelope import encode
from adapters.exchange.tables import ParkedMessages
from adapters.exchange.transport import IncomingMessage, OutgoingMessage
from adapters.sql.node_db import SqlDatabase
from coordination.applications.group_commit import GroupCommit
from coordination.applications.housing import HousingOrganisationApp
from coordination.integration import vacancies as v
from coordination.integration.events import IntegrationEvent
from coordination.integration.inbound import Inbound
from coordination.integration.received import AlreadyApplied, ReceivedEvent
from coordination.integration.topics import org_source
from ops.demo.reference_scenario import CIVICA, consultant, on, the_dwelling
from tests.exchange_support import SOURCE, Case, CaseNoted, run_until_handled
from tests.integration.conftest import Transport

AT = on(the_dwelling().available_from)


@pytest.fixture
def fab(store_env: dict[str, str]) -> Iterator[HousingOrganisationApp]:
    """FAB's node application with a group commit, as ops/node/bootstrap.py builds it."""
    app = HousingOrganisationApp(
        storage=ShreddingStorage(), organisation="fab", env=store_env, cpr_secret=b"f" * 32, group_commit=True
    )
    yield app
    app.close()


def _message(topic: str, event: IntegrationEvent, subject: UUID, version: int) -> OutgoingMessage:
    message = encode(
        event, source=org_source(CIVICA), originator_id=subject, originator_version=version, index=0, time=AT
    )
    return replace(message, topic=topic)


def _published(topic: str, vacancy: UUID) -> OutgoingMessage:
    event = v.VacancyPublished(
        vacancy_id=vacancy, owner=CIVICA, dwelling=the_dwelling(), at=AT, by=consultant
    )
    return _message(topic, event, vacancy, 1)


def _reserved(topic: str, vacancy: UUID, offer: UUID) -> OutgoingMessage:
    event = v.VacancyReserved(
        vacancy_id=vacancy,
        offer_id=offer,
        reserved_for="odense-boligselskab",
        expires_at=AT + timedelta(days=5),
        at=AT,
        by=consultant,
    )
    return _message(topic, event, vacancy, 2)


def _let(topic: str, vacancy: UUID, offer: UUID) -> OutgoingMessage:
    return _message(topic, v.VacancyLet(vacancy_id=vacancy, offer_id=offer, at=AT, by=consultant), vacancy, 3)


def _lanes_consumer(
    transport: Transport, topic: str, app: HousingOrganisationApp, db: SqlDatabase
) -> Consumer:
    subscription = transport.subscribe([topic], f"fab-{uuid4().hex[:8]}")
    return Consumer(subscription, Inbound(app), ParkedMessages(db), name="exchange", concurrency=8)


def test_a_poll_with_a_duplicate_applies_each_message_once_and_counts_the_repeat(
    transport: Transport, topic: str, fab: HousingOrganisationApp, node_db: SqlDatabase
) -> None:
    vacancies = [uuid4() for _ in range(6)]
    sent = [_published(topic, vacancy) for vacancy in vacancies]
    transport.publisher().publish([*sent[:3], sent[1], *sent[3:]])
    consumer = _lanes_consumer(transport, topic, fab, node_db)

    run_until_handled(consumer, 7)

    assert (consumer.stats.applied, consumer.stats.duplicates, consumer.stats.parked) == (6, 1, 0)
    assert [fab.vacancy(vacancy).owner for vacancy in vacancies] == [CIVICA] * 6
    assert all(fab.has_handled(UUID(dict(m.headers)["ce_id"].decode())) for m in sent)
    assert fab.group_commit is not None
    assert fab.group_commit.stats.commands == 6


def test_a_poison_message_in_the_middle_of_a_poll_is_parked_and_the_rest_is_applied(
    transport: Transport, topic: str, fab: HousingOrganisationApp, node_db: SqlDatabase
) -> None:
    vacancies = [uuid4() for _ in range(4)]
    unknown = uuid4()
    garbage = OutgoingMessage(topic=topic, key=b"x", value=b"\x00 not json", headers=(("x", b"y"),))
    transport.publisher().publish(
        [
            _published(topic, vacancies[0]),
            _published(topic, vacancies[1]),
            _let(topic, unknown, uuid4()),
            garbage,
            _published(topic, vacancies[2]),
            _published(topic, vacancies[3]),
        ]
    )
    consumer = _lanes_consumer(transport, topic, fab, node_db)

    run_until_handled(consumer, 6)

    assert (consumer.stats.applied, consumer.stats.parked) == (4, 2)
    assert [fab.vacancy(vacancy).status for vacancy in vacancies] == ["open"] * 4
    reasons = sorted(parked.reason for parked in consumer.list_parked())
    assert reasons[0].startswith("apply failed: NotFound")
    assert str(unknown) in reasons[0]
    assert "not a CloudEvents 1.0" in reasons[1]


def test_messages_about_one_vacancy_apply_in_offset_order_while_other_vacancies_apply_beside_them(
    transport: Transport, topic: str, fab: HousingOrganisationApp, node_db: SqlDatabase
) -> None:
    vacancies = {uuid4(): uuid4() for _ in range(5)}  # vacancy -> its offer
    # Interleaved as a busy pool would send them: each vacancy published, reserved, then let.
    sent = [_published(topic, vacancy) for vacancy in vacancies]
    sent += [_reserved(topic, vacancy, offer) for vacancy, offer in vacancies.items()]
    sent += [_let(topic, vacancy, offer) for vacancy, offer in vacancies.items()]
    sent = [sent[i] for i in (0, 5, 1, 10, 6, 2, 11, 7, 3, 12, 8, 4, 13, 9, 14)]
    transport.publisher().publish(sent)
    consumer = _lanes_consumer(transport, topic, fab, node_db)

    run_until_handled(consumer, len(sent))

    assert (consumer.stats.applied, consumer.stats.parked) == (15, 0), consumer.list_parked()
    assert {fab.vacancy(vacancy).status for vacancy in vacancies} == {"let"}
    assert all(fab.vacancy(vacancy).version == 3 for vacancy in vacancies)


def test_messages_in_different_lanes_that_change_one_aggregate_conflict_and_each_applies_once(
    store_env: dict[str, str], node_db: SqlDatabase
) -> None:
    """Lanes keep order only for what messages name; an aggregate they do not name can still be contended.
    The group with the rival saves fails, its members are saved one by one, the loser decides again."""
    from tests.integration.conftest import InProcessTransport

    transport = InProcessTransport()
    topic = "test.journal"
    app = Application[UUID](env=store_env)
    app.group_commit = GroupCommit(app)  # type: ignore[attr-defined]
    journal = Case()
    app.save(journal)
    everyone_loaded = threading.Barrier(4, timeout=5)
    conflicts: list[str] = []

    def apply(received: ReceivedEvent) -> None:
        first = True
        while True:
            case = app.repository.get(journal.id)
            if received.id in case.notes:
                raise AlreadyApplied(received.id)
            if first:
                first = False
                # Every lane has loaded the same version before any saves: they must collide.
                with contextlib.suppress(threading.BrokenBarrierError):
                    everyone_loaded.wait()
            case.note(n=received.event.n, note=received.id)  # type: ignore[attr-defined]
            try:
                app.group_commit.save(case)  # type: ignore[attr-defined]
                return
            except IntegrityError:
                conflicts.append(received.id)

    messages = [
        replace(
            encode(
                CaseNoted(case_id=case, n=n, note="-"),
                source=SOURCE,
                originator_id=case,
                originator_version=1,
                index=0,
                time=AT,
            ),
            topic=topic,
        )
        for n, case in enumerate(uuid4() for _ in range(4))
    ]
    transport.publisher().publish(messages)
    consumer = Consumer(
        transport.subscribe([topic], "journal"), apply, ParkedMessages(node_db), concurrency=4
    )

    run_until_handled(consumer, 4)

    stored = app.repository.get(journal.id)
    assert sorted(stored.notes) == sorted(dict(m.headers)["ce_id"].decode() for m in messages)
    assert (consumer.stats.applied, consumer.stats.parked) == (4, 0)
    assert len(conflicts) >= 3  # all four loaded one version: one saved it, three decided again
    assert app.group_commit.stats.commands == 4  # type: ignore[attr-defined]


def test_a_failure_of_the_nodes_own_database_in_one_lane_redelivers_that_lane_and_not_the_others_effects(
    store_env: dict[str, str], node_db: SqlDatabase
) -> None:
    from tests.exchange_support import ReceivedLog
    from tests.integration.conftest import InProcessTransport

    transport = InProcessTransport()
    topic = "test.cases"
    log = ReceivedLog(node_db)
    locked = {"n": 2, "times": 1}

    def apply(received: ReceivedEvent) -> None:
        if received.event.n == locked["n"] and locked["times"]:  # type: ignore[attr-defined]
            locked["times"] -= 1
            raise sqlite3.OperationalError("database is locked")
        log.apply(received)

    cases = [uuid4() for _ in range(4)]
    transport.publisher().publish(
        [
            replace(
                encode(
                    CaseNoted(case_id=case, n=n, note="-"),
                    source=SOURCE,
                    originator_id=case,
                    originator_version=n + 2,
                    index=0,
                    time=AT,
                ),
                topic=topic,
            )
            for n, case in enumerate(cases)
        ]
    )
    consumer = Consumer(transport.subscribe([topic], "cases"), apply, ParkedMessages(node_db), concurrency=4)

    with pytest.raises(sqlite3.OperationalError):
        consumer.run_once(0.2)
    run_until_handled(consumer, 4)

    assert sorted(data["n"] for *_, data in log.rows()) == [0, 1, 2, 3]
    assert consumer.list_parked() == []
    assert consumer.stats.applied + consumer.stats.duplicates >= 4


def _item(key: bytes, event: IntegrationEvent, offset: int) -> _Item:
    received = ReceivedEvent(
        id=str(uuid4()), source=SOURCE, type="t", subject="s", time=AT, traceparent=None, event=event
    )
    message = IncomingMessage(topic="t", partition=0, offset=offset, key=key, headers=(), value=b"")
    return _Item(message, received, received.id)


def test_messages_that_share_their_key_or_an_id_in_their_data_share_a_lane_in_offset_order() -> None:
    a, b, c, offer = uuid4(), uuid4(), uuid4(), uuid4()
    items = [
        _item(str(a).encode(), v.VacancyLet(vacancy_id=a, offer_id=offer, at=AT, by=consultant), 0),
        _item(str(b).encode(), v.VacancyLet(vacancy_id=b, offer_id=uuid4(), at=AT, by=consultant), 1),
        _item(str(c).encode(), v.VacancyLet(vacancy_id=c, offer_id=offer, at=AT, by=consultant), 2),
        _item(str(b).encode(), v.VacancyLet(vacancy_id=b, offer_id=uuid4(), at=AT, by=consultant), 3),
        _item(str(a).encode(), v.VacancyLet(vacancy_id=a, offer_id=uuid4(), at=AT, by=consultant), 4),
    ]

    lanes = _lanes(items)

    assert sorted([item.message.offset for item in lane] for lane in lanes) == [[0, 2, 4], [1, 3]]
