"""Property test of a vacancy's life: no sequence of offers, answers and withdrawals breaks its rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from coordination.domain.calendar import COPENHAGEN
from coordination.domain.errors import DomainError
from coordination.domain.vacancy import Vacancy, VacancyStatus
from coordination.domain.values import Actor, Address, DeclinedBy, Dwelling, Money, Place, Role
from tests.support import new_memory_app

V = VacancyStatus
OWNER = Actor(organisation="CIVICA", person="gk-17", role=Role.REHOUSING_CONSULTANT)
OTHER = Actor(organisation="FAB", person="fab-2", role=Role.REHOUSING_CONSULTANT)
START = datetime(2026, 5, 4, 9, 0, tzinfo=COPENHAGEN)
DWELLING = Dwelling(
    estate="Ejerslykken afd. 12",
    address=Address(street="Ejerslykken 4, 2. th.", postcode="5000", city="Odense C"),
    place=Place(municipality="Odense", area="Odense C"),
    rooms=4,
    area_m2=Decimal("92.5"),
    rent=Money(dkk=Decimal("7450")),
    available_from=date(2026, 7, 1),
)
actors = st.sampled_from([OWNER, OTHER])
reasons = st.sampled_from(["too far from the school"] * 3 + ["", "no"])  # the last two are too short


class VacancyLife(RuleBasedStateMachine):
    """Offers by any organisation, answered for the live offer or a stale one, at any time."""

    def __init__(self) -> None:
        super().__init__()
        self.app = new_memory_app()
        self.now = START
        self.offer_ids: list[UUID] = [uuid4()]  # offers made so far, plus one never made
        self.reservations = 0

    @initialize()
    def publish(self) -> None:
        self.vacancy = Vacancy.publish(id=uuid4(), dwelling=DWELLING, at=self.now, by=OWNER)

    def attempt(
        self, step: Callable[[], None], *, allowed: bool, leads_to: VacancyStatus, event: type
    ) -> bool:
        vacancy = self.vacancy
        before, version = vacancy.status, vacancy.version
        refused: DomainError | None = None
        try:
            step()
        except DomainError as error:
            refused = error
        if refused is not None:
            assert not allowed, f"refused from {before}: {refused}"
            assert (vacancy.status, vacancy.version) == (before, version)
            return False
        assert allowed, f"taken from {before} though the rules refuse it"
        assert vacancy.status is leads_to
        assert type(vacancy.pending_events[-1]) is event
        assert before not in (V.LET, V.WITHDRAWN), "let and withdrawn are final"
        return True

    def pick_offer(self, data: st.DataObject) -> UUID:
        """Mostly the live offer (or the last one made), sometimes a stale one or one never made."""
        if data.draw(st.booleans()):
            return self.vacancy.live_offer_id or self.offer_ids[-1]
        return data.draw(st.sampled_from(self.offer_ids))

    def is_live(self, offer_id: UUID) -> bool:
        return self.vacancy.status is V.RESERVED and self.vacancy.live_offer_id == offer_id

    @rule(hours=st.sampled_from([0, 1, 24, 24 * 7, 24 * 15]))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @rule(by=actors, valid_for_hours=st.sampled_from([0, 24, 24 * 14, 24 * 14]))
    def offer(self, by: Actor, valid_for_hours: int) -> None:
        offer_id = uuid4()
        if self.attempt(
            lambda: self.vacancy.reserve_for_offer(
                offer_id=offer_id,
                household_id=uuid4(),
                expires_at=self.now + timedelta(hours=valid_for_hours),
                at=self.now,
                by=by,
            ),
            allowed=self.vacancy.status is V.OPEN and valid_for_hours > 0,
            leads_to=V.RESERVED,
            event=Vacancy.OfferReserved,
        ):
            self.reservations += 1
            self.offer_ids.append(offer_id)

    @rule(data=st.data())
    def accept(self, data: st.DataObject) -> None:
        offer_id = self.pick_offer(data)
        expires_at = self.vacancy.offer_expires_at
        self.attempt(
            lambda: self.vacancy.accept_offer(offer_id=offer_id, at=self.now, by=OWNER),
            allowed=self.is_live(offer_id) and expires_at is not None and self.now < expires_at,
            leads_to=V.LET,
            event=Vacancy.OfferAccepted,
        )

    @rule(data=st.data(), declined_by=st.sampled_from(DeclinedBy), reason=reasons)
    def decline(self, data: st.DataObject, declined_by: DeclinedBy, reason: str) -> None:
        offer_id = self.pick_offer(data)
        self.attempt(
            lambda: self.vacancy.decline_offer(
                offer_id=offer_id, declined_by=declined_by, reason=reason, at=self.now, by=OWNER
            ),
            allowed=self.is_live(offer_id) and len(reason) >= 3,
            leads_to=V.OPEN,
            event=Vacancy.OfferDeclined,
        )

    @rule(data=st.data(), on_time=st.booleans())
    def expire(self, data: st.DataObject, on_time: bool) -> None:
        """The timer fires, often exactly at the live offer's expiry (waiting for it by chance is rare)."""
        expires_at = self.vacancy.offer_expires_at
        if on_time and expires_at is not None:
            self.now = max(self.now, expires_at)
        offer_id = self.pick_offer(data)
        self.attempt(
            lambda: self.vacancy.expire_offer(offer_id=offer_id, at=self.now),
            allowed=self.is_live(offer_id) and expires_at is not None and self.now >= expires_at,
            leads_to=V.OPEN,
            event=Vacancy.OfferExpired,
        )

    @rule(by=st.sampled_from([OWNER, OTHER, OTHER]), reason=reasons)  # a withdrawal ends the run
    def withdraw(self, by: Actor, reason: str) -> None:
        self.attempt(
            lambda: self.vacancy.withdraw(reason=reason, at=self.now, by=by),
            allowed=by == OWNER and self.vacancy.status is V.OPEN and len(reason) >= 3,
            leads_to=V.WITHDRAWN,
            event=Vacancy.Withdrawn,
        )

    @invariant()
    def at_most_one_live_offer_and_only_while_reserved(self) -> None:
        vacancy = self.vacancy
        reserved = vacancy.status is V.RESERVED
        assert (vacancy.live_offer_id is not None) is reserved
        assert (vacancy.live_household_id is not None) is reserved
        assert (vacancy.offer_expires_at is not None) is reserved
        assert (vacancy.let_to is not None) is (vacancy.status is V.LET)

    @invariant()
    def offers_made_counts_the_reservations(self) -> None:
        assert self.vacancy.offers_made == self.reservations

    @invariant()
    def a_reloaded_vacancy_equals_the_live_one(self) -> None:
        self.app.save(self.vacancy)
        again = self.app.repository.get(self.vacancy.id)
        assert vars(again) == vars(self.vacancy)


VacancyLife.TestCase.settings = settings(max_examples=100, stateful_step_count=30, deadline=None)
test_no_sequence_of_commands_breaks_a_vacancys_rules = VacancyLife.TestCase
