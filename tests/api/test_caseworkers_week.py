"""A caseworker's week through the API, one test per role (issue 21, the first "what must hold"): what each
person sees day by day as the node's clock moves on, and that every organisation outside the household's
network sees nothing of it in its caseload, its worklist or its inbox."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from adapters.webhooks.store import WebhookStore
from adapters.webhooks.worker import Backoff, WebhookWorker
from coordination.domain.values import Role
from ops.demo.reference_family import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, CIVICA, KVINFO
from ops.node.timers import NodeTimers
from tests.api.conftest import FAB, Api, Organisations
from tests.api.story import (
    CONTACT,
    MOVE,
    PHONE,
    People,
    dwelling,
    etag_of,
    family,
    people,
    step,
    through_bridge_building,
)
from tests.api.webhook_receiver import Receiver, verified

OVERRIDE = {"rule": "suitable_size", "reason": "The mother chose this central dwelling near the schools"}
ANY_ROLE = {
    FAB: Role.REHOUSING_CONSULTANT,
    CIVICA: Role.REHOUSING_CONSULTANT,
    BRIDGE_BUILDER: Role.BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH: Role.DEPARTMENT_CASEWORKER,
    KVINFO: Role.CIVIL_ACTOR,
}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A department's own system: a real HTTP server on 127.0.0.1, taken down after the test."""
    found = Receiver()
    found.up()
    yield found
    found.down()


class Week:
    """Every node's clock, moved on a day at a time (the API's `now`, the records' `at`, the timers')."""

    def __init__(self, orgs: Organisations) -> None:
        self.now = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
        self.monday = self.now.date()
        for node in orgs.nodes.values():
            node.clock = lambda: self.now

    def day(self, number: int) -> date:
        """Day `number` of the week (0: the first), and the clock set to 08:00 that day."""
        self.now = datetime.combine(self.monday + timedelta(days=number), datetime.min.time(), UTC)
        self.now += timedelta(hours=8)
        return self.now.date()

    def timers(self, orgs: Organisations, org: str) -> NodeTimers:
        return NodeTimers(orgs.nodes[org].app, interval_s=3600, clock=lambda: self.now)


def worklist(api: Api, **params: Any) -> list[dict[str, Any]]:
    return list(api.ok(api.get("/worklist", **params))["items"])


def kinds(api: Api, household: str, **params: Any) -> set[str]:
    return {i["kind"] for i in worklist(api, **params) if i["household_id"] == household}


def inbox(api: Api, **params: Any) -> list[dict[str, Any]]:
    return list(api.ok(api.get("/inbox", purpose=None, **params))["items"])


def escalations(api: Api) -> list[str]:
    """What reached this person as an escalation: the referrals' ids."""
    return [i["subject_id"] for i in inbox(api) if i["kind"] == "escalation"]


def register(consultant: Api, *, case_reference: str, ends: date, **changes: Any) -> tuple[str, str]:
    body = {**family(), "case_reference": case_reference, "termination_date": ends.isoformat(), **changes}
    return step(consultant, "/households", body, status=201)


def nothing_elsewhere(orgs: Organisations, households: list[str], members: tuple[str, ...]) -> None:
    """No organisation outside `members` finds these households in its caseload, worklist or inbox, at its
    own node (which answers it) or at any member's (which answers it nothing of them, or refuses)."""
    for org in orgs.nodes:
        if org in members:
            continue
        for node in {org, *members}:
            api = orgs.api(node, org, role=ANY_ROLE[org], person=f"{org}-1")
            seen: set[str] = set()
            for path, purpose, fields in (
                ("/households", "case work", ("household_id",)),
                ("/worklist", "case work", ("household_id",)),
                ("/inbox", None, ("subject_id", "household_id")),
            ):
                answer = api.get(path, purpose=purpose)
                if node == org:
                    assert answer.status_code == 200, (org, path, answer.text)
                elif answer.status_code != 200:
                    continue
                seen |= {str(item.get(f)) for item in answer.json()["items"] for f in fields}
            assert not seen & set(households), (org, node)


