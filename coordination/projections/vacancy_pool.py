"""The shared vacancy pool: open replacement dwellings of every housing organisation, with area inflow.

A node's store holds its own vacancies and, mirrored by the exchange, other housing organisations'
(same Vacancy aggregate, `owner` the publisher), so this one projection is the pool of all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from coordination.domain.calendar import add_months
from coordination.domain.household import Household
from coordination.domain.municipal_picture import suppressed
from coordination.domain.offer_rules import smallest_suitable_rooms
from coordination.domain.vacancy import Vacancy, VacancyStatus
from coordination.domain.values import Money
from coordination.projections.columns import day, from_ore, instant, key, ore
from coordination.projections.definition import EventHeader, Projection, handles
from coordination.projections.receiving_areas import ReceivingAreas
from coordination.projections.transaction import ProjectionTx
from coordination.projections.view_store import ViewStore

StatusOf = Callable[[str, str], "str | None"]


class VacancyPoolProjection(Projection):
    """Every vacancy this node knows, with its dwelling's facts and whether it is open for offers now."""

    name = "vacancy_pool"
    tables = {
        "pool_vacancies": "vacancy_id TEXT PRIMARY KEY, owner TEXT NOT NULL, estate TEXT NOT NULL, "
        "address TEXT NOT NULL, municipality TEXT NOT NULL, area TEXT NOT NULL, "
        "municipality_key TEXT NOT NULL, "
        "area_key TEXT NOT NULL, rooms INTEGER NOT NULL, area_m2 TEXT NOT NULL, rent_ore BIGINT NOT NULL, "
        "available_from TEXT NOT NULL, accessibility TEXT NOT NULL, dwelling_type TEXT NOT NULL, "
        "status TEXT NOT NULL, published_at TEXT NOT NULL",
    }
    # Searches are by municipality among open vacancies, in available_from order: this index answers them.
    indexes = {
        "pool_open": ("pool_vacancies", "municipality_key, status, available_from, vacancy_id"),
        "pool_open_by_area": (
            "pool_vacancies",
            "municipality_key, area_key, status, available_from, vacancy_id",
        ),
    }

    @handles(Vacancy.Published)
    def published(self, event: Vacancy.Published, tx: ProjectionTx) -> None:
        dwelling = event.dwelling
        address = dwelling.address
        tx.upsert(
            "pool_vacancies",
            {
                "vacancy_id": str(event.originator_id),
                "owner": event.owner,
                "estate": dwelling.estate,
                "address": f"{address.street}, {address.postcode} {address.city}",
                "municipality": dwelling.place.municipality,
                "area": dwelling.place.area,
                "municipality_key": key(dwelling.place.municipality),
                "area_key": key(dwelling.place.area),
                "rooms": dwelling.rooms,
                "area_m2": str(dwelling.area_m2),
                "rent_ore": ore(dwelling.rent.dkk),
                "available_from": day(dwelling.available_from),
                "accessibility": str(dwelling.accessibility),
                "dwelling_type": str(dwelling.dwelling_type),
                "status": VacancyStatus.OPEN.value,
                "published_at": instant(event.at),
            },
        )

    # A status change needs only the vacancy's id, which the notification has without decoding the event.

    @handles(Vacancy.OfferReserved, header_only=True)
    def reserved(self, event: EventHeader, tx: ProjectionTx) -> None:
        tx.update("pool_vacancies", (str(event.originator_id),), status=VacancyStatus.RESERVED.value)

    @handles(Vacancy.OfferDeclined, Vacancy.OfferExpired, header_only=True)
    def back_in_pool(self, event: EventHeader, tx: ProjectionTx) -> None:
        tx.update("pool_vacancies", (str(event.originator_id),), status=VacancyStatus.OPEN.value)

    @handles(Vacancy.OfferAccepted, header_only=True)
    def let(self, event: EventHeader, tx: ProjectionTx) -> None:
        tx.update("pool_vacancies", (str(event.originator_id),), status=VacancyStatus.LET.value)

    @handles(Vacancy.Withdrawn, header_only=True)
    def withdrawn(self, event: EventHeader, tx: ProjectionTx) -> None:
        tx.update("pool_vacancies", (str(event.originator_id),), status=VacancyStatus.WITHDRAWN.value)


class PoolVacancy(BaseModel):
    """An open vacancy as the pool shows it, with its receiving area's recent inflow and monitoring status."""

    model_config = ConfigDict(frozen=True)

    vacancy_id: UUID
    owner: str
    estate: str
    address: str
    municipality: str
    area: str
    rooms: int
    area_m2: Decimal
    rent: Decimal
    available_from: date
    accessibility: str
    dwelling_type: str
    area_inflow: int | str  # every organisation's placements; "<5" for 1-4 when others' are among them
    inflow_months: int
    area_status: str | None

    @property
    def cursor(self) -> str:
        """Pass as `after=` to get the page that follows this row."""
        return f"{self.available_from.isoformat()}/{self.vacancy_id}"


class HouseholdFacts(BaseModel):
    """What a suitability search needs to know about a household: no names, no needs, numbers only."""

    model_config = ConfigDict(frozen=True)

    municipality: str
    members: int
    previous_rooms: int
    preferred_areas: list[str] = []
    min_rooms: int | None = None
    max_rent: Money | None = None

    @classmethod
    def of(cls, household: Household) -> HouseholdFacts:
        return cls(
            municipality=household.origin.municipality,
            members=len(household.members),
            previous_rooms=household.origin.previous_rooms,
            preferred_areas=list(household.preferences.areas),
            min_rooms=household.preferences.min_rooms,
            max_rent=household.preferences.max_rent,
        )


