"""Erasures at the household owner's node: one person of its data-protection role proposes erasing a
household, another confirms it, and the erasure is complete once every organisation told has confirmed.

The retention timer's proposals are in the same list (proposed by no person: one person proposes it, another
confirms). Both people's steps are written to the access log, as are the reads of the list."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from adapters.http.authorisation import Access, guard
from adapters.http.commands import IdempotencyKey, command_responses, run_command
from adapters.http.problems import responses
from coordination.applications.erasure import ErasureView
from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.values import Actor, NonEmpty

router = APIRouter(prefix="/erasures", tags=["erasures"])
COMMAND = responses(400, 401, 403, 404, 409, 422, 503)
READ = responses(400, 401, 403, 404, 503)


class ErasureProposal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    legal_ground: NonEmpty


class ErasureAnswer(BaseModel):
    """A household's erasure: `state` proposed, erasing (confirmed; waiting for `not_confirmed`) or complete
    (every organisation told has confirmed); `erased` for a timer's proposal confirmed the old way."""

    household_id: UUID
    state: str
    proposed_at: datetime
    proposed_by: Actor | None  # None: proposed by the retention timer
    legal_ground: str
    confirmed_at: datetime | None
    confirmed_by: Actor | None
    told: list[str]
    confirmed: list[str]
    not_confirmed: list[str]


def _answer(view: ErasureView) -> ErasureAnswer:
    return ErasureAnswer(
        household_id=view.household_id,
        state=view.state,
        proposed_at=view.proposed_at,
        proposed_by=view.proposed_by,
        legal_ground=view.legal_ground,
        confirmed_at=view.confirmed_at,
        confirmed_by=view.confirmed_by,
        told=list(view.told),
        confirmed=list(view.confirmed),
        not_confirmed=list(view.not_confirmed),
    )


def _owner(access: Access) -> HousingOrganisationApp:
    return access.node.serving(HousingOrganisationApp, "households")


def _logged(access: Access, household_id: UUID, purpose: str) -> None:
    caller = access.principal
    access.node.records.log_access(
        at=access.node.clock(),
        organisation=caller.organisation,
        person=caller.person,
        role=str(caller.role),
        operation=access.operation,
        subject=f"household:{household_id}",
        purpose=purpose,
    )


@router.post(
    "/{household_id}",
    operation_id="propose_household_erasure",
    responses={**command_responses(), **COMMAND},
)
def propose_household_erasure(
    household_id: UUID,
    body: ErasureProposal,
    key: IdempotencyKey,
    access: Annotated[Access, guard("propose_household_erasure")],
) -> JSONResponse:
    """Propose erasing a household this organisation owns (its data-protection role); another person of
    that role confirms it. Written to the access log."""
    app = _owner(access)
    answer = run_command(
        access,
        key,
        None,
        body,
        lambda cid, at, by: app.propose_household_erasure(
            command_id=cid, household_id=household_id, legal_ground=body.legal_ground, at=at, by=by
        ),
    )
    _logged(access, household_id, "propose the household's erasure")
    return answer


@router.post(
    "/{household_id}/confirmation",
    operation_id="confirm_household_erasure",
    responses={**command_responses(), **COMMAND},
)
def confirm_household_erasure(
    household_id: UUID, key: IdempotencyKey, access: Annotated[Access, guard("confirm_household_erasure")]
) -> JSONResponse:
    """Confirm a proposed erasure (a person other than the proposer): the household is erased here and
    every organisation in its network is told; each confirms back. Written to the access log."""
    app = _owner(access)
    answer = run_command(
        access,
        key,
        None,
        None,
        lambda cid, at, by: app.confirm_household_erasure(
            command_id=cid, household_id=household_id, at=at, by=by
        ),
    )
    _logged(access, household_id, "confirm the household's erasure")
    return answer


@router.get("", operation_id="list_erasures", responses=READ)
def list_erasures(access: Annotated[Access, guard("list_erasures")]) -> list[ErasureAnswer]:
    """Every erasure proposed at this node, by people and by the retention timer, oldest first."""
    return [_answer(view) for view in _owner(access).erasures()]


@router.get("/{household_id}", operation_id="get_erasure", responses=READ)
def get_erasure(household_id: UUID, access: Annotated[Access, guard("get_erasure")]) -> ErasureAnswer:
    """One household's erasure: its state, and which organisations told of it have not confirmed yet."""
    return _answer(_owner(access).erasure(household_id))
