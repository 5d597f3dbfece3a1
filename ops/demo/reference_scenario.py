"""The reference scenario of docs/design.md §6 (Odense, 2023 report), played through the organisations' applications.

A single mother with four children (16, 12, 10 and 4) is rehoused by CIVICA from Vollsmose to central
Odense; the bridge builder holds the family from the move until the bridge holds. Each organisation is its
own node with its own store; what crosses between them travels over the exchange (`Nodes.exchange`),
which is settled after each step another organisation must hear about. The family, its dwelling and its
move are written once, in `ops.demo.reference_family`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import count
from typing import Any, Protocol
from uuid import UUID

from coordination.applications.base import derived_id
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.referrals import ReferralDesk
from coordination.applications.roles import BridgeBuilderApp, CivilActorApp, MunicipalDepartmentApp
from coordination.domain.calendar import COPENHAGEN
from coordination.domain.follow_up import FactKind, HouseholdFact
from coordination.domain.household import Enrolment
from coordination.domain.household_values import InstitutionKind
from coordination.domain.referral import ReferralKind
from coordination.domain.support_link import SupportKind, SupportOffer
from coordination.domain.values import Actor, Override, Role
from ops.demo.reference_family import (
    BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH,
    CIVICA,
    KVINFO,
    ODENSE_C,
    the_dwelling,
    the_family,
    the_move,
)

consultant = Actor(organisation=CIVICA, person="civica-gk-07", role=Role.REHOUSING_CONSULTANT)
bridge_builder = Actor(organisation=BRIDGE_BUILDER, person="bb-anna", role=Role.BRIDGE_BUILDER)
daycare_allocator = Actor(
    organisation=CHILDREN_AND_YOUTH, person="pladsanvisning-3", role=Role.DAYCARE_ALLOCATOR
)
school_caseworker = Actor(organisation=CHILDREN_AND_YOUTH, person="skole-12", role=Role.DEPARTMENT_CASEWORKER)
mentor_coordinator = Actor(organisation=KVINFO, person="kvinfo-odense-2", role=Role.CIVIL_ACTOR)


def on(day: date, hour: int = 10) -> datetime:
    """A moment in Copenhagen time on `day` (the scenario's clock; the domain never reads one)."""
    return datetime.combine(day, time(hour), COPENHAGEN)


@dataclass
class Nodes:
    """One node per organisation, each with its own store."""

    civica: HousingOrganisationApp
    bridge_builder: BridgeBuilderApp
    children_and_youth: MunicipalDepartmentApp
    kvinfo: CivilActorApp
    exchange: Settles | None = None
    # Further organisations of the seeded demo (FAB, the jobcentre); the reference story does not use them.
    extra: list[ReferralDesk] = field(default_factory=list)
    # Each organisation's parts as the composition root built them (ops/node/bootstrap.py `NodeParts`), when
    # it did (the demo): what the API serves of each node.
    parts: dict[str, Any] = field(default_factory=dict)

    def all(self) -> Iterator[ReferralDesk]:
        yield from (self.civica, self.bridge_builder, self.children_and_youth, self.kvinfo, *self.extra)

    def sync(self) -> None:
        """Let every message published so far reach every node that subscribes to it."""
        if self.exchange is None:
            raise RuntimeError(
                "The scenario's organisations talk over the exchange; Nodes.exchange is not set"
            )
        self.exchange.settle()

    def close(self) -> None:
        if self.exchange is not None:
            self.exchange.close()
        for node in self.all():
            if node.organisation not in self.parts:  # the parts close their own app
                node.close()


class Settles(Protocol):
    def settle(self) -> object: ...

    def close(self) -> None: ...


@dataclass
class ScenarioIds:
    household: UUID
    vacancy: UUID
    offer: UUID
    bridge_referral: UUID
    daycare_referral: UUID
    school_referral: UUID
    handoff_referral: UUID
    support_links: list[UUID] = field(default_factory=list)


Checkpoint = Callable[[str, "Nodes", "ScenarioIds | None"], None]


def play(nodes: Nodes, checkpoint: Checkpoint | None = None, seed: str = "odense-2026") -> ScenarioIds:
    """Play the story from June to November 2026; `checkpoint(name, nodes, ids)` is called after each chapter.

    Each organisation acts at its own node; `sync()` lets the exchange carry what it published to the
    others before anyone acts on it (a referral reaches its receiver, an answer comes back).
    """
    civica, bb, cyd, kvinfo = nodes.civica, nodes.bridge_builder, nodes.children_and_youth, nodes.kvinfo
    # Command ids follow from the seed, so playing the story again on the same stores changes nothing.
    cid = (derived_id("reference-scenario", seed, n) for n in count())
    sync = nodes.sync
    check = checkpoint or (lambda *_: None)

    def report(fact: HouseholdFact, at: datetime) -> None:
        """The bridge builder records what it learnt; the exchange tells CIVICA, which owns the household."""
        bb.report_household_fact(
            command_id=next(cid), household_id=household, owner=CIVICA, fact=fact, at=at, by=bridge_builder
        )

    # June: registration, first contact, areas explored, the referral to the bridge builder.
    household = civica.register_household(
        command_id=next(cid), **the_family(), at=on(date(2026, 6, 2)), by=consultant
    )  # type: ignore[arg-type]
    civica.record_first_contact(
        command_id=next(cid), household_id=household, at=on(date(2026, 6, 2), 11), by=consultant
    )
    civica.record_inspiration_tour(
        command_id=next(cid),
        household_id=household,
        areas=["Odense C", "Bolbro"],
        at=on(date(2026, 6, 9)),
        by=consultant,
    )
    civica.record_tasks_found(
        command_id=next(cid),
        household_id=household,
        tasks=["job search", "Danish lessons", "a PC for school work"],
        at=on(date(2026, 6, 9), 12),
        by=consultant,
    )
    bridge_referral = civica.refer_household(
        command_id=next(cid),
        household_id=household,
        receiver=BRIDGE_BUILDER,
        kind=ReferralKind.BRIDGE_BUILDING,
        at=on(date(2026, 6, 10)),
        by=consultant,
    )
    sync()
    check("referred to the bridge builder", nodes, None)
    bb.acknowledge_referral(
        command_id=next(cid), referral_id=bridge_referral, at=on(date(2026, 6, 11)), by=bridge_builder
    )
    bb.accept_referral(
        command_id=next(cid),
        referral_id=bridge_referral,
        assignee="bb-anna",
        at=on(date(2026, 6, 11), 14),
        by=bridge_builder,
    )
    sync()
    # CIVICA records the phase once the bridge builder's acceptance has reached it.
    civica.start_bridge_building(
        command_id=next(cid), household_id=household, at=on(date(2026, 6, 12)), by=consultant
    )

    # The offer: a five-room dwelling in central Odense, accepted.
    vacancy = civica.publish_vacancy(
        command_id=next(cid), dwelling=the_dwelling(), at=on(date(2026, 6, 15)), by=consultant
    )
    # Five rooms for five people is one short of § 86 stk. 2's "members + 1"; the family wants it anyway.
    size_override = Override(
        rule="suitable_size",
        by=consultant,
        reason="The mother chose this central dwelling near the schools over a larger one in Bolbro",
    )
    offer = civica.make_offer(
        command_id=next(cid),
        household_id=household,
        vacancy_id=vacancy,
        overrides=[size_override],
        at=on(date(2026, 6, 16)),
        by=consultant,
    )
    sync()
    check("offer made", nodes, None)
    civica.accept_offer(
        command_id=next(cid), household_id=household, offer_id=offer, at=on(date(2026, 6, 19)), by=consultant
    )

    # The 4-year-old on the daycare list "in connection with rehousing": fast track, answered within days.
    daycare_referral = civica.refer_household(
        command_id=next(cid),
        household_id=household,
        receiver=CHILDREN_AND_YOUTH,
        kind=ReferralKind.DAYCARE_FAST_TRACK,
        child_id="C4",
        needed_from=date(2026, 8, 3),
        at=on(date(2026, 6, 22)),
        by=consultant,
    )
    school_referral = civica.refer_household(
        command_id=next(cid),
        household_id=household,
        receiver=CHILDREN_AND_YOUTH,
        kind=ReferralKind.SCHOOL_CHANGE,
        needed_from=date(2026, 8, 10),
        note="The 10-year-old keeps a special-class place; no year-7 place was free",
        at=on(date(2026, 6, 22), 11),
        by=consultant,
    )
    sync()
    check("daycare and school referred", nodes, None)
    for referral, actor, assignee, steps_on, outcome in (
        (
            daycare_referral,
            daycare_allocator,
            "pladsanvisning-3",
            (on(date(2026, 6, 23)), on(date(2026, 6, 23), 13), on(date(2026, 6, 26))),
            "Kindergarten place offered from 2026-08-03 near the new address",
        ),
        (
            school_referral,
            school_caseworker,
            "skole-12",
            (on(date(2026, 6, 24)), on(date(2026, 6, 25)), on(date(2026, 7, 2))),
            "Two children to the district school; the special-class place is kept",
        ),
    ):
        acknowledged, accepted, completed = steps_on
        cyd.acknowledge_referral(command_id=next(cid), referral_id=referral, at=acknowledged, by=actor)
        cyd.accept_referral(
            command_id=next(cid), referral_id=referral, assignee=assignee, at=accepted, by=actor
        )
        cyd.complete_referral(
            command_id=next(cid), referral_id=referral, outcome=outcome, at=completed, by=actor
        )
        sync()

    # July: the move, and the handoff to the bridge builder, pending until acknowledged.
    move = the_move()
    handoff = civica.record_move(
        command_id=next(cid),
        household_id=household,
        move=move,
        hand_off_to=BRIDGE_BUILDER,
        at=on(date(2026, 7, 15), 16),
        by=consultant,
    )
    assert handoff is not None
    sync()
    ids = ScenarioIds(household, vacancy, offer, bridge_referral, daycare_referral, school_referral, handoff)
    check("moved, handoff pending", nodes, ids)
    bb.acknowledge_referral(
        command_id=next(cid), referral_id=handoff, at=on(date(2026, 7, 16), 9), by=bridge_builder
    )
    sync()
    check("handoff acknowledged", nodes, ids)
    report(
        HouseholdFact(kind=FactKind.FOLLOW_UP_VISIT_DONE, visited_on=date(2026, 7, 24)),
        on(date(2026, 7, 24), 15),
    )

    # Enrolments, as the department's answers and the schools confirm them.
    for child, kind, institution, starts in (
        ("C4", InstitutionKind.DAYCARE, "Børnehuset Banegården", date(2026, 8, 3)),
        ("C1", InstitutionKind.SCHOOL, "Odense C district school", date(2026, 8, 10)),
        ("C2", InstitutionKind.SCHOOL, "Odense C district school", date(2026, 8, 10)),
        ("C3", InstitutionKind.SCHOOL, "Special class, Rosengårdskolen (kept)", date(2026, 8, 10)),
    ):
        enrolment = Enrolment(
            member_id=child, institution_kind=kind, institution=institution, starts_on=starts
        )
        report(HouseholdFact(kind=FactKind.CHILD_ENROLLED, enrolment=enrolment), on(date(2026, 8, 10)))
    # July's and August's reports reach CIVICA before the support links of the 17th are made, as they would:
    # the links' steps travel another way (the household's network), and a household's history is audited
    # in the order it was recorded.
    sync()

    # Support: the association's PC, a leisure job, the youth centre, a leisure guide, a mentor, a neighbour.
    for provider, service, kind, contact, node, actor in (
        (
            "stoette-for-moedre-og-boern",
            "PC for school work",
            SupportKind.ASSOCIATION_SUPPORT,
            False,
            bb,
            bridge_builder,
        ),
        (
            "odense-brobygning",
            "Leisure job for the 16-year-old",
            SupportKind.LEISURE_JOB,
            False,
            bb,
            bridge_builder,
        ),
        ("odense-ungdomsskole", "Local youth centre", SupportKind.YOUTH_CLUB, False, bb, bridge_builder),
        ("odense-ungdomsskole", "Leisure guide", SupportKind.LEISURE_GUIDE, False, bb, bridge_builder),
        (KVINFO, "Mentor for job search and Danish", SupportKind.MENTOR, False, kvinfo, mentor_coordinator),
        (
            "naboskab-kochsgade",
            "Neighbour as new contact person",
            SupportKind.CONTACT_PERSON,
            True,
            bb,
            bridge_builder,
        ),
    ):
        offer_of = SupportOffer(provider=provider, service=service, kind=kind, place=ODENSE_C)
        link = node.propose_support_link(
            command_id=next(cid),
            household_id=household,
            offer=offer_of,
            contact_person=contact,
            household_owner=CIVICA,  # each step of the link is reported to the household's owner
            at=on(date(2026, 8, 17)),
            by=actor,
        )
        node.activate_support_link(command_id=next(cid), link_id=link, at=on(date(2026, 8, 24)), by=actor)
        # A contact person's activated link counts for settlement: its step reaches CIVICA over the
        # household's network, and CIVICA records the contact person (no household fact besides).
        ids.support_links.append(link)
    sync()
    check("support linked", nodes, ids)

    # Autumn: matters in order, no longer asks for help; the bridge holds.
    report(
        HouseholdFact(
            kind=FactKind.PRACTICAL_MATTERS_IN_ORDER,
            note="Deposit loan granted; housing benefit applied for and granted",
        ),
        on(date(2026, 9, 1)),
    )
    report(HouseholdFact(kind=FactKind.NO_LONGER_ASKS_FOR_HELP), on(date(2026, 11, 2)))
    # The bridge builder closes its referral, then reports the household settled: settling waits for
    # every open item of the household's network.
    bb.complete_referral(
        command_id=next(cid),
        referral_id=bridge_referral,
        outcome="The bridge holds",
        at=on(date(2026, 11, 2), 10),
        by=bridge_builder,
    )
    sync()
    report(HouseholdFact(kind=FactKind.SETTLED), on(date(2026, 11, 2), 11))
    sync()
    check("settled", nodes, ids)
    return ids
