"""A daycare fast-track referral's place: the department offers a place at an institution from a start
date, the family accepts or declines it, and the child starts on the start date. A part of the Referral
aggregate (referral.py), which records each as its event.

Dagtilbudsloven § 26 a: at most 30 % of the children an institution admits in a year may live in the
housing areas on the list of its stk. 2. A place counting under it that would take the institution's
share of the year's intake past the policy's limit needs an override with a reason (rule
`daycare_26a_share`), as an offer of a dwelling does for the offer rules (offer_rules.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from coordination.domain.calendar import copenhagen_day
from coordination.domain.errors import InvalidInput, NotPermitted, OverrideRequired, RuleViolated
from coordination.domain.policy import RehousingPolicy
from coordination.domain.reasons import ReasonFor, coded_reason
from coordination.domain.referral_values import (
    DaycarePlace,
    PlaceAnswer,
    ReferralKind,
    ReferralStatus,
)
from coordination.domain.values import Actor, Override

SHARE_RULE = "daycare_26a_share"
# Why the child is given a place ahead of the queue: the fast track's own reason first.
PRIORITY_REASONS: dict[str, str] = {
    "rehousing": "The child is given priority in connection with rehousing (i forbindelse med genhusning).",
    "care_guarantee": "The place is offered under the care guarantee (pasningsgaranti).",
    "special_needs": "The child has a special need for a place.",
    "sibling": "A sibling attends the institution.",
}
_TAKING_PLACES = (ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS)
_LATEST_START = timedelta(days=2 * 366)


@dataclass(frozen=True)
class InstitutionIntake:
    """An institution's intake in the start date's year, as far as the department knows it: the places
    offered and not declined (`admitted`), those counting under § 26 a (`counted`), and the year's planned
    intake when the department gives it (the share is taken of whichever is larger)."""

    institution: str
    year: int
    admitted: int = 0
    counted: int = 0
    planned: int | None = None

    def share_percent_with(self, counts_under_26a: bool) -> float:
        """The share counting under § 26 a, in per cent, once one more child is admitted."""
        admitted = self.admitted + 1
        counted = self.counted + (1 if counts_under_26a else 0)
        return 100 * counted / max(admitted, self.planned or 0)


class DaycarePlaces:
    """The Referral's commands about a daycare place."""

    if TYPE_CHECKING:  # the Referral's state, checks and recorders (referral.py)
        kind: ReferralKind
        referrer: str
        receiver: str
        daycare_place: DaycarePlace | None
        _place_offered: Callable[..., None]
        _place_accepted: Callable[..., None]
        _place_declined: Callable[..., None]

        @property
        def _short_id(self) -> str: ...
        def _require_receiver(self, by: Actor, step: str) -> None: ...
        def _require_step(self, step: str, at: datetime, *allowed: ReferralStatus) -> None: ...

    def offer_place(
        self,
        *,
        institution: str,
        starts_on: date,
        priority_reason: str,
        counts_under_26a: bool,
        intake: InstitutionIntake | None,
        overrides: list[Override],
        policy: RehousingPolicy,
        at: datetime,
        by: Actor,
    ) -> None:
        """`intake` is the institution's intake in the start date's year, assessed by the caller from the
        places its node recorded; the share it gives is checked here and the override recorded. None: the
        department's step applied to the referrer's copy, checked where it was taken."""
        self._require_daycare()
        self._require_receiver(by, "offer a place for")
        self._require_step("offered a place", at, *_TAKING_PLACES)
        place = self.daycare_place
        if place is not None and place.answer != PlaceAnswer.DECLINED:
            raise RuleViolated(
                f"Referral {self._short_id} was already offered a place at {place.institution}; "
                "the family must decline it before another is offered"
            )
        if not institution.strip():
            raise InvalidInput("A daycare place names its institution")
        today = copenhagen_day(at)
        if not today <= starts_on <= today + _LATEST_START:
            raise InvalidInput(
                f"A place starts between today and two years from now, not on {starts_on.isoformat()}"
            )
        if priority_reason not in PRIORITY_REASONS:
            raise InvalidInput(
                f"{priority_reason!r} is not a priority reason; one of: {', '.join(PRIORITY_REASONS)}"
            )
        used = [o for o in overrides if o.rule == SHARE_RULE]
        if intake is not None and not used and counts_under_26a:
            self._check_share(institution.strip(), starts_on, intake, policy)
        self._place_offered(
            institution=institution.strip(),
            starts_on=starts_on,
            priority_reason=priority_reason,
            counts_under_26a=counts_under_26a,
            overrides=used[:1],
            at=at,
            by=by,
        )

    def accept_place(self, *, at: datetime, by: Actor) -> None:
        """The family said yes to the place offered (recorded by the department or the referrer)."""
        self._require_unanswered_place(by, "accepted", at)
        self._place_accepted(at=at, by=by)

    def decline_place(
        self, *, reason: str = "", reason_code: str | None = None, at: datetime, by: Actor
    ) -> None:
        """The family said no to the place offered; the department may offer another."""
        self._require_unanswered_place(by, "declined", at)
        coded = coded_reason(ReasonFor.HOUSEHOLD_DECLINE, reason_code, reason)
        self._place_declined(reason_code=coded.code, reason=coded.text, at=at, by=by)

    def child_started(self, now: datetime) -> bool:
        """Whether the child has started: the family accepted the place and its start date has come."""
        place = self.daycare_place
        return (
            place is not None
            and place.answer == PlaceAnswer.ACCEPTED
            and copenhagen_day(now) >= place.starts_on
        )

    @staticmethod
    def _check_share(
        institution: str, starts_on: date, intake: InstitutionIntake, policy: RehousingPolicy
    ) -> None:
        if intake.year != starts_on.year or intake.institution != institution:
            raise InvalidInput("The intake assessed is of another institution or year than the place")
        share = intake.share_percent_with(counts_under_26a=True)
        if share > policy.daycare_26a_share_percent:
            raise OverrideRequired(
                SHARE_RULE,
                f"This place would bring the share of children from the housing areas of dagtilbudsloven "
                f"§ 26 a in {institution}'s intake for {starts_on.year} to {share:.0f} %, past "
                f"{policy.daycare_26a_share_percent} %",
            )

    def _require_daycare(self) -> None:
        if self.kind != ReferralKind.DAYCARE_FAST_TRACK:  # != : a snapshot's kind comes back as a plain str
            raise InvalidInput(f"Referral {self._short_id} is no daycare referral; it is offered no place")

    def _require_unanswered_place(self, by: Actor, answer: str, at: datetime) -> None:
        self._require_daycare()
        if by.organisation not in (self.referrer, self.receiver):
            raise NotPermitted(
                f"Only {self.referrer} or {self.receiver} may record the family's answer to the place of "
                f"referral {self._short_id}; {by.organisation} may not"
            )
        self._require_step(f"{answer} by the family", at, *_TAKING_PLACES, ReferralStatus.ON_HOLD)
        place = self.daycare_place
        if place is None or place.answer is not None:
            raise RuleViolated(f"Referral {self._short_id} has no place offered awaiting the family's answer")
