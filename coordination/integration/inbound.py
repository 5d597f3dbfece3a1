"""From a received integration event to this node's own command: exactly once in effect.

The command id is the message's CloudEvents id, so the command's receipt, stored in the same
transaction as its effect, is what makes a redelivered message change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import structlog

from coordination.applications.base import NodeApplication
from coordination.domain.errors import ConcurrencyConflict, NotPermitted
from coordination.integration import household_facts as facts
from coordination.integration import referrals as r
from coordination.integration import vacancies as v
from coordination.integration.erasure import HouseholdErasureNotice
from coordination.integration.events import IntegrationEvent
from coordination.integration.outbound import own_fields
from coordination.integration.received import AlreadyApplied, ReceivedEvent
from coordination.integration.topics import VACANCIES, org_source

log = structlog.get_logger()

REFERRAL_COMMANDS: dict[type[r.ReferralStepTaken], str] = {
    r.ReferralAcknowledged: "acknowledge_referral",
    r.ReferralAccepted: "accept_referral",
    r.ReferralStarted: "start_referral",
    r.ReferralPutOnHold: "put_referral_on_hold",
    r.ReferralDeclined: "decline_referral",
    r.ReferralDeclineOverridden: "override_referral_decline",
    r.ReferralRedirected: "redirect_referral",
    r.ReferralWithdrawn: "withdraw_referral",
    r.ReferralCompleted: "complete_referral",
    r.ReferralEnteredInError: "mark_referral_entered_in_error",
}

FACT_COMMANDS: dict[type[facts.HouseholdFactReported], str] = {
    facts.ChildEnrolmentReported: "record_enrolment",
    facts.ContactPersonLinkReported: "record_contact_person",
    facts.ContactPersonUnlinkReported: "end_contact_person",
    facts.PracticalMattersReported: "record_practical_matters_in_order",
    facts.NoLongerAsksForHelpReported: "record_no_longer_asks_for_help",
    facts.FollowUpVisitReported: "record_follow_up_visit",
    facts.SettlementReported: "settle_household",
}


# What the mirror's commands take (mirror_vacancy_*), apart from a reservation (our request's, or not).
_MIRRORED = (
    v.VacancyPublished,
    v.VacancyLet,
    v.VacancyOfferDeclined,
    v.VacancyOfferExpired,
    v.VacancyWithdrawn,
)


class Inbound:
    """The consumer's `apply` for one node: dispatches each received event to the node's command."""

    def __init__(
        self,
        app: NodeApplication,
        *,
        conflict_retries: int = 5,
        open_sealed: Callable[[IntegrationEvent], IntegrationEvent] | None = None,
    ) -> None:
        """`open_sealed` opens an event's sealed personal fields with the sender's exchange key (fetched
        outside Kafka: adapters/exchange_keys.py ExchangeOpener); without it a sealed event is refused."""
        self.app = app
        self.organisation = app.organisation
        self._retries = conflict_retries
        self._open = open_sealed or _refuse_sealed

    def __call__(self, received: ReceivedEvent) -> None:
        event = received.event
        if received.source == org_source(self.organisation):
            return  # our own message on a topic we share (the vacancy pool): already in our store
        self._check_sender(received)
        command_id = UUID(received.id)
        # A mirror's command finds a repeat itself (its receipt collides in the store, nothing is written)
        # and says so through noticing_repeats(): no receipt read before every message. Anything else is
        # looked up first (an erasure notice, a reservation that may decline at once, sealed fields).
        if not self._mirrors(event) and self.app.has_handled(command_id):
            raise AlreadyApplied(received.id)
        event = self._open(event)
        with self.app.noticing_repeats() as repeats:
            self._apply(received.id, command_id, event)
        if repeats:
            raise AlreadyApplied(received.id)

    def _apply(self, ce_id: str, command_id: UUID, event: IntegrationEvent) -> None:
        for attempt in range(self._retries):
            try:
                self._dispatch(command_id, event)
                return
            except ConcurrencyConflict:
                # A local command changed the same aggregate first: decide again on what is stored now.
                if attempt + 1 == self._retries:
                    raise
                log.info("inbound.conflict_retried", ce_id=ce_id, attempt=attempt + 1)

    def _mirrors(self, event: IntegrationEvent) -> bool:
        """Whether `event` goes to one of the mirror's commands (one idempotent save, nothing sealed)."""
        if event.sealed is not None:
            return False
        if isinstance(event, v.VacancyReserved):
            return event.reserved_for != self.organisation
        return isinstance(event, _MIRRORED)

    def _check_sender(self, received: ReceivedEvent) -> None:
        """Only the owner speaks for a vacancy (whoever's person took the step); anything else comes from
        the organisation of the person who took the step."""
        event = received.event
        if isinstance(event, v.VacancyPublished):
            speaker = event.owner
        elif event.topic == VACANCIES:
            speaker = self.app.vacancy(event.vacancy_id).owner  # type: ignore[attr-defined]
        else:
            by = getattr(event, "by", None)
            if by is None:
                return
            speaker = by.organisation
        if org_source(speaker) != received.source:
            raise NotPermitted(f"{received.source} spoke for {speaker}")

    def _command(self, name: str) -> Callable[..., Any]:
        command = getattr(self.app, name, None)
        if command is None:
            raise NotPermitted(f"{self.organisation} ({type(self.app).__name__}) does not take {name}")
        return command  # type: ignore[no-any-return]

    def _dispatch(self, command_id: UUID, event: IntegrationEvent) -> None:
        if isinstance(event, r.ReferralSent):
            if event.receiver != self.organisation:
                raise NotPermitted(f"A referral to {event.receiver} reached {self.organisation}")
            # Our copy names us as the receiver itself; everything else is as the referrer recorded it.
            fields = {
                name: getattr(event, name)
                for name in type(event).model_fields
                if name not in ("receiver", "sealed")
            }
            self._command("receive_referral")(command_id=command_id, **fields)
            return
        if isinstance(event, r.ReferralStepTaken):
            self._command(REFERRAL_COMMANDS[type(event)])(
                command_id=command_id,
                referral_id=event.referral_id,
                at=event.at,
                by=event.by,
                **own_fields(type(event), r.ReferralStepTaken, event),
            )
            return
        if isinstance(event, r.ReferralExpired):
            self._command("expire_referral")(
                command_id=command_id, referral_id=event.referral_id, at=event.at
            )
            return
        if isinstance(event, HouseholdErasureNotice):
            self._command("forget_household")(
                command_id=command_id, household_id=event.household_id, at=event.at, by=event.by
            )
            return
        if isinstance(event, facts.HouseholdFactReported):
            self._command(FACT_COMMANDS[type(event)])(
                command_id=command_id,
                household_id=event.household_id,
                at=event.at,
                by=event.by,
                **own_fields(type(event), facts.HouseholdFactReported, event),
            )
            return
        self._vacancy(command_id, event)

    def _vacancy(self, command_id: UUID, e: IntegrationEvent) -> None:
        c = self._command
        if isinstance(e, v.VacancyPublished):
            c("mirror_vacancy_published")(
                command_id=command_id,
                vacancy_id=e.vacancy_id,
                owner=e.owner,
                dwelling=e.dwelling,
                at=e.at,
                by=e.by,
            )
        elif isinstance(e, v.VacancyReserved):
            # Reserved for one of our requests: our household now holds the offer.
            name = "record_reservation" if e.reserved_for == self.organisation else "mirror_vacancy_reserved"
            c(name)(
                command_id=command_id,
                vacancy_id=e.vacancy_id,
                offer_id=e.offer_id,
                expires_at=e.expires_at,
                at=e.at,
                by=e.by,
            )
        elif isinstance(e, v.VacancyLet):
            c("mirror_vacancy_let")(
                command_id=command_id, vacancy_id=e.vacancy_id, offer_id=e.offer_id, at=e.at, by=e.by
            )
        elif isinstance(e, v.VacancyOfferDeclined):
            c("mirror_vacancy_offer_declined")(
                command_id=command_id,
                vacancy_id=e.vacancy_id,
                offer_id=e.offer_id,
                declined_by=e.declined_by,
                at=e.at,
                by=e.by,
            )
        elif isinstance(e, v.VacancyOfferExpired):
            c("mirror_vacancy_offer_expired")(
                command_id=command_id, vacancy_id=e.vacancy_id, offer_id=e.offer_id, at=e.at
            )
        elif isinstance(e, v.VacancyWithdrawn):
            c("mirror_vacancy_withdrawn")(
                command_id=command_id, vacancy_id=e.vacancy_id, reason=e.reason, at=e.at, by=e.by
            )
        elif isinstance(e, v.OfferRequested):
            c("reserve_for_request")(
                command_id=command_id,
                offer_id=e.offer_id,
                vacancy_id=e.vacancy_id,
                expires_at=e.expires_at,
                at=e.at,
                by=e.by,
            )
        elif isinstance(e, v.OfferAnswered):
            c("answer_for_request")(
                command_id=command_id,
                offer_id=e.offer_id,
                vacancy_id=e.vacancy_id,
                accepted=e.accepted,
                declined_by=e.declined_by,
                at=e.at,
                by=e.by,
            )
        elif isinstance(e, v.ReservationRefused):
            c("record_reservation_refused")(
                command_id=command_id, offer_id=e.offer_id, reason=e.reason, at=e.at
            )
        else:
            raise NotPermitted(f"{self.organisation} has no use for {e.event_type}")


def _refuse_sealed(event: IntegrationEvent) -> IntegrationEvent:
    if event.sealed is not None:
        raise NotPermitted(f"{event.event_type} has sealed fields and this node has no key directory")
    return event
