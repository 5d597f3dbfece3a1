"""The referral's steps that are given a reason: put on hold, declined (by the receiver or the household),
a decline overridden, redirected and withdrawn. A part of the Referral aggregate (referral.py), which
records each as its event; the reasons are coded (domain/reasons.py) except a redirection's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from coordination.domain.errors import InvalidInput, NotPermitted
from coordination.domain.plausibility import check_consent
from coordination.domain.policy import RehousingPolicy
from coordination.domain.reasons import ReasonFor, coded_reason
from coordination.domain.referral_rules import lawful_basis
from coordination.domain.referral_values import ReferralDetails, ReferralStatus
from coordination.domain.values import Actor, Consent, DeclinedBy, Role, checked_reason

_OPEN = tuple(s for s in ReferralStatus if s.is_open)
_NOT_YET_ACCEPTED = (ReferralStatus.SENT, ReferralStatus.ACKNOWLEDGED)
_DECLINED = (ReferralStatus.DECLINED_BY_RECEIVER, ReferralStatus.DECLINED_BY_HOUSEHOLD)


class ReasonedSteps:
    """The Referral's commands that record a reason with the step."""

    if TYPE_CHECKING:  # the Referral's state, checks and recorders (referral.py)
        referrer: str
        receiver: str
        details: ReferralDetails
        legal_basis: str | None
        _put_on_hold: Callable[..., None]
        _declined: Callable[..., None]
        _decline_overridden: Callable[..., None]
        _redirected: Callable[..., None]
        _withdrawn: Callable[..., None]

        @property
        def status(self) -> ReferralStatus: ...
        @property
        def _short_id(self) -> str: ...
        def _require_receiver(self, by: Actor, step: str) -> None: ...
        def _require_referrer(self, by: Actor, step: str) -> None: ...
        def _require_step(self, step: str, at: datetime, *allowed: ReferralStatus) -> None: ...

    def put_on_hold(
        self, *, reason: str = "", reason_code: str | None = None, at: datetime, by: Actor
    ) -> None:
        self._require_receiver(by, "put on hold")
        self._require_step("put on hold", at, ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS)
        coded = coded_reason(ReasonFor.HOLD, reason_code, reason)
        self._put_on_hold(reason_code=coded.code, reason=coded.text, at=at, by=by)

    def decline(
        self,
        *,
        declined_by: DeclinedBy,
        reason: str = "",
        reason_code: str | None = None,
        at: datetime,
        by: Actor,
    ) -> None:
        declined_by = DeclinedBy(declined_by)
        if declined_by is DeclinedBy.PROVIDER:
            self._require_receiver(by, "decline")
            self._require_step("declined by the receiver", at, *_NOT_YET_ACCEPTED)
        else:
            if by.organisation not in (self.referrer, self.receiver):
                raise NotPermitted(
                    f"Only {self.referrer} or {self.receiver} may record that the household declined "
                    f"referral {self._short_id}; {by.organisation} may not"
                )
            self._require_step("declined by the household", at, *_OPEN)
        by_household = declined_by is DeclinedBy.HOUSEHOLD
        coded = coded_reason(
            ReasonFor.HOUSEHOLD_DECLINE if by_household else ReasonFor.PROVIDER_DECLINE, reason_code, reason
        )
        self._declined(declined_by=declined_by, reason_code=coded.code, reason=coded.text, at=at, by=by)

    def override_decline(
        self,
        *,
        reason: str = "",
        reason_code: str | None = None,
        policy: RehousingPolicy,
        at: datetime,
        by: Actor,
    ) -> None:
        if by.role is not Role.COORDINATOR:
            raise NotPermitted(f"Only a coordinator may override a decline of referral {self._short_id}")
        self._require_step("sent again", at, *_DECLINED)
        coded = coded_reason(ReasonFor.OVERRIDE, reason_code, reason)
        self._decline_overridden(
            reason_code=coded.code,
            reason=coded.text,
            acknowledge_by=policy.acknowledgement_due(at, urgent=self.details.urgent),
            at=at,
            by=by,
        )

    def redirect(
        self,
        *,
        to: str,
        reason: str,
        policy: RehousingPolicy,
        at: datetime,
        by: Actor,
        consent: Consent | None = None,
    ) -> None:
        """Send the referral on to another receiver.

        Consent names one recipient, so a referral resting on consent needs the
        household's consent for the new receiver too; one resting on a legal basis
        keeps it.
        """
        self._require_receiver(by, "redirect")
        self._require_step("redirected", at, *_NOT_YET_ACCEPTED)
        if not to.strip() or to.casefold() in (self.receiver.casefold(), self.referrer.casefold()):
            raise InvalidInput(
                f"Referral {self._short_id} can only be redirected to a third organisation, not {to!r}"
            )
        if self.legal_basis is not None and consent is not None:
            raise InvalidInput(f"Referral {self._short_id} rests on a legal basis; no consent is taken")
        if self.legal_basis is None:
            lawful_basis(consent, None, to)
        if consent is not None:
            check_consent(consent, at=at, field="consent")
        self._redirected(
            to=to,
            reason=checked_reason(reason),
            consent=consent,
            acknowledge_by=policy.acknowledgement_due(at, urgent=self.details.urgent),
            at=at,
            by=by,
        )

    def withdraw(self, *, reason: str = "", reason_code: str | None = None, at: datetime, by: Actor) -> None:
        self._require_referrer(by, "withdraw")
        self._require_step("withdrawn", at, *_OPEN)
        coded = coded_reason(ReasonFor.WITHDRAWAL, reason_code, reason)
        self._withdrawn(reason_code=coded.code, reason=coded.text, at=at, by=by)
