"""A toy projection (open vacancies by area) and vacancy commands, for testing and measuring the engine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from adapters.transcoding import register_domain_transcodings
from coordination.domain.vacancy import Vacancy
from coordination.domain.values import Actor, Address, DeclinedBy, Dwelling, Money, Place, Role
from coordination.projections.definition import Projection, handles
from coordination.projections.transaction import ProjectionTx

AT = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
CONSULTANT = Actor(organisation="civica", person="c-17", role=Role.REHOUSING_CONSULTANT)


class OpenVacanciesByArea(Projection):
    """How many vacancies are open in each receiving area, and each vacancy's state."""

    name = "open_vacancies_by_area"
    tables = {
        "toy_vacancies": "vacancy_id TEXT PRIMARY KEY, municipality TEXT NOT NULL, area TEXT NOT NULL, "
        "rooms INTEGER NOT NULL, rent REAL NOT NULL, status TEXT NOT NULL",
        "toy_open_by_area": "municipality TEXT NOT NULL, area TEXT NOT NULL, open_count INTEGER NOT NULL, "
        "PRIMARY KEY (municipality, area)",
    }
    indexes = {"toy_vacancies_by_area": ("toy_vacancies", "municipality, area, status")}

    # Counts move by one per event, so applying any event twice would show in them.
    _count = (
        "UPDATE {toy_open_by_area} SET open_count = open_count + ? "
        "WHERE municipality = (SELECT municipality FROM {toy_vacancies} WHERE vacancy_id = ?) "
        "AND area = (SELECT area FROM {toy_vacancies} WHERE vacancy_id = ?)"
    )
    _status = "UPDATE {toy_vacancies} SET status = ? WHERE vacancy_id = ?"

    @handles(Vacancy.Published)
    def published(self, event: Vacancy.Published, tx: ProjectionTx) -> None:
        place, dwelling = event.dwelling.place, event.dwelling
        tx.execute(
            "INSERT INTO {toy_vacancies} VALUES (?, ?, ?, ?, ?, 'open')",
            (
                str(event.originator_id),
                place.municipality,
                place.area,
                dwelling.rooms,
                float(dwelling.rent.dkk),
            ),
        )
        tx.execute(
            "INSERT INTO {toy_open_by_area} VALUES (?, ?, 1) "
            "ON CONFLICT (municipality, area) DO UPDATE SET open_count = {toy_open_by_area}.open_count + 1",
            (place.municipality, place.area),
        )

    @handles(Vacancy.OfferReserved)
    def reserved(self, event: Vacancy.OfferReserved, tx: ProjectionTx) -> None:
        self._move(tx, event.originator_id, "reserved", -1)

    @handles(Vacancy.OfferDeclined, Vacancy.OfferExpired)
    def back_in_pool(self, event: Vacancy.Event, tx: ProjectionTx) -> None:
        self._move(tx, event.originator_id, "open", +1)

    @handles(Vacancy.OfferAccepted)
    def let(self, event: Vacancy.OfferAccepted, tx: ProjectionTx) -> None:
        self._move(tx, event.originator_id, "let", 0)

    @handles(Vacancy.Withdrawn)
    def withdrawn(self, event: Vacancy.Withdrawn, tx: ProjectionTx) -> None:
        self._move(tx, event.originator_id, "withdrawn", -1)

    def _move(self, tx: ProjectionTx, vacancy_id: UUID, status: str, change: int) -> None:
        if change:
            tx.execute(self._count, (change, str(vacancy_id), str(vacancy_id)))
        tx.execute(self._status, (status, str(vacancy_id)))


def open_counts(runner: Any) -> dict[str, int]:
    """Open vacancies per area as the runner's live tables say (areas with none left out)."""
    table = runner.projection.table_names["toy_open_by_area"]
    rows = runner.view_store.query(f"SELECT area, open_count FROM {table} WHERE open_count <> 0")
    return {row["area"]: row["open_count"] for row in rows}


def statuses(runner: Any) -> dict[str, str]:
    table = runner.projection.table_names["toy_vacancies"]
    return {row["vacancy_id"]: row["status"] for row in runner.view_store.query(f"SELECT * FROM {table}")}


class StoreApp(Application):
    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)


def dwelling(area: str, rooms: int = 3) -> Dwelling:
    return Dwelling(
        estate="Vollsmose",
        address=Address(street="Egeparken 12, 2. tv.", postcode="5240", city="Odense NØ"),
        place=Place(municipality="Odense", area=area),
        rooms=rooms,
        area_m2=Decimal("78.50"),
        rent=Money(dkk=Decimal("6450.00")),
        available_from=date(2025, 4, 1),
    )


def publish(app: Application, area: str) -> Vacancy:
    vacancy = Vacancy.publish(id=uuid4(), dwelling=dwelling(area), at=AT, by=CONSULTANT)
    app.save(vacancy)
    return vacancy


def reserve(app: Application, vacancy: Vacancy) -> UUID:
    offer_id = uuid4()
    vacancy.reserve_for_offer(
        offer_id=offer_id, household_id=uuid4(), expires_at=AT + timedelta(days=14), at=AT, by=CONSULTANT
    )
    app.save(vacancy)
    return offer_id


def accept(app: Application, vacancy: Vacancy) -> None:
    assert vacancy.live_offer_id is not None
    vacancy.accept_offer(offer_id=vacancy.live_offer_id, at=AT + timedelta(days=1), by=CONSULTANT)
    app.save(vacancy)


def decline(app: Application, vacancy: Vacancy) -> None:
    assert vacancy.live_offer_id is not None
    vacancy.decline_offer(
        offer_id=vacancy.live_offer_id,
        declined_by=DeclinedBy.HOUSEHOLD,
        reason="Too far from school",
        at=AT + timedelta(days=1),
        by=CONSULTANT,
    )
    app.save(vacancy)


def expire(app: Application, vacancy: Vacancy) -> None:
    assert vacancy.live_offer_id is not None
    assert vacancy.offer_expires_at is not None
    vacancy.expire_offer(offer_id=vacancy.live_offer_id, at=vacancy.offer_expires_at)
    app.save(vacancy)


def withdraw(app: Application, vacancy: Vacancy) -> None:
    vacancy.withdraw(reason="Sold to a private landlord", at=AT + timedelta(days=2), by=CONSULTANT)
    app.save(vacancy)
