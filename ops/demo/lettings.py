"""The offers and the move of one household of the demo's generated history (demo_household.py draws it):
the vacancies its housing organisation publishes, the offers it declines or accepts, the move and the handoff."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from coordination.domain.errors import OverrideRequired
from coordination.domain.follow_up import FactKind, HouseholdFact
from coordination.domain.household import (
    Move,
)
from coordination.domain.values import (
    Address,
    DeclinedBy,
    Dwelling,
    Money,
    Override,
    Place,
)
from ops.demo.world import (
    POSTCODES,
    RECEIVING_AREAS,
    STREETS,
    Step,
    at_hour,
)


class Lettings:
    """A drawn household's offers and move, planned with its random generator and command ids."""

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
        moved_at = at_hour(moved_on, 15)
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
        visited = at_hour(visited_on, 14)
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
