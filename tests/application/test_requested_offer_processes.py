"""An offer our organisation requested on another organisation's vacancy, seen by two processes of our node
on one store: the mirror of the owner's reservation names only a stand-in for our household, and is still
encrypted under the key every process finds the offer is about (the node's `household_subjects`)."""

from __future__ import annotations

from uuid import UUID, uuid4

from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.values import Actor, Role
from tests.application.builders import CONSULTANT, at, cmd, dwelling, register_family

OWNER = Actor(organisation="fab", person="fab-gk-02", role=Role.REHOUSING_CONSULTANT)


def _reserved_for_our_request(app: HousingOrganisationApp) -> tuple[UUID, UUID, UUID]:
    """FAB's vacancy mirrored here, requested for our household, and the owner's reservation mirrored."""
    vacancy = uuid4()
    app.mirror_vacancy_published(
        command_id=cmd(), vacancy_id=vacancy, owner="fab", dwelling=dwelling(), at=at(0), by=OWNER
    )
    household = register_family(app)
    offer = app.request_offer(
        command_id=cmd(),
        household_id=household,
        vacancy_id=vacancy,
        expires_at=at(15),
        at=at(1),
        by=CONSULTANT,
    )
    app.mirror_vacancy_reserved(
        command_id=cmd(), vacancy_id=vacancy, offer_id=offer, expires_at=at(15), at=at(2), by=OWNER
    )
    return household, vacancy, offer


def test_the_mirrored_reservation_of_our_request_reads_alike_in_the_other_process(
    two_processes: tuple[HousingOrganisationApp, HousingOrganisationApp],
) -> None:
    here, elsewhere = two_processes
    _, vacancy, offer = _reserved_for_our_request(here)

    for process in (here, elsewhere):
        seen = process.vacancy(vacancy)
        assert (seen.status, seen.live_offer_id) == ("reserved", offer)


def test_erasing_our_household_shreds_the_mirrored_reservation_in_every_process(
    two_processes: tuple[HousingOrganisationApp, HousingOrganisationApp],
) -> None:
    here, elsewhere = two_processes
    household, vacancy, offer = _reserved_for_our_request(here)
    assert here.repository.get(vacancy).live_household_id is not None

    here.erase_household(
        command_id=cmd(), household_id=household, legal_ground="GDPR art. 17(1)(a)", at=at(3), by=CONSULTANT
    )

    for process in (here, elsewhere):
        assert process.household_keys is not None
        process.household_keys.notice_erasures(now=True)  # the other process does not wait its second
        reserved = process.repository.get(vacancy)
        assert (reserved.live_offer_id, reserved.live_household_id) == (offer, None)
