"""Referrals between organisations: sent, read by their parties, and every step of the closed loop."""

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from adapters.http.authorisation import DEPARTMENT, Access, guard
from adapters.http.commands import IdempotencyKey, IfMatch, command_responses, etag, run_command
from adapters.http.i18n import language_of
from adapters.http.i18n.texts import reason_label
from adapters.http.pages import Cursor, Limit, Page, page_after
from adapters.http.problems import ApiProblem, responses
from coordination.applications.answers import GivenReason, ReferralView
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.network_copies import NetworkCopies
from coordination.domain.referral import ReferralDetails, ReferralKind
from coordination.domain.referral_contact import ReferralContact
from coordination.domain.referral_values import DaycarePlace
from coordination.domain.values import Consent, DeclinedBy, NonEmpty, Reason
from coordination.projections.handoff_status import ReferralState

router = APIRouter(tags=["referrals"])
COMMAND = {**command_responses(), **responses(400, 401, 403, 404, 409, 412, 422, 428, 503)}
CREATE = {**command_responses(created=True), **responses(400, 401, 403, 404, 409, 422, 503)}
READ = responses(400, 401, 403, 404, 503)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HouseholdReferral(Body):
    receiver: NonEmpty
    kind: ReferralKind
    child_id: NonEmpty | None = Field(default=None, description="The child a daycare referral is about")
    needed_from: date | None = None
    note: str | None = Field(
        default=None, max_length=500, description="What a referral of kind other asks for (required for it)"
    )
    urgent: bool = Field(default=False, description="An acute evacuation: the policy's shorter deadlines")


class ReferralIn(Body):
    receiver: NonEmpty
    kind: ReferralKind
    household_id: UUID
    details: ReferralDetails
    consent: Consent | None = None
    legal_basis: NonEmpty | None = None


class Assignee(Body):
    assignee: NonEmpty


class ReasonIn(Body):
    reason: Reason


_CODE = "A reason code (docs/api.md, Reason codes); free text alone is recorded as `other`"
_TEXT = "Free text beside the code; required with the code `other`"


class CodedReasonIn(Body):
    reason_code: str | None = Field(default=None, max_length=60, description=_CODE)
    reason: str = Field(default="", max_length=2000, description=_TEXT)


class ReferralDecline(CodedReasonIn):
    declined_by: DeclinedBy


class Redirection(Body):
    to: NonEmpty
    reason: Reason
    consent: Consent | None = None


class Outcome(Body):
    outcome: Reason


class ReceivedReferral(BaseModel):
    """A referral as a municipal department sees it: what it needs to act, not the referrer's step log."""

    id: UUID
    version: int
    referrer: str
    receiver: str
    kind: str
    household_id: UUID
    status: str
    fhir_status: str
    details: ReferralDetails
    consent: Consent | None
    legal_basis: str | None
    assignee: str | None
    outcome: str | None
    sent_at: datetime
    acknowledge_by: datetime
    complete_by: datetime
    contact: ReferralContact | None = None
    reasons: list[GivenReason]
    daycare_place: DaycarePlace | None


@router.post("/households/{household_id}/referrals", operation_id="refer_household", responses=CREATE)
def refer_household(
    household_id: UUID,
    body: HouseholdReferral,
    key: IdempotencyKey,
    access: Annotated[Access, guard("refer_household")],
) -> JSONResponse:
    """Refer the household to another organisation under its recorded consent; the details sent are cut
    to what the receiver needs (a daycare referral carries one child's birth month, not the needs)."""
    app = access.node.serving(HousingOrganisationApp, "households")
    arguments = dict(body)
    return run_command(
        access,
        key,
        None,
        body,
        lambda cid, at, by: app.refer_household(
            command_id=cid, household_id=household_id, **arguments, at=at, by=by
        ),
        created="referral",
    )


@router.post("/referrals", operation_id="send_referral", responses=CREATE)
def send_referral(
    body: ReferralIn, key: IdempotencyKey, access: Annotated[Access, guard("send_referral")]
) -> JSONResponse:
    """Refer a household this organisation works with (it is in the household's network) to another."""
    _refuse_outside_the_network(access, body.household_id)
    arguments = dict(body)
    return run_command(
        access,
        key,
        None,
        body,
        lambda cid, at, by: access.node.app.send_referral(command_id=cid, **arguments, at=at, by=by),
        created="referral",
    )


