"""The caseload read model and the worklist's facts at a housing organisation's node: found by what a
caseworker knows, shown only to the organisations in the household's network, rebuilt alike from history."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from adapters.sql.view_stores import SQLiteViewStore
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp
from coordination.domain.referral import ReferralKind
from coordination.domain.values import Actor, Role
from coordination.projections.caseload import case_reference_digest
from coordination.projections.caseload_search import CaseFilter
from coordination.projections.worklist import WorkItemKind
from ops.node.read_models import ReadModels
from tests.application.builders import (
    BRIDGE,
    CASE_REFERENCE,
    CIVICA,
    CONSULTANT,
    ODENSE_C,
    at,
    cmd,
    publish,
    register_family,
    the_move,
)

OTHER_CONSULTANT = Actor(organisation=CIVICA, person="gk-99", role=Role.REHOUSING_CONSULTANT)
DPO = (
    Actor(organisation=CIVICA, person="dpo-1", role=Role.DATA_PROTECTION),
    Actor(organisation=CIVICA, person="dpo-2", role=Role.DATA_PROTECTION),
)


@pytest.fixture
def models(housing: HousingOrganisationApp) -> Iterator[ReadModels]:
    found = ReadModels(housing, SQLiteViewStore(":memory:"))
    yield found
    found.stop()


def search(models: ReadModels, organisation: str = CIVICA, **wanted: object) -> list[str]:
    models.catch_up()
    found = models.caseload.search(organisation, CIVICA, CaseFilter.model_validate(wanted))
    return [str(entry.household_id) for entry in found]


def test_a_household_is_found_by_its_case_reference_as_typed_and_the_views_keep_only_a_keyed_digest(
    housing: HousingOrganisationApp, models: ReadModels
) -> None:
    household = str(register_family(housing))
    register_family(housing, case_reference="CIVICA-2026-0043")
    assert search(models, case_reference=CASE_REFERENCE) == [household]
    assert search(models, case_reference=f"  {CASE_REFERENCE.lower()} ") == [household]
    assert search(models, case_reference="CIVICA-2026-004") == []
    table = models.caseload._t["cl_households"]
    stored = models.views.query(f"SELECT case_reference_digest FROM {table}")
    assert all(CASE_REFERENCE not in str(row) for row in stored)
    # Neither a plain hash of the reference nor a digest under another key is what is kept.
    digests = {row["case_reference_digest"] for row in stored}
    plain = hashlib.sha256(CASE_REFERENCE.casefold().encode()).hexdigest()
    assert plain not in digests
    assert case_reference_digest(b"x" * 32, CASE_REFERENCE) not in digests
    assert case_reference_digest(housing.case_reference_key(), CASE_REFERENCE) in digests


def test_the_caseload_is_filtered_as_asked_sorted_by_termination_date_and_paged(
    housing: HousingOrganisationApp, models: ReadModels
) -> None:
    first = register_family(housing, case_reference="A-1")
    second = register_family(housing, case_reference="A-2")
    housing.record_first_contact(command_id=cmd(), household_id=second, at=at(1), by=CONSULTANT)
    vacancy = publish(housing)
    offer = housing.make_offer(
        command_id=cmd(), household_id=first, vacancy_id=vacancy, at=at(2), by=CONSULTANT
    )
    housing.accept_offer(command_id=cmd(), household_id=first, offer_id=offer, at=at(3), by=CONSULTANT)
    # Registered by another consultant, and with an earlier termination date: it comes first.
    third = housing.register_household(
        command_id=cmd(),
        case_reference="A-3",
        origin=housing.repository.get(first).origin,
        members=housing.repository.get(first).members,
        needs=[],
        rehousing=housing.repository.get(first).rehousing,
        termination_date=date(2026, 11, 30),
        preferences=housing.repository.get(first).preferences,
        consents=[],
        at=at(4),
        by=OTHER_CONSULTANT,
    )
    assert search(models) == [str(third), *sorted([str(first), str(second)])]
    assert search(models, phase="first_contact") == [str(second)]
    assert search(models, phase="housing_offer") == [str(first)]
    assert search(models, municipality=ODENSE_C.municipality, area=ODENSE_C.area) == [str(first)]
    assert search(models, termination_to=date(2026, 12, 1)) == [str(third)]
    assert search(models, termination_from=date(2026, 12, 1)) == sorted([str(first), str(second)])
    assert search(models, responsible_person="gk-99") == [str(third)]
    assert search(models, holder=CIVICA) == search(models)
    assert search(models, holder=BRIDGE) == []
    page = models.caseload.search(CIVICA, CIVICA, limit=2)
    rest = models.caseload.search(CIVICA, CIVICA, limit=2, after=page[-1].cursor)
    assert [e.household_id for e in [*page, *rest]] == [
        e.household_id for e in models.caseload.search(CIVICA, CIVICA)
    ]
    assert len(rest) == 1


def test_an_organisation_sees_a_household_only_once_it_is_in_its_network_and_at_the_owners_node_only_the_owners(
    housing: HousingOrganisationApp, models: ReadModels
) -> None:
    household = register_family(housing)
    assert search(models, organisation=BRIDGE) == []
    assert search(models, organisation="fab") == []
    housing.refer_household(
        command_id=cmd(),
        household_id=household,
        receiver=BRIDGE,
        kind=ReferralKind.BRIDGE_BUILDING,
        at=at(1),
        by=CONSULTANT,
    )
    assert search(models, organisation=BRIDGE) == [str(household)]
    assert search(models, organisation="fab") == []
    # Its worklist at the owner's node: the acknowledgement it owes, due by the policy's working days.
    items = models.worklists.due(BRIDGE, CIVICA, at(1, minutes=5), housing.policy)
    assert [(i.kind, i.household_id, i.due_at) for i in items] == [
        (WorkItemKind.ACKNOWLEDGEMENT_OWED, household, housing.policy.acknowledgement_due(at(1)))
    ]
    assert models.worklists.due("fab", CIVICA, at(30), housing.policy) == []


def test_the_owners_worklist_warns_of_an_offer_expiring_and_a_lease_ending_without_an_accepted_offer(
    housing: HousingOrganisationApp, models: ReadModels
) -> None:
    household = register_family(housing)  # the lease ends on 31 December 2026
    vacancy = publish(housing)
    expires = at(12)
    offer = housing.make_offer(
        command_id=cmd(),
        household_id=household,
        vacancy_id=vacancy,
        expires_at=expires,
        at=at(1),
        by=CONSULTANT,
    )
    models.catch_up()
    now = at(1)
    assert models.worklists.due(CIVICA, CIVICA, now, housing.policy) == []
    near_the_end = date(2026, 12, 31) - timedelta(days=housing.policy.termination_warning_days)
    items = models.worklists.due(CIVICA, CIVICA, expires - timedelta(days=1), housing.policy)
    assert [(i.kind, i.offer_id, i.for_person) for i in items] == [
        (WorkItemKind.OFFER_EXPIRING_SOON, offer, CONSULTANT.person)
    ]
    later = at(0).replace(year=2026, month=near_the_end.month, day=near_the_end.day)
    kinds = {i.kind for i in models.worklists.due(CIVICA, CIVICA, later, housing.policy)}
    assert WorkItemKind.TERMINATION_WITHOUT_ACCEPTED_OFFER in kinds
    housing.accept_offer(command_id=cmd(), household_id=household, offer_id=offer, at=at(2), by=CONSULTANT)
    models.catch_up()
    assert models.worklists.due(CIVICA, CIVICA, later, housing.policy) == []


def test_after_the_move_the_follow_up_visit_is_due_for_the_holder_and_the_handoffs_acknowledger_is_responsible(
    housing: HousingOrganisationApp, models: ReadModels
) -> None:
    household = register_family(housing)
    vacancy = publish(housing)
    offer = housing.make_offer(
        command_id=cmd(), household_id=household, vacancy_id=vacancy, at=at(1), by=CONSULTANT
    )
    housing.accept_offer(command_id=cmd(), household_id=household, offer_id=offer, at=at(2), by=CONSULTANT)
    housing.record_move(command_id=cmd(), household_id=household, move=the_move(), at=at(92), by=CONSULTANT)
    models.catch_up()
    due = housing.policy.follow_up_due(the_move().moved_on)
    [item] = models.worklists.due(CIVICA, CIVICA, at(92), housing.policy)
    assert (item.kind, item.due_on, item.for_person) == (WorkItemKind.FOLLOW_UP_DUE, due, CONSULTANT.person)
    assert search(models, responsible_person=CONSULTANT.person) == [str(household)]


def test_a_rebuilt_caseload_answers_as_the_live_one_and_an_erased_household_leaves_it(
    housing: HousingOrganisationApp, models: ReadModels
) -> None:
    household = register_family(housing)
    kept = register_family(housing, case_reference="A-2")
    housing.refer_household(
        command_id=cmd(),
        household_id=household,
        receiver=BRIDGE,
        kind=ReferralKind.BRIDGE_BUILDING,
        at=at(1),
        by=CONSULTANT,
    )
    live = search(models, organisation=BRIDGE), search(models)
    rebuilt = ReadModels(housing, SQLiteViewStore(":memory:"), suffix="rebuilt")
    rebuilt.catch_up()
    assert [str(e.household_id) for e in rebuilt.caseload.search(BRIDGE, CIVICA)] == live[0]
    assert rebuilt.caseload.search(CIVICA, CIVICA) == models.caseload.search(CIVICA, CIVICA)

    housing.propose_household_erasure(
        command_id=cmd(), household_id=household, legal_ground="GDPR art. 17", at=at(2), by=DPO[0]
    )
    housing.confirm_household_erasure(command_id=cmd(), household_id=household, at=at(3), by=DPO[1])
    assert search(models) == [str(kept)]
    assert search(models, organisation=BRIDGE) == []
    assert search(models, case_reference=CASE_REFERENCE) == []


def test_a_members_caseload_is_its_copy_of_the_network_and_forgets_the_household_with_it(
    housing: HousingOrganisationApp, bridge: BridgeBuilderApp
) -> None:
    household = register_family(housing)
    housing.refer_household(
        command_id=cmd(),
        household_id=household,
        receiver=BRIDGE,
        kind=ReferralKind.BRIDGE_BUILDING,
        at=at(1),
        by=CONSULTANT,
    )
    picture = housing.network_picture(household)
    assert picture is not None
    bridge.receive_network_picture(command_id=cmd(), picture=picture, at=at(1))
    members = ReadModels(bridge, SQLiteViewStore(":memory:"))
    members.catch_up()
    [entry] = members.caseload.search(BRIDGE, BRIDGE)
    assert (entry.household_id, entry.owner, entry.phase) == (household, CIVICA, "registered")
    assert entry.termination_date is None  # the owner's record, not the network's
    assert members.caseload.search("fab", BRIDGE) == []
    # The owner reads its own households at its own node, not at a member's.
    assert members.caseload.search(CIVICA, BRIDGE) == []

    bridge.forget_household(command_id=cmd(), household_id=household, at=at(2), by=CONSULTANT)
    members.catch_up()
    assert members.caseload.search(BRIDGE, BRIDGE) == []
    members.stop()
