"""Queries answered by the node's read models: pool, suitability, daycare queue, handoffs, timeline, areas;
and the node's operations figures and access log."""

import re
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from adapters.http.authorisation import Access, guard
from adapters.http.dashboard import percentiles
from adapters.http.dates import day
from adapters.http.health import NodeHealth
from adapters.http.node import ApiNode
from adapters.http.pages import Cursor, Limit, Page, page_after
from adapters.http.problems import ApiProblem, responses
from adapters.http.records import AccessEntry, access_cursor
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.network_copies import NetworkCopies
from coordination.domain.network import RefusedFact
from coordination.domain.values import Accessibility, Amount, DwellingType, NonEmpty
from coordination.projections.daycare_queue import QueuedChild, QueueStatus
from coordination.projections.handoff_status import HouseholdStatus
from coordination.projections.history import HistoryEntry
from coordination.projections.household_status import status_from_picture
from coordination.projections.receiving_areas import ShownAreaSummary
from coordination.projections.vacancy_pool import PoolVacancy

router = APIRouter(tags=["queries"])
READ = responses(400, 401, 403, 404, 503)
_POOL_CURSOR = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)


def _pool_page(found: list[PoolVacancy], limit: int) -> Page[PoolVacancy]:
    return Page[PoolVacancy](items=found, next_cursor=found[-1].cursor if len(found) == limit else None)


def _pool_cursor(cursor: str | None) -> str | None:
    if cursor is not None and not _POOL_CURSOR.match(cursor):
        raise ApiProblem(
            400, "invalid-request", "query.cursor: {cursor!r} is not a cursor of the pool", cursor=cursor
        )
    return cursor


