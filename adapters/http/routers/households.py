"""Households at their housing organisation's node: registration, the bridge-builder phases, the move."""

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from adapters.http.authorisation import Access, guard
from adapters.http.commands import IdempotencyKey, IfMatch, command_responses, etag, run_command
from adapters.http.i18n import language_of, translate_text
from adapters.http.problems import responses
from coordination.applications.answers import HouseholdView
from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.household import Enrolment, Member, Move, Need, Origin, Preferences, RehousingKind
from coordination.domain.household_values import ContactDetails
from coordination.domain.values import Consent, NonEmpty, Place

router = APIRouter(prefix="/households", tags=["households"])
COMMAND = responses(400, 401, 403, 404, 409, 412, 422, 428, 503)
READ = responses(400, 401, 403, 404, 503)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterHousehold(Body):
    case_reference: NonEmpty
    origin: Origin
    members: list[Member] = Field(min_length=1, max_length=30)
    needs: list[Need] = []
    rehousing: RehousingKind
    termination_date: date
    preferences: Preferences = Preferences()
    consents: list[Consent] = []
    language: NonEmpty | None = None
    cpr: str | None = Field(default=None, description="Validated; only a keyed digest of it is stored")


class InspirationTour(Body):
    areas: list[NonEmpty] = Field(min_length=1)


class TasksFound(Body):
    tasks: list[NonEmpty] = Field(min_length=1)


class ConsentWithdrawal(Body):
    recipient: NonEmpty
    purpose: NonEmpty


class ContactPerson(Body):
    link_id: UUID
    place: Place


class ContactPersonEnd(Body):
    link_id: UUID


class PracticalMatters(Body):
    note: str = Field(max_length=2000)


class FollowUpVisit(Body):
    visited_on: date


class MembersAmendment(Body):
    members: list[Member] = Field(min_length=1, max_length=30)
    reason: str = Field(max_length=2000, description="Why the household's members changed")


class NeedsAmendment(Body):
    needs: list[Need]


class Reopening(Body):
    reason: str = Field(max_length=2000, description="Why a settled household is reopened")


class FollowUpVisitDeclined(Body):
    declined_on: date


class MoveRecord(Body):
    move: Move
    hand_off_to: NonEmpty | None = Field(
        default=None, description="The bridge builder the household is handed to"
    )


def _housing(access: Access) -> HousingOrganisationApp:
    return access.node.serving(HousingOrganisationApp, "households")


@router.post("", operation_id="register_household", responses={**command_responses(created=True), **COMMAND})
def register_household(
    body: RegisterHousehold, key: IdempotencyKey, access: Annotated[Access, guard("register_household")]
) -> JSONResponse:
    app = _housing(access)
    return run_command(
        access,
        key,
        None,
        body,
        lambda cid, at, by: app.register_household(command_id=cid, **dict(body), at=at, by=by),
        created="household",
    )


@router.get("/{household_id}", operation_id="get_household", responses=READ)
def get_household(
    household_id: UUID, response: Response, access: Annotated[Access, guard("get_household")]
) -> HouseholdView:
    view = _housing(access).household(household_id, today=access.node.clock().date())
    response.headers["ETag"] = etag(view.version)
    # The settlement gaps are finished English sentences: in the reader's language here.
    language = language_of(access.request.headers)
    return view.model_copy(
        update={"settlement_gaps": [translate_text(gap, language) for gap in view.settlement_gaps]}
    )


