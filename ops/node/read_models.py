"""Composition of a node's read models: its view store, one runner per projection, and the query objects."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.application import Application
from psycopg.conninfo import make_conninfo

from adapters.erasure_purge import views_purger
from adapters.eventstore.event_decoding import StoredEventDecoder
from adapters.eventstore.shredding import ShreddingMapper
from adapters.settings import NodeSettings, Store
from adapters.sql.view_stores import PostgresViewStore, SQLiteViewStore
from coordination.applications.area_guard import AreaIndicatorsSource
from coordination.applications.household_desk import HouseholdDesk
from coordination.domain.policy import DEFAULT_POLICY, RehousingPolicy
from coordination.domain.values import Place
from coordination.domain.waterbed import (
    DEFAULT_WATERBED_POLICY,
    AreaIndicators,
    WaterbedPolicy,
    monitoring_status,
)
from coordination.projections.caseload import CaseloadProjection
from coordination.projections.caseload_search import Caseload
from coordination.projections.daycare_queue import DaycareQueue, DaycareQueueProjection
from coordination.projections.definition import Projection
from coordination.projections.handoff_status import HandoffStatus, HandoffStatusProjection
from coordination.projections.history import HistoryEntry
from coordination.projections.municipal_picture import MunicipalPictureProjection, MunicipalPictureQueries
from coordination.projections.receiving_areas import ReceivingAreas, ReceivingAreasProjection
from coordination.projections.runner import ProjectionRunner
from coordination.projections.timeline import Timeline, TimelineProjection
from coordination.projections.vacancy_letting import VacancyLetting, VacancyLettingProjection
from coordination.projections.vacancy_pool import VacancyPool, VacancyPoolProjection
from coordination.projections.view_store import ViewStore
from coordination.projections.worklist_facts import Worklists

log = structlog.get_logger()

# How long a second purge of an erased household's view rows waits for the projections to pass the log's
# end as it was at the erasure, before it purges all the same (and says so).
LATE_PURGE_WAIT_S = 60.0

READ_MODELS: dict[str, type[Projection]] = {
    cls.name: cls
    for cls in (
        VacancyPoolProjection,
        DaycareQueueProjection,
        HandoffStatusProjection,
        ReceivingAreasProjection,
        TimelineProjection,
        VacancyLettingProjection,
        MunicipalPictureProjection,
        CaseloadProjection,
    )
}


def views_path(settings: NodeSettings) -> Path:
    """SQLite views live beside the node's event store, in a file of their own (one write lock per file)."""
    return settings.data_dir / f"{settings.organisation}.views.sqlite3"


def open_views(settings: NodeSettings) -> ViewStore:
    """The node's view store: a SQLite file beside its store, or a `views` schema in its PostgreSQL DB."""
    if settings.store is Store.MEMORY:
        return SQLiteViewStore(":memory:")
    if settings.store is Store.SQLITE:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return SQLiteViewStore(views_path(settings))
    dsn = make_conninfo(
        host=settings.postgres_host,
        port=settings.postgres_port,
        user=settings.postgres_user,
        password=settings.postgres_password.get_secret_value(),
        dbname=settings.postgres_dbname,
    )
    schema = f"{settings.postgres_schema}_views" if settings.postgres_schema else "views"
    return PostgresViewStore(dsn, schema=schema)


def open_views_beside(env: Mapping[str, str]) -> ViewStore:
    """The view store beside the event store an application's `env` names (as `open_views` places it)."""
    module = env.get("PERSISTENCE_MODULE", "eventsourcing.popo")
    if module.endswith("sqlite"):
        dbname = env.get("SQLITE_DBNAME", ":memory:")
        if ":memory:" in dbname or "mode=memory" in dbname:
            return SQLiteViewStore(":memory:")
        return SQLiteViewStore(Path(dbname).with_suffix(".views.sqlite3"))
    if module.endswith("postgres"):
        dsn = make_conninfo(
            host=env.get("POSTGRES_HOST", "127.0.0.1"),
            port=env.get("POSTGRES_PORT", "5432"),
            user=env.get("POSTGRES_USER", ""),
            password=env.get("POSTGRES_PASSWORD", ""),
            dbname=env.get("POSTGRES_DBNAME", ""),
        )
        schema = env.get("POSTGRES_SCHEMA")
        return PostgresViewStore(dsn, schema=f"{schema}_views" if schema else "views")
    return SQLiteViewStore(":memory:")


