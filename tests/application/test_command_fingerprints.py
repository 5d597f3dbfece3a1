"""A command's fingerprint is part of its stored receipt: the same call must give the same fingerprint in
every version, or a retry of a command handled before the upgrade is refused as `CommandIdReused`.

The pinned digests were computed by the code before the commands derived their fingerprints from the
call (each restated its arguments in a dict of its own then). Receipts stored since fingerprints were keyed
keep the digest keyed under the household's key (coordination/applications/fingerprints.py); the digest
itself, which old receipts hold and a repeat is keyed from, must stay the same: the story here stores it
unkeyed, as the receipts before did.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

import pytest

from adapters.eventstore.storage import ShreddingStorage
from coordination.applications import fingerprints
from coordination.applications.base import NodeApplication, derived_id
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp, MunicipalDepartmentApp
from coordination.domain.follow_up import FactKind, HouseholdFact
from coordination.domain.household import Enrolment, InstitutionKind
from coordination.domain.referral import Referral, ReferralKind
from coordination.domain.values import Actor, Consent, DeclinedBy, Role
from tests.application.builders import (
    ALLOCATOR,
    BRIDGE,
    BRIDGE_BUILDER,
    CIVICA,
    CONSULTANT,
    CPR,
    DAYCARE,
    JOBCENTRE,
    ODENSE_C,
    SCHOOLS,
    at,
    dwelling,
    local_contact,
    register_family,
    the_move,
)

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}

# command id name → (command, fingerprint), as the code before @command stored them.
PINNED = {
    "accept": ("accept_offer", "4693c065a772dfe1930ff31384af3d9fa2385c5528641d9338520a2b92b262db"),
    "acknowledge": (
        "acknowledge_referral",
        "dbaa241f0f83953fd71d114d009443a8e8b1530af62b96de981532bb9c18a662",
    ),
    "activate_link": (
        "activate_support_link",
        "d4b4d8eb06f994764f33e2f5663e863587dac83ded42666bde7ee43880c047fa",
    ),
    "bridge_building": (
        "start_bridge_building",
        "4d054927db58b4d4aa224b219eb8263a0f2731c604f1c101a7c706a1b063394d",
    ),
    "consent": ("give_consent", "62a2055cee36c9ee386700a26671a7dcb54fd1452c7b3f33ba9650d7f0e2b7e3"),
    "contact": ("record_contact_person", "74e9b4e8bd822350a151c8d7587ff494ceac618e2cc2ce665413e03066ad4a95"),
    "contact_ended": (
        "end_contact_person",
        "42ea0ac4c819c26f0b0444107ab68fa9b7f50acf034c95896f4645b2b17804c4",
    ),
    "decline": ("decline_offer", "465f0521a6f79cf00fce9d6e4ee5d053b8ccf3ec567c5c87b0002417a0f55e02"),
    "decline_referral": (
        "decline_referral",
        "2b1cca047bd0d858561e610656f75379bf86909d0613161748441ba535837a54",
    ),
    "end_link": ("end_support_link", "b4b1db941a84eb08b1aba28da18e1eaf3caaebe951b7756b95160f7aca25e5d4"),
    "enrolment": ("record_enrolment", "f643c43d6a5e34ccb05431c8468cc0623ec40e0e8089093c60242a845e3b9efa"),
    "erase": ("erase_household", "f5f98ddc8db36a1ba17280de20159ada3e94d73e65cc2a6ee6a84e0b542f6f76"),
    "expire_offer": ("expire_offer", "a321b6f1c93c4edeadf63e57105a889789ae61e32569d3dfcfa8a2ffa8d3febd"),
    "expire_referral": (
        "expire_referral",
        "73a0b32c7999b214f46cb9889020859b215aba27c6fc4456b3973485cd2a34a3",
    ),
    "fact": ("report_household_fact", "b149dc12acea930be9fa80b436c7025faa0faeef7272f4a5fcd27a6ab4166fda"),
    "first_contact": (
        "record_first_contact",
        "9ecf4688fc8d76e1ef7a36a48a7a378b512a09e708729a456debbdb06a8fcf14",
    ),
    "in_error": (
        "mark_referral_entered_in_error",
        "10bd2b7906d7844d7382756e353b40f4fc70c0d4457fed1e577d4757e6390c34",
    ),
    "mirror_expired": (
        "mirror_vacancy_offer_expired",
        "091a8d0b46acc295962b600c6ad2bc8971329db0bd0e807ae1cd1a15dccd0109",
    ),
    "mirror_published": (
        "mirror_vacancy_published",
        "f34c4442ab2b09289661dfa6b3bb48bb19f12e836cb8853997510a4d756e6c45",
    ),
    "mirror_reserved": (
        "mirror_vacancy_reserved",
        "8d7dc0ab0ec3fe00997a14064fd7cf37c7cb8f10cd7985b30d18e85864109fd9",
    ),
    "mirror_withdrawn": (
        "mirror_vacancy_withdrawn",
        "ca4a27a769f1417cd5b8b08c23af48aa26d78900bfe1b7275cd079056a40f985",
    ),
    "move": ("record_move", "2217caa266cf40873fb037bd6676fc89276f68bcbef7bddcf1082fba7cf9df59"),
    "no_help": (
        "record_no_longer_asks_for_help",
        "a8b7d0ae0a80c3c5fc0d42ba4d877d80c3b1233cafccefaa779ab2eda78f6df0",
    ),
    "offer_0": ("make_offer", "cfca9c1e0f855e82b539519e154cfc0fbabaa27f0d5961586979df09589907d5"),
    "offer_1": ("make_offer", "4b44236850df2aa3436ba85a6db645c36233e1cf10f860755a1add6bc3171572"),
    "offer_2": ("make_offer", "d0fe342337a66a5f13d42e6b872590d119ea282bc33610c9e5b5a26362a6f8ea"),
    "override": (
        "override_referral_decline",
        "2db7783149d8696d3a03f1698ad6b726e8c682de05fe1d0a2124659bbc4be685",
    ),
    "practical": (
        "record_practical_matters_in_order",
        "e330cb19738d76dca67bfab4b8260ce49efeaa5402c1c492a1aa9ab0239acef1",
    ),
    "propose_link": (
        "propose_support_link",
        "f91a06b6f308e85554cc173db5e4ea0b779a8d38f3a584f7c6199a20e4780115",
    ),
    "publish_0": ("publish_vacancy", "fd47671c9f6a5eeeeade871deb0b9867b15f00eeea3292d02c00c11c88b0d5cf"),
    "redirect": ("redirect_referral", "ba1d9706aebfd5f3f1caddb3687345ef93b933285338359b71285540bc16a4aa"),
    "refer": ("refer_household", "8b22285eee1053fa7d63fc7b49928af452d70a1cf028aa0811e484d7cedb2f7b"),
    "refer_again": ("refer_household", "9a24e9884fbd5fa0122840fff7fa67954b29197e974d5baacbb883b45d0ef3b2"),
    "register": ("register_household", "7065bd33c2651129269c2c7cfae7fb2bcf0278835b0ba2985e0b69ebfec99714"),
    "send": ("send_referral", "c2d2633bda8d56f93c405285b82bdd5459035d7157275df7cfa54ff7f535254f"),
    "tasks": ("record_tasks_found", "d8920bf0db782c969179fa20f77f1027f269aeb391fb09103c0200482b3f70df"),
    "tour": ("record_inspiration_tour", "ef548d9d7359539ea95bb2199a2bc3effd7e189634c5c391159902ac3cf73046"),
    "visit": ("record_follow_up_visit", "57e304c25806d681805796cdeb1ec6d135e010113444f3e0a8572638d719344e"),
    "withdraw_consent": (
        "withdraw_consent",
        "bcc43d8ae964287b402bdf8b9884b0fb207dc84b3deab5062fa33decbcc1b0f1",
    ),
    "withdraw_referral": (
        "withdraw_referral",
        "c9cdd06d48d2fbd52525340517103a0d19073b0461f504bb38bfd0ebed2a3ea5",
    ),
    "withdraw_vacancy": (
        "withdraw_vacancy",
        "6ae6893a63fa83f0d3b2b56c2b7b3f9e9318c9a6d49121ca92b8ddf018e3cb71",
    ),
}


def command_id(name: str) -> UUID:
    """Fixed command ids, so the fingerprints (and the ids derived from them) are the same every run."""
    return uuid5(NAMESPACE_URL, f"urn:test:fingerprints:{name}")


def _stored(app: NodeApplication, name: str) -> tuple[str, str]:
    receipt = app._receipt(derived_id("command", command_id(name)))
    assert receipt is not None, name
    return receipt.command, receipt.fingerprint


@pytest.fixture
def apps(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[HousingOrganisationApp, BridgeBuilderApp, MunicipalDepartmentApp]]:
    # Receipts as they were stored before fingerprints were keyed: the plain digest.
    monkeypatch.setattr(fingerprints, "kept", lambda plain, household_id, keys: plain)
    housing = HousingOrganisationApp(
        storage=ShreddingStorage(), organisation=CIVICA, env=MEMORY, cpr_secret=b"k" * 32
    )
    bridge = BridgeBuilderApp(storage=ShreddingStorage(), organisation=BRIDGE, env=MEMORY)
    department = MunicipalDepartmentApp(storage=ShreddingStorage(), organisation=DAYCARE, env=MEMORY)
    yield housing, bridge, department
    for app in (housing, bridge, department):
        app.close()


def _story(
    housing: HousingOrganisationApp, bridge: BridgeBuilderApp, department: MunicipalDepartmentApp
) -> dict[str, tuple[str, str]]:
    """Runs one call of each command the story reaches, with fixed ids and times; their stored receipts."""
    c, by = command_id, CONSULTANT
    household = register_family(housing, command_id=c("register"), cpr=CPR)
    housing.record_first_contact(command_id=c("first_contact"), household_id=household, at=at(1), by=by)
    housing.record_inspiration_tour(
        command_id=c("tour"), household_id=household, areas=["Odense C", "Bolbro"], at=at(1), by=by
    )
    housing.record_tasks_found(
        command_id=c("tasks"), household_id=household, tasks=("gardening",), at=at(1), by=by
    )
    housing.start_bridge_building(command_id=c("bridge_building"), household_id=household, at=at(1), by=by)
    consent = Consent(recipient="odense-skoler", purpose="school_change", given_on=date(2026, 5, 30))
    housing.give_consent(command_id=c("consent"), household_id=household, consent=consent, at=at(1), by=by)
    housing.withdraw_consent(
        command_id=c("withdraw_consent"),
        household_id=household,
        recipient="odense-skoler",
        purpose="school_change",
        at=at(1, 5),
        by=by,
    )
    referral = housing.refer_household(
        command_id=c("refer"),
        household_id=household,
        receiver=JOBCENTRE,
        kind=ReferralKind.JOBCENTRE,
        at=at(1, 10),
        by=by,
    )
    housing.withdraw_referral(
        command_id=c("withdraw_referral"), referral_id=referral, reason="moved", at=at(1, 20), by=by
    )
    expiring = housing.refer_household(
        command_id=c("refer_again"),
        household_id=household,
        receiver=JOBCENTRE,
        kind=ReferralKind.JOBCENTRE,
        note="soon",
        at=at(1, 30),
        by=by,
    )
    housing.expire_referral(command_id=c("expire_referral"), referral_id=expiring, at=at(40))

    vacancies = [
        housing.publish_vacancy(command_id=c(f"publish_{n}"), dwelling=dwelling(), at=at(2), by=by)
        for n in range(4)
    ]
    housing.withdraw_vacancy(
        command_id=c("withdraw_vacancy"), vacancy_id=vacancies[3], reason="sold", at=at(2), by=by
    )
    declined = housing.make_offer(
        command_id=c("offer_0"), household_id=household, vacancy_id=vacancies[0], at=at(3), by=by
    )
    housing.decline_offer(
        command_id=c("decline"),
        household_id=household,
        offer_id=declined,
        declined_by=DeclinedBy.HOUSEHOLD,
        reason="too far",
        at=at(3, 5),
        by=by,
    )
    expired = housing.make_offer(
        command_id=c("offer_1"),
        household_id=household,
        vacancy_id=vacancies[1],
        expires_at=at(4),
        at=at(3, 10),
        by=by,
    )
    housing.expire_offer(command_id=c("expire_offer"), household_id=household, offer_id=expired, at=at(5))
    accepted = housing.make_offer(
        command_id=c("offer_2"), household_id=household, vacancy_id=vacancies[2], at=at(6), by=by
    )
    housing.accept_offer(
        command_id=c("accept"), household_id=household, offer_id=accepted, at=at(6, 5), by=by
    )
    handoff = housing.record_move(
        command_id=c("move"), household_id=household, move=the_move(), hand_off_to=BRIDGE, at=at(7), by=by
    )
    assert handoff is not None
    housing.acknowledge_referral(
        command_id=c("acknowledge"), referral_id=handoff, at=at(7, 5), by=BRIDGE_BUILDER
    )
    housing.record_follow_up_visit(
        command_id=c("visit"), household_id=household, visited_on=date(2026, 9, 20), at=at(120), by=by
    )
    housing.record_practical_matters_in_order(
        command_id=c("practical"), household_id=household, note="bills paid", at=at(120), by=by
    )
    housing.record_no_longer_asks_for_help(command_id=c("no_help"), household_id=household, at=at(120), by=by)

    housing.record_enrolment(
        command_id=c("enrolment"),
        household_id=household,
        enrolment=Enrolment(
            member_id="C2",
            institution_kind=InstitutionKind.DAYCARE,
            institution="Ejerslykke",
            starts_on=date(2026, 9, 1),
        ),
        at=at(120),
        by=by,
    )
    contact = derived_id("test", "contact person link")
    housing.record_contact_person(
        command_id=c("contact"), household_id=household, link_id=contact, place=ODENSE_C, at=at(120), by=by
    )
    housing.end_contact_person(
        command_id=c("contact_ended"), household_id=household, link_id=contact, at=at(121), by=by
    )
    sent = department.send_referral(
        command_id=c("send"),
        receiver=JOBCENTRE,
        kind=ReferralKind.JOBCENTRE,
        household_id=derived_id("test", "the department's handle"),
        details=housing._get(Referral, referral, "referral").details,
        legal_basis="Serviceloven § 12",
        at=at(2),
        by=ALLOCATOR,
    )
    department.decline_referral(
        command_id=c("decline_referral"),
        referral_id=sent,
        declined_by=DeclinedBy.HOUSEHOLD,
        reason="not now",
        at=at(3),
        by=ALLOCATOR,
    )
    coordinator = Actor(organisation=DAYCARE, person="k-1", role=Role.COORDINATOR)
    department.override_referral_decline(
        command_id=c("override"), referral_id=sent, reason="asked again", at=at(4), by=coordinator
    )
    receiver = Actor(organisation=JOBCENTRE, person="jc-1", role=Role.REHOUSING_CONSULTANT)
    department.redirect_referral(
        command_id=c("redirect"), referral_id=sent, to=SCHOOLS, reason="not ours", at=at(5), by=receiver
    )
    department.mark_referral_entered_in_error(
        command_id=c("in_error"), referral_id=sent, reason="wrong family", at=at(6), by=ALLOCATOR
    )

    link = bridge.propose_support_link(
        command_id=c("propose_link"),
        household_id=household,
        offer=local_contact(),
        at=at(9),
        by=BRIDGE_BUILDER,
    )
    bridge.activate_support_link(command_id=c("activate_link"), link_id=link, at=at(9, 5), by=BRIDGE_BUILDER)
    bridge.end_support_link(
        command_id=c("end_link"), link_id=link, reason="done", at=at(9, 10), by=BRIDGE_BUILDER
    )
    bridge.report_household_fact(
        command_id=c("fact"),
        household_id=household,
        owner=CIVICA,
        fact=HouseholdFact(kind=FactKind.NO_LONGER_ASKS_FOR_HELP),
        at=at(9),
        by=BRIDGE_BUILDER,
    )

    mirrored = derived_id("test", "mirrored vacancy")
    offer = derived_id("test", "mirrored offer")
    department.mirror_vacancy_published(
        command_id=c("mirror_published"),
        vacancy_id=mirrored,
        owner=CIVICA,
        dwelling=dwelling(),
        at=at(2),
        by=by,
    )
    department.mirror_vacancy_reserved(
        command_id=c("mirror_reserved"),
        vacancy_id=mirrored,
        offer_id=offer,
        expires_at=at(4),
        at=at(3),
        by=by,
    )
    department.mirror_vacancy_offer_expired(
        command_id=c("mirror_expired"), vacancy_id=mirrored, offer_id=offer, at=at(5)
    )
    department.mirror_vacancy_withdrawn(
        command_id=c("mirror_withdrawn"), vacancy_id=mirrored, reason="sold", at=at(6), by=by
    )
    housing.erase_household(
        command_id=c("erase"), household_id=household, legal_ground="art. 17(1)(a)", at=at(130), by=by
    )
    elsewhere = {
        **dict.fromkeys(("propose_link", "activate_link", "end_link", "fact"), bridge),
        **dict.fromkeys(("send", "decline_referral", "override", "redirect", "in_error"), department),
        **dict.fromkeys(
            ("mirror_published", "mirror_reserved", "mirror_expired", "mirror_withdrawn"), department
        ),
    }
    return {name: _stored(elsewhere.get(name, housing), name) for name in PINNED}


def test_each_command_stores_the_fingerprint_it_stored_before_the_fingerprints_were_derived_from_the_call(
    apps: tuple[HousingOrganisationApp, BridgeBuilderApp, MunicipalDepartmentApp],
) -> None:
    assert _story(*apps) == PINNED
