"""Vacancy letting: when each vacancy was published and let, for the pool's size over time and time-to-let."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from coordination.domain.vacancy import Vacancy
from coordination.projections.definition import Projection, handles
from coordination.projections.transaction import ProjectionTx
from coordination.projections.view_store import Params, ViewStore


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


class VacancyLettingProjection(Projection):
    """One row per vacancy this node knows (its own and mirrored ones): published, let or withdrawn, when."""

    name = "vacancy_letting"
    tables = {
        "vl_vacancies": "vacancy_id TEXT PRIMARY KEY, owner TEXT NOT NULL, municipality TEXT NOT NULL, "
        "area TEXT NOT NULL, published_ms BIGINT NOT NULL, let_ms BIGINT, withdrawn_ms BIGINT",
    }
    indexes = {"vl_by_published": ("vl_vacancies", "published_ms")}

    @handles(Vacancy.Published)
    def published(self, event: Vacancy.Published, tx: ProjectionTx) -> None:
        place = event.dwelling.place
        tx.upsert(
            "vl_vacancies",
            {
                "vacancy_id": str(event.originator_id),
                "owner": event.owner,
                "municipality": place.municipality,
                "area": place.area,
                "published_ms": _ms(event.at),
                "let_ms": None,
                "withdrawn_ms": None,
            },
        )

    @handles(Vacancy.OfferAccepted)
    def let(self, event: Vacancy.OfferAccepted, tx: ProjectionTx) -> None:
        tx.update("vl_vacancies", (str(event.originator_id),), let_ms=_ms(event.at))

    @handles(Vacancy.Withdrawn)
    def withdrawn(self, event: Vacancy.Withdrawn, tx: ProjectionTx) -> None:
        tx.update("vl_vacancies", (str(event.originator_id),), withdrawn_ms=_ms(event.at))


class VacancyLetting:
    """Rows of the letting projection published up to a moment (aggregated by the caller)."""

    def __init__(self, view_store: ViewStore, suffix: str = "live") -> None:
        self._views = view_store
        self._table = VacancyLettingProjection(suffix).table_names["vl_vacancies"]

    def published_before(self, until: datetime, owner: str | None = None) -> list[dict[str, Any]]:
        where, params = "published_ms < ?", [_ms(until)]
        if owner is not None:
            where += " AND owner = ?"
            params.append(owner)
        query_params: Params = params
        return self._views.query(
            f"SELECT * FROM {self._table} WHERE {where} ORDER BY published_ms, vacancy_id", query_params
        )
