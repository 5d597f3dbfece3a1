"""The demo's generated history: about 300 Vollsmose households rehoused over 18 months, with delays.

Deterministic from a seed: every choice comes from `random.Random(seed)` and every command id is derived
from the seed, so seeding the same stores again changes nothing. Steps whose business time lies after
`now` are not taken, so the demo ends with households at every stage and some of them overdue.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import count
from typing import Any
from uuid import UUID

from coordination.applications.base import derived_id
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.referrals import ReferralDesk
from coordination.domain.calendar import COPENHAGEN, add_working_days
from coordination.domain.errors import OverrideRequired
from coordination.domain.follow_up import FactKind, HouseholdFact
from coordination.domain.household import (
    Member,
    MemberKind,
    Move,
    Need,
    Origin,
    Permanence,
    Preferences,
    RehousingKind,
    Scope,
)
from coordination.domain.referral import ReferralKind
from coordination.domain.values import (
    Actor,
    Address,
    Consent,
    DeclinedBy,
    Dwelling,
    Money,
    Override,
    Place,
    Role,
)
from coordination.domain.values import YearMonth as Month

FAB = "fab"
JOBCENTRE = "jobcentre-odense"
DEMO_NOW = datetime(2026, 11, 20, 16, 0, tzinfo=COPENHAGEN)  # the seeded history ends here
FIRST_START = date(2025, 5, 26)  # 18 months before DEMO_NOW
ESTATES = {"civica": ["Bøgeparken", "Egeparken", "Birkeparken"], FAB: ["Lindeparken", "Granparken"]}
RECEIVING_AREAS = [
    "Odense C",
    "Bolbro",
    "Korsløkken",
    "Højstrup",
    "Rising",
    "Tarup",
    "Dalum",
    "Hjallese",
    "Bellinge",
]
STREETS = {
    "Odense C": "Kochsgade",
    "Bolbro": "Stadionvej",
    "Korsløkken": "Korsløkkevej",
    "Højstrup": "Højstrupvej",
    "Rising": "Risingsvej",
    "Tarup": "Tarupvej",
    "Dalum": "Dalumvej",
    "Hjallese": "Hjallesevej",
    "Bellinge": "Bellinge Bygade",
}
POSTCODES = {
    "Odense C": "5000",
    "Bolbro": "5200",
    "Korsløkken": "5220",
    "Højstrup": "5200",
    "Rising": "5000",
    "Tarup": "5210",
    "Dalum": "5250",
    "Hjallese": "5260",
    "Bellinge": "5250",
}

Step = Callable[[], object]


@dataclass
class Desks:
    """The organisations the generated history involves, by their organisation name."""

    housing: dict[str, HousingOrganisationApp]
    bridge_builder: ReferralDesk
    children_and_youth: ReferralDesk
    jobcentre: ReferralDesk

    def actor(self, organisation: str, role: Role, person: str) -> Actor:
        return Actor(organisation=organisation, person=person, role=role)


@dataclass
class Plan:
    """One household's steps in order, each marked when it needs what another node published first."""

    steps: list[tuple[bool, Step]] = field(default_factory=list)
    done: int = 0

    def add(self, at: datetime, step: Step, *, after_exchange: bool = False) -> bool:
        """Adds the step if its time has come by DEMO_NOW; False (and nothing more is planned) otherwise."""
        if at > DEMO_NOW:
            return False
        self.steps.append((after_exchange, step))
        return True


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), COPENHAGEN)


