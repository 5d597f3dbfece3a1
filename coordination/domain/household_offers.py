"""The offers a household receives: one live at a time, answered by accepting, declining or expiring,
each checked against the offer rules (offer_rules.py) and the waterbed guard's warnings. A part of the
Household aggregate (household.py), which records each as its event."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from coordination.domain.errors import ImplausibleValue, OfferNotLive, RuleViolated
from coordination.domain.household_values import OfferRecord, OfferStatus
from coordination.domain.policy import RehousingPolicy
from coordination.domain.reasons import ReasonFor, coded_reason
from coordination.domain.values import Actor, DeclinedBy, Dwelling, Override
from coordination.domain.waterbed import AreaWarning, covering_overrides


class OffersReceived:
    """The Household's offers: what is live, and the commands that answer an offer."""

    if TYPE_CHECKING:  # the Household's state and recorders (household.py)
        case_reference: str
        offers: list[OfferRecord]
        _offer_received: Callable[..., None]
        _offer_requested: Callable[..., None]
        _offer_accepted: Callable[..., None]
        offer_requests: tuple[UUID, ...]
        _offer_declined: Callable[..., None]
        _offer_expired: Callable[..., None]

        def _offer_rules_used(
            self, dwelling: Dwelling, policy: RehousingPolicy, overrides: list[Override]
        ) -> list[Override]: ...

    @property
    def live_offer(self) -> OfferRecord | None:
        return next((offer for offer in self.offers if offer.status == OfferStatus.LIVE), None)

    @property
    def offers_decided_by_household(self) -> int:
        return sum(1 for offer in self.offers if offer.decided_by_household)

    def vacancy_of_offer(self, offer_id: UUID) -> UUID:
        """The vacancy an offer was made on: the application answers both sides of an offer together."""
        offer = next((o for o in self.offers if o.offer_id == offer_id), None)
        if offer is None:
            raise OfferNotLive(f"Household {self.case_reference} has received no offer {offer_id}")
        return offer.vacancy_id

    def receive_offer(
        self,
        *,
        offer_id: UUID,
        vacancy_id: UUID,
        dwelling: Dwelling,
        expires_at: datetime,
        overrides: list[Override],
        policy: RehousingPolicy,
        at: datetime,
        by: Actor,
        warnings: Sequence[AreaWarning] = (),
    ) -> None:
        """`warnings` are the receiving area's waterbed warnings, assessed by the caller from data it holds;
        each must be covered by an override with the same rule, and both are recorded with the offer."""
        if any(offer.offer_id == offer_id for offer in self.offers):
            raise RuleViolated(f"Offer {offer_id} was already received by household {self.case_reference}")
        if expires_at <= at:
            raise RuleViolated("An offer must expire after it is made")
        longest = timedelta(days=policy.longest_offer_validity_days)
        if expires_at - at > longest:
            raise ImplausibleValue(
                "expires_at",
                f"An offer may be open for at most {longest.days} days; expires_at {expires_at.isoformat()} "
                "is later",
            )
        used = self._offer_rules_used(dwelling, policy, overrides)
        used += covering_overrides(warnings, overrides)
        self._offer_received(
            offer_id=offer_id,
            vacancy_id=vacancy_id,
            dwelling=dwelling,
            expires_at=expires_at,
            overrides=used,
            warnings=list(warnings),
            at=at,
            by=by,
        )

    def request_offer(self, *, offer_id: UUID, vacancy_id: UUID, at: datetime, by: Actor) -> None:
        """Record that the owner of `vacancy_id` was asked to reserve it for an offer to this household."""
        if offer_id in self.offer_requests or any(offer.offer_id == offer_id for offer in self.offers):
            raise RuleViolated(f"Offer {offer_id} was already requested for household {self.case_reference}")
        self._offer_requested(offer_id=offer_id, vacancy_id=vacancy_id, at=at, by=by)

    def accept_offer(self, *, offer_id: UUID, at: datetime, by: Actor) -> None:
        offer = self._require_live(offer_id)
        if at >= offer.expires_at:
            raise OfferNotLive(
                f"Offer {offer_id} expired at {offer.expires_at.isoformat()}; it cannot be accepted"
            )
        self._offer_accepted(offer_id=offer_id, at=at, by=by)

    def decline_offer(
        self,
        *,
        offer_id: UUID,
        declined_by: DeclinedBy,
        reason: str = "",
        reason_code: str | None = None,
        at: datetime,
        by: Actor,
    ) -> None:
        self._require_live(offer_id)
        declined_by = DeclinedBy(declined_by)
        by_household = declined_by is DeclinedBy.HOUSEHOLD
        coded = coded_reason(
            ReasonFor.HOUSEHOLD_DECLINE if by_household else ReasonFor.PROVIDER_DECLINE, reason_code, reason
        )
        self._offer_declined(
            offer_id=offer_id,
            declined_by=declined_by,
            reason_code=coded.code,
            reason=coded.text,
            at=at,
            by=by,
        )

    def expire_offer(self, *, offer_id: UUID, at: datetime) -> None:
        offer = self._require_live(offer_id)
        if at < offer.expires_at:
            raise RuleViolated(f"Offer {offer_id} does not expire before {offer.expires_at.isoformat()}")
        self._offer_expired(offer_id=offer_id, at=at)

    def _require_live(self, offer_id: UUID) -> OfferRecord:
        live = self.live_offer
        if live is None or live.offer_id != offer_id:
            raise OfferNotLive(f"Offer {offer_id} is not the live offer of household {self.case_reference}")
        return live
