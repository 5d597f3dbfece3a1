"""Offers of a vacancy to a household: made, accepted or declined (household and vacancy change together).

An offer of another organisation's vacancy (one this node mirrors) is a request to its owner over the
exchange; the same routes take it, and the household's answer goes to the owner the same way. Making one
answers 202 with the request to follow (GET /offer-requests/{id}, routers/offer_requests.py).
"""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from adapters.http.authorisation import Access, guard
from adapters.http.commands import Followed, IdempotencyKey, IfMatch, command_responses, run_command
from adapters.http.problems import responses
from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.offer_request import OfferRequest
from coordination.domain.values import Actor, DeclinedBy, NonEmpty, Override, Reason

router = APIRouter(prefix="/households/{household_id}/offers", tags=["offers"])
COMMAND = {**command_responses(), **responses(400, 401, 403, 404, 409, 412, 422, 428, 503)}


class OverrideIn(BaseModel):
    """An explicit decision to overrule a rule (e.g. suitable_size, or an area warning), with the reason."""

    model_config = ConfigDict(extra="forbid")
    rule: NonEmpty
    reason: Reason


class OfferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vacancy_id: UUID
    expires_at: AwareDatetime | None = None
    overrides: list[OverrideIn] = []


class OfferRequested(BaseModel):
    """An offer of another organisation's vacancy, asked of its owner: the request's id (the offer's) and
    its state; follow it at the Location."""

    id: UUID
    state: str


OFFER_REQUESTED: dict[int | str, Any] = {
    202: {
        "model": OfferRequested,
        "description": "The vacancy is another organisation's: its owner was asked to reserve it; follow "
        "the request at the Location (GET /offer-requests/{id})",
        "headers": {
            "Location": {"description": "The request: /offer-requests/{id}", "schema": {"type": "string"}},
            "ETag": {
                "description": "The household's version after the request",
                "schema": {"type": "string"},
            },
        },
    }
}


class OfferDecline(BaseModel):
    model_config = ConfigDict(extra="forbid")
    declined_by: DeclinedBy
    reason_code: str | None = Field(
        default=None,
        max_length=60,
        description="A reason code (docs/api.md, Reason codes); free text alone is recorded as `other`",
    )
    reason: str = Field(default="", max_length=2000, description="Free text; required with the code `other`")


def _housing(access: Access) -> HousingOrganisationApp:
    return access.node.serving(HousingOrganisationApp, "households")


def _requested(app: HousingOrganisationApp, offer_id: UUID) -> bool:
    """Whether the offer is of another organisation's vacancy (recorded as a request to its owner)."""
    return offer_id in app.repository and isinstance(app.repository.get(offer_id), OfferRequest)


@router.post("", operation_id="make_offer", responses={**COMMAND, **OFFER_REQUESTED})
def make_offer(
    household_id: UUID,
    body: OfferIn,
    key: IdempotencyKey,
    access: Annotated[Access, guard("make_offer")],
    if_match: IfMatch = None,
) -> JSONResponse:
    """Offer a vacancy to the household; the id returned is the offer's. Waterbed warnings and the
    offer rules each need an override with a reason. The offer of another organisation's vacancy is a
    request to its owner: 202 with the request's Location, where it is reserved or refused."""
    app = _housing(access)
    mirrored = app.vacancy(body.vacancy_id).owner != app.organisation

    def run(cid: UUID, at: datetime, by: Actor) -> UUID:
        overrides = [Override(rule=o.rule, reason=o.reason, by=by) for o in body.overrides]
        command = app.request_offer if mirrored else app.make_offer
        return command(
            command_id=cid,
            household_id=household_id,
            vacancy_id=body.vacancy_id,
            expires_at=body.expires_at,
            overrides=overrides,
            at=at,
            by=by,
        )

    if not mirrored:
        return run_command(access, key, if_match, body, run)

    def requested(offer_id: UUID) -> OfferRequested:
        return OfferRequested(id=offer_id, state=app.offer_request(offer_id).state)

    return run_command(access, key, if_match, body, run, followed=Followed("offer-requests", requested))


@router.post("/{offer_id}/acceptance", operation_id="accept_offer", responses=COMMAND)
def accept_offer(
    household_id: UUID,
    offer_id: UUID,
    key: IdempotencyKey,
    access: Annotated[Access, guard("accept_offer")],
    if_match: IfMatch = None,
) -> JSONResponse:
    app = _housing(access)
    command = app.accept_requested_offer if _requested(app, offer_id) else app.accept_offer
    return run_command(
        access,
        key,
        if_match,
        None,
        lambda cid, at, by: command(
            command_id=cid, household_id=household_id, offer_id=offer_id, at=at, by=by
        ),
    )


@router.post("/{offer_id}/decline", operation_id="decline_offer", responses=COMMAND)
def decline_offer(
    household_id: UUID,
    offer_id: UUID,
    body: OfferDecline,
    key: IdempotencyKey,
    access: Annotated[Access, guard("decline_offer")],
    if_match: IfMatch = None,
) -> JSONResponse:
    app = _housing(access)
    command = app.decline_requested_offer if _requested(app, offer_id) else app.decline_offer
    return run_command(
        access,
        key,
        if_match,
        body,
        lambda cid, at, by: command(
            command_id=cid,
            household_id=household_id,
            offer_id=offer_id,
            declined_by=body.declined_by,
            reason=body.reason,
            reason_code=body.reason_code,
            at=at,
            by=by,
        ),
    )