class _Household:
    """Draws one household and plans its rehousing; every random choice is made while planning."""

    def __init__(self, n: int, rng: random.Random, desks: Desks, seed: str) -> None:
        self.n, self.rng, self.desks = n, rng, desks
        self.cid = (derived_id("demo-seed", seed, n, k) for k in count())
        self.owner = "civica" if rng.random() < 0.62 else FAB
        self.app = desks.housing[self.owner]
        self.consultant = desks.actor(
            self.owner, Role.REHOUSING_CONSULTANT, f"{self.owner}-gk-{rng.randint(1, 9):02d}"
        )
        self.bb = desks.actor(
            "odense-brobygning", Role.BRIDGE_BUILDER, rng.choice(["bb-anna", "bb-jonas", "bb-mette"])
        )
        self.start = FIRST_START + timedelta(days=rng.randint(0, 500))
        self.members, self.needs = self._members()
        self.plan = Plan()
        self.household_id: UUID | None = None
        self.moves_to: str | None = None  # the receiving area of the dwelling it accepted

    def _members(self) -> tuple[list[Member], list[Need]]:
        rng = self.rng
        members = [
            Member(member_id=f"A{i + 1}", kind=MemberKind.ADULT) for i in range(rng.choice([1, 1, 2, 2, 2]))
        ]
        needs: set[Need] = set()
        for i in range(rng.choice([0, 1, 2, 2, 3, 4])):
            year = rng.randint(2008, 2025)
            daycare, school = year >= 2021, 2009 <= year <= 2020
            members.append(
                Member(
                    member_id=f"C{i + 1}",
                    kind=MemberKind.CHILD,
                    birth_month=Month(year=year, month=rng.randint(1, 12)),
                    needs_daycare=daycare,
                    needs_school=school,
                )
            )
            needs |= {Need.DAYCARE} if daycare else {Need.SCHOOL_CHANGE} if school else set()
        extra = [Need.INTERPRETER, Need.FINANCIAL_ADVICE, Need.MENTAL_HEALTH, Need.PHYSICAL_HEALTH]
        needs |= {need for need in extra if rng.random() < 0.25}
        return members, sorted(needs)

    def _delay(self, sent: datetime, late: float) -> datetime:
        """When the receiver acknowledges: mostly within the 3 working days, sometimes days late."""
        if self.rng.random() < late:
            return add_working_days(sent, self.rng.randint(4, 9)) + timedelta(hours=self.rng.randint(0, 5))
        return add_working_days(sent, self.rng.choice([0, 1, 1, 2, 2, 3])) + timedelta(
            minutes=self.rng.randint(5, 300)
        )

    def plan_all(self) -> Plan:
        rng, app, by, start = self.rng, self.app, self.consultant, self.start
        kids = [m for m in self.members if m.kind is MemberKind.CHILD]
        daycare_child = next((m for m in kids if m.needs_daycare), None)
        jobcentre = rng.random() < 0.3
        consent_on = start
        purposes = [("odense-brobygning", "bridge_building")]
        purposes += [("odense-boern-og-unge", "daycare_fast_track")] if daycare_child else []
        purposes += [("odense-boern-og-unge", "school_change")] if Need.SCHOOL_CHANGE in self.needs else []
        purposes += [(JOBCENTRE, "jobcentre")] if jobcentre else []
        rooms = max(2, len(self.members) + rng.choice([-1, 0, 0, 1]))
        registered = _at(start, 9, rng.randint(0, 50))

        def register() -> None:
            self.household_id = app.register_household(
                command_id=next(self.cid),
                case_reference=f"{self.owner.upper()}-{start.year}-{self.n:04d}",
                origin=Origin(
                    estate=rng.choice(ESTATES[self.owner]),
                    transformation_area="Vollsmose",
                    municipality="Odense",
                    previous_rooms=rooms,
                ),
                members=self.members,
                needs=self.needs,
                rehousing=RehousingKind(scope=Scope.EXTERNAL, permanence=Permanence.PERMANENT),
                termination_date=start + timedelta(days=300),
                preferences=Preferences(areas=[]),
                consents=[Consent(recipient=r, purpose=p, given_on=consent_on) for r, p in purposes],
                at=registered,
                by=by,
            )

        hid = lambda: self._id()  # noqa: E731 - the household id is known only once registration ran
        add = self.plan.add
        add(registered, register)
        contact = registered + timedelta(days=rng.randint(1, 6))
        if not add(
            contact,
            lambda: app.record_first_contact(
                command_id=next(self.cid), household_id=hid(), at=contact, by=by
            ),
        ):
            return self.plan
        bridge = self._referral(
            contact + timedelta(days=rng.randint(2, 8)),
            "odense-brobygning",
            ReferralKind.BRIDGE_BUILDING,
            self.desks.bridge_builder,
            self.bb,
            late=0.18,
            complete_after=rng.randint(90, 200),
        )
        if bridge is None:
            return self.plan
        accepted_at = self._offers(bridge + timedelta(days=rng.randint(5, 20)), rooms)
        if accepted_at is None:
            return self.plan
        moved_on = (accepted_at + timedelta(days=rng.randint(20, 50))).date()
        staff = self.desks.actor("odense-boern-og-unge", Role.DAYCARE_ALLOCATOR, "pladsanvisning-3")
        if daycare_child is not None:
            self._referral(
                accepted_at + timedelta(days=2),
                "odense-boern-og-unge",
                ReferralKind.DAYCARE_FAST_TRACK,
                self.desks.children_and_youth,
                staff,
                late=0.2,
                complete_after=rng.randint(10, 120),
                child_id=daycare_child.member_id,
                needed_from=moved_on + timedelta(days=14),
            )
        if Need.SCHOOL_CHANGE in self.needs:
            caseworker = self.desks.actor("odense-boern-og-unge", Role.DEPARTMENT_CASEWORKER, "skole-12")
            self._referral(
                accepted_at + timedelta(days=3),
                "odense-boern-og-unge",
                ReferralKind.SCHOOL_CHANGE,
                self.desks.children_and_youth,
                caseworker,
                late=0.12,
                complete_after=rng.randint(7, 40),
                needed_from=moved_on + timedelta(days=7),
            )
        if jobcentre:
            adviser = self.desks.actor(JOBCENTRE, Role.DEPARTMENT_CASEWORKER, "jc-rådgiver-4")
            self._referral(
                accepted_at + timedelta(days=4),
                JOBCENTRE,
                ReferralKind.JOBCENTRE,
                self.desks.jobcentre,
                adviser,
                late=0.3,
                complete_after=rng.randint(20, 90),
            )
        self._move(moved_on, rooms)
        return self.plan

    def _id(self) -> UUID:
        assert self.household_id is not None, "the household is registered first"
        return self.household_id

    def _referral(
        self,
        sent: datetime,
        receiver: str,
        kind: ReferralKind,
        desk: ReferralDesk,
        staff: Actor,
        *,
        late: float,
        complete_after: int,
        **details: Any,
    ) -> datetime | None:
        """Sends a referral and plans the receiver's steps; when it was sent (None if not yet)."""
        rng, cid = self.rng, self.cid
        referral: list[UUID] = []
        if not self.plan.add(
            sent,
            lambda: referral.append(
                self.app.refer_household(
                    command_id=next(cid),
                    household_id=self._id(),
                    receiver=receiver,
                    kind=kind,
                    at=sent,
                    by=self.consultant,
                    **details,
                )
            ),
        ):
            return None
        if rng.random() < 0.04:
            return sent  # never answered: it stays open (and overdue)
        acknowledged = self._delay(sent, late)
        accepted = acknowledged + timedelta(hours=rng.randint(2, 72))
        completed = accepted + timedelta(days=complete_after)
        self.plan.add(
            acknowledged,
            lambda: desk.acknowledge_referral(
                command_id=next(cid), referral_id=referral[0], at=acknowledged, by=staff
            ),
            after_exchange=True,
        ) and self.plan.add(
            accepted,
            lambda: desk.accept_referral(
                command_id=next(cid), referral_id=referral[0], assignee=staff.person, at=accepted, by=staff
            ),
        ) and self.plan.add(
            completed,
            lambda: desk.complete_referral(
                command_id=next(cid),
                referral_id=referral[0],
                outcome="Done as agreed",
                at=completed,
                by=staff,
            ),
        )
        return sent

    def _offers(self, first: datetime, rooms: int) -> datetime | None:
        """One or two offers of the owner's vacancies; when the household accepted one (None if not yet)."""
        declines = 1 if self.rng.random() < 0.3 else 0
        at = first
        for attempt in range(declines + 1):
            answered = self._one_offer(at, rooms, accept=attempt == declines)
            if answered is None:
                return None
            if attempt == declines:
                return answered
            at = answered + timedelta(days=self.rng.randint(7, 21))
        return None

    def _one_offer(self, at: datetime, rooms: int, *, accept: bool) -> datetime | None:
        """A vacancy published and offered, and the household's answer; when it answered (None if not yet)."""
        rng, app, by, cid, plan = self.rng, self.app, self.consultant, self.cid, self.plan
        area = rng.choice(RECEIVING_AREAS)
        dwelling = Dwelling(
            estate=STREETS[area],
            place=Place(municipality="Odense", area=area),
            address=Address(
                street=f"{STREETS[area]} {rng.randint(1, 80)}, {rng.randint(0, 4)}. th",
                postcode=POSTCODES[area],
                city=f"Odense {POSTCODES[area][1:]}",
            ),
            rooms=max(rooms, len(self.members) + 1),
            area_m2=Decimal(40 + 18 * rooms),
            rent=Money(dkk=Decimal(3800 + 950 * rooms + rng.randint(0, 900))),
            available_from=(at + timedelta(days=30)).date(),
        )
        published, offered = at - timedelta(days=3), at
        answered = offered + timedelta(days=rng.randint(2, 10))
        reason = rng.choice(["Too far from the children's school", "Rent too high", "Wants a balcony"])
        vacancy: list[UUID] = []
        offer: list[UUID] = []
        if not plan.add(
            published,
            lambda: vacancy.append(
                app.publish_vacancy(command_id=next(cid), dwelling=dwelling, at=published, by=by)
            ),
        ):
            return None
        if not plan.add(offered, lambda: offer.append(self._offer(vacancy[0], offered))):
            return None
        if accept:
            self.moves_to = area
            step: Step = lambda: app.accept_offer(  # noqa: E731
                command_id=next(cid), household_id=self._id(), offer_id=offer[0], at=answered, by=by
            )
        else:
            step = lambda: app.decline_offer(  # noqa: E731
                command_id=next(cid),
                household_id=self._id(),
                offer_id=offer[0],
                declined_by=DeclinedBy.HOUSEHOLD,
                reason=reason,
                at=answered,
                by=by,
            )
        return answered if plan.add(answered, step) else None

    def _offer(self, vacancy_id: UUID, at: datetime) -> UUID:
        """An offer; where the waterbed guard warns, the consultant overrides it with a reason."""
        command_id = next(self.cid)
        # Seeding again after an interrupt: the offer was made then, with the overrides its warnings asked
        # for. Trying it again from no overrides would be a different command under the same id
        # (CommandIdReused), so the first result is taken instead.
        made = self.app.first_result(command_id)
        if made is not None:
            return made
        overrides: list[Override] = []
        for _ in range(5):  # each warning is named by the refusal; at most the guard's four rules
            try:
                return self.app.make_offer(
                    command_id=command_id,
                    household_id=self._id(),
                    vacancy_id=vacancy_id,
                    overrides=overrides,
                    at=at,
                    by=self.consultant,
                )
            except OverrideRequired as required:
                reason = "Family network in the area; school continuity agreed with the municipality"
                overrides.append(Override(rule=required.rule, by=self.consultant, reason=reason))
        raise RuntimeError(f"offer of {vacancy_id} still refused after {len(overrides)} overrides")

    def _move(self, moved_on: date, rooms: int) -> None:
        rng, app, cid, bb = self.rng, self.app, self.cid, self.desks.bridge_builder
        moved_at = _at(moved_on, 15)
        # The household moves into the area of the dwelling it accepted, so the municipality's picture ties
        # each placement to its offer's overridden rules; the draw stays, so the rest is drawn as before.
        area = self.moves_to or rng.choice(RECEIVING_AREAS)
        if self.moves_to is not None:
            rng.choice(RECEIVING_AREAS)
        move = Move(
            new_address=Address(
                street=f"{STREETS[area]} {rng.randint(1, 80)}", postcode=POSTCODES[area], city="Odense"
            ),
            place=Place(municipality="Odense", area=area),
            moved_on=moved_on,
            old_rent=Money(dkk=Decimal(3500 + 900 * rooms)),
            new_rent=Money(dkk=Decimal(3800 + 950 * rooms)),
            rooms=rooms,
            permanent=True,
        )
        handoff: list[UUID | None] = []
        if not self.plan.add(
            moved_at,
            lambda: handoff.append(
                app.record_move(
                    command_id=next(cid),
                    household_id=self._id(),
                    move=move,
                    hand_off_to="odense-brobygning",
                    at=moved_at,
                    by=self.consultant,
                )
            ),
        ):
            return
        if rng.random() < 0.05:
            return  # the handoff is never acknowledged: nobody holds the household
        acknowledged = self._delay(moved_at, late=0.15)
        self.plan.add(
            acknowledged,
            lambda: bb.acknowledge_referral(
                command_id=next(cid), referral_id=handoff[0], at=acknowledged, by=self.bb
            ),
            after_exchange=True,
        )
        roll = rng.random()
        if roll < 0.12:
            return  # the follow-up visit is missed
        visited_on = moved_on + timedelta(days=rng.randint(16, 30) if roll < 0.2 else rng.randint(4, 13))
        visited = _at(visited_on, 14)
        self.plan.add(
            visited,
            lambda: bb.report_household_fact(  # type: ignore[attr-defined]
                command_id=next(cid),
                household_id=self._id(),
                owner=self.owner,
                fact=HouseholdFact(kind=FactKind.FOLLOW_UP_VISIT_DONE, visited_on=visited_on),
                at=visited,
                by=self.bb,
            ),
            after_exchange=True,
        )


