"""One household of the demo's generated history, drawn at random and planned step by step: its members
and needs, its registration, first contact and referrals (its offers and its move: demo_lettings.py)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from itertools import count
from typing import Any
from uuid import UUID

from coordination.applications.base import derived_id
from coordination.applications.referrals import ReferralDesk
from coordination.domain.calendar import add_working_days
from coordination.domain.household import (
    Member,
    MemberKind,
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
    Consent,
    Role,
)
from coordination.domain.values import YearMonth as Month
from ops.demo.lettings import Lettings
from ops.demo.world import (
    ESTATES,
    FAB,
    FIRST_START,
    JOBCENTRE,
    Desks,
    Plan,
    at_hour,
)


class DrawnHousehold(Lettings):
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
        registered = at_hour(start, 9, rng.randint(0, 50))

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
