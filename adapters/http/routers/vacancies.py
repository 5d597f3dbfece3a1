"""Vacancies at their owner's node: published, withdrawn, read; the shared pool is searched in queries."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from adapters.http.authorisation import Access, guard
from adapters.http.commands import IdempotencyKey, IfMatch, command_responses, etag, run_command
from adapters.http.problems import ApiProblem, responses
from coordination.applications.answers import VacancyView
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.vacancy_mirror import VacancyMirror
from coordination.domain.vacancy import VacancyStatus
from coordination.domain.values import Dwelling, Reason

router = APIRouter(prefix="/vacancies", tags=["vacancies"])
COMMAND = responses(400, 401, 403, 404, 409, 412, 422, 428, 503)


class VacancyWithdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason


@router.post("", operation_id="publish_vacancy", responses={**command_responses(created=True), **COMMAND})
def publish_vacancy(
    body: Dwelling, key: IdempotencyKey, access: Annotated[Access, guard("publish_vacancy")]
) -> JSONResponse:
    """Publish a replacement dwelling to the shared pool of its municipality."""
    app = access.node.serving(HousingOrganisationApp, "vacancies of its own")
    return run_command(
        access,
        key,
        None,
        body,
        lambda cid, at, by: app.publish_vacancy(command_id=cid, dwelling=body, at=at, by=by),
        created="vacancy",
    )


@router.get("/{vacancy_id}", operation_id="get_vacancy", responses=responses(400, 401, 403, 404, 503))
def get_vacancy(
    vacancy_id: UUID,
    response: Response,
    access: Annotated[Access, guard("get_vacancy")],
    x_purpose: Annotated[
        str | None, Header(alias="X-Purpose", description="Why a let dwelling's address is read")
    ] = None,
) -> VacancyView:
    """A vacancy. A let one's address is where a household now lives: reading it needs a purpose and is
    written to the access log (and once that household is erased, `let_to` reads null)."""
    view = access.node.serving(VacancyMirror, "vacancies").vacancy(vacancy_id)
    if view.status == str(VacancyStatus.LET):
        _log_let_address(access, vacancy_id, x_purpose)
    response.headers["ETag"] = etag(view.version)
    return view


def _log_let_address(access: Access, vacancy_id: UUID, purpose: str | None) -> None:
    if purpose is None or len(purpose.strip()) < 3:
        raise ApiProblem(
            400,
            "purpose-required",
            "header.X-Purpose: reading a let dwelling's address needs a purpose of 3 or more characters",
        )
    caller = access.principal
    access.node.records.log_access(
        at=access.node.clock(),
        organisation=caller.organisation,
        person=caller.person,
        role=str(caller.role),
        operation=access.operation,
        subject=f"vacancy:{vacancy_id}",
        purpose=purpose.strip(),
    )


@router.post(
    "/{vacancy_id}/withdrawal", operation_id="withdraw_vacancy", responses={**command_responses(), **COMMAND}
)
def withdraw_vacancy(
    vacancy_id: UUID,
    body: VacancyWithdrawal,
    key: IdempotencyKey,
    access: Annotated[Access, guard("withdraw_vacancy")],
    if_match: IfMatch = None,
) -> JSONResponse:
    """Only the vacancy's owner withdraws it (a mirror of another organisation's vacancy is not owned)."""
    app = access.node.serving(HousingOrganisationApp, "vacancies of its own")
    return run_command(
        access,
        key,
        if_match,
        body,
        lambda cid, at, by: app.withdraw_vacancy(
            command_id=cid, vacancy_id=vacancy_id, reason=body.reason, at=at, by=by
        ),
    )