def test_the_rehousing_consultants_week_finds_the_household_amends_it_and_sees_the_offer_and_the_lease_run_out(
    organisations: Organisations,
) -> None:
    orgs, week = organisations, Week(organisations)
    consultant = people(orgs).consultant
    # Monday: the lease ends in 33 days; the household is registered and found again by its case reference.
    monday = week.day(0)
    household, h = register(consultant, case_reference="CIV-2026-7101", ends=monday + timedelta(days=33))
    found = consultant.ok(consultant.get("/households", case_reference="civ-2026-7101 "))["items"]
    assert [(e["household_id"], e["responsible_person"]) for e in found] == [(household, "civica-gk-07")]
    _, h = step(consultant, f"/households/{household}/needs", {"needs": ["daycare", "interpreter"]}, etag=h)
    assert consultant.ok(consultant.get(f"/households/{household}"))["needs"] == ["daycare", "interpreter"]
    vacancy, _ = step(consultant, "/vacancies", dwelling(), status=201)
    expires = week.now + timedelta(days=10)
    offer, h = step(
        consultant,
        f"/households/{household}/offers",
        {"vacancy_id": vacancy, "expires_at": expires.isoformat(), "overrides": [OVERRIDE]},
        etag=h,
    )
    assert kinds(consultant, household) == set()  # nothing due yet: ten days to answer, 33 to the lease's end

    # Tuesday: still nothing.
    week.day(1)
    assert kinds(consultant, household) == set()

    # Friday: the offer expires within the week and the lease within 30 days, with no offer accepted.
    week.day(4)
    due = {i["kind"]: i for i in worklist(consultant, mine="true") if i["household_id"] == household}
    assert set(due) == {"offer_expiring_soon", "termination_without_accepted_offer"}
    assert (due["offer_expiring_soon"]["offer_id"], due["offer_expiring_soon"]["overdue"]) == (offer, False)
    assert datetime.fromisoformat(due["offer_expiring_soon"]["due_at"]) == expires
    ending = due["termination_without_accepted_offer"]
    assert (ending["due_on"], ending["for_person"]) == (
        (monday + timedelta(days=33)).isoformat(),
        "civica-gk-07",
    )

    # The family says no: the rent is too high. The offer leaves the list, the lease stays on it.
    declined = {"declined_by": "household", "reason_code": "rent_too_high"}
    step(consultant, f"/households/{household}/offers/{offer}/decline", declined, etag=h)
    assert kinds(consultant, household) == {"termination_without_accepted_offer"}
    timeline = consultant.ok(consultant.get(f"/households/{household}/timeline", limit=200))["items"]
    # The household's record and the vacancy's both say why.
    assert [(t["aggregate"], t["event"], t["reason_code"]) for t in timeline if t["reason_code"]] == [
        ("Household", "OfferDeclined", "rent_too_high"),
        ("Vacancy", "OfferDeclined", "rent_too_high"),
    ]
    [answered] = consultant.ok(consultant.get(f"/households/{household}"))["offers"]
    assert (answered["offer_id"], answered["status"]) == (offer, "declined_by_household")

    # Next Monday: overdue by nothing yet, still due; the lease's end comes closer.
    week.day(7)
    assert kinds(consultant, household, overdue="false") == {"termination_without_accepted_offer"}
    orgs.settle()
    nothing_elsewhere(orgs, [household], (CIVICA,))


