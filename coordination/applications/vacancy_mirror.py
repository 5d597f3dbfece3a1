"""Mirrors of other organisations' vacancies, kept from the pool's events with the owner's own steps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from coordination.applications.base import NodeApplication, derived_id
from coordination.applications.views import VacancyView
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

    def mirror_vacancy_published(
        self, *, command_id: UUID, vacancy_id: UUID, owner: str, dwelling: Dwelling, at: datetime, by: Actor
    ) -> UUID:
        if owner == self.organisation:
            raise InvalidInput(f"{owner} keeps its own vacancies, not mirrors of them")

        def work() -> tuple[UUID, list[Aggregate]]:
            return vacancy_id, [Vacancy(id=vacancy_id, owner=owner, dwelling=dwelling, at=at, by=by)]

        arguments = dict(vacancy_id=vacancy_id, owner=owner, dwelling=dwelling, at=at, by=by)
        self._once("mirror_vacancy_published", command_id, arguments, work)
        return vacancy_id

    def mirror_vacancy_reserved(
        self,
        *,
        command_id: UUID,
        vacancy_id: UUID,
        offer_id: UUID,
        expires_at: datetime,
        at: datetime,
        by: Actor,
    ) -> UUID:
        return self._mirror(
            "mirror_vacancy_reserved",
            command_id,
            vacancy_id,
            at,
            by,
            lambda v: v.reserve_for_offer(
                offer_id=offer_id,
                household_id=undisclosed_household(offer_id),
                expires_at=expires_at,
                at=at,
                by=by,
            ),
            offer_id=offer_id,
            expires_at=expires_at,
        )

    def mirror_vacancy_let(
        self, *, command_id: UUID, vacancy_id: UUID, offer_id: UUID, at: datetime, by: Actor
    ) -> UUID:
        return self._mirror(
            "mirror_vacancy_let",
            command_id,
            vacancy_id,
            at,
            by,
            lambda v: v.accept_offer(offer_id=offer_id, at=at, by=by),
            offer_id=offer_id,
        )

    def mirror_vacancy_offer_declined(
        self,
        *,
        command_id: UUID,
        vacancy_id: UUID,
        offer_id: UUID,
        declined_by: DeclinedBy,
        at: datetime,
        by: Actor,
    ) -> UUID:
        reason = f"declined; the reason is kept by {by.organisation}"
        return self._mirror(
            "mirror_vacancy_offer_declined",
            command_id,
            vacancy_id,
            at,
            by,
            lambda v: v.decline_offer(
                offer_id=offer_id, declined_by=declined_by, reason=reason, at=at, by=by
            ),
            offer_id=offer_id,
            declined_by=declined_by,
        )

    def mirror_vacancy_offer_expired(
        self, *, command_id: UUID, vacancy_id: UUID, offer_id: UUID, at: datetime
    ) -> UUID:
        timer = Actor(organisation=self.organisation, person="vacancy-mirror", role=Role.SYSTEM)
        return self._mirror(
            "mirror_vacancy_offer_expired",
            command_id,
            vacancy_id,
            at,
            timer,
            lambda v: v.expire_offer(offer_id=offer_id, at=at),
            offer_id=offer_id,
        )

    def mirror_vacancy_withdrawn(
        self, *, command_id: UUID, vacancy_id: UUID, reason: str, at: datetime, by: Actor
    ) -> UUID:
        return self._mirror(
            "mirror_vacancy_withdrawn",
            command_id,
            vacancy_id,
            at,
            by,
            lambda v: v.withdraw(reason=reason, at=at, by=by),
            reason=reason,
        )

    def _mirror(
        self,
        command: str,
        command_id: UUID,
        vacancy_id: UUID,
        at: datetime,
        by: Actor,
        decide: Callable[[Vacancy], object],
        **arguments: object,
    ) -> UUID:
        def checked(vacancy: Vacancy) -> object:
            if vacancy.owner == self.organisation:
                raise InvalidInput(
                    f"Vacancy {vacancy_id} is {self.organisation}'s own; only its node changes it"
                )
            return decide(vacancy)

        return self._change(
            Vacancy,
            "vacancy",
            command=command,
            command_id=command_id,
            aggregate_id=vacancy_id,
            at=at,
            by=by,
            decide=checked,
            **arguments,
        )