Progress = Callable[[str, int, int], None]
Sync = Callable[[], object]


def plan_households(desks: Desks, *, households: int, seed: str) -> list[Plan]:
    """Every household's plan, drawn in order from one generator seeded with `seed`."""
    rng = random.Random(seed)
    return [_Household(n, rng, desks, seed).plan_all() for n in range(households)]


def seed(
    desks: Desks,
    sync: Sync,
    *,
    households: int = 300,
    seed: str = "vollsmose-2025",
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> int:
    """Plays every household's plan in rounds: each round takes every household as far as it can go without
    hearing from another node, then the exchange settles. Returns the number of steps taken; stops early,
    between two steps, once `cancelled()` (seeding again later takes the remaining steps: each is
    idempotent by its command id)."""
    plans = plan_households(desks, households=households, seed=seed)
    total = sum(len(p.steps) for p in plans)
    taken = 0
    for _ in range(total + 1):  # bounded: each round takes at least one step of some household
        progressed = 0
        for plan in plans:
            first = True
            while plan.done < len(plan.steps):
                if cancelled():
                    return taken + progressed
                after_exchange, step = plan.steps[plan.done]
                if after_exchange and not first:
                    break
                step()
                plan.done += 1
                progressed += 1
                first = False
                if progress is not None and progressed % 50 == 0:
                    progress("seeding", taken + progressed, total)
        taken += progressed
        sync()
        if progress is not None:
            progress("seeding", taken, total)
        if progressed == 0 or taken == total:
            return taken
    return taken