def test_a_temporary_stay_beyond_twelve_months_shows_the_permanent_offer_owed_on_the_consultants_worklist(
    organisations: Organisations,
) -> None:
    orgs, week = organisations, Week(organisations)
    consultant = people(orgs).consultant
    monday = week.day(0)
    long_stay = {"scope": "external", "permanence": "temporary", "expected_months": 18}
    household, _ = register(
        consultant, case_reference="CIV-2026-7102", ends=monday + timedelta(days=200), rehousing=long_stay
    )
    [owed] = [i for i in worklist(consultant, mine="true") if i["household_id"] == household]
    assert (owed["kind"], owed["due_on"], owed["overdue"]) == (
        "permanent_offer_owed",
        monday.isoformat(),
        False,
    )
    short_stay = {**long_stay, "expected_months": 6}
    other, h = register(
        consultant, case_reference="CIV-2026-7103", ends=monday + timedelta(days=200), rehousing=short_stay
    )
    assert kinds(consultant, other) == set()
    # It moves temporarily today, and is still there twelve months on: the right begins the day after.
    temporary = {**MOVE, "moved_on": monday.isoformat(), "permanent": False}
    _, h = step(consultant, f"/households/{other}/move", {"move": temporary}, etag=h)
    right_from = monday.replace(year=monday.year + 1) + timedelta(days=1)
    week.day((right_from - monday).days - 1)
    assert "permanent_offer_owed" not in kinds(consultant, other)
    week.day((right_from - monday).days)
    [owed] = [i for i in worklist(consultant, kind="permanent_offer_owed") if i["household_id"] == other]
    assert (owed["due_on"], owed["for_person"]) == (right_from.isoformat(), "civica-gk-07")
    # Its permanent move settles the right: off the list.
    permanent = {**MOVE, "moved_on": right_from.isoformat(), "permanent": True}
    step(consultant, f"/households/{other}/move", {"move": permanent}, etag=h)
    assert "permanent_offer_owed" not in kinds(consultant, other)


def _handoff(
    orgs: Organisations, p: People, case_reference: str, *, contact: bool, moved_on: date
) -> tuple[str, str]:
    """A household registered (its contact shared with the bridge builder under consent) and moved, handed
    to the bridge builder: (household, handoff)."""
    ends = datetime.now(UTC).date() + timedelta(days=120)
    household, h = register(p.consultant, case_reference=case_reference, ends=ends)
    if contact:
        _, h = step(p.consultant, f"/households/{household}/contact-details", CONTACT, etag=h)
        consent = {"recipient": BRIDGE_BUILDER, "purpose": "contact_details", "given_on": "2026-06-02"}
        _, h = step(p.consultant, f"/households/{household}/consents", consent, etag=h)
    handoff, _ = step(
        p.consultant,
        f"/households/{household}/move",
        {"move": {**MOVE, "moved_on": moved_on.isoformat()}, "hand_off_to": BRIDGE_BUILDER},
        etag=h,
    )
    orgs.settle()
    return household, handoff


def test_the_bridge_builders_week_is_told_of_each_handoff_and_the_one_left_unacknowledged_escalates(
    organisations: Organisations,
) -> None:
    orgs, week, p = organisations, Week(organisations), people(organisations)
    anna = p.bridge_builder
    coordinator = orgs.api(BRIDGE_BUILDER, role=Role.COORDINATOR, person="bb-leder")
    timers = week.timers(orgs, BRIDGE_BUILDER)

    # Monday: the first family moves; Anna is told at once, reads it, acknowledges, and can call the mother.
    monday = week.day(0)
    first, handoff = _handoff(orgs, p, "CIV-2026-7201", contact=True, moved_on=monday)
    [told] = inbox(anna, unread="true")
    assert (told["kind"], told["subject_id"]) == ("referral_received", handoff)
    anna.ok(anna.post(f"/inbox/{told['notification_id']}/read"))
    assert inbox(anna, unread="true") == []
    step(anna, f"/referrals/{handoff}/acknowledgement", etag=etag_of(anna, f"/referrals/{handoff}"))
    assert anna.ok(anna.get(f"/referrals/{handoff}"))["contact"]["adult_phone"] == PHONE
    orgs.settle()
    mine = anna.ok(anna.get("/households", mine="true"))["items"]
    assert [(e["household_id"], e["responsible_person"]) for e in mine] == [(first, "bb-anna")]
    # Holding the family now, Anna owes it the follow-up visit after its move, not yet overdue.
    [visit] = [i for i in worklist(anna, mine="true") if i["household_id"] == first]
    assert (visit["kind"], visit["overdue"]) == ("follow_up_due", False)
    assert visit["due_on"] > monday.isoformat()
    timers.run_once()

    # Tuesday: a second family moves; this handoff is left unacknowledged.
    week.day(1)
    second, other = _handoff(orgs, p, "CIV-2026-7202", contact=False, moved_on=monday + timedelta(days=1))
    assert [(i["kind"], i["subject_id"]) for i in inbox(anna, unread="true")] == [
        ("referral_received", other)
    ]
    assert kinds(anna, second) == {"acknowledgement_owed"}
    timers.run_once()
    assert escalations(coordinator) == []

    # Next Monday: the acknowledgement is overdue; Anna is reminded, the coordinator not yet.
    week.day(7)
    assert timers.run_once()["notifications_raised"] == 1
    assert [(i["kind"], i["subject_id"]) for i in inbox(anna, unread="true")] == [
        ("acknowledgement_overdue", other),
        ("referral_received", other),
    ]
    owed = [i for i in worklist(anna) if i["household_id"] == second]
    assert [(i["kind"], i["overdue"]) for i in owed] == [("acknowledgement_owed", True)]
    assert escalations(coordinator) == []

    # Two working days later still undone: it reaches the coordinator, about that handoff alone.
    week.day(10)
    assert timers.run_once()["notifications_escalated"] == 1
    assert escalations(coordinator) == [other]
    assert "escalation" not in {i["kind"] for i in inbox(anna)}
    nothing_elsewhere(orgs, [first, second], (CIVICA, BRIDGE_BUILDER))


