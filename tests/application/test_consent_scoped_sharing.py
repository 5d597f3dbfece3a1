"""Consent-scoped sharing: each recipient gets what is on its allow-list, and nothing after a withdrawal.

Messages are read where they are made, the node's Outbound (the relay's mapping, before encoding), over
the node's whole log: what it returns is exactly what the exchange would publish.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from uuid import UUID, uuid4

import pytest

from adapters.exchange.envelope import decode
from adapters.exchange.inprocess import InProcessBroker
from adapters.exchange.key_directory import ExchangeOpener, InProcessKeyDirectory
from adapters.exchange.keys import KeyNotShared
from coordination.applications.household_desk import CONSENT_WITHDRAWN
from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.errors import ConsentMissing
from coordination.domain.household import Household
from coordination.domain.personal_fields import ERASED
from coordination.domain.referral import ChildFacts, ReferralDetails, ReferralKind
from coordination.domain.values import Consent, YearMonth
from coordination.integration import referrals as r
from coordination.integration.allow_lists import ALLOWED, DETAILS, NEEDS, NotAllowed, restrict
from coordination.integration.events import Addressed
from coordination.integration.outbound import Outbound
from coordination.integration.personal import personal_fields
from coordination.integration.topics import Topics
from ops.demo.reference_scenario import (
    BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH,
    CIVICA,
    KVINFO,
    Nodes,
    bridge_builder,
    consultant,
    on,
    play,
)
from tests.exchange_support import reference_nodes

TOPICS = Topics()


@pytest.fixture
def broker() -> InProcessBroker:
    return InProcessBroker()


@pytest.fixture
def nodes(broker: InProcessBroker) -> Iterator[Nodes]:
    built = reference_nodes(broker)
    yield built
    built.close()


def published(app: object, after: int = 0) -> list[tuple[int, Addressed]]:
    """Every message the node's outbound makes from its log after `after`, with the notification id."""
    outbound = Outbound(app, TOPICS)  # type: ignore[arg-type]
    recorder = app.recorder  # type: ignore[attr-defined]
    notifications = recorder.select_notifications(start=after, limit=10_000, inclusive_of_start=False)
    return [(n.id, m) for n in notifications for m in outbound(app.mapper.to_domain_event(n))]  # type: ignore[attr-defined]


def carried(event: object) -> set[str]:
    # False too: a referral that is not urgent says nothing (ReferralDetails.urgent).
    return {name for name, value in vars(event).items() if value not in (None, [], "", False)}


def test_every_message_of_the_reference_scenario_carries_only_what_its_recipient_may_get(
    nodes: Nodes,
) -> None:
    play(nodes)
    seen: set[str] = set()
    for node in nodes.all():
        for _, message in published(node):
            event = message.event
            allowed = set().union(*ALLOWED[event.event_type].values())
            assert carried(event) <= allowed, f"{event.event_type} carried {carried(event) - allowed}"
            seen.add(event.event_type)
            if isinstance(event, r.ReferralSent):
                kind = ReferralKind(event.kind)
                assert carried(event.details) <= DETAILS[kind], kind
                assert set(event.details.needs) <= NEEDS[kind], kind
                assert message.topic == TOPICS.referrals(event.receiver)
    assert {
        "dk.rehousing.referral.sent.v1",
        "dk.rehousing.vacancy.published.v1",
        "dk.rehousing.household.child_enrolled.v2",
    } <= seen


