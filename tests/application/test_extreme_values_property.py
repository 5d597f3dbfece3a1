"""Property (issue 17, "loading never fails"): random command sequences with extreme but schema-valid values
through the housing organisation's application, some events stored as the code before the plausibility
checks stored them; afterwards every aggregate in the store loads and is viewed without error, nothing is
parked and every read model equals a rebuild.

Extends tests/unit/test_read_models_property.py (read models fed bit by bit) to the application's own
commands and to values at the calendar's and the schema's edges."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from adapters.eventstore.event_decoding import StoredEventDecoder
from adapters.eventstore.storage import ShreddingStorage
from adapters.sql.view_stores import SQLiteViewStore
from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.errors import DomainError
from coordination.domain.household import (
    Enrolment,
    Household,
    InstitutionKind,
    Member,
    MemberKind,
    Move,
    Need,
    Origin,
    Preferences,
    RehousingKind,
)
from coordination.domain.referral import Referral, ReferralKind
from coordination.domain.vacancy import Vacancy
from coordination.domain.values import (
    CONSENT_PURPOSES,
    Address,
    Consent,
    Dwelling,
    Money,
    Override,
    Place,
    YearMonth,
)
from coordination.projections.rebuild import compare, rebuild
from ops.bench.fixtures import read_model_support as s
from ops.node.read_models import READ_MODELS
from tests.application.builders import CONSULTANT

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
BUDGET = 100  # sequences per run

# Dates at the calendar's edges, anywhere, and (twice as often) around the command's time, where the
# plausibility windows begin and end and where commands are recorded, for later steps to build on.
near = st.dates(date(2021, 1, 1), date(2029, 12, 31))
dates = st.one_of(
    st.sampled_from([date.min, date(1, 1, 2), date(9999, 12, 20), date(9999, 12, 31), date.max]),
    st.dates(),
    near,
    near,
)
UNICODE_DIGITS = "0123456789\u0660\u0665\u06f5\u0966\uff15\U0001d7d3"
texts = st.one_of(
    st.text(min_size=1, max_size=200),
    st.text(alphabet=UNICODE_DIGITS, min_size=1, max_size=200),
    st.just("x" * 200),
)
amounts = st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2, allow_nan=False)
rooms = st.integers(1, 20)
birth_months = st.builds(
    YearMonth, year=st.one_of(st.integers(1900, 2200), st.integers(2005, 2025)), month=st.integers(1, 12)
)
purposes = st.sampled_from(CONSENT_PURPOSES)

steps = st.lists(
    st.one_of(
        st.tuples(st.just("register"), st.tuples(texts, dates, st.lists(birth_months, max_size=3), dates)),
        st.tuples(st.just("move"), st.tuples(st.integers(0, 3), dates, amounts, rooms, texts)),
        st.tuples(st.just("visit"), st.tuples(st.integers(0, 3), dates)),
        st.tuples(st.just("consent"), st.tuples(st.integers(0, 3), dates, purposes, texts)),
        st.tuples(st.just("enrol"), st.tuples(st.integers(0, 3), dates, texts)),
        st.tuples(st.just("publish"), st.tuples(dates, rooms, amounts, texts)),
        st.tuples(
            st.just("offer"),
            st.tuples(
                st.integers(0, 3), st.integers(0, 3), st.one_of(st.integers(1, 60), st.integers(1, 10**5))
            ),
        ),
        st.tuples(st.just("accept"), st.integers(0, 3)),
        st.tuples(st.just("refer"), st.tuples(st.integers(0, 3), dates)),
        st.tuples(st.just("expire"), st.integers(0, 10**4)),
        # What the code before the plausibility checks let through, written as it wrote it.
        st.tuples(st.just("old_move"), st.tuples(st.integers(0, 3), dates)),
        st.tuples(st.just("old_visit"), st.tuples(st.integers(0, 3), dates)),
        st.tuples(st.just("old_consent"), st.tuples(st.integers(0, 3), dates)),
        st.tuples(st.just("old_vacancy"), dates),
    ),
    min_size=1,
    max_size=25,
)


class World:
    """The application under test and the ids its commands returned, for later steps to refer to."""

    def __init__(self, app: HousingOrganisationApp) -> None:
        self.app = app
        self.households: list[UUID] = []
        self.vacancies: list[UUID] = []
        self.offers: list[tuple[UUID, UUID]] = []
        self.minutes = 0
        # A plausible household and vacancy to start from, so that every kind of step has something to act on.
        _command(
            self, "register", ("CIVICA-0001", date(2026, 12, 31), [YearMonth(year=2022, month=2)], T0.date())
        )
        _command(self, "publish", (date(2026, 8, 1), 5, Decimal("7650"), "Kochsgade"))

    def at(self) -> datetime:
        self.minutes += 30
        return T0 + timedelta(minutes=self.minutes)

    def household(self, index: int) -> UUID:
        return _pick(self.households, index)


class _NothingYet(Exception):
    """The step refers to an aggregate of a kind none of which exists yet: it is skipped."""


def _pick(ids: list[Any], index: int) -> Any:
    if not ids:
        raise _NothingYet
    return ids[index % len(ids)]


def _address(street: str) -> Address:
    return Address(street=street, postcode="5000", city="Odense C")


def _command(world: World, step: str, arg: Any) -> None:
    app, at = world.app, world.at()
    if step == "register":
        reference, termination, births, given_on = arg
        members = [Member(member_id="A1", kind=MemberKind.ADULT)] + [
            Member(member_id=f"C{i}", kind=MemberKind.CHILD, birth_month=b, needs_daycare=True)
            for i, b in enumerate(births)
        ]
        world.households.append(
            app.register_household(
                command_id=uuid4(),
                case_reference=reference,
                origin=Origin(
                    estate="Bøgeparken",
                    transformation_area="Vollsmose",
                    municipality="Odense",
                    previous_rooms=4,
                ),
                members=members,
                needs=[Need.DAYCARE],
                rehousing=RehousingKind(scope="internal", permanence="permanent"),
                termination_date=termination,
                preferences=Preferences(),
                consents=[
                    Consent(recipient=s.BRIDGE, purpose="bridge_building", given_on=given_on),
                    Consent(recipient=s.DEPARTMENT, purpose="daycare_fast_track", given_on=given_on),
                ],
                at=at,
                by=CONSULTANT,
            )
        )
    elif step == "move":
        index, moved_on, rent, count, street = arg
        move = Move(
            new_address=_address(street),
            place=Place(municipality="Odense", area=street),
            moved_on=moved_on,
            old_rent=Money(dkk=Decimal("6400")),
            new_rent=Money(dkk=rent),
            rooms=count,
            permanent=False,
        )
        app.record_move(
            command_id=uuid4(), household_id=world.household(index), move=move, at=at, by=CONSULTANT
        )
    elif step == "visit":
        index, visited_on = arg
        app.record_follow_up_visit(
            command_id=uuid4(),
            household_id=world.household(index),
            visited_on=visited_on,
            at=at,
            by=CONSULTANT,
        )
    elif step == "consent":
        index, given_on, purpose, recipient = arg
        consent = Consent(recipient=recipient, purpose=purpose, given_on=given_on)
        app.give_consent(
            command_id=uuid4(), household_id=world.household(index), consent=consent, at=at, by=CONSULTANT
        )
    elif step == "enrol":
        index, starts_on, institution = arg
        enrolment = Enrolment(
            member_id="C0",
            institution_kind=InstitutionKind.DAYCARE,
            institution=institution,
            starts_on=starts_on,
        )
        app.record_enrolment(
            command_id=uuid4(), household_id=world.household(index), enrolment=enrolment, at=at, by=CONSULTANT
        )
    elif step == "publish":
        available_from, count, rent, estate = arg
        dwelling = Dwelling(
            estate=estate,
            address=_address(estate),
            place=Place(municipality="Odense", area="Odense C"),
            rooms=count,
            area_m2=Decimal("80"),
            rent=Money(dkk=rent),
            available_from=available_from,
        )
        world.vacancies.append(
            app.publish_vacancy(command_id=uuid4(), dwelling=dwelling, at=at, by=CONSULTANT)
        )
    elif step == "offer":
        household_index, vacancy_index, days = arg
        household_id = world.household(household_index)
        vacancy_id = _pick(world.vacancies, vacancy_index)
        override = [Override(rule="suitable_size", reason="The family chose it", by=CONSULTANT)]
        offer_id = app.make_offer(
            command_id=uuid4(),
            household_id=household_id,
            vacancy_id=vacancy_id,
            expires_at=at + timedelta(days=days),
            overrides=override,
            at=at,
            by=CONSULTANT,
        )
        world.offers.append((household_id, offer_id))
    elif step == "accept":
        household_id, offer_id = _pick(world.offers, arg)
        app.accept_offer(
            command_id=uuid4(), household_id=household_id, offer_id=offer_id, at=at, by=CONSULTANT
        )
    elif step == "refer":
        index, needed_from = arg
        app.refer_household(
            command_id=uuid4(),
            household_id=world.household(index),
            receiver=s.DEPARTMENT,
            kind=ReferralKind.DAYCARE_FAST_TRACK,
            child_id="C0",
            needed_from=needed_from,
            at=at,
            by=CONSULTANT,
        )
    elif step == "expire":
        app.expire_due(now=at + timedelta(days=arg))
    elif step == "old_vacancy":
        dwelling = s.dwelling(available_from=arg)
        app.save(Vacancy(id=uuid4(), owner="civica", dwelling=dwelling, at=at, by=CONSULTANT))
    else:
        # The command as the code before the checks ran it: through the application, the @event method
        # recording the date unchecked.
        index, when = arg
        decide: Callable[[Household], None]
        if step == "old_move":
            decide = lambda h: h._moved(move=s.hb.a_move(moved_on=when), at=at, by=CONSULTANT)  # noqa: E731
        elif step == "old_visit":
            decide = lambda h: h._follow_up_visit_done(visited_on=when, at=at, by=CONSULTANT)  # noqa: E731
        else:
            consent = Consent(recipient=s.BRIDGE, purpose="jobcentre", given_on=when)
            decide = lambda h: h._consent_given(consent=consent, at=at, by=CONSULTANT)  # noqa: E731
        app._change(
            Household,
            "household",
            command=step,
            command_id=uuid4(),
            aggregate_id=world.household(index),
            at=at,
            by=CONSULTANT,
            decide=decide,
            when=when,
        )


def _every_aggregate_loads_and_is_viewed(app: HousingOrganisationApp) -> int:
    ids = {n.originator_id for n in app.recorder.select_notifications(start=1, limit=10_000)}
    for aggregate_id in ids:
        aggregate = app.repository.get(aggregate_id)
        if isinstance(aggregate, Household):
            for today in (date.min, T0.date(), date.max):
                app.household(aggregate_id, today=today)
            app.household_facts(aggregate_id)
            app.history(aggregate_id)
        elif isinstance(aggregate, Vacancy):
            app.vacancy(aggregate_id)
        elif isinstance(aggregate, Referral):
            now = T0 + timedelta(days=365)
            aggregate.overdue(now), aggregate.stalled(now, app.policy), aggregate.age(now)
    return len(ids)


@settings(max_examples=BUDGET, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps)
def test_after_any_sequence_of_extreme_values_every_aggregate_loads_and_every_read_model_equals_a_rebuild(
    steps: list[tuple[str, Any]],
) -> None:
    app = HousingOrganisationApp(
        storage=ShreddingStorage(),
        organisation="civica",
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        cpr_secret=b"k" * 32,
    )
    world = World(app)
    with tempfile.TemporaryDirectory() as directory:
        views = SQLiteViewStore(Path(directory) / "views.db")
        try:
            for step, arg in steps:
                # A refusal is a domain error or an invalid value, never anything else; it records nothing.
                try:
                    _command(world, step, arg)
                    event(f"{step} recorded")
                except (DomainError, ValidationError, _NothingYet) as refused:
                    event(f"{step} refused: {type(refused).__name__}")
            _every_aggregate_loads_and_is_viewed(app)
            live = s.runners(app, views)
            for name, projection in READ_MODELS.items():
                live[name].run_until_caught_up()
                assert live[name].parked() == [], name
                assert (
                    compare(
                        live[name],
                        rebuild(app, projection, views, "rebuild_1", decoding=StoredEventDecoder(app.mapper)),
                    )
                    == []
                ), name
        finally:
            views.close()
            app.close()