def test_the_daycare_caseworkers_week_sees_the_fast_track_referral_offers_a_place_and_the_child_starts_on_its_day(
    organisations: Organisations, receiver: Receiver
) -> None:
    orgs, week, p = organisations, Week(organisations), people(organisations)
    # The department's own system subscribes to the daycare places its node records.
    node = orgs.nodes[CHILDREN_AND_YOUTH]
    operator = orgs.api(CHILDREN_AND_YOUTH, role=Role.OPERATOR, person="it-1")
    url = f"http://127.0.0.1:{receiver.port}/pladsanvisning"
    operator.ok(operator.post("/webhooks", {"url": url, "types": ["dk.rehousing.referral.place_*"]}), 201)
    monday = week.day(0)
    household, h = register(p.consultant, case_reference="CIV-2026-7301", ends=monday + timedelta(days=90))
    _, h = through_bridge_building(orgs, p, household, h)
    vacancy, _ = step(p.consultant, "/vacancies", dwelling(), status=201)
    offer, h = step(
        p.consultant,
        f"/households/{household}/offers",
        {"vacancy_id": vacancy, "overrides": [OVERRIDE]},
        etag=h,
    )
    assert p.consultant.ok(p.consultant.get(f"/households/{household}/proposed-referrals")) == []
    _, h = step(p.consultant, f"/households/{household}/offers/{offer}/acceptance", etag=h)

    # The accepted offer proposes the fast-track daycare referral; the consultant confirms it as proposed.
    [proposed] = p.consultant.ok(p.consultant.get(f"/households/{household}/proposed-referrals"))
    assert (proposed["kind"], proposed["receiver"]) == ("daycare_fast_track", CHILDREN_AND_YOUTH)
    body = {k: proposed[k] for k in ("receiver", "kind", "child_id", "needed_from")}
    referral, _ = step(p.consultant, f"/households/{household}/referrals", body, status=201)
    orgs.settle()

    # The daycare caseworker: the child waits, the acknowledgement is owed.
    path = f"/referrals/{referral}"
    assert kinds(p.daycare, household) == {"acknowledgement_owed"}
    assert [(i["kind"], i["subject_id"]) for i in inbox(p.daycare)] == [("referral_received", referral)]
    assert [(c["status"], c["referral_id"]) for c in _queue(p)] == [("waiting", referral)]
    e = etag_of(p.daycare, path)
    _, e = step(p.daycare, f"{path}/acknowledgement", etag=e)
    _, e = step(p.daycare, f"{path}/acceptance", {"assignee": "pladsanvisning-3"}, etag=e)

    # Tuesday: a place is offered, starting the Monday after next.
    week.day(1)
    starts = monday + timedelta(days=14)
    place = {"institution": "Børnehuset Solsikken", "starts_on": starts.isoformat()}
    _, e = step(p.daycare, f"{path}/place", place, etag=e)
    [child] = _queue(p)
    assert (child["status"], child["institution"], child["starts_on"]) == (
        "place_offered",
        "Børnehuset Solsikken",
        starts.isoformat(),
    )

    # Wednesday: the family accepts; the referral is completed. Accepted, not started.
    week.day(2)
    _, e = step(p.daycare, f"{path}/place/acceptance", etag=e)
    step(p.daycare, f"{path}/completion", {"outcome": "A place at Solsikken"}, etag=e)
    assert [c["status"] for c in _queue(p)] == ["place_accepted"]
    week.day(13)
    assert [c["status"] for c in _queue(p)] == ["place_accepted"]
    week.day(14)
    assert [c["status"] for c in _queue(p)] == ["started"]
    orgs.settle()
    nothing_elsewhere(orgs, [household], (CIVICA, BRIDGE_BUILDER, CHILDREN_AND_YOUTH))

    # The department's own system follows the place too, through its webhook (the start date, the answer).
    worker = WebhookWorker(node.app, WebhookStore(node.db), idle_s=0.05)
    try:
        deliver_until(worker, lambda: len(receiver.processed) == 2)
    finally:
        worker.stop(timeout=5)
    places = {e["type"]: e["data"]["daycare_place"] for e in receiver.processed.values()}
    assert places == {
        "dk.rehousing.referral.place_offered": {
            "starts_on": starts.isoformat(),
            "answer": None,
            "reason_code": None,
        },
        "dk.rehousing.referral.place_accepted": {
            "starts_on": starts.isoformat(),
            "answer": "accepted",
            "reason_code": None,
        },
    }