@router.get("/vacancy-pool", operation_id="search_vacancy_pool", responses=READ)
def search_vacancy_pool(
    access: Annotated[Access, guard("search_vacancy_pool")],
    municipality: Annotated[NonEmpty, Query(max_length=100)],
    min_rooms: Annotated[int | None, Query(ge=1, le=20)] = None,
    max_rent: Annotated[Amount | None, Query(ge=0, le=1_000_000, decimal_places=2)] = None,
    area: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    available_by: Annotated[date | None, day("Available on or before this day")] = None,
    accessibility: Accessibility | None = None,
    dwelling_type: DwellingType | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[PoolVacancy]:
    """Open vacancies of a municipality, each with its receiving area's recent inflow (no personal data)."""
    found = access.node.queries().pool.search(
        municipality,
        min_rooms=min_rooms,
        max_rent=max_rent,
        area=area,
        available_by=available_by,
        accessibility=accessibility,
        dwelling_type=dwelling_type,
        limit=limit,
        after=_pool_cursor(cursor),
        today=access.node.clock().date(),
    )
    return _pool_page(found, limit)


@router.get(
    "/households/{household_id}/suitable-vacancies", operation_id="suitable_vacancies", responses=READ
)
def suitable_vacancies(
    household_id: UUID,
    access: Annotated[Access, guard("suitable_vacancies")],
    available_by: Annotated[date | None, day("Available on or before this day")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[PoolVacancy]:
    """Open vacancies the offer rules would not ask to override, within the household's own preferences."""
    facts = access.node.serving(HousingOrganisationApp, "households").household_facts(household_id)
    found = access.node.queries().pool.suitable_for(
        facts,
        available_by=available_by,
        limit=limit,
        after=_pool_cursor(cursor),
        today=access.node.clock().date(),
    )
    return _pool_page(found, limit)


@router.get("/daycare-queue", operation_id="daycare_queue", responses=READ)
def daycare_queue(
    access: Annotated[Access, guard("daycare_queue")],
    status: QueueStatus | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[QueuedChild]:
    """Children of rehoused households waiting for a daycare place, by the date they need it; another
    organisation sees only the children of referrals it sent or received."""
    node, org = access.node, access.principal.organisation
    children = node.queries().daycare.queue(node.clock(), status=status)
    if not access.own_node():
        children = [c for c in children if org in (c.referrer, c.receiver)]
    return page_after(children, lambda c: str(c.referral_id), cursor, limit)


@router.get("/households/{household_id}/status", operation_id="household_status", responses=READ)
def household_status(
    household_id: UUID, access: Annotated[Access, guard("household_status")]
) -> HouseholdStatus:
    """Who holds the household now, the pending handoff, open referrals with their age, what is overdue."""
    # At the owner's node and at every member's: from the household's network (the owner's own, or the
    # copy of its picture the owner sent), so every node answers alike.
    node = access.node
    picture = node.app.known_network(household_id) if isinstance(node.app, NetworkCopies) else None
    if picture is not None:
        return status_from_picture(picture, node.clock(), node.app.policy)
    return node.queries().handoffs.for_household(household_id, node.clock())


@router.get("/households/{household_id}/refused-reports", operation_id="refused_reports", responses=READ)
def refused_reports(
    household_id: UUID,
    access: Annotated[Access, guard("refused_reports")],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[RefusedFact]:
    """The steps this organisation reported about a household (its referrals, its support links) that the
    household's owner refused, each with the owner's reason; oldest first."""
    app = access.node.app
    refused = app.refused_reports(household_id) if isinstance(app, NetworkCopies) else []
    return page_after(refused, lambda r: r.reported_at.isoformat() + r.reason, cursor, limit)


@router.get("/households/{household_id}/timeline", operation_id="household_timeline", responses=READ)
def household_timeline(
    household_id: UUID,
    access: Annotated[Access, guard("household_timeline")],
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[HistoryEntry]:
    """Every fact recorded about the household here, in order, with who recorded it (for audits)."""
    node = access.node
    entries = node.queries().history(household_id) if node.read_models else node.app.history(household_id)
    return page_after(entries, lambda e: str(e.position), cursor, limit)


@router.get("/receiving-areas", operation_id="receiving_areas", responses=READ)
def receiving_areas(
    access: Annotated[Access, guard("receiving_areas")],
    municipality: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    since: Annotated[date | None, day("Inflow from this day on")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[ShownAreaSummary]:
    """Receiving areas: inflow of rehoused households (every organisation's), the vulnerable share, warnings
    and overrides. A count that holds other organisations' placements, and any count to a caller from
    another organisation, reads "<5" for 1-4."""
    own = access.own_node()
    areas = [
        ShownAreaSummary.of(a, own=own) for a in access.node.queries().areas.monitor(municipality, since)
    ]
    return page_after(areas, lambda a: f"{a.municipality}/{a.area}", cursor, limit)


class ProjectionFigures(BaseModel):
    position: int
    lag: int
    parked: int


class LatencyFigures(BaseModel):
    """Handoff latency per pair of organisations and kind, in hours (docs/design.md §4)."""

    from_org: str
    to_org: str
    kind: str
    referrals: int
    acknowledged: int
    p50_hours_to_acknowledgement: float | None
    p90_hours_to_acknowledgement: float | None
    p50_hours_to_acceptance: float | None


class OperationsFigures(BaseModel):
    organisation: str
    projections: dict[str, ProjectionFigures]
    exchange: dict[str, Any] | None
    handoff_latency: list[LatencyFigures]
    open_referrals_owed: int
    overdue_acknowledgements: int
    overdue_completions: int
    stalled: int
    # The policy this node runs with (COORDINATION_POLICY__*, docs/configuration.md), and its waterbed
    # guard's (COORDINATION_WATERBED__*; a housing organisation's node only).
    policy: dict[str, Any]
    waterbed: dict[str, Any] | None


@router.get("/operations", operation_id="operations", responses=READ)
def operations(request: Request, access: Annotated[Access, guard("operations")]) -> OperationsFigures:
    """Projection lag, the exchange's counters, handoff latency and overdue counts (no personal data), and the
    policy the node runs with."""
    health: NodeHealth = request.app.state.health
    node = access.node
    return health.figures("operations", lambda: operations_figures(node))


def operations_figures(node: ApiNode) -> OperationsFigures:
    """The node's operations figures, read now from its read models and exchange tables."""
    models = node.queries()
    groups: dict[tuple[str, str, str], list[Any]] = {}
    for latency in models.handoffs.latencies():
        groups.setdefault((latency.from_org, latency.to_org, latency.kind), []).append(latency)
    figures = []
    for (from_org, to_org, kind), found in sorted(groups.items()):
        ack = [x.to_acknowledgement.total_seconds() / 3600 for x in found if x.to_acknowledgement is not None]
        acc = [x.to_acceptance.total_seconds() / 3600 for x in found if x.to_acceptance is not None]
        # The dashboard's percentiles (one definition, one rounding), so the two pages agree.
        to_ack, to_acc = percentiles(ack), percentiles(acc)
        figures.append(
            LatencyFigures(
                from_org=from_org,
                to_org=to_org,
                kind=kind,
                referrals=len(found),
                acknowledged=len(ack),
                p50_hours_to_acknowledgement=to_ack.p50,
                p90_hours_to_acknowledgement=to_ack.p90,
                p50_hours_to_acceptance=to_acc.p50,
            )
        )
    owed = models.handoffs.owed_by(node.organisation, node.clock())
    waterbed = getattr(node.app, "waterbed_policy", None)
    return OperationsFigures(
        organisation=node.organisation,
        projections={name: ProjectionFigures(**figures) for name, figures in models.status().items()},
        exchange=node.exchange_figures() if node.exchange_figures else None,
        handoff_latency=figures,
        open_referrals_owed=len(owed),
        overdue_acknowledgements=sum(r.acknowledgement_overdue for r in owed),
        overdue_completions=sum(r.completion_overdue for r in owed),
        stalled=sum(r.stalled for r in owed),
        policy=node.app.policy.model_dump(mode="json"),
        waterbed=None if waterbed is None else waterbed.model_dump(mode="json"),
    )


@router.get("/access-log", operation_id="access_log", responses=READ)
def access_log(
    access: Annotated[Access, guard("access_log")],
    subject: Annotated[str | None, Query(max_length=100, description="e.g. household:<id>")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[AccessEntry]:
    """Every read of personal data at this node: who, what, when and for which purpose (auditors only)."""
    if cursor is not None and "/" not in cursor:
        raise ApiProblem(
            400,
            "invalid-request",
            "query.cursor: {cursor!r} is not a cursor of the access log",
            cursor=cursor,
        )
    entries = access.node.records.access_log(limit=limit, after=cursor, subject=subject)
    return Page[AccessEntry](
        items=entries, next_cursor=access_cursor(entries[-1]) if len(entries) == limit else None
    )
