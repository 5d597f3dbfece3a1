"""The read models answer the same on every view store: in-memory SQLite, SQLite file, PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.application import Application

from adapters.eventstore.event_decoding import StoredEventDecoder
from coordination.domain.household import Need
from coordination.domain.offer_rules import size_is_suitable
from coordination.domain.policy import DEFAULT_POLICY
from coordination.domain.referral import ReferralKind
from coordination.domain.referral_daycare import InstitutionIntake
from coordination.domain.values import Accessibility, DeclinedBy, DwellingType, Money
from coordination.projections.daycare_queue import DaycareQueue, QueueStatus
from coordination.projections.handoff_status import HandoffStatus
from coordination.projections.rebuild import compare, rebuild
from coordination.projections.receiving_areas import ReceivingAreas
from coordination.projections.timeline import Timeline
from coordination.projections.vacancy_pool import HouseholdFacts, VacancyPool
from coordination.projections.view_store import ViewStore
from ops.bench.fixtures import read_model_support as s
from ops.node.read_models import READ_MODELS
from tests.contract.test_projection_engine import app, open_views  # noqa: F401 (fixtures)

TODAY = date(2026, 11, 1)


@pytest.fixture
def views(open_views: Any) -> ViewStore:  # noqa: F811
    return open_views()


def catch_up(app: Application, views: ViewStore) -> None:  # noqa: F811
    for runner in s.runners(app, views).values():
        runner.run_until_caught_up()
        assert runner.parked() == []


def test_the_pool_lists_open_vacancies_by_date_and_reserved_let_or_withdrawn_ones_leave_it(
    app: Application,  # noqa: F811
    views: ViewStore,
) -> None:
    late = s.publish(app, available_from=date(2026, 9, 1))
    early = s.publish(app, s.FAB_CONSULTANT, area="Bolbro", available_from=date(2026, 7, 1))
    offered, withdrawn = s.publish(app), s.publish(app)
    household = s.register(app)
    s.offer(app, household, offered)
    withdrawn.withdraw(reason="Sold to a private landlord", at=s.at(2), by=s.CONSULTANT)
    app.save(withdrawn)
    s.publish(app, municipality="Aarhus")
    catch_up(app, views)

    found = VacancyPool(views).search("odense", today=TODAY)

    assert [v.vacancy_id for v in found] == [early.id, late.id]
    assert (found[0].owner, found[0].area, found[0].rent, found[0].area_m2) == (
        "fab",
        "Bolbro",
        Decimal("7650.00"),
        Decimal("112.50"),
    )
    assert found[1].address == "Kochsgade 31, 2. th, 5000 Odense C"


def test_a_declined_or_expired_offer_puts_the_vacancy_back_in_the_pool(
    app: Application,  # noqa: F811
    views: ViewStore,
) -> None:
    declined, expired = s.publish(app), s.publish(app)
    for vacancy in (declined, expired):
        s.offer(app, s.register(app), vacancy)
    catch_up(app, views)
    assert VacancyPool(views).search("Odense", today=TODAY) == []
    declined.decline_offer(
        offer_id=declined.live_offer_id,
        declined_by=DeclinedBy.HOUSEHOLD,
        reason="Too far from school",
        at=s.at(2),
        by=s.CONSULTANT,
    )
    expired.expire_offer(offer_id=expired.live_offer_id, at=s.at(20))
    app.save(declined, expired)
    catch_up(app, views)

    assert {v.vacancy_id for v in VacancyPool(views).search("Odense", today=TODAY)} == {
        declined.id,
        expired.id,
    }


def test_pool_search_filters_and_pages_with_a_cursor(app: Application, views: ViewStore) -> None:  # noqa: F811
    small = s.publish(app, rooms=2, rent="5200", available_from=date(2026, 7, 1))
    step_free = s.publish(
        app, rooms=4, accessibility=Accessibility.STEP_FREE, available_from=date(2026, 7, 2)
    )
    elderly = s.publish(app, area="Bolbro", rooms=3, dwelling_type=DwellingType.ELDERLY)
    big = s.publish(app, rooms=6, rent="9900", available_from=date(2026, 10, 1))
    catch_up(app, views)
    pool = VacancyPool(views)

    def ids(**filters: Any) -> list[Any]:
        return [v.vacancy_id for v in pool.search("Odense", today=TODAY, **filters)]

    assert ids(min_rooms=3) == [step_free.id, elderly.id, big.id]
    assert ids(max_rent=Decimal("7650")) == [small.id, step_free.id, elderly.id]
    assert ids(max_rent=Money(dkk=Decimal("5200.00"))) == [small.id]
    assert ids(area="bolbro") == [elderly.id]
    assert ids(available_by=date(2026, 7, 31)) == [small.id, step_free.id]
    assert ids(accessibility="step_free") == [step_free.id]
    assert ids(dwelling_type=DwellingType.ELDERLY) == [elderly.id]
    first = pool.search("Odense", limit=2, today=TODAY)
    rest = pool.search("Odense", limit=2, after=first[-1].cursor, today=TODAY)
    assert [v.vacancy_id for v in first + rest] == [small.id, step_free.id, elderly.id, big.id]


def test_suitable_for_applies_the_size_and_municipality_rules_and_the_households_wishes(
    app: Application,  # noqa: F811
    views: ViewStore,
) -> None:
    previous_rooms = s.publish(app, rooms=3)
    too_small = s.publish(app, rooms=2)
    members_plus_one = s.publish(app, rooms=4)
    too_dear = s.publish(app, rooms=4, rent="8100")
    elsewhere = s.publish(app, rooms=4, area="Bolbro")
    s.publish(app, rooms=4, municipality="Aarhus")
    catch_up(app, views)
    facts = HouseholdFacts(
        municipality="Odense",
        members=3,
        previous_rooms=3,
        preferred_areas=["Odense C"],
        max_rent=Money(dkk=Decimal("8000")),
    )

    found = VacancyPool(views).suitable_for(facts, today=TODAY)

    assert {v.vacancy_id for v in found} == {previous_rooms.id, members_plus_one.id}
    assert all(size_is_suitable(v.rooms, members=3, previous_rooms=3) for v in found)
    assert {too_small.id, too_dear.id, elsewhere.id}.isdisjoint(v.vacancy_id for v in found)
    wide = facts.model_copy(update={"preferred_areas": [], "max_rent": None, "min_rooms": 4})
    assert {v.vacancy_id for v in VacancyPool(views).suitable_for(wide, today=TODAY)} == {
        members_plus_one.id,
        too_dear.id,
        elsewhere.id,
    }


def test_each_pool_vacancy_shows_its_areas_inflow_and_the_status_hook(
    app: Application,  # noqa: F811
    views: ViewStore,
) -> None:
    s.publish(app)
    for moved_on in (date(2025, 10, 1), date(2026, 3, 1), date(2026, 9, 1)):
        household = s.register(app)
        household.record_move(move=s.hb.a_move(moved_on=moved_on), at=s.at(3), by=s.CONSULTANT)
        app.save(household)
    catch_up(app, views)

    [vacancy] = VacancyPool(views, status_of=lambda m, a: f"ok in {a}").search("Odense", today=TODAY)

    assert (vacancy.area_inflow, vacancy.inflow_months, vacancy.area_status) == (2, 12, "ok in Odense C")
    assert VacancyPool(views, inflow_months=24).search("Odense", today=TODAY)[0].area_inflow == 3


SOLSIKKEN = "Børnehuset Solsikken"


def test_the_daycare_queue_follows_the_referral_from_waiting_to_started(
    app: Application,  # noqa: F811
    views: ViewStore,
) -> None:
    household = s.register(app)
    child = s.send(app, household.id, days=21)
    later = s.send(app, household.id, days=22, needed_from=date(2026, 9, 1))
    gone = s.send(app, household.id, days=20, needed_from=date(2026, 8, 3))
    s.send(app, household.id, ReferralKind.SCHOOL_CHANGE, days=20)
    gone.withdraw(reason="The family moved elsewhere", at=s.at(23), by=s.CONSULTANT)
    app.save(gone)
    queue = DaycareQueue(views)
    catch_up(app, views)

    waiting = queue.queue(s.at(31), status=QueueStatus.WAITING)
    assert [c.referral_id for c in waiting] == [child.id, later.id]
    assert (waiting[0].member_id, waiting[0].birth_month, waiting[0].days_waiting) == ("C4", "2022-02", 10)
    assert waiting[0].guarantee_date == date(2026, 9, 22)  # sent 22 June, three months on
    assert [c.status for c in queue.queue(s.at(31))] == ["withdrawn", "waiting", "waiting"]
    assert queue.queue(s.at(200), status="waiting")[0].overdue
    assert not queue.queue(s.at(200), status="withdrawn")[0].overdue

    child.acknowledge(at=s.at(22), by=s.ALLOCATOR)
    child.accept(assignee="pladsanvisning-3", at=s.at(25), by=s.ALLOCATOR)
    app.save(child)
    catch_up(app, views)
    # The department taking the case is no place: the child waits on.
    assert [c.status for c in queue.queue(s.at(26)) if c.referral_id == child.id] == [QueueStatus.WAITING]

    intake = InstitutionIntake(institution=SOLSIKKEN, year=2026)
    child.offer_place(
        institution=SOLSIKKEN,
        starts_on=date(2026, 8, 3),
        priority_reason="rehousing",
        counts_under_26a=False,
        intake=intake,
        overrides=[],
        policy=DEFAULT_POLICY,
        at=s.at(26),
        by=s.ALLOCATOR,
    )
    app.save(child)
    catch_up(app, views)
    [offered] = queue.queue(s.at(27), status=QueueStatus.PLACE_OFFERED)
    assert (offered.referral_id, offered.days_waiting) == (child.id, 5)
    assert (offered.institution, offered.starts_on, offered.priority_reason) == (
        SOLSIKKEN,
        date(2026, 8, 3),
        "rehousing",
    )

    child.accept_place(at=s.at(28), by=s.CONSULTANT)
    child.complete(outcome="Kindergarten place from 3 August", at=s.at(30), by=s.ALLOCATOR)
    app.save(child)
    catch_up(app, views)
    # Completed by the department in June, the child starts on the start date, not before.
    [accepted] = queue.queue(s.at(40), status=QueueStatus.PLACE_ACCEPTED)
    assert accepted.referral_id == child.id
    assert queue.queue(s.at(40), status=QueueStatus.STARTED) == []
    [started] = queue.queue(s.at(64), status=QueueStatus.STARTED)
    assert started.referral_id == child.id
    assert not started.overdue
    assert queue.intake(SOLSIKKEN, 2026) == InstitutionIntake(institution=SOLSIKKEN, year=2026, admitted=1)


def test_handoff_status_shows_the_holder_the_pending_handoff_and_what_is_overdue(
    app: Application,  # noqa: F811
    views: ViewStore,
) -> None:
    household = s.register(app)
    handoff = s.move_and_hand_off(app, household, moved_on=date(2026, 7, 15), days=44)
    catch_up(app, views)
    status = HandoffStatus(views)

    pending = status.for_household(household.id, s.at(45))
    assert pending.holder is not None
    assert pending.holder.organisation == s.CIVICA
    assert pending.pending_handoff is not None
    assert pending.pending_handoff.to.organisation == s.BRIDGE
    [open_handoff] = pending.open_referrals
    assert open_handoff.is_handoff
    assert not open_handoff.acknowledgement_overdue
    assert [r.referral_id for r in status.owed_by(s.BRIDGE, s.at(45))] == [handoff.id]
    # Sent Wednesday 15 July; three working days on is Monday 20 July: overdue on the 21st.
    assert not status.owed_by(s.BRIDGE, s.at(48.9))[0].acknowledgement_overdue
    assert status.owed_by(s.BRIDGE, s.at(50))[0].acknowledgement_overdue
    late = status.for_household(household.id, s.at(75))
    assert late.follow_up_overdue
    assert late.open_referrals[0].stalled

    handoff.acknowledge(at=s.at(50), by=s.BRIDGE_BUILDER)
    household.acknowledge_handoff(referral_id=handoff.id, at=s.at(50), by=s.BRIDGE_BUILDER)
    household.record_follow_up_visit(visited_on=date(2026, 7, 24), at=s.at(53), by=s.BRIDGE_BUILDER)
    app.save(handoff, household)
    catch_up(app, views)

    held = status.for_household(household.id, s.at(75))
    assert held.holder is not None
    assert held.holder.organisation == s.BRIDGE
    assert held.pending_handoff is None
    assert (held.follow_up_done, held.follow_up_overdue) == (True, False)
    assert held.open_referrals == []  # the new holder's acknowledgement completed the handoff
    [closed] = status.sent_between(s.at(30), s.at(60), s.CIVICA, s.at(75))
    assert (closed.referral_id, closed.status, closed.acknowledged_late) == (handoff.id, "completed", True)
    assert status.held_by(s.BRIDGE) == [household.id]
    assert status.held_by(s.CIVICA) == []
    [latency] = status.latencies(kind="handoff")
    assert (latency.from_org, latency.to_org) == (s.CIVICA, s.BRIDGE)
    assert latency.to_acknowledgement is not None
    assert latency.to_acknowledgement.days == 6


def test_handoff_status_answers_the_dashboards_questions_for_a_period_and_an_organisation(
    app: Application,  # noqa: F811
    views: ViewStore,
) -> None:
    household = s.register(app)
    handoff = s.move_and_hand_off(app, household, moved_on=date(2026, 7, 15), days=44)
    handoff.acknowledge(at=s.at(50), by=s.BRIDGE_BUILDER)
    app.save(handoff)
    catch_up(app, views)
    status = HandoffStatus(views)
    july = (s.at(30), s.at(60))

    [latency] = status.latencies(issued=july, organisation=s.BRIDGE)
    assert (latency.referral_id, latency.issued_at) == (handoff.id, s.at(44))
    assert latency.to_acknowledgement is not None
    assert latency.to_acknowledgement.days == 6
    assert status.latencies(issued=(s.at(45), s.at(60))) == []
    assert status.latencies(issued=july, organisation="aarhus-kommune") == []

    [sent] = status.sent_between(*july, s.CIVICA, s.at(51))
    assert (sent.referral_id, sent.acknowledged_late, sent.completion_overdue) == (handoff.id, True, False)
    assert status.sent_between(s.at(45), s.at(60), None, s.at(51)) == []

    assert status.moved_between(date(2026, 7, 1), date(2026, 8, 1), s.CIVICA) == [(date(2026, 7, 15), None)]
    assert status.moved_between(date(2026, 7, 16), date(2026, 8, 1), None) == []
    assert status.moved_between(date(2026, 7, 1), date(2026, 8, 1), s.BRIDGE) == []


def test_the_receiving_area_monitor_counts_moves_vulnerable_households_and_overrides(
    app: Application,  # noqa: F811
    views: ViewStore,
) -> None:
    vulnerable = s.register(app, needs=[Need.MENTAL_HEALTH, Need.DAYCARE])
    other = s.register(app, needs=[Need.INTERPRETER])
    s.offer(app, vulnerable, s.publish(app))
    other.record_move(move=s.hb.a_move(moved_on=date(2025, 1, 1)), at=s.at(1), by=s.CONSULTANT)
    app.save(other)
    mover = s.register(app, needs=[Need.FINANCIAL_ADVICE])
    mover.record_move(move=s.hb.a_move(moved_on=date(2026, 9, 1)), at=s.at(1), by=s.CONSULTANT)
    app.save(mover)
    catch_up(app, views)
    areas = ReceivingAreas(views)

    assert areas.inflow("Odense", "odense c", since=date(2025, 11, 1)) == 1
    assert areas.inflow("Odense", "Odense C", since=date(2024, 11, 1)) == 2
    [summary] = areas.monitor("Odense")
    assert (summary.moved_in, summary.vulnerable, summary.vulnerable_share) == (2, 1, 0.5)
    assert summary.overrides == {"suitable_size": 1}
    assert [m.vulnerable for m in areas.moves("Odense", "Odense C")] == [False, True]


def test_the_timeline_lists_every_event_about_a_household_in_order(
    app: Application,  # noqa: F811
    views: ViewStore,
) -> None:
    household, stranger = s.register(app), s.register(app)
    vacancy = s.publish(app)
    s.offer(app, household, vacancy)
    daycare = s.send(app, household.id, days=2)
    s.send(app, stranger.id, days=2)
    s.link(app, household.id, days=3)
    daycare.acknowledge(at=s.at(4), by=s.ALLOCATOR)
    app.save(daycare)
    catch_up(app, views)

    entries = Timeline(views).entries(household.id)

    assert [(e.aggregate, e.event) for e in entries] == [
        ("Household", "Registered"),
        ("Household", "OfferReceived"),
        ("Vacancy", "OfferReserved"),
        ("Referral", "Sent"),
        ("SupportLink", "Proposed"),
        ("Referral", "Acknowledged"),
    ]
    assert [e.position for e in entries] == sorted(e.position for e in entries)
    acknowledged = entries[-1]
    assert (acknowledged.organisation, acknowledged.person, acknowledged.role) == (
        s.DEPARTMENT,
        "pladsanvisning-3",
        "daycare_allocator",
    )
    assert acknowledged.at == s.at(4)


def test_every_read_model_rebuilt_from_history_equals_the_live_one(
    app: Application,  # noqa: F811
    views: ViewStore,
) -> None:
    household = s.register(app, needs=[Need.PHYSICAL_HEALTH])
    s.offer(app, household, s.publish(app))
    referral = s.send(app, household.id, days=2)
    referral.acknowledge(at=s.at(3), by=s.ALLOCATOR)
    app.save(referral)
    catch_up(app, views)
    s.publish(app, area="Bolbro")
    s.move_and_hand_off(app, s.register(app), moved_on=date(2026, 8, 1), days=60)
    catch_up(app, views)
    live = s.runners(app, views)

    for name, projection in READ_MODELS.items():
        rebuilt = rebuild(
            app,
            projection,
            views,
            "rebuild_1",
            up_to=live[name].position(),
            decoding=StoredEventDecoder(app.mapper),
        )
        assert compare(live[name], rebuilt) == [], name