def _queue(p: People) -> list[dict[str, Any]]:
    return list(p.daycare.ok(p.daycare.get("/daycare-queue"))["items"])


def test_the_municipal_coordinators_week_counts_the_declines_per_reason_and_receives_the_escalation(
    organisations: Organisations,
) -> None:
    orgs, week, p = organisations, Week(organisations), people(organisations)
    coordinator = orgs.api(CHILDREN_AND_YOUTH, role=Role.MUNICIPAL_COORDINATOR, person="odense-koordinator")
    timers = week.timers(orgs, CHILDREN_AND_YOUTH)
    month = {"from": f"{week.monday:%Y-%m}", "to": f"{week.monday:%Y-%m}"}

    # Monday: six families say no to the dwelling offered to them, five because the rent is too high.
    monday = week.day(0)
    households = []
    for number, code in enumerate(["rent_too_high"] * 5 + ["wrong_area"]):
        household, h = register(
            p.consultant, case_reference=f"CIV-2026-74{number:02}", ends=monday + timedelta(days=90)
        )
        vacancy, _ = step(p.consultant, "/vacancies", dwelling(), status=201)
        offer, h = step(
            p.consultant,
            f"/households/{household}/offers",
            {"vacancy_id": vacancy, "overrides": [OVERRIDE]},
            etag=h,
        )
        declined = {"declined_by": "household", "reason_code": code}
        step(p.consultant, f"/households/{household}/offers/{offer}/decline", declined, etag=h)
        households.append(household)
    # One of them is referred to the department for a school change, and nobody there acknowledges it.
    referral, _ = step(
        p.consultant,
        f"/households/{households[0]}/referrals",
        {"receiver": CHILDREN_AND_YOUTH, "kind": "school_change", "child_id": "C4"},
        status=201,
    )
    orgs.settle()
    picture = coordinator.ok(
        coordinator.get("/municipal-picture", purpose=None, municipality="Odense", **month)
    )
    # Counts of one to four read "<5": no single household's answer can be read off the picture.
    assert picture["offers"]["declined_for"] == {"rent_too_high": 5, "wrong_area": "<5"}
    assert picture["offers"]["declined_by"] == {"household": 6}
    assert household not in str(picture)
    timers.run_once()
    assert escalations(coordinator) == []

    # A week on the acknowledgement is overdue; two working days later it reaches the coordinator.
    week.day(7)
    timers.run_once()
    assert escalations(coordinator) == []
    week.day(10)
    assert timers.run_once()["notifications_escalated"] == 1
    assert escalations(coordinator) == [referral]
    # The consultant's coordinator at the housing organisation is not the department's: nothing reaches it.
    housing_coordinator = orgs.api(CIVICA, role=Role.COORDINATOR, person="civica-leder")
    assert escalations(housing_coordinator) == []


