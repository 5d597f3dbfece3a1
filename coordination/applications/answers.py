"""Plain read models the applications hand to the edge instead of aggregates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from coordination.domain.household import Household
from coordination.domain.household_values import Move, OfferRecord, PendingHandoff
from coordination.domain.offer_request import OfferRequest, OfferRequestStep
from coordination.domain.policy import RehousingPolicy
from coordination.domain.reasons import label
from coordination.domain.referral import Referral, ReferralDetails
from coordination.domain.referral_values import DaycarePlace
from coordination.domain.support_link import SupportLink, SupportOffer
from coordination.domain.vacancy import Vacancy
from coordination.domain.values import Consent, Dwelling, Holder


class View(BaseModel):
    model_config = ConfigDict(frozen=True)


class HouseholdView(View):
    id: UUID
    version: int
    owner: str
    case_reference: str
    phase: str
    holder: Holder
    pending_handoff: PendingHandoff | None
    members: int
    children: int
    live_offer: OfferRecord | None
    offers: list[OfferRecord]
    move: Move | None
    rent_rise: bool
    right_to_permanent: bool
    follow_up_due: date | None
    follow_up_visited: bool
    settlement_gaps: list[str]
    settled_at: datetime | None

    @classmethod
    def of(
        cls,
        household: Household,
        policy: RehousingPolicy,
        today: date,
        requested: Sequence[OfferRecord] = (),
    ) -> HouseholdView:
        """`requested`: the offers of other organisations' vacancies the household does not hold (not yet
        reserved, refused, or declined at the reservation), listed after the offers it holds."""
        return cls(
            id=household.id,
            version=household.version,
            owner=household.owner,
            case_reference=household.case_reference,
            phase=str(household.phase),
            holder=household.holder,
            pending_handoff=household.pending_handoff,
            members=len(household.members),
            children=sum(1 for m in household.members if m.kind == "child"),
            live_offer=household.live_offer,
            offers=[*household.offers, *requested],
            move=household.move,
            rent_rise=household.rent_rise,
            right_to_permanent=household.has_right_to_permanent(today, policy),
            follow_up_due=household.follow_up_due(policy),
            follow_up_visited=household.follow_up_visited,
            settlement_gaps=household.settlement_gaps(),
            settled_at=household.settled_at,
        )


class VacancyView(View):
    id: UUID
    version: int
    owner: str
    dwelling: Dwelling
    status: str
    live_offer_id: UUID | None
    offer_expires_at: datetime | None
    let_to: UUID | None

    @classmethod
    def of(cls, vacancy: Vacancy) -> VacancyView:
        return cls(
            id=vacancy.id,
            version=vacancy.version,
            owner=vacancy.owner,
            dwelling=vacancy.dwelling,
            status=str(vacancy.status),
            live_offer_id=vacancy.live_offer_id,
            offer_expires_at=vacancy.offer_expires_at,
            let_to=vacancy.let_to,
        )


class ReferralStepView(View):
    status: str
    at: datetime
    organisation: str | None


class GivenReason(View):
    """A coded reason given for a step (domain/reasons.py): the code, its label and the free text beside it."""

    status: str  # the step it was given for: declined, withdrawn, on hold, or sent again (an override)
    at: datetime
    organisation: str | None
    code: str
    label: str
    text: str | None


class ReferralView(View):
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
    acknowledged_at: datetime | None
    accepted_at: datetime | None
    completed_at: datetime | None
    history: list[ReferralStepView]
    reasons: list[GivenReason]
    daycare_place: DaycarePlace | None = None  # a daycare referral's place and the family's answer

    @classmethod
    def of(cls, referral: Referral) -> ReferralView:
        return cls(
            id=referral.id,
            version=referral.version,
            referrer=referral.referrer,
            receiver=referral.receiver,
            kind=str(referral.kind),
            household_id=referral.household_id,
            status=str(referral.status),
            fhir_status=referral.status.fhir_status,
            details=referral.details,
            consent=referral.consent,
            legal_basis=referral.legal_basis,
            assignee=referral.assignee,
            outcome=referral.outcome,
            sent_at=referral.sent_at,
            acknowledge_by=referral.acknowledge_by,
            complete_by=referral.complete_by,
            acknowledged_at=referral.acknowledged_at,
            accepted_at=referral.accepted_at,
            completed_at=referral.completed_at,
            history=[
                ReferralStepView(status=str(s.status), at=s.at, organisation=s.organisation)
                for s in referral.history
            ],
            reasons=given_reasons(referral),
            daycare_place=referral.daycare_place,
        )


def given_reasons(referral: Referral) -> list[GivenReason]:
    """The reasons given along the referral's history, oldest first."""
    return [
        GivenReason(
            status=str(s.status),
            at=s.at,
            organisation=s.organisation,
            code=s.reason_code,
            label=label(s.reason_code),
            text=s.reason,
        )
        for s in referral.history
        if s.reason_code is not None
    ]


class SupportLinkView(View):
    id: UUID
    version: int
    owner: str
    household_id: UUID
    offer: SupportOffer
    contact_person: bool
    status: str

    @classmethod
    def of(cls, link: SupportLink) -> SupportLinkView:
        return cls(
            id=link.id,
            version=link.version,
            owner=link.owner,
            household_id=link.household_id,
            offer=link.offer,
            contact_person=link.contact_person,
            status=str(link.status),
        )


class OfferRequestView(View):
    """An offer of another organisation's vacancy as the requesting organisation follows it: requested,
    then reserved (the household holds the offer until `expires_at`) or refused with the owner's reason,
    then accepted, declined or expired."""

    id: UUID
    version: int
    household_id: UUID
    vacancy_id: UUID
    vacancy_owner: str  # asked to reserve its vacancy
    requested_by: str
    state: str
    reason: str | None  # the owner's, when it refused; the decline's, when declined
    declined_by: str | None
    expires_at: datetime
    requested_at: datetime
    history: list[OfferRequestStep]

    @classmethod
    def of(cls, request: OfferRequest) -> OfferRequestView:
        return cls(
            id=request.id,
            version=request.version,
            household_id=request.household_id,
            vacancy_id=request.vacancy_id,
            vacancy_owner=request.owner,
            requested_by=request.requested_by.organisation,
            state=str(request.status),
            reason=request.reason,
            declined_by=None if request.declined_by is None else str(request.declined_by),
            expires_at=request.expires_at,
            requested_at=request.requested_at,
            history=list(request.history),
        )