def test_on_the_wire_the_allowed_personal_fields_are_sealed_and_only_their_recipient_opens_them(
    nodes: Nodes, broker: InProcessBroker
) -> None:
    play(nodes)
    exchange = nodes.exchange
    assert exchange is not None
    topics = sorted({topic for node in exchange.nodes for topic in node.subscribed})
    subscription = broker.subscribe(topics, group="observer")
    messages = []
    while found := subscription.poll(0.0):
        messages += found
    opened = 0
    for message in messages:
        received = decode(message)
        event = received.event
        personal = personal_fields(type(event))
        if event.sealed is None:
            # Nothing personal in it, or nothing personal set (an empty note, no consent).
            assert all(getattr(event, name) in (None, "", [], ERASED) for name in personal) or not personal
            continue
        assert set(event.sealed.fields) <= personal
        (recipient,) = [node.organisation for node in exchange.nodes if message.topic in node.subscribed]
        assert event.sealed.owner == received.source.rsplit(":", 1)[1]
        # The recipient opens them with the sender's key (obtained outside Kafka), and what it reads is
        # still only what its allow-list lets it have.
        clear = ExchangeOpener(InProcessKeyDirectory(recipient, exchange.key_owners))(event)
        allowed = set().union(*ALLOWED[event.event_type].values())
        assert carried(clear) <= allowed
        if isinstance(clear, r.ReferralSent):
            kind = ReferralKind(clear.kind)
            assert carried(clear.details) <= DETAILS[kind], kind
            assert set(clear.details.needs) <= NEEDS[kind], kind
        # An organisation it was never sent to is not given the key.
        (owner,) = [node for node in exchange.nodes if node.organisation == event.sealed.owner]
        strangers = [
            node.organisation
            for node in exchange.nodes
            if node is not owner
            and not owner.exchange_keys.is_recipient(event.sealed.household_id, node.organisation)
        ]
        assert strangers
        with pytest.raises(KeyNotShared):
            InProcessKeyDirectory(strangers[0], exchange.key_owners).key(
                event.sealed.owner, event.sealed.household_id
            )
        opened += 1
    assert opened >= 5


def test_no_event_of_the_reference_scenario_said_to_publish_nothing_becomes_a_message(nodes: Nodes) -> None:
    play(nodes)
    silent = 0
    for node in nodes.all():
        outbound = Outbound(node, TOPICS)  # type: ignore[arg-type]
        for notification in node.recorder.select_notifications(start=1, limit=10_000):
            event = node.mapper.to_domain_event(notification)
            if not outbound.may_publish(event):
                silent += 1
                assert outbound(event) == [], type(event).__qualname__
    assert silent > 0  # the receipts and mirrors at least


def test_the_daycare_allocator_receives_one_child_the_date_and_the_area_only() -> None:
    over_shared = ReferralDetails(
        children=[ChildFacts(member_id="C4", birth_month=YearMonth(year=2022, month=2))],
        needs=["mental_health", "daycare"],
        needed_from=date(2026, 8, 3),
        language="arabic",
        household_size=5,
    )
    sent = r.ReferralSent(
        referral_id=uuid4(),
        referrer=CIVICA,
        receiver=CHILDREN_AND_YOUTH,
        kind=ReferralKind.DAYCARE_FAST_TRACK,
        household_id=uuid4(),
        details=over_shared,
        consent=None,
        legal_basis="Dagtilbudsloven § 4",
        acknowledge_by=on(date(2026, 6, 25)),
        complete_by=on(date(2026, 8, 3)),
        at=on(date(2026, 6, 22)),
        by=consultant,
    )
    restricted = restrict(sent, "daycare_fast_track")
    assert isinstance(restricted, r.ReferralSent)
    assert carried(restricted.details) == {"children", "needed_from"}
    school = restrict(sent.model_copy(update={"kind": ReferralKind.SCHOOL_CHANGE}), "school_change")
    assert school.details.needs == []  # type: ignore[attr-defined]
    assert school.details.language == "arabic"  # type: ignore[attr-defined]


def test_an_event_type_or_recipient_without_an_allow_list_is_refused() -> None:
    step = r.ReferralAcknowledged(referral_id=uuid4(), at=on(date(2026, 6, 23)), by=consultant)
    assert restrict(step, "referrer") is step
    with pytest.raises(NotAllowed, match="vacancy_pool"):
        restrict(step, "vacancy_pool")