def _refuse_outside_the_network(access: Access, household_id: UUID) -> None:
    """Object-level authorisation: only a current member of the household's network (as this node knows
    it) refers the household on; the owner would refuse the report of anyone else's referral."""
    org, app = access.principal.organisation, access.node.app
    picture = app.known_network(household_id) if isinstance(app, NetworkCopies) else None
    if picture is None:
        raise ApiProblem(
            403,
            "not-permitted",
            "{org} is not in the network of household {household_id} (its node has no copy)",
            org=org,
            household_id=household_id,
        )
    if not picture.relations_of(org):
        raise ApiProblem(
            403,
            "not-permitted",
            "{org} is no longer in the network of household {household_id}",
            org=org,
            household_id=household_id,
        )


@router.get("/referrals", operation_id="referrals_owed", responses=READ)
def referrals_owed(
    access: Annotated[Access, guard("referrals_owed")],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ReferralState]:
    """Open referrals and handoffs addressed to the caller's organisation, oldest first; what is overdue."""
    owed = access.node.queries().handoffs.owed_by(access.principal.organisation, access.node.clock())
    return page_after(owed, lambda r: str(r.referral_id), cursor, limit)


@router.get("/referrals/{referral_id}", operation_id="get_referral", responses=READ)
def get_referral(
    referral_id: UUID, response: Response, access: Annotated[Access, guard("get_referral")]
) -> ReferralView | ReceivedReferral:
    """The referral; a municipal department gets only the fields it needs to act on it."""
    view = access.node.app.referral(referral_id)
    response.headers["ETag"] = etag(view.version)
    language = language_of(access.request.headers)
    worded = [
        given.model_copy(update={"label": reason_label(given.code, language)}) for given in view.reasons
    ]
    view = view.model_copy(update={"reasons": worded})
    reader = access.principal.organisation
    if view.contact is not None and not (
        reader == access.node.organisation and reader in (view.receiver, view.referrer)
    ):
        # The family's contact was shared with the receiver alone: another party reading here never sees it.
        view = view.model_copy(update={"contact": None})
    if access.principal.role in DEPARTMENT:
        # Built from the stored view, not validated again: an erased household's child reads "[erased]"
        # for a birth month (domain/personal_fields.py), the erased marker, never a 500.
        return ReceivedReferral.model_construct(
            **{name: getattr(view, name) for name in ReceivedReferral.model_fields}
        )
    return view


def _step(name: str, path: str, body_type: type[Body] | None) -> None:
    """A POST taking one step of the referral's loop (If-Match: the referral's ETag)."""

    def call(
        access: Access, referral_id: UUID, key: UUID, if_match: str | None, body: Body | None
    ) -> JSONResponse:
        method = getattr(access.node.app, name)
        values = {} if body is None else dict(body)
        return run_command(
            access,
            key,
            if_match,
            body,
            lambda cid, at, by: method(command_id=cid, referral_id=referral_id, **values, at=at, by=by),
        )

    if body_type is None:

        def endpoint(
            referral_id: UUID,
            key: IdempotencyKey,
            access: Annotated[Access, guard(name)],
            if_match: IfMatch = None,
        ) -> JSONResponse:
            return call(access, referral_id, key, if_match, None)

    else:

        def endpoint(  # type: ignore[misc]
            referral_id: UUID,
            body: body_type,  # type: ignore[valid-type]
            key: IdempotencyKey,
            access: Annotated[Access, guard(name)],
            if_match: IfMatch = None,
        ) -> JSONResponse:
            return call(access, referral_id, key, if_match, body)

    endpoint.__name__ = name
    router.add_api_route(
        f"/referrals/{{referral_id}}/{path}",
        endpoint,
        methods=["POST"],
        operation_id=name,
        responses=COMMAND,
        summary=name.replace("_", " ").capitalize(),
    )


_step("acknowledge_referral", "acknowledgement", None)
_step("accept_referral", "acceptance", Assignee)
_step("start_referral", "start", None)
_step("put_referral_on_hold", "hold", CodedReasonIn)
_step("decline_referral", "decline", ReferralDecline)
_step("override_referral_decline", "decline-override", CodedReasonIn)
_step("redirect_referral", "redirection", Redirection)
_step("complete_referral", "completion", Outcome)
_step("withdraw_referral", "withdrawal", CodedReasonIn)
_step("mark_referral_entered_in_error", "entered-in-error", ReasonIn)
