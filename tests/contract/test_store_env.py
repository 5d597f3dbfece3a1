"""Every backend env from `store_env` stores and reloads an aggregate and refuses a concurrent write."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from adapters.eventstore.transcoding import register_domain_transcodings
from coordination.domain.vacancy import Vacancy, VacancyStatus
from coordination.domain.values import Actor, Address, Dwelling, Money, Place, Role

AT = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
CONSULTANT = Actor(organisation="civica", person="c-17", role=Role.REHOUSING_CONSULTANT)


class _StoreApp(Application):
    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)


@pytest.fixture
def open_app(store_env: dict[str, str]) -> Iterator[Callable[[], Application]]:
    """Opens applications on the test's backend and closes them all afterwards."""
    opened: list[Application] = []

    def open_() -> Application:
        app = _StoreApp(env=store_env)
        opened.append(app)
        return app

    yield open_
    for app in opened:
        app.close()


def _published_vacancy() -> Vacancy:
    dwelling = Dwelling(
        estate="Vollsmose",
        address=Address(street="Egeparken 12, 2. tv.", postcode="5240", city="Odense NØ"),
        place=Place(municipality="Odense", area="Korsløkke"),
        rooms=3,
        area_m2=Decimal("78.50"),
        rent=Money(dkk=Decimal("6450.00")),
        available_from=date(2025, 4, 1),
    )
    return Vacancy.publish(id=uuid4(), dwelling=dwelling, at=AT, by=CONSULTANT)


def _reserve(vacancy: Vacancy) -> None:
    vacancy.reserve_for_offer(
        offer_id=uuid4(), household_id=uuid4(), expires_at=AT + timedelta(days=14), at=AT, by=CONSULTANT
    )


def test_a_stored_vacancy_reloads_with_the_same_state(open_app: Callable[[], Application]) -> None:
    app = open_app()
    vacancy = _published_vacancy()
    _reserve(vacancy)
    app.save(vacancy)

    again = app.repository.get(vacancy.id)

    assert vars(again) == vars(vacancy)
    assert again.status is VacancyStatus.RESERVED
    assert again.version == 2


def test_two_writers_of_one_vacancy_collide_on_its_version(
    open_app: Callable[[], Application], store_env: dict[str, str]
) -> None:
    first_app = open_app()
    published = _published_vacancy()
    first_app.save(published)
    # In memory each application has its own store, so the second writer shares the first's;
    # on SQLite and PostgreSQL it is a second application with its own connections.
    in_memory = store_env["PERSISTENCE_MODULE"] == "eventsourcing.popo"
    second_app = first_app if in_memory else open_app()
    mine = first_app.repository.get(published.id)
    theirs = second_app.repository.get(published.id)

    _reserve(mine)
    _reserve(theirs)
    first_app.save(mine)

    with pytest.raises(IntegrityError):
        second_app.save(theirs)
    assert first_app.repository.get(published.id).live_offer_id == mine.live_offer_id
