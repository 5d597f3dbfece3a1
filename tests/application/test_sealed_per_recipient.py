"""Sealed per recipient (docs/design.md §4): what one organisation was sent opens for that organisation
alone. The reference family's network on the demo's six nodes (CIVICA, FAB, the bridge builder, the
children and youth department, the jobcentre, KVINFO); every message on every topic is tried with every
key each other organisation can obtain from any owner, under any name."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest

from adapters.exchange.envelope import decode
from adapters.exchange.inprocess import InProcessBroker
from adapters.exchange.key_directory import InProcessKeyDirectory, KeyOwners
from adapters.exchange.keys import KeyNotShared, KeyUnavailable, SealBroken, open_sealed
from coordination.domain.referral_values import ReferralDetails, ReferralKind
from coordination.domain.values import Consent
from coordination.integration import referrals as r
from coordination.integration.events import IntegrationEvent
from ops.demo.nodes import DEMO_ROLES, FAB, JOBCENTRE, demo_nodes
from ops.demo.reference_scenario import (
    BRIDGE_BUILDER,
    CIVICA,
    Nodes,
    bridge_builder,
    consultant,
    on,
    play,
)

ORGANISATIONS = list(DEMO_ROLES)


@pytest.fixture
def network(tmp_path: Path) -> Iterator[tuple[Nodes, InProcessBroker]]:
    broker = InProcessBroker()
    nodes = demo_nodes(tmp_path, transport=broker)
    yield nodes, broker
    nodes.close()


def _referred_to_the_jobcentre_twice(nodes: Nodes, household: UUID) -> None:
    """CIVICA refers the family to the jobcentre; later the bridge builder does too (it learns more)."""
    nodes.civica.give_consent(
        command_id=UUID(int=1),
        household_id=household,
        consent=Consent(recipient=JOBCENTRE, purpose="jobcentre", given_on=date(2026, 9, 1)),
        at=on(date(2026, 9, 1)),
        by=consultant,
    )
    nodes.civica.refer_household(
        command_id=UUID(int=2),
        household_id=household,
        receiver=JOBCENTRE,
        kind=ReferralKind.JOBCENTRE,
        at=on(date(2026, 9, 2)),
        by=consultant,
    )
    nodes.bridge_builder.send_referral(
        command_id=UUID(int=3),
        receiver=JOBCENTRE,
        kind=ReferralKind.JOBCENTRE,
        household_id=household,
        details=ReferralDetails(needs=["interpreter"], language="arabic", note="Prefers mornings"),
        consent=Consent(recipient=JOBCENTRE, purpose="jobcentre", given_on=date(2026, 9, 1)),
        at=on(date(2026, 9, 3)),
        by=bridge_builder,
    )
    nodes.sync()


def _sealed_messages(nodes: Nodes, broker: InProcessBroker) -> list[IntegrationEvent]:
    assert nodes.exchange is not None
    topics = sorted({t for node in nodes.exchange.nodes for t in node.subscribed})  # type: ignore[attr-defined]
    subscription = broker.subscribe(topics, group="observer")
    events = []
    for _ in range(1_000):
        found = subscription.poll(0.0)
        if not found:
            break
        events += [decode(message).event for message in found]
    return [event for event in events if event.sealed is not None]


def _obtainable(owners: KeyOwners, organisation: str, households: set[UUID]) -> set[bytes]:
    """Every key `organisation`'s token gets from any node: of any household, asked under any name."""
    directory = InProcessKeyDirectory(organisation, owners)
    keys = set()
    for owner in ORGANISATIONS:
        for household in households:
            for sealed_for in [*ORGANISATIONS, None]:
                try:
                    key = directory.key(owner, household, sealed_for)
                except (KeyNotShared, KeyUnavailable):
                    continue
                if key is not None:
                    keys.add(key)
    return keys


def test_no_key_obtainable_with_one_organisations_token_opens_what_was_sent_only_to_another(
    network: tuple[Nodes, InProcessBroker],
) -> None:
    nodes, broker = network
    ids = play(nodes)
    _referred_to_the_jobcentre_twice(nodes, ids.household)
    sealed = _sealed_messages(nodes, broker)
    owners = nodes.exchange.key_owners  # type: ignore[union-attr]
    households = {event.sealed.household_id for event in sealed if event.sealed is not None}
    obtainable = {org: _obtainable(owners, org, households) for org in ORGANISATIONS}
    recipients = {event.sealed.recipient for event in sealed if event.sealed is not None}
    assert {BRIDGE_BUILDER, CIVICA, JOBCENTRE} <= recipients
    pairs: set[tuple[str, str]] = set()
    for event in sealed:
        assert event.sealed is not None and event.sealed.recipient is not None
        recipient = event.sealed.recipient
        # Its recipient opens it ...
        own = InProcessKeyDirectory(recipient, owners)
        opened = open_sealed(event, own.key(event.sealed.owner, event.sealed.household_id, recipient))
        assert opened != event.model_copy(update={"sealed": None})
        # ... and no other organisation with any key it can obtain (most hold keys of the household).
        for organisation in ORGANISATIONS:
            if organisation == recipient:
                continue
            for key in obtainable[organisation]:
                with pytest.raises(SealBroken):
                    open_sealed(event, key)
            pairs.add((organisation, recipient))
    # Finding W1: the jobcentre holds CIVICA's key of the household (for what CIVICA sent it), and the
    # bridge builder's referral from CIVICA, with all its needs, does not open under it.
    assert owners.of(CIVICA).release(ids.household, JOBCENTRE, JOBCENTRE) in obtainable[JOBCENTRE]
    assert any(
        isinstance(event, r.ReferralSent) and event.receiver == BRIDGE_BUILDER and event.referrer == CIVICA
        for event in sealed
    )
    assert all(obtainable[org] for org in recipients)
    assert {(JOBCENTRE, BRIDGE_BUILDER), (BRIDGE_BUILDER, JOBCENTRE), (FAB, CIVICA)} <= pairs
    assert len(pairs) == (len(ORGANISATIONS) - 1) * len(recipients)
