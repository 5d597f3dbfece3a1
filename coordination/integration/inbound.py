"""From a received integration event to this node's own command: exactly once in effect.

The command id is the message's CloudEvents id, so the command's receipt, stored in the same
transaction as its effect, is what makes a redelivered message change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import structlog

from coordination.applications.base import NodeApplication
from coordination.applications.commands import decided_again_on_conflict
from coordination.domain.errors import NotPermitted
from coordination.integration import vacancies as v
from coordination.integration.dispatch import handler_for
from coordination.integration.events import IntegrationEvent
from coordination.integration.network import NetworkPictureSent
from coordination.integration.placements import MUNICIPAL_FACTS
from coordination.integration.received import AlreadyApplied, ReceivedEvent
from coordination.integration.topics import VACANCIES, org_source

log = structlog.get_logger()

# What the mirror's commands take (mirror_vacancy_*), apart from a reservation (our request's, or not).
_MIRRORED = (
    v.VacancyPublished,
    v.VacancyLet,
    v.VacancyOfferDeclined,
    v.VacancyOfferExpired,
    v.VacancyWithdrawn,
    *MUNICIPAL_FACTS,  # kept once per fact by the picture's own commands
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
        outside Kafka: adapters/exchange/key_directory.py ExchangeOpener); without it a sealed event is refused."""
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
        # A local command that changed the same aggregate first: decided again on what is stored now.
        decided_again_on_conflict(
            lambda: self._dispatch(command_id, event),
            attempts=self._retries,
            noted=lambda attempt: log.info("inbound.conflict_retried", ce_id=ce_id, attempt=attempt),
        )

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
        elif isinstance(event, MUNICIPAL_FACTS):
            speaker = event.reported_by  # a fact of the municipality's picture: its reporter speaks
        elif isinstance(event, NetworkPictureSent):
            speaker = event.picture.owner  # only a household's owner speaks for its network
        elif event.topic == VACANCIES:
            speaker = self.app.vacancy(event.vacancy_id).owner  # type: ignore[attr-defined]
        else:
            by = getattr(event, "by", None)
            if by is None:
                return
            speaker = by.organisation
        if org_source(speaker) != received.source:
            raise NotPermitted("{source} spoke for {speaker}", source=received.source, speaker=speaker)

    def _dispatch(self, command_id: UUID, event: IntegrationEvent) -> None:
        handler = handler_for(event)
        if handler is None:
            raise NotPermitted(
                "{organisation} has no use for {event_type}",
                organisation=self.organisation,
                event_type=event.event_type,
            )
        handler(self.app, command_id, event)


def _refuse_sealed(event: IntegrationEvent) -> IntegrationEvent:
    if event.sealed is not None:
        raise NotPermitted(
            "{event_type} has sealed fields and this node has no key directory", event_type=event.event_type
        )
    return event