def test_a_referral_whose_consent_names_another_purpose_is_withheld(nodes: Nodes) -> None:
    household = uuid4()
    wrong_purpose = Consent(recipient=KVINFO, purpose="bridge_building", given_on=date(2026, 6, 2))
    nodes.bridge_builder.send_referral(
        command_id=uuid4(),
        receiver=KVINFO,
        kind=ReferralKind.JOBCENTRE,
        household_id=household,
        details=ReferralDetails(),
        consent=wrong_purpose,
        at=on(date(2026, 8, 1)),
        by=bridge_builder,
    )
    assert published(nodes.bridge_builder) == []


def _household_id(civica: HousingOrganisationApp) -> UUID:
    [household] = {
        n.originator_id
        for n in civica.recorder.select_notifications(start=1, limit=1000)
        if n.topic.endswith("Household.Registered")
    }
    return household


def test_withdrawing_consent_withdraws_the_open_referral_and_nothing_more_goes_to_that_recipient(
    nodes: Nodes,
) -> None:
    civica = nodes.civica
    play_until_offer(nodes)
    household = _household_id(civica)
    [bridge] = {e.aggregate_id for e in civica.history(household) if e.aggregate == "Referral"}
    before = civica.recorder.max_notification_id()

    civica.withdraw_consent(
        command_id=uuid4(),
        household_id=household,
        recipient=BRIDGE_BUILDER,
        purpose="bridge_building",
        at=on(date(2026, 6, 17)),
        by=consultant,
    )
    nodes.sync()

    assert civica.referral(bridge).status == "withdrawn"
    assert nodes.bridge_builder.referral(bridge).status == "withdrawn"  # its copy is closed too
    after = published(civica, after=before)
    to_bridge = [m.event for _, m in after if m.topic == TOPICS.referrals(BRIDGE_BUILDER)]
    assert [type(e).__name__ for e in to_bridge] == ["ReferralWithdrawn"]
    assert to_bridge[0].reason == CONSENT_WITHDRAWN  # type: ignore[attr-defined]
    # No household data: the reason's code is from a list, its words sealed (personal.py).
    assert carried(to_bridge[0]) == {"referral_id", "reason", "reason_code", "at", "by"}

    # From now on nothing about the household can go to the bridge builder, neither referral nor handoff.
    with pytest.raises(ConsentMissing, match=BRIDGE_BUILDER):
        civica.refer_household(
            command_id=uuid4(),
            household_id=household,
            receiver=BRIDGE_BUILDER,
            kind=ReferralKind.BRIDGE_BUILDING,
            at=on(date(2026, 6, 18)),
            by=consultant,
        )
    stored = civica.repository.get(household)
    assert isinstance(stored, Household)
    assert not stored.has_consent(BRIDGE_BUILDER, "bridge_building")
    # The department's consents are untouched: a daycare referral still goes out.
    civica.refer_household(
        command_id=uuid4(),
        household_id=household,
        receiver=CHILDREN_AND_YOUTH,
        kind=ReferralKind.DAYCARE_FAST_TRACK,
        child_id="C4",
        needed_from=date(2026, 8, 3),
        at=on(date(2026, 6, 22)),
        by=consultant,
    )
    later = [m for _, m in published(civica, after=before)]
    assert [type(m.event).__name__ for m in later if m.topic == TOPICS.referrals(BRIDGE_BUILDER)] == [
        "ReferralWithdrawn"
    ]
    assert any(m.topic == TOPICS.referrals(CHILDREN_AND_YOUTH) for m in later)


class _StopAfterOffer(Exception):
    pass


def play_until_offer(nodes: Nodes) -> None:
    """The reference scenario up to the offer: the bridge referral is accepted and open."""

    def stop(chapter: str, *_: object) -> None:
        if chapter == "offer made":
            raise _StopAfterOffer

    with pytest.raises(_StopAfterOffer):
        play(nodes, stop)