def test_the_departments_own_system_receives_each_referral_event_once_across_its_outage_signed(
    organisations: Organisations, receiver: Receiver
) -> None:
    orgs, week, p = organisations, Week(organisations), people(organisations)
    node = orgs.nodes[CHILDREN_AND_YOUTH]
    worker = WebhookWorker(
        node.app, WebhookStore(node.db), backoff=Backoff(first_s=0.2, longest_s=0.4, attempts=50), idle_s=0.05
    )
    try:
        operator = orgs.api(CHILDREN_AND_YOUTH, role=Role.OPERATOR, person="it-1")
        url = f"http://127.0.0.1:{receiver.port}/sagssystem"
        made = operator.ok(
            operator.post("/webhooks", {"url": url, "types": ["dk.rehousing.referral.*"]}), 201
        )

        # Monday: the consultant refers a child for a school change; the department's system hears of it.
        monday = week.day(0)
        household, _ = register(
            p.consultant, case_reference="CIV-2026-7501", ends=monday + timedelta(days=90)
        )
        referral, _ = step(
            p.consultant,
            f"/households/{household}/referrals",
            {"receiver": CHILDREN_AND_YOUTH, "kind": "school_change", "child_id": "C4"},
            status=201,
        )
        orgs.settle()
        deliver_until(worker, lambda: len(receiver.processed) == 1)

        # Tuesday: the department's system is down while the caseworker acknowledges and takes the case.
        week.day(1)
        receiver.down()
        path = f"/referrals/{referral}"
        e = etag_of(p.school, path)
        _, e = step(p.school, f"{path}/acknowledgement", etag=e)
        _, e = step(p.school, f"{path}/acceptance", {"assignee": "skole-12"}, etag=e)
        deliveries = f"/webhooks/{made['id']}/deliveries"
        deliver_until(
            worker,
            lambda: (
                sum(d["attempts"] >= 2 for d in operator.ok(operator.get(deliveries, purpose=None))["items"])
                == 2
            ),
        )
        assert len(receiver.processed) == 1

        # Wednesday: back up, its first answers lost; the school is found and the case completed.
        week.day(2)
        receiver.fail_first = True
        receiver.up()
        _, e = step(p.school, f"{path}/start", etag=e)
        step(p.school, f"{path}/completion", {"outcome": "A place at Rosengårdskolen"}, etag=e)
        deliver_until(worker, lambda: len(receiver.processed) == 5)
        deliver_until(
            worker,
            lambda: (
                {d["state"] for d in operator.ok(operator.get(deliveries, purpose=None))["items"]}
                == {"delivered"}
            ),
        )
    finally:
        worker.stop(timeout=5)

    steps = sorted(event["type"] for event in receiver.processed.values())
    assert steps == sorted(
        f"dk.rehousing.referral.{s}" for s in ("sent", "acknowledged", "accepted", "started", "completed")
    )
    assert {event["subject"] for event in receiver.processed.values()} == {referral}
    # Each event once in effect: every request carried one of five webhook-ids, each signed validly.
    secret = made["secret"]
    assert all(verified(secret, headers, body) for headers, body in receiver.requests)
    assert len({headers["webhook-id"] for headers, _ in receiver.requests}) == 5
    assert len(receiver.requests) > 5  # sent again after the outage and the lost answers
    # The housing organisation's node sends the department's system nothing: it subscribed at its own node.
    assert orgs.api(CIVICA, role=Role.OPERATOR, person="it-1").get("/webhooks", purpose=None).json() == []


def deliver_until(worker: WebhookWorker, condition: Callable[[], bool], seconds: float = 60) -> None:
    """The worker's rounds until `condition` holds (retries wait their backoff on the wall clock)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        worker.run_once()
        time.sleep(0.05)
