"""What the API serves: one organisation's node application, its read models and its own tables."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

from adapters.exchange.keys import ExchangeKeys
from adapters.http.problems import ApiProblem
from adapters.http.records import ApiRecords
from adapters.sql.node_db import SqlDatabase
from coordination.applications.base import NodeApplication
from coordination.domain.waterbed import AreaIndicators
from coordination.projections.caseload_search import Caseload
from coordination.projections.daycare_queue import DaycareQueue
from coordination.projections.handoff_status import HandoffStatus
from coordination.projections.history import HistoryEntry
from coordination.projections.municipal_picture import MunicipalPictureQueries
from coordination.projections.receiving_areas import ReceivingAreas
from coordination.projections.vacancy_pool import VacancyPool
from coordination.projections.worklist_facts import Worklists

N = TypeVar("N")


class Queries(Protocol):
    """The node's read models (ops/node/read_models.py `ReadModels` is one)."""

    pool: VacancyPool
    daycare: DaycareQueue
    handoffs: HandoffStatus
    areas: ReceivingAreas
    picture: MunicipalPictureQueries
    caseload: Caseload
    worklists: Worklists

    def area_status(self, municipality: str, area: str) -> str: ...

    def area_indicators_of(self, municipality: str, area: str) -> AreaIndicators | None: ...

    def catch_up(self, max_seconds: float = 60.0) -> dict[str, int]: ...

    def status(self) -> dict[str, dict[str, Any]]: ...

    def lags(self) -> dict[str, int]: ...

    def history(self, household_id: UUID) -> list[HistoryEntry]: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ApiNode:
    """One node as the API sees it. The edge's clock stamps each command's `at`; the domain never reads one.

    `exchange_figures` reports the node's relay and consumer (operations figures, no personal data).
    """

    app: NodeApplication
    db: SqlDatabase
    read_models: Queries | None = None
    exchange_figures: Callable[[], dict[str, Any]] | None = None
    # Whether the node's relay and consumer run (readiness); None where the node has no exchange.
    exchange_running: Callable[[], bool] | None = None
    # The node's own exchange keys, handed to the recipients of its sealed fields; None without an exchange.
    exchange_keys: ExchangeKeys | None = None
    clock: Callable[[], datetime] = utc_now
    records: ApiRecords = field(init=False)

    def __post_init__(self) -> None:
        self.records = ApiRecords(self.db)
        self._catch_up = threading.Lock()

    @property
    def organisation(self) -> str:
        return self.app.organisation

    def serving(self, cls: type[N], what: str) -> N:
        """The node's application if its organisation role keeps `what`; 404 otherwise."""
        if not isinstance(self.app, cls):
            raise ApiProblem(404, "not-served-here", f"{self.organisation}'s node keeps no {what}")
        return self.app

    def queries(self) -> Queries:
        """The read models, caught up with every command this node has stored (a caller reads its writes)."""
        if self.read_models is None:
            raise ApiProblem(
                404, "not-served-here", f"{self.organisation}'s node has no read models attached"
            )
        with self._catch_up:
            self.read_models.catch_up()
        return self.read_models
