"""The inbound dispatch table: every integration event type a node may receive has one handler, and a
node whose role has no such command refuses the event by name."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from uuid import uuid4

import pytest

import coordination.integration
from adapters.eventstore.storage import ShreddingStorage
from coordination.applications.roles import BridgeBuilderApp
from coordination.domain.errors import NotPermitted
from coordination.integration import vacancies as v
from coordination.integration.dispatch import HANDLERS, handler_for
from coordination.integration.events import registered_events
from tests.application.builders import BRIDGE, CIVICA, CONSULTANT, T0, dwelling


@pytest.fixture
def bridge() -> Iterator[BridgeBuilderApp]:
    app = BridgeBuilderApp(
        storage=ShreddingStorage(), organisation=BRIDGE, env={"PERSISTENCE_MODULE": "eventsourcing.popo"}
    )
    yield app
    app.close()


def test_every_registered_integration_event_type_has_a_handler() -> None:
    for module in pkgutil.iter_modules(coordination.integration.__path__, "coordination.integration."):
        importlib.import_module(module.name)  # each registers the event types it defines
    ours = {cls for cls in registered_events().values() if cls.__module__.startswith("coordination.")}
    assert set(HANDLERS) == ours  # (other tests register toy event types of their own)


def test_a_node_whose_role_has_no_such_command_refuses_the_event_naming_the_command(
    bridge: BridgeBuilderApp,
) -> None:
    published = v.VacancyPublished(
        vacancy_id=uuid4(), owner=CIVICA, dwelling=dwelling(), at=T0, by=CONSULTANT
    )
    handler = handler_for(published)
    assert handler is not None

    with pytest.raises(NotPermitted, match=r"odense-brobygning does not take mirror_vacancy_published"):
        handler(bridge, uuid4(), published)