def _step(
    name: str, path: str, body_type: type[Body] | None, call: str, as_argument: str | None = None
) -> None:
    """A POST that records one fact on the household (If-Match: the household's ETag); the body's fields are
    the command's arguments, or the body is the one argument named `as_argument`."""

    if body_type is None:

        def endpoint(
            household_id: UUID,
            key: IdempotencyKey,
            access: Annotated[Access, guard(name)],
            if_match: IfMatch = None,
        ) -> JSONResponse:
            method = getattr(_housing(access), call)
            return run_command(
                access,
                key,
                if_match,
                None,
                lambda cid, at, by: method(command_id=cid, household_id=household_id, at=at, by=by),
            )

    else:

        def endpoint(  # type: ignore[misc]
            household_id: UUID,
            body: body_type,  # type: ignore[valid-type]
            key: IdempotencyKey,
            access: Annotated[Access, guard(name)],
            if_match: IfMatch = None,
        ) -> JSONResponse:
            method = getattr(_housing(access), call)
            arguments = {as_argument: body} if as_argument else dict(body)
            return run_command(
                access,
                key,
                if_match,
                body,
                lambda cid, at, by: method(
                    command_id=cid, household_id=household_id, **arguments, at=at, by=by
                ),
            )

    endpoint.__name__ = name
    router.add_api_route(
        f"/{{household_id}}/{path}",
        endpoint,
        methods=["POST"],
        operation_id=name,
        responses={**command_responses(), **COMMAND},
        summary=name.replace("_", " ").capitalize(),
    )


_step("record_first_contact", "first-contact", None, "record_first_contact")
_step("record_inspiration_tour", "inspiration-tours", InspirationTour, "record_inspiration_tour")
_step("record_tasks_found", "tasks-found", TasksFound, "record_tasks_found")
_step("start_bridge_building", "bridge-building", None, "start_bridge_building")
_step(
    "record_practical_matters_in_order",
    "practical-matters-in-order",
    PracticalMatters,
    "record_practical_matters_in_order",
)
_step("record_no_longer_asks_for_help", "no-longer-asks-for-help", None, "record_no_longer_asks_for_help")
_step("record_follow_up_visit", "follow-up-visit", FollowUpVisit, "record_follow_up_visit")
_step("settle_household", "settlement", None, "settle_household")
_step("withdraw_consent", "consent-withdrawals", ConsentWithdrawal, "withdraw_consent")
_step("record_contact_person", "contact-persons", ContactPerson, "record_contact_person")
_step("end_contact_person", "contact-person-ends", ContactPersonEnd, "end_contact_person")


_step("give_consent", "consents", Consent, "give_consent", as_argument="consent")
# The record kept true (coordination/domain/household_record.py): the owner's consultants only.
_step("amend_members", "members", MembersAmendment, "amend_members")
_step("amend_needs", "needs", NeedsAmendment, "amend_needs")
_step("amend_preferences", "preferences", Preferences, "amend_preferences", as_argument="preferences")
_step(
    "record_contact_details",
    "contact-details",
    ContactDetails,
    "record_contact_details",
    as_argument="contact",
)
_step("make_rehousing_permanent", "permanent-rehousing", None, "make_rehousing_permanent")
_step("reopen_household", "reopening", Reopening, "reopen_household")
_step(
    "record_follow_up_visit_declined",
    "follow-up-visit-declined",
    FollowUpVisitDeclined,
    "record_follow_up_visit_declined",
)
_step("record_enrolment", "enrolments", Enrolment, "record_enrolment", as_argument="enrolment")


@router.post("/{household_id}/move", operation_id="record_move", responses={**command_responses(), **COMMAND})
def record_move(
    household_id: UUID,
    body: MoveRecord,
    key: IdempotencyKey,
    access: Annotated[Access, guard("record_move")],
    if_match: IfMatch = None,
) -> JSONResponse:
    """Record the move; with `hand_off_to`, the household is handed to that bridge builder (the id returned
    is the handoff referral's, pending until the bridge builder acknowledges it)."""
    app = _housing(access)
    return run_command(
        access,
        key,
        if_match,
        body,
        lambda cid, at, by: app.record_move(
            command_id=cid,
            household_id=household_id,
            move=body.move,
            hand_off_to=body.hand_off_to,
            at=at,
            by=by,
        ),
    )
