"""The municipal coordinator's picture across housing organisations: JSON, CSV and a dashboard page.

Served at a municipal node (a municipal department's), where every housing organisation's placements,
offers and referral timings arrive as shared facts; counts of 1-4 read "<5" (small-cell suppression).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response

from adapters.http.authorisation import Access, guard
from adapters.http.i18n import language_of
from adapters.http.i18n.pages import script_in
from adapters.http.problems import ApiProblem, responses
from adapters.http.routers.operations import STATIC
from coordination.applications.roles import MunicipalDepartmentApp
from coordination.domain.calendar import COPENHAGEN, add_months
from coordination.domain.values import NonEmpty
from coordination.projections.municipal_picture import MunicipalPicture
from coordination.projections.municipal_picture_csv import picture_csv

router = APIRouter(tags=["municipality"])
READ = responses(400, 401, 403, 404, 503)
MONTH = r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$"
Municipality = Annotated[NonEmpty, Query(max_length=100, description="The municipality, e.g. Odense")]
FromMonth = Annotated[
    str | None,
    Query(alias="from", pattern=MONTH, description="First month, YYYY-MM (default: 17 before `to`)"),
]
ToMonth = Annotated[
    str | None, Query(alias="to", pattern=MONTH, description="Last month, YYYY-MM (default: now)")
]


def _picture(access: Access, municipality: str, first: str | None, last: str | None) -> MunicipalPicture:
    node = access.node
    node.serving(MunicipalDepartmentApp, "municipal picture (a municipal node keeps it)")
    now: datetime = node.clock()
    this_month = now.astimezone(COPENHAGEN).date().replace(day=1)
    last = last or this_month.strftime("%Y-%m")
    first = first or add_months(datetime.strptime(last, "%Y-%m").date(), -17).strftime("%Y-%m")
    if first > last:
        raise ApiProblem(
            400, "invalid-request", "query.from: {first} is after query.to {last}", first=first, last=last
        )
    models = node.queries()
    own = [x for x in models.handoffs.latencies() if x.to_org == node.organisation]
    return models.picture.picture(
        municipality,
        first,
        last,
        now=now,
        indicators=models.area_indicators_of,
        status_of=models.area_status,
        own_latencies=own,
    )


@router.get("/municipal-picture", operation_id="municipal_picture", responses=READ)
def municipal_picture(
    access: Annotated[Access, guard("municipal_picture")],
    municipality: Municipality,
    period_from: FromMonth = None,
    period_to: ToMonth = None,
) -> MunicipalPicture:
    """Across every housing organisation: placements per receiving area and month against the area's list
    indicators, the rules overridden, offers and declines by category, rents before and after, and referral
    latency per department. No household in it; counts of 1-4 read "<5", means and percentiles need 5."""
    return _picture(access, municipality, period_from, period_to)


@router.get(
    "/municipal-picture.csv",
    operation_id="municipal_picture_csv",
    responses={**READ, 200: {"content": {"text/csv": {}}, "description": "The part as CSV"}},
)
def municipal_picture_csv(
    access: Annotated[Access, guard("municipal_picture_csv")],
    municipality: Municipality,
    part: Literal["placements", "offers", "latency"] = "placements",
    period_from: FromMonth = None,
    period_to: ToMonth = None,
) -> Response:
    """One part of the municipal picture as CSV (suppressed as the JSON is): placements per area and month,
    offer outcomes and overridden rules, or referral latency per department."""
    picture = _picture(access, municipality, period_from, period_to)
    name = f"municipal-picture-{part}-{picture.period_from}-{picture.period_to}.csv"
    return Response(
        picture_csv(picture, part),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/municipal-dashboard", include_in_schema=False)
def municipal_dashboard_page() -> FileResponse:
    """The page holds no data: its script asks /municipal-picture with the coordinator's token."""
    return FileResponse(STATIC / "municipal.html", media_type="text/html")


@router.get("/municipal-dashboard.js", include_in_schema=False)
def municipal_dashboard_script(request: Request) -> Response:
    """The script, with the page's words in the language the browser asks for (adapters/http/i18n/pages.py)."""
    return Response(script_in("municipal.js", language_of(request.headers)), media_type="text/javascript")
