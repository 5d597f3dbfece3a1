"""Operations: the dashboard's figures and page, Prometheus metrics, liveness and readiness."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from adapters.http.authorisation import Access, guard
from adapters.http.dashboard import Dashboard, dashboard
from adapters.http.dates import EARLIEST, day
from adapters.http.health import NodeHealth
from adapters.http.i18n import language_of
from adapters.http.i18n.pages import script_in
from adapters.http.problems import ApiProblem, responses

router = APIRouter(tags=["operations"])
STATIC = Path(__file__).resolve().parent.parent / "static"
Org = Annotated[
    str | None, Query(alias="org", max_length=100, description="only figures this organisation is in")
]


@router.get(
    "/operations/dashboard", operation_id="operations_dashboard", responses=responses(400, 401, 403, 503)
)
def operations_dashboard(
    request: Request,
    access: Annotated[Access, guard("operations")],
    org: Org = None,
    period_from: Annotated[
        date | None, day("First day (default: 18 months before `to`)", alias="from")
    ] = None,
    period_to: Annotated[date | None, day("Last day (default: today)", alias="to")] = None,
) -> Dashboard:
    """Handoff latency percentiles by pair and kind per month, what is overdue, the daycare queue, the vacancy
    pool, receiving areas' warnings and overrides, lag and parked messages: aggregates only.

    `from` and `to` are days from 2000-01-01 to 2099-12-31, `from` not after `to`, at most ten years apart
    (400 naming the parameter otherwise)."""
    node = access.node
    now = node.clock()
    end = period_to or now.date()
    start = period_from or max(EARLIEST, end - timedelta(days=548))
    if start > end:
        raise ApiProblem(
            400, "invalid-request", "query.from: {start} is after query.to {end}", start=start, end=end
        )
    if (end - start).days > 3660:
        raise ApiProblem(400, "invalid-request", "query.from: a period is at most ten years")
    health: NodeHealth = request.app.state.health
    health.require_store()  # 503 at once, rather than queueing behind the pool, while the store is down
    models = node.queries()
    figures = node.exchange_figures() if node.exchange_figures else None
    return dashboard(
        models,
        node=node.organisation,
        organisation=org,
        period_from=start,
        period_to=end,
        now=now,
        exchange=figures,
    )


@router.get("/dashboard", include_in_schema=False)
def dashboard_page() -> FileResponse:
    """The page holds no data: its script asks /operations/dashboard with the operator's token."""
    return FileResponse(STATIC / "dashboard.html", media_type="text/html")


@router.get("/dashboard.js", include_in_schema=False)
def dashboard_script(request: Request) -> Response:
    """The script, with the page's words in the language the browser asks for (adapters/http/i18n/pages.py)."""
    return Response(script_in("dashboard.js", language_of(request.headers)), media_type="text/javascript")


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus text format from the node's own registry (counts and durations, no personal data)."""
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)


@router.get("/livez", include_in_schema=False)
async def livez() -> dict[str, str]:
    """Alive: answered on the event loop, so never queued behind requests that hold the worker threads."""
    return {"status": "alive"}


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    """Ready: the store answers, every projection is within its bound of the log, the relay and the consumer
    run and are not behind for long. Within a second: a check that has not answered by then fails as
    "timeout"."""
    health: NodeHealth = request.app.state.health
    checks = await health.readiness_async()
    ready = all(check["ok"] for check in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
