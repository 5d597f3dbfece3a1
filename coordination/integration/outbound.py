"""From a node's stored domain events to the integration events it publishes (never the stored events).

Only what this node authored leaves it: a referral step its own people took, a vacancy it owns, its own
requests and reports. Copies and mirrors it keeps of other organisations' facts are never re-published.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import structlog

from coordination.applications.base import NodeApplication
from coordination.domain.erasure import ErasureDone
from coordination.domain.follow_up import FactKind, FollowedHousehold, reported_fact_id
from coordination.domain.household import Household
from coordination.domain.network import HouseholdNetwork
from coordination.domain.offer_request import OfferRequest, ReservationRefusal
from coordination.domain.referral import Referral
from coordination.domain.vacancy import Vacancy
from coordination.domain.values import Actor, Role
from coordination.integration import household_facts as facts
from coordination.integration import referrals as r
from coordination.integration import vacancies as v
from coordination.integration.allow_lists import (
    FACT_REPORTER,
    HOUSEHOLD_OWNER,
    MUNICIPALITY,
    NETWORK_MEMBER,
    NETWORK_REPORTER,
    POOL,
    REFERRER,
    REQUESTER,
    VACANCY_OWNER,
    lawful_basis,
    restrict,
)
from coordination.integration.erasure import (
    ERASURE_RECIPIENT,
    HouseholdErasureConfirmed,
    HouseholdErasureNotice,
)
from coordination.integration.events import Addressed, IntegrationEvent
from coordination.integration.network import NetworkPictureSent, NetworkReportRefused
from coordination.integration.network_messages import NetworkMessages
from coordination.integration.placement_messages import PlacementMessages
from coordination.integration.referral_messages import ReferralMessages
from coordination.integration.topics import (
    HOUSEHOLD_FACTS,
    MUNICIPAL_PICTURE,
    NETWORK,
    PLACEMENTS,
    REFERRALS,
    VACANCIES,
    Topics,
)

log = structlog.get_logger()

# Seals an event's personal fields for the organisation `to` under this node's exchange key of the household
# (adapters/exchange/keys.py ExchangeSealer): the last step before the message leaves.
Seal = Callable[[IntegrationEvent, UUID, str], IntegrationEvent]


class Outbound:
    """The relay's `to_messages` for one node: a stored domain event → the addressed integration events."""

    def __init__(
        self,
        app: NodeApplication,
        topics: Topics,
        seal: Seal | None = None,
        *,
        municipalities: Sequence[str] = (),
    ) -> None:
        """Without `seal` the personal fields a recipient may get leave in clear (tests of the mapping).
        `municipalities`: the node's own; the first is where its referral timings are told."""
        self.app = app
        self.municipalities = list(municipalities)
        self.topics = topics
        self.seal = seal
        self.organisation = app.organisation
        self._loaded: tuple[Any, Any] | None = None
        self._map: dict[type[Any], Callable[[Any], list[Addressed]]] = {
            **ReferralMessages(app, topics, self._at_version).mapping(),
            Vacancy.Published: self._vacancy_published,
            Vacancy.OfferReserved: self._vacancy_step,
            Vacancy.OfferAccepted: self._vacancy_step,
            Vacancy.OfferDeclined: self._vacancy_step,
            Vacancy.OfferExpired: self._vacancy_step,
            Vacancy.Withdrawn: self._vacancy_step,
            OfferRequest.Requested: self._offer_requested,
            OfferRequest.Answered: self._offer_answered,
            ReservationRefusal.Recorded: self._reservation_refused,
            FollowedHousehold.FactReported: self._fact_reported,
            HouseholdNetwork.FactApplied: self._fact_answered,
            HouseholdNetwork.FactRefused: self._fact_answered,
            Household.Erased: self._household_erased,
            ErasureDone.Recorded: self._erasure_done,
        }
        # The household's network: pictures from the owner, step reports to it (network_messages.py).
        network = NetworkMessages(app, topics, self._at_version)
        self._map.update(network.mapping())
        # A refusal on the network answers either a member's step report (the network's message) or a
        # household fact (by its fact_id): each sends nothing for the other's, so both are asked. Every event
        # on the network moves its version, so an answer sends the picture too: each member's status then
        # names the owner's network_version, not the one before the answer.
        picture = network.mapping()[HouseholdNetwork.HouseholdNoted]
        refused_step = self._map[HouseholdNetwork.FactRefused]
        self._map[HouseholdNetwork.FactRefused] = lambda e: [
            *refused_step(e),
            *self._fact_answered(e),
            *picture(e),
        ]
        self._map[HouseholdNetwork.FactApplied] = lambda e: [*self._fact_answered(e), *picture(e)]
        self._also: dict[type[Any], Callable[[Any], list[Addressed]]] = network.also()
        # The municipality's picture is told beside whatever else the same stored events become.
        picture_messages = PlacementMessages(app, topics, self._at_version, self.municipalities)
        for kind, shared in picture_messages.mapping().items():
            self._map[kind] = _both(self._map[kind], shared) if kind in self._map else shared

    @property
    def kinds(self) -> frozenset[type[Any]]:
        """The domain event classes that may become messages (the relay need not decode any other)."""
        return frozenset(self._map)

    def may_publish(self, domain_event: Any) -> bool:
        """False only where `domain_event` certainly becomes no message (read without loading anything):
        another organisation's vacancy mirrored here, or a kind that is never published."""
        if type(domain_event) not in self._map:
            return False
        return not (isinstance(domain_event, Vacancy.Published) and domain_event.owner != self.organisation)

    def __call__(self, domain_event: Any) -> list[Addressed]:
        mapping = self._map.get(type(domain_event))
        also = self._also.get(type(domain_event))
        try:
            messages = mapping(domain_event) if mapping is not None else []
            if also is not None:
                messages += also(domain_event)
            return [allowed for m in messages if (allowed := self._allowed(m, domain_event)) is not None]
        finally:
            self._loaded = None

    def _allowed(self, message: Addressed, domain_event: Any) -> Addressed | None:
        """The one gate before encoding: a lawful basis for a household's data, then the recipient's
        allow-list. A referral without one is withheld (logged, never published)."""
        event = message.event
        if isinstance(event, r.ReferralSent) and not lawful_basis(event):
            log.warning(
                "sharing.withheld",
                event_type=event.event_type,
                referral_id=str(event.referral_id),
                receiver=event.receiver,
                reason="no consent for this recipient or purpose",
            )
            return None
        allowed = restrict(event, self._recipient(event, domain_event))
        if self.seal is not None and message.to is not None:
            allowed = self.seal(allowed, self._household_of(allowed, domain_event), message.to)
        return Addressed(allowed, message.topic, message.to, message.subject)

    def _household_of(self, event: Any, domain_event: Any) -> UUID:
        household_id = getattr(event, "household_id", None)
        if isinstance(household_id, UUID):
            return household_id
        referral: Referral = self._at_version(domain_event)
        return referral.household_id

    def _recipient(self, event: Any, domain_event: Any) -> str:
        """What the message's recipient is to this node, as the allow-lists name it."""
        if isinstance(event, HouseholdErasureNotice):
            return ERASURE_RECIPIENT
        if event.topic in (PLACEMENTS, MUNICIPAL_PICTURE):
            return MUNICIPALITY
        if isinstance(event, facts.FactOutcome):
            return FACT_REPORTER
        if event.topic == REFERRALS:
            if isinstance(event, r.ReferralSent):
                return str(event.kind)
            referral: Referral = self._at_version(domain_event)
            return str(referral.kind) if referral.referrer == self.organisation else REFERRER
        if event.topic == VACANCIES:
            return POOL
        if event.topic == HOUSEHOLD_FACTS:
            return HOUSEHOLD_OWNER
        if event.topic == NETWORK:
            if isinstance(event, NetworkPictureSent):
                return NETWORK_MEMBER
            return NETWORK_REPORTER if isinstance(event, NetworkReportRefused) else HOUSEHOLD_OWNER
        return REQUESTER if isinstance(event, v.ReservationRefused) else VACANCY_OWNER

    def _at_version(self, domain_event: Any) -> Any:
        # A step's mapping and its recipient both ask for the aggregate as the event left it: load it once
        # per event (forgotten after the call, so an erasure in between is never hidden).
        if self._loaded is None or self._loaded[0] is not domain_event:
            at = self.app.repository.get(domain_event.originator_id, version=domain_event.originator_version)
            self._loaded = (domain_event, at)
        return self._loaded[1]

    # Vacancies: the owner speaks for its vacancy, whoever's person took the step.

    def _vacancy_published(self, e: Vacancy.Published) -> list[Addressed]:
        if e.owner != self.organisation:
            return []
        published = v.VacancyPublished(
            vacancy_id=e.originator_id, owner=e.owner, dwelling=e.dwelling, at=e.at, by=e.by
        )
        return [Addressed(published, self.topics.vacancies(e.dwelling.place.municipality))]

    def _vacancy_step(self, e: Any) -> list[Addressed]:
        vacancy: Vacancy = self._at_version(e)
        if vacancy.owner != self.organisation:
            return []
        vacancy_id = e.originator_id
        message: Any
        if isinstance(e, Vacancy.OfferReserved):
            message = v.VacancyReserved(
                vacancy_id=vacancy_id,
                offer_id=e.offer_id,
                reserved_for=e.by.organisation,
                expires_at=e.expires_at,
                at=e.at,
                by=e.by,
            )
        elif isinstance(e, Vacancy.OfferAccepted):
            message = v.VacancyLet(vacancy_id=vacancy_id, offer_id=e.offer_id, at=e.at, by=e.by)
        elif isinstance(e, Vacancy.OfferDeclined):
            message = v.VacancyOfferDeclined(
                vacancy_id=vacancy_id, offer_id=e.offer_id, declined_by=e.declined_by, at=e.at, by=e.by
            )
        elif isinstance(e, Vacancy.OfferExpired):
            message = v.VacancyOfferExpired(vacancy_id=vacancy_id, offer_id=e.offer_id, at=e.at)
        else:
            message = v.VacancyWithdrawn(vacancy_id=vacancy_id, reason=e.reason, at=e.at, by=e.by)
        return [Addressed(message, self.topics.vacancies(vacancy.dwelling.place.municipality))]

    # Requests to a vacancy's owner, and its refusals

    def _offer_requested(self, e: OfferRequest.Requested) -> list[Addressed]:
        requested = v.OfferRequested(
            offer_id=e.originator_id, vacancy_id=e.vacancy_id, expires_at=e.expires_at, at=e.at, by=e.by
        )
        return [Addressed(requested, self.topics.vacancy_requests(e.owner))]

    def _offer_answered(self, e: OfferRequest.Answered) -> list[Addressed]:
        request: OfferRequest = self._at_version(e)
        answered = v.OfferAnswered(
            offer_id=e.originator_id,
            vacancy_id=request.vacancy_id,
            accepted=e.accepted,
            declined_by=e.declined_by,
            at=e.at,
            by=e.by,
        )
        return [Addressed(answered, self.topics.vacancy_requests(request.owner))]

    def _reservation_refused(self, e: ReservationRefusal.Recorded) -> list[Addressed]:
        refused = v.ReservationRefused(
            offer_id=e.offer_id, vacancy_id=e.vacancy_id, reason=e.reason, at=e.at, by=e.by
        )
        return [Addressed(refused, self.topics.vacancy_requests(e.requester))]

    # Erasure: every organisation the household was referred to (or redirected to) erases it too, and
    # every other organisation in its network (a mentor network through its link, a jobcentre the bridge
    # builder referred it to)

    def _household_erased(self, e: Household.Erased) -> list[Addressed]:
        told = {self.organisation}
        out = []
        for organisation in [*self._erasure_recipients(e.originator_id), *e.notified]:
            if organisation is not None and organisation not in told:
                told.add(organisation)
                notice = HouseholdErasureNotice(household_id=e.originator_id, at=e.at, by=e.by)
                out.append(Addressed(notice, self.topics.referrals(organisation), organisation))
        return out

    def _erasure_done(self, e: ErasureDone.Recorded) -> list[Addressed]:
        # This organisation erased a household on its owner's notice: it confirms so to the owner.
        by = Actor(organisation=self.organisation, person="erasure", role=Role.SYSTEM)
        confirmed = HouseholdErasureConfirmed(household_id=e.household_id, at=e.at, by=by)
        return [Addressed(confirmed, self.topics.network(e.owner))]

    def _erasure_recipients(self, household_id: UUID) -> list[str | None]:
        # The household's network is erased with it: the erasure names its organisations (e.notified).
        recipients: list[str | None] = []
        for referral in self.app.referrals_about(household_id):
            recipients += [referral.receiver, *(step.organisation for step in referral.history)]
        return recipients

    # Facts about households others own

    def _fact_reported(self, e: FollowedHousehold.FactReported) -> list[Addressed]:
        followed: FollowedHousehold = self._at_version(e)
        cls = facts.REPORTED[FactKind(e.fact.kind)]
        fact_id = reported_fact_id(e.originator_id, e.originator_version)
        reported = cls(
            household_id=followed.household_id, at=e.at, by=e.by, fact_id=fact_id, **e.fact.arguments()
        )
        return [Addressed(reported, self.topics.household_facts(followed.owner), followed.owner)]

    def _fact_answered(
        self, e: HouseholdNetwork.FactApplied | HouseholdNetwork.FactRefused
    ) -> list[Addressed]:
        """The owner's answer to a reported fact, to its reporter (a fact reported without an id, by a node
        that sends version 1, cannot be answered)."""
        answer = e.applied if isinstance(e, HouseholdNetwork.FactApplied) else e.refusal
        if answer.fact_id is None:
            return []
        network: HouseholdNetwork = self._at_version(e)
        outcome = facts.FactOutcome(
            household_id=network.household_id,
            fact_id=answer.fact_id,
            fact_kind=answer.fact_kind,
            applied=isinstance(e, HouseholdNetwork.FactApplied),
            reason=getattr(answer, "reason", None),
            at=answer.at,
            by=Actor(organisation=self.organisation, person="household-network", role=Role.SYSTEM),
        )
        return [Addressed(outcome, self.topics.network(answer.reporter))]


def _both(
    first: Callable[[Any], list[Addressed]], second: Callable[[Any], list[Addressed]]
) -> Callable[[Any], list[Addressed]]:
    return lambda domain_event: [*first(domain_event), *second(domain_event)]
