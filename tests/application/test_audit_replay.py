"""Replay: over a store of 10,000+ events, some stored under older class versions, every projection rebuilt
from history equals the live one that followed the store as it grew."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, StoredEvent

from adapters.eventstore.transcoding import register_domain_transcodings
from adapters.sql.view_stores import SQLiteViewStore
from coordination.domain.household import Household
from coordination.domain.policy import DEFAULT_POLICY
from coordination.domain.support_link import SupportLink
from coordination.domain.values import Override
from ops.bench.fixtures import read_model_support as rm
from ops.cli.audit_replay import progress_bar, replay_all
from ops.devservices.pgcluster import PostgresServer
from ops.node.read_models import READ_MODELS
from tests.conftest import _fresh_schema, postgres_env

FAMILIES = 920  # eleven events each: 10,120 in all


class _Store(Application):
    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Application]:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "node.db")}
    store = _Store(env=env)
    yield store
    store.close()


def save_as_v1(app: Application, aggregate: Aggregate, *drop: str) -> None:
    """Store an aggregate's pending events with the newest one as its class's version 1 wrote it: without
    the fields later versions added (`drop`) and without a class_version (what the code of that time stored)."""
    *earlier, last = aggregate.collect_events()
    stored = [app.mapper.to_stored_event(e) for e in (*earlier, last)]
    state = json.loads(stored[-1].state)
    assert state.pop("class_version") == len(drop) + 1
    for name in drop:
        del state[name]
    stored[-1] = StoredEvent(
        stored[-1].originator_id,
        stored[-1].originator_version,
        stored[-1].topic,
        json.dumps(state, separators=(",", ":")).encode(),
    )
    app.recorder.insert_events(stored)


def one_family(app: Application, n: int, *, old: bool) -> None:
    household = rm.register(app)
    vacancy = rm.publish(app, area=f"Area {n % 7}", rooms=4 + n % 3)
    if old:
        # An offer made before the waterbed guard existed: Household.OfferReceived v1 had no warnings.
        offer_id = uuid4()
        household.receive_offer(
            offer_id=offer_id,
            vacancy_id=vacancy.id,
            dwelling=vacancy.dwelling,
            expires_at=rm.at(15),
            overrides=[Override(rule="suitable_size", reason="The family chose it", by=rm.CONSULTANT)],
            policy=DEFAULT_POLICY,
            at=rm.at(1),
            by=rm.CONSULTANT,
        )
        save_as_v1(app, household, "warnings")
        vacancy.reserve_for_offer(
            offer_id=offer_id, household_id=household.id, expires_at=rm.at(15), at=rm.at(1), by=rm.CONSULTANT
        )
        app.save(vacancy)
        household = app.repository.get(household.id)  # read back through the upcast
    else:
        offer_id = rm.offer(app, household, vacancy)
    household.accept_offer(offer_id=offer_id, at=rm.at(2), by=rm.CONSULTANT)
    vacancy.accept_offer(offer_id=offer_id, at=rm.at(2), by=rm.CONSULTANT)
    app.save(household, vacancy)
    rm.move_and_hand_off(app, household, moved_on=date(2026, 7, 1 + n % 28), days=30)
    rm.send(app, household.id, days=2 + n % 5)
    if old:
        # A support link proposed before contact persons counted (and before it named the household's
        # owner): SupportLink.Proposed v1.
        link = SupportLink.propose(
            id=uuid4(),
            household_id=household.id,
            offer=_offer(),
            contact_person=False,
            at=rm.at(31),
            by=rm.BRIDGE_BUILDER,
        )
        save_as_v1(app, link, "contact_person", "household_owner")
    else:
        rm.link(app, household.id, days=31)


def _offer() -> Any:
    from coordination.domain.support_link import SupportKind, SupportOffer
    from coordination.domain.values import Place

    return SupportOffer(
        provider="ungdomsskolen",
        service="Youth club",
        kind=SupportKind.YOUTH_CLUB,
        place=Place(municipality="Odense", area="Odense C"),
    )


def test_a_replay_of_ten_thousand_events_with_upcast_ones_equals_live(app: Application) -> None:
    views = SQLiteViewStore(":memory:")
    live = rm.runners(app, views, batch_size=500)
    for n in range(FAMILIES):
        one_family(app, n, old=n % 10 == 0)
        if n % 300 == 299:  # live follows the store as it grows, as on a running node
            for runner in live.values():
                runner.run_until_caught_up()
    stored = app.recorder.max_notification_id()
    assert stored >= 10_000

    bar = io.StringIO()
    results = replay_all(app, views, READ_MODELS, batch_size=2000, progress=progress_bar(bar))

    assert [r.name for r in results] == list(READ_MODELS)
    for result in results:
        assert result.position == stored
        assert result.equal, [str(d) for d in result.differences[:5]]
    assert "[" + "#" * 30 + "]" in bar.getvalue()
    # Not a terminal: a line per tenth of each projection's replay, no carriage returns run together.
    assert "\r" not in bar.getvalue()
    lines = bar.getvalue().splitlines()
    assert len(READ_MODELS) <= len(lines) <= 11 * len(READ_MODELS), len(lines)
    # The old events were read through their upcasts, by the projections and by the repository alike.
    rows = views.query("SELECT COUNT(*) AS n FROM timeline_entries__live")
    assert rows[0]["n"] > 0
    old_household = next(
        n
        for n in app.recorder.select_notifications(start=1, limit=50)
        if n.topic.endswith("Household.Registered")
    )
    household = app.repository.get(old_household.originator_id)
    assert isinstance(household, Household)
    assert household.offers[0].warnings == []
    views.close()  # type: ignore[attr-defined]


def test_a_difference_between_live_and_replay_is_reported(app: Application) -> None:
    views = SQLiteViewStore(":memory:")
    for n in range(3):
        one_family(app, n, old=n == 0)
    for runner in rm.runners(app, views).values():
        runner.run_until_caught_up()
    with views.transaction() as tx:
        tx.execute("UPDATE hs_households__live SET holder_org = 'somebody-else'")
    results = {r.name: r for r in replay_all(app, views, READ_MODELS)}
    assert not results["handoff_status"].equal
    assert "different in holder_org" in str(results["handoff_status"].differences[0])
    assert all(r.equal for name, r in results.items() if name != "handoff_status")
    views.close()  # type: ignore[attr-defined]


@pytest.mark.postgres
def test_a_replay_counts_the_events_it_read_not_the_gaps_in_their_numbering(
    postgres_server: PostgresServer,
) -> None:
    with _fresh_schema(postgres_server) as schema:
        store = _Store(env=postgres_env(postgres_server, schema))
        views = SQLiteViewStore(":memory:")
        try:
            for n in range(3):
                one_family(store, n, old=False)
                # A rolled-back insert (here a conflicting version) takes a number from PostgreSQL's
                # sequence all the same: the next event is numbered after a gap.
                registered = store.recorder.select_notifications(start=1, limit=1)[0]
                with pytest.raises(IntegrityError):
                    store.recorder.insert_events([registered])
            stored = store.recorder.select_notifications(start=1, limit=10_000)
            head = stored[-1].id
            assert head > len(stored)  # the gaps are there

            results = replay_all(store, views, READ_MODELS)

            for result in results:
                topics = READ_MODELS[result.name]("live").handled_topics()
                read = [n for n in stored if topics is None or n.topic in topics]
                assert result.position == head
                assert result.events == len(read), result.name
                assert result.equal
        finally:
            views.close()  # type: ignore[attr-defined]
            store.close()
