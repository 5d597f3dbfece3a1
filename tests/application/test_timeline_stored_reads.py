"""On the nodes of the reference scenario (household keys, node decoding), the timeline read as stored equals
the timeline read from decoded events, erased household included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import uuid4

import pytest

from adapters.eventstore.event_decoding import StoredEventDecoder
from adapters.eventstore.shredding import ShreddingMapper
from adapters.exchange.inprocess import InProcessBroker
from adapters.sql.view_stores import SQLiteViewStore
from coordination.projections.rebuild import compare
from coordination.projections.runner import ProjectionRunner
from coordination.projections.timeline import TimelineProjection
from ops.bench.fixtures.read_model_support import CountedTimeline
from ops.demo.reference_scenario import (
    Nodes,
    consultant,
    on,
    play,
)
from tests.exchange_support import reference_nodes


@pytest.fixture
def nodes() -> Iterator[Nodes]:
    built = reference_nodes(InProcessBroker())
    yield built
    built.close()


def _both(app: Any) -> tuple[ProjectionRunner, ProjectionRunner]:
    views = SQLiteViewStore()
    stored = ProjectionRunner(
        app, CountedTimeline("stored"), views, batch_size=25, decoding=StoredEventDecoder(app.mapper)
    )
    decoded = ProjectionRunner(
        app, TimelineProjection("decoded"), views, batch_size=25, decoding=StoredEventDecoder(app.mapper)
    )
    decoded.stored_handlers = False
    stored.run_until_caught_up()
    decoded.run_until_caught_up()
    return stored, decoded


def test_every_nodes_timeline_read_as_stored_equals_the_one_read_from_decoded_events(nodes: Nodes) -> None:
    ids = play(nodes)
    nodes.civica.erase_household(
        command_id=uuid4(),
        household_id=ids.household,
        legal_ground="GDPR art. 17(1)(a): no longer necessary",
        at=on(date(2027, 6, 1)),
        by=consultant,
    )
    for node in nodes.all():
        assert isinstance(node.mapper, ShreddingMapper)
        stored, decoded = _both(node)

        assert stored.stored_handlers is True
        assert compare(decoded, stored) == [], node.organisation
        assert stored.parked() == decoded.parked() == [], node.organisation
        entries = stored.view_store.query(
            f"SELECT COUNT(*) AS n FROM {stored.projection.table_names['timeline_entries']}"
        )
        reservations = stored.view_store.query(
            f"SELECT COUNT(*) AS n FROM {stored.projection.table_names['timeline_entries']}"
            " WHERE event = 'OfferReserved'"
        )
        # Nothing else the timeline reads is personal (never under a household's key), so every entry but a
        # vacancy's reservations (whose household is under the household's key), with its moments in
        # Copenhagen time, is read as stored.
        taken = stored.projection.taken  # type: ignore[attr-defined]
        assert taken == entries[0]["n"] - reservations[0]["n"] > 0, node.organisation
