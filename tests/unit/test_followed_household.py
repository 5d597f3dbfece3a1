"""The reporter's record of a household another organisation owns: each fact it reported and the owner's
answer to it, as events."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from coordination.domain.errors import NotFound, NotPermitted
from coordination.domain.follow_up import (
    FactKind,
    FactState,
    FollowedHousehold,
    HouseholdFact,
    reported_fact_id,
)
from coordination.domain.values import Actor, Role

T0 = datetime(2026, 9, 20, 9, tzinfo=UTC)
BRIDGE = Actor(organisation="odense-brobygning", person="bb-3", role=Role.BRIDGE_BUILDER)


def _followed() -> FollowedHousehold:
    return FollowedHousehold.follow(id=uuid4(), household_id=uuid4(), owner="civica", at=T0, by=BRIDGE)


def _reported(followed: FollowedHousehold, kind: FactKind = FactKind.NO_LONGER_ASKS_FOR_HELP) -> None:
    followed.report(fact=HouseholdFact(kind=kind), at=T0, by=BRIDGE)


def test_each_reported_fact_has_the_id_its_message_carries_and_is_reported_until_the_owner_answers() -> None:
    followed = _followed()
    _reported(followed)
    _reported(followed, FactKind.SETTLED)
    first, second = followed.reported.values()
    # The message is made from the stored event: the same id from its originator id and version.
    assert first.fact_id == reported_fact_id(followed.id, 2)
    assert second.fact_id == reported_fact_id(followed.id, 3) == followed.last_fact_id
    assert [f.shown for f in followed.reported.values()] == ["reported", "reported"]


def test_the_owners_answer_is_recorded_as_a_new_event_and_shown_as_the_facts_state() -> None:
    followed = _followed()
    _reported(followed)
    _reported(followed, FactKind.SETTLED)
    applied, refused = followed.reported
    followed.record_outcome(fact_id=applied, reason=None, at=T0 + timedelta(minutes=1), owner="civica")
    followed.record_outcome(fact_id=refused, reason="open items: handoff", at=T0, owner="civica")
    names = [type(e).__name__ for e in followed.collect_events()]
    assert names == ["Followed", "FactReported", "FactReported", "FactApplied", "FactRefused"]
    assert [f.shown for f in followed.reported.values()] == ["applied", "refused: open items: handoff"]
    assert followed.reported[applied].state is FactState.APPLIED


def test_only_the_owner_answers_and_its_first_answer_stands() -> None:
    followed = _followed()
    _reported(followed)
    fact_id = followed.last_fact_id
    with pytest.raises(NotPermitted):
        followed.record_outcome(fact_id=fact_id, reason=None, at=T0, owner="fab")
    with pytest.raises(NotFound):
        followed.record_outcome(fact_id=uuid4(), reason=None, at=T0, owner="civica")
    followed.record_outcome(fact_id=fact_id, reason="not entitled", at=T0, owner="civica")
    followed.collect_events()
    followed.record_outcome(fact_id=fact_id, reason=None, at=T0, owner="civica")  # a late, other answer
    assert followed.collect_events() == []
    assert followed.reported[fact_id].shown == "refused: not entitled"


def test_a_history_stored_before_facts_had_ids_gives_each_fact_its_id_on_replay() -> None:
    followed = _followed()
    _reported(followed)
    stored = followed.collect_events()  # Followed, FactReported: all a history of the old shape holds
    replayed = None
    for domain_event in stored:
        replayed = domain_event.mutate(replayed)
    assert isinstance(replayed, FollowedHousehold)
    assert list(replayed.reported) == [reported_fact_id(followed.id, 2)]
