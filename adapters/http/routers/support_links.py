"""Support links (mentor, youth club, contact person, ...) and facts followers report to the owner."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from adapters.http.authorisation import Access, guard
from adapters.http.commands import IdempotencyKey, IfMatch, command_responses, etag, run_command
from adapters.http.problems import ApiProblem, responses
from coordination.applications.answers import SupportLinkView
from coordination.applications.follow_up import FollowUpDesk
from coordination.applications.network_copies import NetworkCopies
from coordination.applications.support import SupportDesk
from coordination.domain.entitlement import NotEntitled
from coordination.domain.follow_up import FactKind, HouseholdFact, ReportedFact
from coordination.domain.support_link import SupportOffer
from coordination.domain.values import Actor, NonEmpty, Reason

router = APIRouter(tags=["support links"])
PROBLEMS = responses(400, 401, 403, 404, 409, 412, 422, 428, 503)


class SupportLinkProposal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    household_id: UUID
    offer: SupportOffer
    contact_person: bool = False
    # The housing organisation that owns the household: the link's steps are reported to it.
    household_owner: NonEmpty | None = None


class SupportLinkEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason


class HouseholdFactReport(BaseModel):
    """A fact about a household another organisation owns; the exchange reports it to that owner."""

    model_config = ConfigDict(extra="forbid")
    household_id: UUID
    owner: NonEmpty
    fact: HouseholdFact


class ReportedFactView(BaseModel):
    """A fact this organisation reported, with what the owner made of it."""

    fact_id: UUID
    kind: FactKind
    reported_at: datetime
    state: str  # "reported", "applied" or "refused: <the owner's reason>"
    answered_at: datetime | None = None

    @classmethod
    def of(cls, fact: ReportedFact) -> "ReportedFactView":
        return cls(
            fact_id=fact.fact_id,
            kind=fact.kind,
            reported_at=fact.reported_at,
            state=fact.shown,
            answered_at=fact.answered_at,
        )


def _desk(access: Access) -> SupportDesk:
    return access.node.serving(SupportDesk, "support links")


@router.post(
    "/support-links",
    operation_id="propose_support_link",
    responses={**command_responses(created=True), **PROBLEMS},
)
def propose_support_link(
    body: SupportLinkProposal, key: IdempotencyKey, access: Annotated[Access, guard("propose_support_link")]
) -> JSONResponse:
    desk = _desk(access)
    _refuse_without_an_owner(access, body)
    return run_command(
        access,
        key,
        None,
        body,
        lambda cid, at, by: desk.propose_support_link(
            command_id=cid,
            household_id=body.household_id,
            offer=body.offer,
            contact_person=body.contact_person,
            household_owner=body.household_owner,
            at=at,
            by=by,
        ),
        created="support_link",
    )


def _refuse_without_an_owner(access: Access, body: SupportLinkProposal) -> None:
    """A link's steps go to the household's owner: named in the proposal, or as this node's copy of the
    household's network says. Without either the link would reach no one, so it is refused."""
    app = access.node.app
    copy = app.network_copy(body.household_id) if isinstance(app, NetworkCopies) else None
    if copy is None and body.household_owner is None:
        raise ApiProblem(
            403,
            "not-permitted",
            "{organisation} is not in the network of household {household_id}: name the household's owner "
            "(household_owner) to link it",
            organisation=access.principal.organisation,
            household_id=body.household_id,
        )
    if copy is not None and body.household_owner not in (None, copy.owner):
        raise ApiProblem(
            403,
            "not-permitted",
            "Household {household_id} is {owner}'s, not {household_owner}'s",
            household_id=body.household_id,
            owner=copy.owner,
            household_owner=body.household_owner,
        )


@router.get(
    "/support-links/{link_id}", operation_id="get_support_link", responses=responses(400, 401, 403, 404, 503)
)
def get_support_link(
    link_id: UUID, response: Response, access: Annotated[Access, guard("get_support_link")]
) -> SupportLinkView:
    view = _desk(access).support_link(link_id)
    response.headers["ETag"] = etag(view.version)
    return view


@router.post(
    "/support-links/{link_id}/activation",
    operation_id="activate_support_link",
    responses={**command_responses(), **PROBLEMS},
)
def activate_support_link(
    link_id: UUID,
    key: IdempotencyKey,
    access: Annotated[Access, guard("activate_support_link")],
    if_match: IfMatch = None,
) -> JSONResponse:
    desk = _desk(access)
    return run_command(
        access,
        key,
        if_match,
        None,
        lambda cid, at, by: desk.activate_support_link(command_id=cid, link_id=link_id, at=at, by=by),
    )


@router.post(
    "/support-links/{link_id}/end",
    operation_id="end_support_link",
    responses={**command_responses(), **PROBLEMS},
)
def end_support_link(
    link_id: UUID,
    body: SupportLinkEnd,
    key: IdempotencyKey,
    access: Annotated[Access, guard("end_support_link")],
    if_match: IfMatch = None,
) -> JSONResponse:
    desk = _desk(access)
    return run_command(
        access,
        key,
        if_match,
        body,
        lambda cid, at, by: desk.end_support_link(
            command_id=cid, link_id=link_id, reason=body.reason, at=at, by=by
        ),
    )


@router.post(
    "/household-facts", operation_id="report_household_fact", responses={**command_responses(), **PROBLEMS}
)
def report_household_fact(
    body: HouseholdFactReport, key: IdempotencyKey, access: Annotated[Access, guard("report_household_fact")]
) -> JSONResponse:
    """Record what this organisation learnt (an enrolment, a follow-up visit, a new contact person, ...);
    the household's owner records it on the household when the exchange delivers it, or refuses it, and
    says which (`GET /household-facts?household_id=`). Returns the fact's id.

    Only what this organisation's relation to the household entitles it to, by its copy of the
    household's network (403 `not-entitled` naming the relation missing; no copy: not a member)."""
    desk = access.node.serving(FollowUpDesk, "followed households")
    return run_command(access, key, None, body, lambda cid, at, by: _entitled_report(desk, body, cid, at, by))


def _entitled_report(
    desk: FollowUpDesk, body: HouseholdFactReport, cid: UUID, at: datetime, by: Actor
) -> UUID:
    refusal = desk.fact_refusal(body.household_id, body.fact)
    if refusal is not None:
        raise NotEntitled(refusal)
    return desk.report_household_fact(
        command_id=cid, household_id=body.household_id, owner=body.owner, fact=body.fact, at=at, by=by
    )


@router.get(
    "/household-facts",
    operation_id="reported_household_facts",
    responses=responses(400, 401, 403, 404, 422, 503),
)
def reported_household_facts(
    household_id: Annotated[UUID, Query()], access: Annotated[Access, guard("reported_household_facts")]
) -> list[ReportedFactView]:
    """The facts this organisation reported about a household, oldest first, each with its state:
    `reported` until the owner answers, then `applied` or `refused: <reason>`."""
    desk = access.node.serving(FollowUpDesk, "followed households")
    return [ReportedFactView.of(fact) for fact in desk.reported_facts(household_id)]
