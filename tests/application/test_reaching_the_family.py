"""Reaching the family, under consent: a referral carries the family's contact (and a daycare referral the
child's CPR number) to its receiver only under the household's consent for that purpose, sealed to that
receiver alone; erasing the household erases it everywhere. The demo's six nodes on the in-process
exchange, each organisation with its own store and keys."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from adapters.exchange.envelope import decode
from adapters.exchange.inprocess import InProcessBroker
from coordination.applications.referrals import ReferralDesk
from coordination.domain.household_values import ChildCpr, ContactDetails
from coordination.domain.referral import ReferralKind
from coordination.domain.values import Consent
from coordination.integration import referrals as r
from ops.demo.nodes import JOBCENTRE, demo_nodes
from ops.demo.reference_family import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, the_family, the_move
from ops.demo.reference_scenario import Nodes, bridge_builder, consultant, on

PHONE = "+45 20 30 40 50"
CHILD_CPR = "010222-4006"  # valid in form and date; a made-up child
DAY = date(2026, 7, 20)  # after the move: a daycare referral names the new area


@pytest.fixture
def network(tmp_path: Path) -> Iterator[tuple[Nodes, InProcessBroker]]:
    broker = InProcessBroker()
    nodes = demo_nodes(tmp_path, transport=broker)
    yield nodes, broker
    nodes.close()


def _family_with_contact(nodes: Nodes, *purposes: tuple[str, str]) -> UUID:
    """The reference family at CIVICA, moved, its contact recorded and its consents for `purposes`."""
    civica = nodes.civica
    household = civica.register_household(
        command_id=uuid4(), **the_family(), at=on(date(2026, 6, 2)), by=consultant
    )  # type: ignore[arg-type]
    contact = ContactDetails(
        adult_name="Amal Hassan",
        phone=PHONE,
        language="ar",
        interpreter_needed=True,
        consultant_name="Gitte Kjær",
        consultant_phone="+45 70 11 22 33",
        children_cpr=[ChildCpr(member_id="C4", cpr=CHILD_CPR)],
    )
    civica.record_move(
        command_id=uuid4(), household_id=household, move=the_move(), at=on(date(2026, 7, 16)), by=consultant
    )
    civica.record_contact_details(
        command_id=uuid4(), household_id=household, contact=contact, at=on(DAY, 9), by=consultant
    )
    for recipient, purpose in purposes:
        civica.give_consent(
            command_id=uuid4(),
            household_id=household,
            consent=Consent(recipient=recipient, purpose=purpose, given_on=DAY),
            at=on(DAY, 9),
            by=consultant,
        )
    return household


def _refer(nodes: Nodes, household: UUID, receiver: str, kind: ReferralKind, **more: object) -> UUID:
    return nodes.civica.refer_household(
        command_id=uuid4(),
        household_id=household,
        receiver=receiver,
        kind=kind,
        at=on(DAY, 10),
        by=consultant,
        **more,
    )  # type: ignore[arg-type]


def _daycare(nodes: Nodes, household: UUID) -> UUID:
    return _refer(
        nodes,
        household,
        CHILDREN_AND_YOUTH,
        ReferralKind.DAYCARE_FAST_TRACK,
        child_id="C4",
        needed_from=date(2026, 8, 3),
    )


def test_the_bridge_builder_sees_the_contact_adults_phone_and_the_jobcentre_without_consent_does_not(
    network: tuple[Nodes, InProcessBroker],
) -> None:
    nodes, broker = network
    household = _family_with_contact(nodes, (BRIDGE_BUILDER, "contact_details"), (JOBCENTRE, "jobcentre"))
    to_bridge = _refer(nodes, household, BRIDGE_BUILDER, ReferralKind.BRIDGE_BUILDING)
    to_jobcentre = _refer(nodes, household, JOBCENTRE, ReferralKind.JOBCENTRE)
    nodes.sync()

    at_bridge = nodes.bridge_builder.referral(to_bridge).contact
    assert at_bridge is not None
    assert (at_bridge.adult_name, at_bridge.adult_phone, at_bridge.case_reference) == (
        "Amal Hassan",
        PHONE,
        the_family()["case_reference"],
    )
    assert (at_bridge.language, at_bridge.interpreter_needed, at_bridge.consultant_phone) == (
        "ar",
        True,
        "+45 70 11 22 33",
    )
    assert at_bridge.child_cpr == []  # a child's CPR number goes to a daycare referral only
    jobcentre = _jobcentre(nodes).referral(to_jobcentre)
    assert jobcentre.contact is None
    # On the broker the phone number never travels in the clear: only inside the part sealed to its receiver.
    shared = _on_the_broker(nodes, broker)
    assert [event.referral_id for event in shared] == [to_bridge]
    (message,) = shared
    assert (
        message.contact is None and message.sealed is not None and message.sealed.recipient == BRIDGE_BUILDER
    )
    assert PHONE not in message.model_dump_json()


def test_the_daycare_department_learns_the_childs_cpr_number_only_under_a_consent_for_it(
    network: tuple[Nodes, InProcessBroker],
) -> None:
    nodes, _ = network
    without = _family_with_contact(nodes, (CHILDREN_AND_YOUTH, "contact_details"))
    with_cpr = _family_with_contact(
        nodes, (CHILDREN_AND_YOUTH, "contact_details"), (CHILDREN_AND_YOUTH, "child_cpr")
    )
    plain, registered = _daycare(nodes, without), _daycare(nodes, with_cpr)
    nodes.sync()

    department = nodes.children_and_youth
    plain_contact, registered_contact = (
        department.referral(plain).contact,
        department.referral(registered).contact,
    )
    assert plain_contact is not None and plain_contact.adult_phone == PHONE
    assert plain_contact.child_cpr == []
    assert registered_contact is not None
    assert [(c.member_id, c.cpr) for c in registered_contact.child_cpr] == [("C4", "0102224006")]


def test_after_the_erasure_the_contact_is_gone_at_the_owner_and_at_every_receiver(
    network: tuple[Nodes, InProcessBroker],
) -> None:
    nodes, _ = network
    household = _family_with_contact(
        nodes,
        (BRIDGE_BUILDER, "contact_details"),
        (CHILDREN_AND_YOUTH, "contact_details"),
        (CHILDREN_AND_YOUTH, "child_cpr"),
    )
    to_bridge, to_daycare = (
        _refer(nodes, household, BRIDGE_BUILDER, ReferralKind.BRIDGE_BUILDING),
        _daycare(nodes, household),
    )
    nodes.sync()
    assert nodes.children_and_youth.referral(to_daycare).contact is not None

    nodes.civica.erase_household(
        command_id=uuid4(),
        household_id=household,
        legal_ground="retention ended (test)",
        at=on(DAY, 15),
        by=consultant,
    )
    nodes.sync()

    assert nodes.civica.household(household, today=DAY).contact is None
    for node, referral in (
        (nodes.civica, to_bridge),
        (nodes.civica, to_daycare),
        (nodes.bridge_builder, to_bridge),
        (nodes.children_and_youth, to_daycare),
    ):
        assert node.referral(referral).contact is None, (node.organisation, referral)


def test_a_referral_redirected_reaches_its_new_receiver_without_the_familys_contact(
    network: tuple[Nodes, InProcessBroker],
) -> None:
    nodes, _ = network
    household = _family_with_contact(
        nodes, (BRIDGE_BUILDER, "contact_details"), (JOBCENTRE, "contact_details")
    )
    referral = _refer(nodes, household, BRIDGE_BUILDER, ReferralKind.BRIDGE_BUILDING)
    nodes.sync()
    nodes.bridge_builder.acknowledge_referral(
        command_id=uuid4(), referral_id=referral, at=on(DAY, 11), by=bridge_builder
    )
    nodes.bridge_builder.redirect_referral(
        command_id=uuid4(),
        referral_id=referral,
        to=JOBCENTRE,
        reason="work first: the mother asks for a job",
        consent=Consent(recipient=JOBCENTRE, purpose="bridge_building", given_on=DAY),
        at=on(DAY, 12),
        by=bridge_builder,
    )
    nodes.sync()

    assert _jobcentre(nodes).referral(referral).contact is None


def _jobcentre(nodes: Nodes) -> ReferralDesk:
    return next(node for node in nodes.all() if node.organisation == JOBCENTRE)


def _on_the_broker(nodes: Nodes, broker: InProcessBroker) -> list[r.ReferralContactShared]:
    assert nodes.exchange is not None
    topics = sorted({t for node in nodes.exchange.nodes for t in node.subscribed})  # type: ignore[attr-defined]
    subscription = broker.subscribe(topics, group="observer")
    events = []
    for _ in range(1_000):
        found = subscription.poll(0.0)
        if not found:
            break
        events += [decode(message).event for message in found]
    return [event for event in events if isinstance(event, r.ReferralContactShared)]


def test_a_withdrawn_consent_takes_back_what_was_shared_under_it_at_the_receiver(
    network: tuple[Nodes, InProcessBroker],
) -> None:
    nodes, _ = network
    household = _family_with_contact(
        nodes,
        (BRIDGE_BUILDER, "contact_details"),
        (CHILDREN_AND_YOUTH, "contact_details"),
        (CHILDREN_AND_YOUTH, "child_cpr"),
    )
    to_bridge = _refer(nodes, household, BRIDGE_BUILDER, ReferralKind.BRIDGE_BUILDING)
    to_daycare = _daycare(nodes, household)
    nodes.sync()

    for recipient, purpose in ((CHILDREN_AND_YOUTH, "child_cpr"), (BRIDGE_BUILDER, "contact_details")):
        nodes.civica.withdraw_consent(
            command_id=uuid4(),
            household_id=household,
            recipient=recipient,
            purpose=purpose,
            at=on(DAY, 16),
            by=consultant,
        )
    nodes.sync()

    at_department = nodes.children_and_youth.referral(to_daycare).contact
    assert at_department is not None and at_department.adult_phone == PHONE  # its consent for contact stands
    assert at_department.child_cpr == []
    assert nodes.bridge_builder.referral(to_bridge).contact is None
    assert nodes.civica.referral(to_bridge).contact is None
    # The referrals themselves go on: they rest on the consents for their purposes, not withdrawn.
    assert nodes.bridge_builder.referral(to_bridge).status == "sent"
