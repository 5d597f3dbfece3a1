"""Events stored by an older version of an event class still load, upcast to the current version."""

from __future__ import annotations

import json
from datetime import datetime
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from coordination.applications.roles import BridgeBuilderApp
from coordination.domain.support_link import SupportLink, SupportOffer
from coordination.domain.values import Actor
from tests.application.builders import BRIDGE_BUILDER, at, cmd, local_contact

PROPOSED = get_topic(SupportLink.Proposed)


class ProposedV1(Aggregate.Created):
    """SupportLink.Proposed as the first version wrote it: before `contact_person` existed."""

    owner: str
    household_id: UUID
    offer: SupportOffer
    at: datetime
    by: Actor


def _store_v1_proposal(app: BridgeBuilderApp, link_id: UUID) -> None:
    v1 = ProposedV1(
        originator_id=link_id,
        originator_version=1,
        timestamp=ProposedV1.create_timestamp(),
        originator_topic=get_topic(SupportLink),
        owner=app.organisation,
        household_id=uuid4(),
        offer=local_contact(),
        at=at(1),
        by=BRIDGE_BUILDER,
    )
    encoded = app.mapper.to_stored_event(v1)
    # Written under the topic the event class had then, which is the current class's topic.
    app.recorder.insert_events(
        [StoredEvent(originator_id=link_id, originator_version=1, topic=PROPOSED, state=encoded.state)]
    )


def test_a_support_link_proposed_by_the_first_version_loads_as_not_a_contact_person(
    bridge: BridgeBuilderApp,
) -> None:
    link_id = uuid4()
    _store_v1_proposal(bridge, link_id)

    (stored,) = bridge.recorder.select_events(link_id)
    assert "contact_person" not in json.loads(stored.state)
    assert "class_version" not in json.loads(stored.state)
    link = bridge.support_link(link_id)
    assert (link.contact_person, link.status, link.offer) == (False, "proposed", local_contact())
    (loaded,) = bridge.events.get(link_id)
    assert isinstance(loaded, SupportLink.Proposed)
    assert loaded.contact_person is False


def test_a_link_loaded_from_a_v1_proposal_takes_new_steps_recorded_in_the_current_version(
    bridge: BridgeBuilderApp,
) -> None:
    link_id = uuid4()
    _store_v1_proposal(bridge, link_id)

    bridge.activate_support_link(command_id=cmd(), link_id=link_id, at=at(2), by=BRIDGE_BUILDER)

    assert bridge.support_link(link_id).status == "active"
    assert [type(e).__name__ for e in bridge.events.get(link_id)] == ["Proposed", "Activated"]


def test_a_new_proposal_is_stored_as_version_3_with_its_contact_person_and_the_households_owner(
    bridge: BridgeBuilderApp,
) -> None:
    link_id = bridge.propose_support_link(
        command_id=cmd(),
        household_id=uuid4(),
        offer=local_contact(),
        contact_person=True,
        household_owner="civica",
        at=at(1),
        by=BRIDGE_BUILDER,
    )

    (stored,) = bridge.recorder.select_events(link_id)
    state = json.loads(stored.state)
    assert (stored.topic, state["class_version"], state["contact_person"], state["household_owner"]) == (
        PROPOSED,
        3,
        True,
        "civica",
    )
    assert bridge.support_link(link_id).contact_person is True


class ProposedV2(Aggregate.Created):
    """SupportLink.Proposed as the second version wrote it: before it named the household's owner."""

    class_version = 2

    owner: str
    household_id: UUID
    offer: SupportOffer
    contact_person: bool
    at: datetime
    by: Actor


def test_a_support_link_proposed_by_the_second_version_loads_naming_no_households_owner(
    bridge: BridgeBuilderApp,
) -> None:
    link_id = uuid4()
    v2 = ProposedV2(
        originator_id=link_id,
        originator_version=1,
        timestamp=ProposedV2.create_timestamp(),
        originator_topic=get_topic(SupportLink),
        owner=bridge.organisation,
        household_id=uuid4(),
        offer=local_contact(),
        contact_person=True,
        at=at(1),
        by=BRIDGE_BUILDER,
    )
    encoded = bridge.mapper.to_stored_event(v2)
    assert json.loads(encoded.state)["class_version"] == 2
    bridge.recorder.insert_events(
        [StoredEvent(originator_id=link_id, originator_version=1, topic=PROPOSED, state=encoded.state)]
    )

    (loaded,) = bridge.events.get(link_id)
    assert isinstance(loaded, SupportLink.Proposed)
    assert (loaded.contact_person, loaded.household_owner) == (True, None)
