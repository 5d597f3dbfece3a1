"""Which command of a node applies each integration event it receives: one table from the event's type to
a handler, each handler checked (by mypy, where the table is built) to take events of its type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from coordination.applications.base import NodeApplication
from coordination.applications.erasure import ErasureDesk
from coordination.applications.follow_up import FollowUpDesk
from coordination.applications.municipal_picture import MunicipalPictureDesk
from coordination.applications.network_copies import NetworkCopies
from coordination.applications.network_reports import NetworkReports
from coordination.applications.offer_exchange import OfferExchange
from coordination.applications.referrals import ReferralDesk
from coordination.applications.reported_facts import ReportedFactsDesk
from coordination.applications.vacancy_mirror import VacancyMirror
from coordination.domain.errors import NotPermitted
from coordination.integration import household_facts as facts
from coordination.integration import network as n
from coordination.integration import placements as p
from coordination.integration import referrals as r
from coordination.integration import vacancies as v
from coordination.integration.dispatch_reasons import REASONED_STEPS
from coordination.integration.erasure import HouseholdErasureConfirmed, HouseholdErasureNotice
from coordination.integration.events import IntegrationEvent

D = TypeVar("D", bound=NodeApplication)
E = TypeVar("E", bound=IntegrationEvent)
# Applies one received event to a node as the node's own command; the command id is the message's id.
Handler = Callable[[NodeApplication, UUID, Any], object]


def _taking(app: NodeApplication, role: type[D], command: str) -> D:
    """The node as the role whose command `command` is; a node of another role does not take it."""
    if not isinstance(app, role):
        raise NotPermitted(f"{app.organisation} ({type(app).__name__}) does not take {command}")
    return app


def _on(
    event_type: type[E], handler: Callable[[NodeApplication, UUID, E], object]
) -> tuple[type[E], Handler]:
    """One entry of the dispatch table: the handler is checked to take events of `event_type`."""
    return event_type, handler


# Referrals: a copy of one sent to us, and each step the other party took on its copy.


def _sent(app: NodeApplication, command_id: UUID, e: r.ReferralSent) -> object:
    if e.receiver != app.organisation:
        raise NotPermitted(f"A referral to {e.receiver} reached {app.organisation}")
    # Our copy names us as the receiver itself; everything else is as the referrer recorded it.
    return _taking(app, ReferralDesk, "receive_referral").receive_referral(
        command_id=command_id,
        referral_id=e.referral_id,
        referrer=e.referrer,
        kind=e.kind,
        household_id=e.household_id,
        details=e.details,
        consent=e.consent,
        legal_basis=e.legal_basis,
        acknowledge_by=e.acknowledge_by,
        complete_by=e.complete_by,
        at=e.at,
        by=e.by,
    )


def _desk(app: NodeApplication, command: str) -> ReferralDesk:
    return _taking(app, ReferralDesk, command)


def _acknowledged(app: NodeApplication, c: UUID, e: r.ReferralAcknowledged) -> object:
    desk = _desk(app, "acknowledge_referral")
    return desk.acknowledge_referral(command_id=c, referral_id=e.referral_id, at=e.at, by=e.by)


def _accepted(app: NodeApplication, c: UUID, e: r.ReferralAccepted) -> object:
    desk = _desk(app, "accept_referral")
    return desk.accept_referral(
        command_id=c, referral_id=e.referral_id, assignee=e.assignee, at=e.at, by=e.by
    )


def _started(app: NodeApplication, c: UUID, e: r.ReferralStarted) -> object:
    return _desk(app, "start_referral").start_referral(
        command_id=c, referral_id=e.referral_id, at=e.at, by=e.by
    )


def _redirected(app: NodeApplication, c: UUID, e: r.ReferralRedirected) -> object:
    return _desk(app, "redirect_referral").redirect_referral(
        command_id=c, referral_id=e.referral_id, to=e.to, reason=e.reason, consent=e.consent, at=e.at, by=e.by
    )


def _completed(app: NodeApplication, c: UUID, e: r.ReferralCompleted) -> object:
    desk = _desk(app, "complete_referral")
    return desk.complete_referral(
        command_id=c, referral_id=e.referral_id, outcome=e.outcome, at=e.at, by=e.by
    )


def _entered_in_error(app: NodeApplication, c: UUID, e: r.ReferralEnteredInError) -> object:
    return _desk(app, "mark_referral_entered_in_error").mark_referral_entered_in_error(
        command_id=c, referral_id=e.referral_id, reason=e.reason, at=e.at, by=e.by
    )


def _expired(app: NodeApplication, c: UUID, e: r.ReferralExpired) -> object:
    return _desk(app, "expire_referral").expire_referral(command_id=c, referral_id=e.referral_id, at=e.at)


def _erased(app: NodeApplication, c: UUID, e: HouseholdErasureNotice) -> object:
    return app.forget_household(command_id=c, household_id=e.household_id, at=e.at, by=e.by)


def _erasure_confirmed(app: NodeApplication, c: UUID, e: HouseholdErasureConfirmed) -> object:
    owner = _taking(app, ErasureDesk, "record_erasure_confirmed")
    return owner.record_erasure_confirmed(command_id=c, household_id=e.household_id, at=e.at, by=e.by)


# Facts about a household we own, reported by the organisation that holds or serves it.


def _reported(app: NodeApplication, c: UUID, e: facts.HouseholdFactReported) -> object:
    """Every kind of fact, every version: applied or refused by the owner's check of the reporter's
    relation to the household, and answered to the reporter either way (never parked for it)."""
    owner = _taking(app, ReportedFactsDesk, "take_reported_fact")
    return owner.take_reported_fact(
        command_id=c,
        household_id=e.household_id,
        fact=facts.reported_fact(e),
        fact_id=facts.fact_id_of(e),
        at=e.at,
        by=e.by,
    )


# The owner's answer to a fact this organisation reported.


def _fact_outcome(app: NodeApplication, c: UUID, e: facts.FactOutcome) -> object:
    return _taking(app, FollowUpDesk, "record_fact_outcome").record_fact_outcome(
        command_id=c,
        household_id=e.household_id,
        fact_id=e.fact_id,
        reason=None if e.applied else (e.reason or "refused"),
        at=e.at,
        by=e.by,
    )


# The vacancy pool (kept in mirrors) and the requests to a vacancy's owner.


def _mirror(app: NodeApplication, command: str) -> VacancyMirror:
    return _taking(app, VacancyMirror, command)


def _exchange(app: NodeApplication, command: str) -> OfferExchange:
    return _taking(app, OfferExchange, command)


def _published(app: NodeApplication, c: UUID, e: v.VacancyPublished) -> object:
    return _mirror(app, "mirror_vacancy_published").mirror_vacancy_published(
        command_id=c, vacancy_id=e.vacancy_id, owner=e.owner, dwelling=e.dwelling, at=e.at, by=e.by
    )


def _reserved(app: NodeApplication, c: UUID, e: v.VacancyReserved) -> object:
    if e.reserved_for == app.organisation:  # for one of our requests: our household now holds the offer
        return _exchange(app, "record_reservation").record_reservation(
            command_id=c,
            vacancy_id=e.vacancy_id,
            offer_id=e.offer_id,
            expires_at=e.expires_at,
            at=e.at,
            by=e.by,
        )
    return _mirror(app, "mirror_vacancy_reserved").mirror_vacancy_reserved(
        command_id=c, vacancy_id=e.vacancy_id, offer_id=e.offer_id, expires_at=e.expires_at, at=e.at, by=e.by
    )


def _let(app: NodeApplication, c: UUID, e: v.VacancyLet) -> object:
    return _mirror(app, "mirror_vacancy_let").mirror_vacancy_let(
        command_id=c, vacancy_id=e.vacancy_id, offer_id=e.offer_id, at=e.at, by=e.by
    )


def _offer_declined(app: NodeApplication, c: UUID, e: v.VacancyOfferDeclined) -> object:
    return _mirror(app, "mirror_vacancy_offer_declined").mirror_vacancy_offer_declined(
        command_id=c,
        vacancy_id=e.vacancy_id,
        offer_id=e.offer_id,
        declined_by=e.declined_by,
        at=e.at,
        by=e.by,
    )


def _offer_expired(app: NodeApplication, c: UUID, e: v.VacancyOfferExpired) -> object:
    return _mirror(app, "mirror_vacancy_offer_expired").mirror_vacancy_offer_expired(
        command_id=c, vacancy_id=e.vacancy_id, offer_id=e.offer_id, at=e.at
    )


def _vacancy_withdrawn(app: NodeApplication, c: UUID, e: v.VacancyWithdrawn) -> object:
    return _mirror(app, "mirror_vacancy_withdrawn").mirror_vacancy_withdrawn(
        command_id=c, vacancy_id=e.vacancy_id, reason=e.reason, at=e.at, by=e.by
    )


def _offer_requested(app: NodeApplication, c: UUID, e: v.OfferRequested) -> object:
    return _exchange(app, "reserve_for_request").reserve_for_request(
        command_id=c, offer_id=e.offer_id, vacancy_id=e.vacancy_id, expires_at=e.expires_at, at=e.at, by=e.by
    )


def _offer_answered(app: NodeApplication, c: UUID, e: v.OfferAnswered) -> object:
    return _exchange(app, "answer_for_request").answer_for_request(
        command_id=c,
        offer_id=e.offer_id,
        vacancy_id=e.vacancy_id,
        accepted=e.accepted,
        declined_by=e.declined_by,
        at=e.at,
        by=e.by,
    )


def _reservation_refused(app: NodeApplication, c: UUID, e: v.ReservationRefused) -> object:
    return _exchange(app, "record_reservation_refused").record_reservation_refused(
        command_id=c, offer_id=e.offer_id, reason=e.reason, at=e.at
    )


# The municipality's picture: every node keeps what the others share (no household in it).


def _picture(app: NodeApplication, command: str) -> MunicipalPictureDesk:
    return _taking(app, MunicipalPictureDesk, command)


def _placement(app: NodeApplication, c: UUID, e: p.PlacementRecorded) -> object:
    return _picture(app, "keep_shared_placement").keep_shared_placement(
        command_id=c,
        reported_by=e.reported_by,
        fact_id=e.fact_id,
        place=e.place,
        month=e.month,
        permanent=e.permanent,
        from_area=e.from_area,
        old_rent=e.old_rent,
        new_rent=e.new_rent,
        overrides=e.overrides,
        warnings=e.warnings,
        at=e.at,
    )


def _offer_outcome(app: NodeApplication, c: UUID, e: p.OfferOutcomeRecorded) -> object:
    return _picture(app, "keep_shared_offer_outcome").keep_shared_offer_outcome(
        command_id=c,
        reported_by=e.reported_by,
        fact_id=e.fact_id,
        place=e.place,
        month=e.month,
        outcome=e.outcome,
        declined_by=e.declined_by,
        reason_code=e.reason_code,
        overrides=e.overrides,
        warnings=e.warnings,
        at=e.at,
    )


def _referral_timed(app: NodeApplication, c: UUID, e: p.ReferralTimed) -> object:
    return _picture(app, "keep_shared_referral_timing").keep_shared_referral_timing(
        command_id=c,
        reported_by=e.reported_by,
        fact_id=e.fact_id,
        timing_id=e.timing_id,
        from_org=e.from_org,
        to_org=e.to_org,
        kind=e.kind,
        milestone=e.milestone,
        issued_month=e.issued_month,
        seconds=e.seconds,
        at=e.at,
    )


# The household's network: the owner's pictures to its members, their step reports to it, its refusals.


def _network_picture(app: NodeApplication, c: UUID, e: n.NetworkPictureSent) -> object:
    return _taking(app, NetworkCopies, "receive_network_picture").receive_network_picture(
        command_id=c, picture=e.picture, at=e.picture.changed_at
    )


def _step_reported(app: NodeApplication, c: UUID, e: n.NetworkStepReported) -> object:
    return _taking(app, NetworkReports, "apply_network_report").apply_network_report(
        command_id=c,
        household_id=e.household_id,
        item=e.item,
        contact_person=e.contact_person,
        at=e.at,
        by=e.by,
    )


def _report_refused(app: NodeApplication, c: UUID, e: n.NetworkReportRefused) -> object:
    return _taking(app, NetworkCopies, "record_refused_report").record_refused_report(
        command_id=c, household_id=e.household_id, refusal=e.refusal, at=e.at, by=e.by
    )


# Every integration event a node applies, by its type, to the handler that applies it.
_ENTRIES = (
    _on(r.ReferralSent, _sent),
    _on(r.ReferralAcknowledged, _acknowledged),
    _on(r.ReferralAccepted, _accepted),
    _on(r.ReferralStarted, _started),
    _on(r.ReferralRedirected, _redirected),
    _on(r.ReferralCompleted, _completed),
    _on(r.ReferralEnteredInError, _entered_in_error),
    _on(r.ReferralExpired, _expired),
    *REASONED_STEPS,
    _on(HouseholdErasureNotice, _erased),
    _on(HouseholdErasureConfirmed, _erasure_confirmed),
    _on(facts.ChildEnrolmentReported, _reported),
    _on(facts.ContactPersonLinkReported, _reported),
    _on(facts.ContactPersonUnlinkReported, _reported),
    _on(facts.PracticalMattersReported, _reported),
    _on(facts.NoLongerAsksForHelpReported, _reported),
    _on(facts.FollowUpVisitReported, _reported),
    _on(facts.SettlementReported, _reported),
    _on(facts.ChildEnrolmentReportedV2, _reported),
    _on(facts.ContactPersonLinkReportedV2, _reported),
    _on(facts.ContactPersonUnlinkReportedV2, _reported),
    _on(facts.PracticalMattersReportedV2, _reported),
    _on(facts.NoLongerAsksForHelpReportedV2, _reported),
    _on(facts.FollowUpVisitReportedV2, _reported),
    _on(facts.SettlementReportedV2, _reported),
    _on(facts.FactOutcome, _fact_outcome),
    _on(v.VacancyPublished, _published),
    _on(v.VacancyReserved, _reserved),
    _on(v.VacancyLet, _let),
    _on(v.VacancyOfferDeclined, _offer_declined),
    _on(v.VacancyOfferExpired, _offer_expired),
    _on(v.VacancyWithdrawn, _vacancy_withdrawn),
    _on(v.OfferRequested, _offer_requested),
    _on(v.OfferAnswered, _offer_answered),
    _on(v.ReservationRefused, _reservation_refused),
    _on(p.PlacementRecorded, _placement),
    _on(p.OfferOutcomeRecorded, _offer_outcome),
    _on(p.ReferralTimed, _referral_timed),
    _on(n.NetworkPictureSent, _network_picture),
    _on(n.NetworkStepReported, _step_reported),
    _on(n.NetworkReportRefused, _report_refused),
)
HANDLERS: dict[type[IntegrationEvent], Handler] = dict(_ENTRIES)


def handler_for(event: IntegrationEvent) -> Handler | None:
    """The handler of the event's type (or of the type it extends, as a later version may)."""
    return next((HANDLERS[cls] for cls in type(event).__mro__ if cls in HANDLERS), None)
