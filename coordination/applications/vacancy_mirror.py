"""Mirrors of other organisations' vacancies, kept from the pool's events with the owner's own steps."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from coordination.applications.answers import VacancyView
from coordination.applications.base import NodeApplication, derived_id
from coordination.applications.commands import Decision, command
from coordination.domain.errors import InvalidInput
from coordination.domain.vacancy import Vacancy
from coordination.domain.values import Actor, DeclinedBy, Dwelling, Role

# The mirror does not learn whose household holds an offer; this stands in for it, derived from the offer.
UNDISCLOSED_HOUSEHOLD = "undisclosed-household"


def undisclosed_household(offer_id: UUID) -> UUID:
    return derived_id(UNDISCLOSED_HOUSEHOLD, offer_id)


class VacancyMirror(NodeApplication):
    """Keeps a Vacancy per vacancy another organisation publishes, changed by the same Vacancy methods
    with the owner's (or the offering organisation's) actor, so read models see them like local ones.

    Only the owner decides: a mirror only follows, so a step the owner took is never refused here
    for a reason the owner did not have.
    """

    def vacancy(self, vacancy_id: UUID) -> VacancyView:
        return VacancyView.of(self._get(Vacancy, vacancy_id, "vacancy"))

    @command()
    def mirror_vacancy_published(
        self, *, command_id: UUID, vacancy_id: UUID, owner: str, dwelling: Dwelling, at: datetime, by: Actor
    ) -> Decision[UUID]:
        if owner == self.organisation:
            raise InvalidInput("{owner} keeps its own vacancies, not mirrors of them", owner=owner)
        return vacancy_id, [Vacancy(id=vacancy_id, owner=owner, dwelling=dwelling, at=at, by=by)]

    @command(aggregate_id="vacancy_id")
    def mirror_vacancy_reserved(
        self,
        *,
        command_id: UUID,
        vacancy_id: UUID,
        offer_id: UUID,
        expires_at: datetime,
        at: datetime,
        by: Actor,
    ) -> Decision[UUID]:
        vacancy = self._mirrored(vacancy_id)
        self._reserve_undisclosed(vacancy, offer_id, expires_at, at, by)
        return vacancy_id, [vacancy]

    @command(aggregate_id="vacancy_id")
    def mirror_vacancy_let(
        self, *, command_id: UUID, vacancy_id: UUID, offer_id: UUID, at: datetime, by: Actor
    ) -> Decision[UUID]:
        vacancy = self._mirrored(vacancy_id)
        vacancy.accept_offer(offer_id=offer_id, at=at, by=by)
        return vacancy_id, [vacancy]

    @command(aggregate_id="vacancy_id")
    def mirror_vacancy_offer_declined(
        self,
        *,
        command_id: UUID,
        vacancy_id: UUID,
        offer_id: UUID,
        declined_by: DeclinedBy,
        at: datetime,
        by: Actor,
    ) -> Decision[UUID]:
        vacancy = self._mirrored(vacancy_id)
        reason = f"declined; the reason is kept by {by.organisation}"
        vacancy.decline_offer(offer_id=offer_id, declined_by=declined_by, reason=reason, at=at, by=by)
        return vacancy_id, [vacancy]

    # The owner's timer expired the offer; no person acted here, and the fingerprint names the mirror.
    @command(aggregate_id="vacancy_id", also=lambda app, call: {"by": app._mirror_timer()})
    def mirror_vacancy_offer_expired(
        self, *, command_id: UUID, vacancy_id: UUID, offer_id: UUID, at: datetime
    ) -> Decision[UUID]:
        vacancy = self._mirrored(vacancy_id)
        vacancy.expire_offer(offer_id=offer_id, at=at)
        return vacancy_id, [vacancy]

    def _mirror_timer(self) -> Actor:
        return Actor(organisation=self.organisation, person="vacancy-mirror", role=Role.SYSTEM)

    @command(aggregate_id="vacancy_id")
    def mirror_vacancy_withdrawn(
        self, *, command_id: UUID, vacancy_id: UUID, reason: str, at: datetime, by: Actor
    ) -> Decision[UUID]:
        vacancy = self._mirrored(vacancy_id)
        vacancy.withdraw(reason=reason, at=at, by=by)
        return vacancy_id, [vacancy]

    @staticmethod
    def _reserve_undisclosed(
        vacancy: Vacancy, offer_id: UUID, expires_at: datetime, at: datetime, by: Actor
    ) -> None:
        """Reserve for an offer to a household this node is not told of (its stand-in is derived from the offer)."""
        household_id = undisclosed_household(offer_id)
        vacancy.reserve_for_offer(
            offer_id=offer_id, household_id=household_id, expires_at=expires_at, at=at, by=by
        )

    def _mirrored(self, vacancy_id: UUID) -> Vacancy:
        """Another organisation's vacancy, as this node mirrors it (its own only its own commands change)."""
        vacancy = self._get(Vacancy, vacancy_id, "vacancy")
        if vacancy.owner == self.organisation:
            raise InvalidInput(
                "Vacancy {vacancy_id} is {organisation}'s own; only its node changes it",
                vacancy_id=vacancy_id,
                organisation=self.organisation,
            )
        return vacancy