class VacancyPool:
    """Searches the pool of one view store; `status_of(municipality, area)` is the area-monitoring hook.

    Until the waterbed guard's area indicators are wired in, `status_of` defaults to None (no status).
    """

    def __init__(
        self,
        view_store: ViewStore,
        suffix: str = "live",
        *,
        inflow_months: int = 12,
        status_of: StatusOf | None = None,
        areas_suffix: str | None = None,
    ) -> None:
        self._views = view_store
        self._table = VacancyPoolProjection(suffix).table_names["pool_vacancies"]
        self._areas = ReceivingAreas(view_store, areas_suffix or suffix)
        self.inflow_months = inflow_months
        self.status_of = status_of or (lambda municipality, area: None)

    def search(
        self,
        municipality: str,
        min_rooms: int | None = None,
        max_rent: Decimal | Money | None = None,
        area: str | None = None,
        available_by: date | None = None,
        accessibility: str | None = None,
        dwelling_type: str | None = None,
        limit: int = 50,
        after: str | None = None,
        *,
        today: date | None = None,
    ) -> list[PoolVacancy]:
        """Open vacancies of a municipality matching every given filter, by available_from then id.

        `today` anchors the inflow window (default: the calendar date at the edge that asks).
        """
        where = ["municipality_key = ?", "status = ?"]
        params: list[Any] = [key(municipality), VacancyStatus.OPEN.value]
        if min_rooms is not None:
            where.append("rooms >= ?")
            params.append(min_rooms)
        self._common_filters(where, params, max_rent, [area] if area else [], available_by)
        for column, wanted in (("accessibility", accessibility), ("dwelling_type", dwelling_type)):
            if wanted is not None:
                where.append(f"{column} = ?")
                params.append(str(wanted))
        return self._page(where, params, limit, after, today)

    def suitable_for(
        self,
        household: HouseholdFacts | Household,
        *,
        available_by: date | None = None,
        limit: int = 50,
        after: str | None = None,
        today: date | None = None,
    ) -> list[PoolVacancy]:
        """Open vacancies the offer rules would not ask to override, within the household's own preferences.

        Municipality (§ 86 stk. 2 / § 86 a) and size (rooms ≥ members + 1, or the previous rooms) come from
        coordination/domain/offer_rules.py; preferred areas, minimum rooms and maximum rent from the
        household.
        """
        facts = household if isinstance(household, HouseholdFacts) else HouseholdFacts.of(household)
        where = ["municipality_key = ?", "status = ?", "(rooms >= ? OR rooms = ?)"]
        params: list[Any] = [
            key(facts.municipality),
            VacancyStatus.OPEN.value,
            smallest_suitable_rooms(facts.members),
            facts.previous_rooms,
        ]
        if facts.min_rooms is not None:
            where.append("rooms >= ?")
            params.append(facts.min_rooms)
        self._common_filters(where, params, facts.max_rent, facts.preferred_areas, available_by)
        return self._page(where, params, limit, after, today)

    @staticmethod
    def _common_filters(
        where: list[str],
        params: list[Any],
        max_rent: Decimal | Money | None,
        areas: Sequence[str],
        available_by: date | None,
    ) -> None:
        if max_rent is not None:
            where.append("rent_ore <= ?")
            params.append(ore(max_rent.dkk if isinstance(max_rent, Money) else Decimal(max_rent)))
        if areas:
            where.append(f"area_key IN ({', '.join('?' for _ in areas)})")
            params.extend(key(a) for a in areas)
        if available_by is not None:
            where.append("available_from <= ?")
            params.append(day(available_by))

    def _page(
        self, where: list[str], params: list[Any], limit: int, after: str | None, today: date | None
    ) -> list[PoolVacancy]:
        if after is not None:
            from_day, _, vacancy_id = after.partition("/")
            # A row-value comparison, so both databases seek the index instead of filtering an OR.
            where.append("(available_from, vacancy_id) > (?, ?)")
            params += [from_day, vacancy_id]
        rows = self._views.query(
            f"SELECT * FROM {self._table} WHERE {' AND '.join(where)} "
            "ORDER BY available_from, vacancy_id LIMIT ?",
            [*params, int(limit)],
        )
        return self._with_areas(rows, today or date.today())

    def _with_areas(self, rows: list[dict[str, Any]], today: date) -> list[PoolVacancy]:
        since = add_months(today, -self.inflow_months)
        inflows: dict[str, dict[str, int]] = {}
        shared: dict[str, dict[str, int]] = {}
        found = []
        for row in rows:
            municipality = row["municipality_key"]
            if municipality not in inflows:
                inflows[municipality] = self._areas.inflows(row["municipality"], since)
                shared[municipality] = self._areas.shared_inflows(row["municipality"], since)
            inflow = inflows[municipality].get(row["area_key"], 0)
            found.append(
                PoolVacancy(
                    vacancy_id=UUID(row["vacancy_id"]),
                    owner=row["owner"],
                    estate=row["estate"],
                    address=row["address"],
                    municipality=row["municipality"],
                    area=row["area"],
                    rooms=row["rooms"],
                    area_m2=Decimal(row["area_m2"]),
                    rent=from_ore(row["rent_ore"]),
                    available_from=date.fromisoformat(row["available_from"]),
                    accessibility=row["accessibility"],
                    dwelling_type=row["dwelling_type"],
                    # Other organisations' placements among them: a small count is suppressed.
                    area_inflow=suppressed(inflow) if shared[municipality].get(row["area_key"]) else inflow,
                    inflow_months=self.inflow_months,
                    area_status=self.status_of(row["municipality"], row["area"]),
                )
            )
        return found
