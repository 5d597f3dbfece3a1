"""Which stored referral events become messages to the other side of the referral.

The side whose person took a step tells the other; a redirected referral reaches its new receiver as it now
stands; only the referrer's timer speaks for an expiry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from coordination.applications.base import NodeApplication
from coordination.domain.referral import Referral
from coordination.integration import referrals as r
from coordination.integration.events import Addressed
from coordination.integration.topics import Topics

Mapping = Callable[[Any], list[Addressed]]

# Referral steps whose integration event carries the domain event's own fields under the same names.
REFERRAL_STEPS: dict[type[Any], type[r.ReferralStepTaken]] = {
    Referral.Acknowledged: r.ReferralAcknowledged,
    Referral.Accepted: r.ReferralAccepted,
    Referral.Started: r.ReferralStarted,
    Referral.PutOnHold: r.ReferralPutOnHold,
    Referral.Declined: r.ReferralDeclined,
    Referral.DeclineOverridden: r.ReferralDeclineOverridden,
    Referral.Redirected: r.ReferralRedirected,
    Referral.Withdrawn: r.ReferralWithdrawn,
    Referral.Completed: r.ReferralCompleted,
    Referral.EnteredInError: r.ReferralEnteredInError,
    Referral.PlaceOffered: r.ReferralPlaceOffered,
    Referral.PlaceAccepted: r.ReferralPlaceAccepted,
    Referral.PlaceDeclined: r.ReferralPlaceDeclined,
}


def own_fields(model: type[Any], base: type[Any], source: Any) -> dict[str, Any]:
    """The values of the fields `model` adds to `base`, read from `source` by the same names."""
    return {name: getattr(source, name) for name in model.model_fields if name not in base.model_fields}


class ReferralMessages:
    """The referrals' part of a node's `Outbound` (its own table, merged into the Outbound's)."""

    def __init__(self, app: NodeApplication, topics: Topics, at_version: Callable[[Any], Any]) -> None:
        self.topics = topics
        self.organisation = app.organisation
        self._at_version = at_version

    def mapping(self) -> dict[type[Any], Mapping]:
        return {
            Referral.Sent: self._referral_sent,
            Referral.Expired: self._referral_expired,
            **dict.fromkeys(REFERRAL_STEPS, self._referral_step),
        }

    def _referral_sent(self, e: Referral.Sent) -> list[Addressed]:
        if e.by.organisation != self.organisation:
            return []  # our copy of a referral someone sent us
        return [
            Addressed(
                self._sent(
                    e.originator_id,
                    e.receiver,
                    e.kind,
                    e.household_id,
                    e.details,
                    e.consent,
                    e.legal_basis,
                    e.acknowledge_by,
                    e.complete_by,
                    e.at,
                    e.by,
                    e.referrer,
                ),
                self.topics.referrals(e.receiver),
                e.receiver,
            )
        ]

    def _referral_step(self, e: Any) -> list[Addressed]:
        if e.by.organisation != self.organisation:
            return []  # the other side's step, applied to our copy
        referral: Referral = self._at_version(e)
        cls = REFERRAL_STEPS[type(e)]
        step = cls(referral_id=e.originator_id, at=e.at, by=e.by, **own_fields(cls, r.ReferralStepTaken, e))
        other = referral.receiver if self.organisation == referral.referrer else referral.referrer
        out = [Addressed(step, self.topics.referrals(other), other)]
        if isinstance(e, Referral.Redirected):
            # The new receiver has no copy yet: it gets the referral as it now stands.
            sent = self._sent(
                referral.id,
                referral.receiver,
                referral.kind,
                referral.household_id,
                referral.details,
                referral.consent,
                referral.legal_basis,
                referral.acknowledge_by,
                referral.complete_by,
                e.at,
                e.by,
                referral.referrer,
            )
            out.append(Addressed(sent, self.topics.referrals(referral.receiver), referral.receiver))
        return out

    def _referral_expired(self, e: Referral.Expired) -> list[Addressed]:
        referral: Referral = self._at_version(e)
        if referral.referrer != self.organisation:
            return []  # only the referrer's timer speaks for an expiry
        expired = r.ReferralExpired(referral_id=e.originator_id, at=e.at)
        return [Addressed(expired, self.topics.referrals(referral.receiver))]

    @staticmethod
    def _sent(
        referral_id: Any,
        receiver: str,
        kind: Any,
        household_id: Any,
        details: Any,
        consent: Any,
        legal_basis: Any,
        acknowledge_by: Any,
        complete_by: Any,
        at: Any,
        by: Any,
        referrer: str,
    ) -> r.ReferralSent:
        return r.ReferralSent(
            referral_id=referral_id,
            referrer=referrer,
            receiver=receiver,
            kind=kind,
            household_id=household_id,
            details=details,
            consent=consent,
            legal_basis=legal_basis,
            acknowledge_by=acknowledge_by,
            complete_by=complete_by,
            at=at,
            by=by,
        )