@dataclass
class ReadModels:
    """A node's projections, each with its runner, and the questions they answer."""

    app: Application
    views: ViewStore
    suffix: str = "live"
    policy: RehousingPolicy = DEFAULT_POLICY
    batch_size: int = 1000
    # The waterbed guard's area indicators: each pool vacancy then shows its area's monitoring status.
    area_indicators: AreaIndicatorsSource | None = None
    waterbed_policy: WaterbedPolicy = DEFAULT_WATERBED_POLICY
    # The key the caseload keeps case references under (a housing organisation's app gives its own).
    case_reference_key: bytes | None = None
    runners: dict[str, ProjectionRunner] = field(init=False)
    _following: threading.Event = field(init=False, default_factory=threading.Event)
    _late_purges: list[threading.Thread] = field(init=False, default_factory=list)
    _late_lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.case_reference_key is None and isinstance(self.app, HouseholdDesk):
            self.case_reference_key = self.app.case_reference_key()
        self.runners = {
            name: ProjectionRunner(
                self.app,
                self._projection(cls),
                self.views,
                batch_size=self.batch_size,
                decoding=StoredEventDecoder(self.app.mapper),
            )
            for name, cls in READ_MODELS.items()
        }
        self.pool = VacancyPool(
            self.views,
            self.suffix,
            inflow_months=self.waterbed_policy.inflow_window_months,
            status_of=None if self.area_indicators is None else self.area_status,
        )
        self.daycare = DaycareQueue(self.views, self.suffix)
        self.handoffs = HandoffStatus(self.views, self.suffix, self.policy)
        self.areas = ReceivingAreas(self.views, self.suffix)
        self.timeline = Timeline(self.views, self.suffix)
        self.letting = VacancyLetting(self.views, self.suffix)
        self.picture = MunicipalPictureQueries(self.views, self.suffix)
        self.caseload = Caseload(self.views, self.suffix, self.case_reference_key)
        self.worklists = Worklists(self.views, self.caseload, self.suffix)

    def _projection(self, cls: type[Projection]) -> Projection:
        return self.projection(cls.name, self.suffix)

    def projection(self, name: str, suffix: str) -> Projection:
        """The projection `name` under `suffix`, as this node makes it (the caseload with the node's key, so
        that a rebuild keeps the same digests as the live instance)."""
        cls = READ_MODELS[name]
        if cls is CaseloadProjection:
            return CaseloadProjection(suffix, case_reference_key=self.case_reference_key)
        return cls(suffix)

    def projections(self) -> dict[str, Callable[[str], Projection]]:
        """Each projection's maker by name (a suffix in, the projection out), for rebuilds and replays."""
        return {name: functools.partial(self.projection, name) for name in READ_MODELS}

    def catch_up(self, max_seconds: float = 60.0) -> dict[str, int]:
        """Applies every projection up to the log's end; returns how many events each consumed."""
        return {name: runner.run_until_caught_up(max_seconds) for name, runner in self.runners.items()}

    def run_once(self) -> int:
        """One batch of each projection (for a node's run loop); how many log positions they moved over."""
        return sum(runner.run_once() for runner in self.runners.values())

    def start(self, *, max_sleep: float = 1.0, runners: bool = True) -> None:
        """Every projection follows the log on a thread of its own; with `runners` False none is started
        here (a replica runs those it is elected for: ops/node/replicas.py), but the log is followed."""
        if runners:
            for runner in self.runners.values():
                runner.start(max_sleep=max_sleep)
        self._following.set()

    def wake(self) -> None:
        """Every projection reads the log now (events were stored) rather than at its next poll."""
        for runner in self.runners.values():
            runner.wake()

    def stop(self) -> None:
        for runner in self.runners.values():
            runner.stop()
        # No batch is in flight now: the second purges still waiting run at once.
        self._following.clear()
        with self._late_lock:
            waiting, self._late_purges = self._late_purges, []
        for purge in waiting:
            purge.join()

    def status(self) -> dict[str, dict[str, Any]]:
        """Position, lag (events behind) and parked count of every projection."""
        return {
            name: {"position": runner.position(), "lag": runner.lag(), "parked": len(runner.parked())}
            for name, runner in self.runners.items()
        }

    def lags(self) -> dict[str, int]:
        """Events behind the node's log, per projection: what a dashboard or health check asks."""
        return {name: runner.lag() for name, runner in self.runners.items()}

    def area_status(self, municipality: str, area: str) -> str:
        """The receiving area's monitoring status from the area indicators (unmonitored if not listed)."""
        indicators = None
        if self.area_indicators is not None:
            indicators = self.area_indicators.indicators(Place(municipality=municipality, area=area))
        return str(monitoring_status(indicators, self.waterbed_policy))

    def area_indicators_of(self, municipality: str, area: str) -> AreaIndicators | None:
        """The receiving area's list indicators, when an indicators file lists it."""
        if self.area_indicators is None:
            return None
        return self.area_indicators.indicators(Place(municipality=municipality, area=area))

    def inflow(self, place: Place, since: date) -> int:
        """Households moved into `place` since `since`, for the waterbed guard, caught up first so that
        a move recorded a moment ago counts (the guard's fallback scans the whole log instead)."""
        self.runners[ReceivingAreasProjection.name].run_until_caught_up()
        return self.areas.households_moved_in(place.municipality, place.area, since)

    def history(self, household_id: UUID) -> list[HistoryEntry]:
        """The timeline, caught up first so that a caller reads its own writes."""
        self.runners[TimelineProjection.name].run_until_caught_up()
        return self.timeline.entries(household_id)

    def _purge_now_and_late(self, purge: Callable[[UUID], None], household_id: UUID) -> None:
        """Purge the household's view rows now, and, while the projections follow the log, once more when
        each has passed the log's end as it is now: a batch they read before the key was erased may
        still write what it decrypted, and it moves its tracking in the same transaction."""
        purge(household_id)
        if not self._following.is_set():
            return  # no projection runs on a thread of its own
        head = self.app.recorder.max_notification_id() or 0
        late = threading.Thread(
            target=self._purge_once_passed, args=(purge, household_id, head), name="late-purge", daemon=True
        )
        with self._late_lock:
            self._late_purges = [t for t in self._late_purges if t.is_alive()] + [late]
            late.start()

    def _purge_once_passed(self, purge: Callable[[UUID], None], household_id: UUID, head: int) -> None:
        deadline = time.monotonic() + LATE_PURGE_WAIT_S
        while self._following.is_set() and any(r.position() < head for r in self.runners.values()):
            if time.monotonic() > deadline:
                log.warning("erasure.views_purged_before_caught_up", household_id=str(household_id))
                break
            time.sleep(0.05)
        try:
            purge(household_id)
        except Exception as error:  # on a thread of its own: said in the log, not lost in a traceback
            log.error(
                "erasure.late_purge_failed",
                household_id=str(household_id),
                error=type(error).__name__,
                exc_info=error,
            )

    def forget(self, household_id: UUID) -> None:
        """An erasure hook (the composition root gives it the app): the views' personal columns of the
        household purged now, and once more when the projections have passed the erasure."""
        mapper = self.app.mapper
        if isinstance(mapper, ShreddingMapper):  # a store that does not shred keeps nothing to purge
            self._purge_now_and_late(
                views_purger(self.views, self.suffix, mapper.keys.subjects_of), household_id
            )
