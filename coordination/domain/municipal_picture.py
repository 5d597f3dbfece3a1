"""The municipality's picture: what each organisation shares about its placements, offers and referral
timings with every node of the municipality, without any household in it.

Three small facts, each kept at every other node as an aggregate of its own (a mirror, as a vacancy of
another organisation is kept): a placement into a receiving area, an offer's outcome, and how long a
referral waited to be acknowledged or accepted. They share this module because they are one idea (the
shared picture) and each is only recorded, never changed. Their ids are derived from the reporting
organisation and the fact's id at the source, so a fact received twice collides instead of counting twice.

Counts shown beyond the organisation that owns the underlying cases are small-cell suppressed: under
SMALL_CELL they read "<5" (Danmarks Statistik's and BoSocData's practice for figures about few people).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from coordination.domain.calendar import add_months
from coordination.domain.errors import InvalidInput
from coordination.domain.values import DeclinedBy, Money, Place, YearMonth

SMALL_CELL = 5
SUPPRESSED = "<5"


def suppressed(count: int) -> int | str:
    """A count as shown beyond its owner: "<5" for 1-4, the count itself for 0 and from 5 on.

    Zero is shown: "nobody" identifies nobody, and a coordinator needs to see where nothing happened.
    """
    if count < 0:
        raise InvalidInput(f"A count cannot be negative, got {count}")
    return SUPPRESSED if 0 < count < SMALL_CELL else count


def last_day(month: YearMonth) -> date:
    """The day a shared placement of `month` counts as made on in an inflow window: its month's last, so
    a placement in the window's first month counts (the guard errs towards warning)."""
    return add_months(month.first_day(), 1) - timedelta(days=1)


class OfferOutcome(StrEnum):
    MADE = "made"  # with the waterbed warnings it carried and the rules overridden
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


class ReferralMilestone(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    ACCEPTED = "accepted"


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("`at` must be a timezone-aware datetime")


class SharedPlacement(Aggregate):
    """A household another housing organisation placed in a receiving area: the area, the month, whether
    for good, from which transformation area, the rents, and the waterbed rules its offer overrode."""

    class Recorded(Aggregate.Created):
        reported_by: str
        fact_id: UUID
        place: Place
        month: YearMonth
        permanent: bool
        from_area: str
        old_rent: Money
        new_rent: Money
        overrides: list[str]
        warnings: list[str]
        at: datetime

    @event(Recorded)
    def __init__(
        self,
        id: UUID,
        reported_by: str,
        fact_id: UUID,
        place: Place,
        month: YearMonth,
        permanent: bool,
        from_area: str,
        old_rent: Money,
        new_rent: Money,
        overrides: list[str],
        warnings: list[str],
        at: datetime,
    ) -> None:
        self.reported_by = reported_by
        self.fact_id = fact_id
        self.place = place
        self.month = month
        self.permanent = permanent
        self.from_area = from_area
        self.old_rent = old_rent
        self.new_rent = new_rent
        self.overrides = list(overrides)
        self.warnings = list(warnings)

    @classmethod
    def keep(cls, *, id: UUID, at: datetime, **fact: object) -> SharedPlacement:
        _require_aware(at)
        return cls(id=id, at=at, **fact)  # type: ignore[arg-type]


class SharedOfferOutcome(Aggregate):
    """An offer another housing organisation made into a receiving area, or its answer: who declined
    (the household or the provider, never the household's words), and the rules an offer overrode."""

    class Recorded(Aggregate.Created):
        """v2 added `reason_code`: a decline's coded reason (domain/reasons.py), None before codes."""

        class_version = 2

        reported_by: str
        fact_id: UUID
        place: Place
        month: YearMonth
        outcome: str
        declined_by: DeclinedBy | None
        reason_code: str | None
        overrides: list[str]
        warnings: list[str]
        at: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["reason_code"] = None

    @event(Recorded)
    def __init__(
        self,
        id: UUID,
        reported_by: str,
        fact_id: UUID,
        place: Place,
        month: YearMonth,
        outcome: str,
        declined_by: DeclinedBy | None,
        reason_code: str | None,
        overrides: list[str],
        warnings: list[str],
        at: datetime,
    ) -> None:
        self.reported_by = reported_by
        self.fact_id = fact_id
        self.place = place
        self.month = month
        self.outcome = OfferOutcome(outcome)
        self.declined_by = None if declined_by is None else DeclinedBy(declined_by)
        self.reason_code = reason_code
        self.overrides = list(overrides)
        self.warnings = list(warnings)

    @classmethod
    def keep(cls, *, id: UUID, at: datetime, outcome: str, **fact: object) -> SharedOfferOutcome:
        _require_aware(at)
        OfferOutcome(outcome)  # an unknown outcome is refused here, not stored
        return cls(id=id, at=at, outcome=outcome, **fact)  # type: ignore[arg-type]


class SharedReferralTiming(Aggregate):
    """How long a referral (or handoff) from one organisation waited at another before it was acknowledged
    or accepted, counted from its latest issue: the pair, the kind, the month issued and the seconds."""

    class Recorded(Aggregate.Created):
        reported_by: str
        fact_id: UUID
        timing_id: UUID  # the same for a referral issue's acknowledgement and its acceptance
        from_org: str
        to_org: str
        kind: str
        milestone: str
        issued_month: YearMonth
        seconds: int
        at: datetime

    @event(Recorded)
    def __init__(
        self,
        id: UUID,
        reported_by: str,
        fact_id: UUID,
        timing_id: UUID,
        from_org: str,
        to_org: str,
        kind: str,
        milestone: str,
        issued_month: YearMonth,
        seconds: int,
        at: datetime,
    ) -> None:
        self.reported_by = reported_by
        self.fact_id = fact_id
        self.timing_id = timing_id
        self.from_org = from_org
        self.to_org = to_org
        self.kind = kind
        self.milestone = ReferralMilestone(milestone)
        self.issued_month = issued_month
        self.seconds = seconds

    @classmethod
    def keep(
        cls, *, id: UUID, at: datetime, milestone: str, seconds: int, **fact: object
    ) -> SharedReferralTiming:
        _require_aware(at)
        ReferralMilestone(milestone)
        if seconds < 0:
            raise InvalidInput(f"A referral cannot be answered before it was issued ({seconds} s)")
        return cls(id=id, at=at, milestone=milestone, seconds=seconds, **fact)  # type: ignore[arg-type]
