"""A daycare referral's place: offered by the children and youth department (checked against the
institution's § 26 a share of its yearly intake), accepted or declined by the family."""

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from adapters.http.authorisation import Access, guard
from adapters.http.commands import IdempotencyKey, IfMatch, command_responses, run_command
from adapters.http.problems import responses
from adapters.http.routers.offers import OverrideIn
from adapters.http.routers.referrals import CodedReasonIn
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.referrals import ReferralDesk
from coordination.domain.daycare_proposal import ProposedReferral
from coordination.domain.values import Actor, NonEmpty, Override

router = APIRouter(tags=["referrals"])
PLACE = "/referrals/{referral_id}/place"
READ = responses(400, 401, 403, 404, 503)
COMMAND = {**command_responses(), **responses(400, 401, 403, 404, 409, 412, 422, 428, 503)}


class PlaceOffer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    institution: NonEmpty
    starts_on: date
    priority_reason: str = Field(
        default="rehousing",
        description='Why the child is given priority: "rehousing" (i forbindelse med genhusning)',
    )
    counts_under_26a: bool = Field(
        default=False,
        description="The child lives in a housing area on the list of dagtilbudsloven § 26 a, stk. 2",
    )
    planned_intake: int | None = Field(
        default=None, ge=1, le=10_000, description="The institution's planned intake in the start date's year"
    )
    overrides: list[OverrideIn] = Field(
        default_factory=list, description="daycare_26a_share, with a reason, past the policy's share"
    )


def _desk(access: Access) -> ReferralDesk:
    app = access.node.app
    assert isinstance(app, ReferralDesk)  # every organisation role's application is one
    return app


@router.post(PLACE, operation_id="offer_daycare_place", responses=COMMAND)
def offer_daycare_place(
    referral_id: UUID,
    body: PlaceOffer,
    key: IdempotencyKey,
    access: Annotated[Access, guard("offer_daycare_place")],
    if_match: IfMatch = None,
) -> JSONResponse:
    """Offer the child a place at an institution from a start date. A place counting under § 26 a that
    would take the institution's share of the year's intake past the policy's 30 % needs an override."""
    app = _desk(access)
    # The intake as this node's daycare queue knows it, assessed now; the domain checks the share.
    intake = access.node.queries().daycare.intake(body.institution, body.starts_on.year, body.planned_intake)

    def run(cid: UUID, at: datetime, by: Actor) -> UUID:
        return app.offer_daycare_place(
            command_id=cid,
            referral_id=referral_id,
            institution=body.institution,
            starts_on=body.starts_on,
            priority_reason=body.priority_reason,
            counts_under_26a=body.counts_under_26a,
            intake=intake,
            overrides=[Override(rule=o.rule, reason=o.reason, by=by) for o in body.overrides],
            at=at,
            by=by,
        )

    return run_command(access, key, if_match, body, run)


@router.post(f"{PLACE}/acceptance", operation_id="accept_daycare_place", responses=COMMAND)
def accept_daycare_place(
    referral_id: UUID,
    key: IdempotencyKey,
    access: Annotated[Access, guard("accept_daycare_place")],
    if_match: IfMatch = None,
) -> JSONResponse:
    """The family accepted the place; the child starts on its start date."""
    app = _desk(access)
    return run_command(
        access,
        key,
        if_match,
        None,
        lambda cid, at, by: app.accept_daycare_place(command_id=cid, referral_id=referral_id, at=at, by=by),
    )


@router.post(f"{PLACE}/decline", operation_id="decline_daycare_place", responses=COMMAND)
def decline_daycare_place(
    referral_id: UUID,
    body: CodedReasonIn,
    key: IdempotencyKey,
    access: Annotated[Access, guard("decline_daycare_place")],
    if_match: IfMatch = None,
) -> JSONResponse:
    """The family declined the place, with a coded reason; the department may offer another."""
    app = _desk(access)
    return run_command(
        access,
        key,
        if_match,
        body,
        lambda cid, at, by: app.decline_daycare_place(
            command_id=cid,
            referral_id=referral_id,
            reason=body.reason,
            reason_code=body.reason_code,
            at=at,
            by=by,
        ),
    )


@router.get(
    "/households/{household_id}/proposed-referrals", operation_id="proposed_referrals", responses=READ
)
def proposed_referrals(
    household_id: UUID, access: Annotated[Access, guard("proposed_referrals")]
) -> list[ProposedReferral]:
    """Referrals proposed for the household: a fast-track daycare referral per child needing daycare once
    an offer is accepted. Nothing is sent: the consultant confirms one by referring the household
    (POST /households/{household_id}/referrals with its kind, child_id, needed_from and receiver)."""
    return access.node.serving(HousingOrganisationApp, "households").proposed_referrals(household_id)
