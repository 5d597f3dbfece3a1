"""Plausible dates: the window around a command's own time `at` that each date given with it must fall in.

A date can be well-formed and still not be meant: a move on 9999-12-31, a consent given a year from now,
a child born in 2199. Such a date is refused before anything is recorded (an ImplausibleValue naming the
field), because once stored it stays in the household's history for good. Each window is chosen from the
domain (docs/design.md §8) and says why; they are deliberately wide, to catch typing errors and not to second-guess
a caseworker recording something late or planning ahead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from coordination.domain.calendar import add_months, copenhagen_day
from coordination.domain.errors import ImplausibleValue
from coordination.domain.values import ERASED, Consent, YearMonth

# The past side of every window: a case is proposed for erasure 60 months after it settles
# (RehousingPolicy.retention_months), so a fact dated earlier lies outside any case a node still holds.
# Wide on purpose: a case taken over from paper is entered late, and a dwelling may stand empty a while.
# The future side is where the domain gives each date its own horizon.
RETENTION_MONTHS = 60


@dataclass(frozen=True)
class Window:
    """Dates from `months_before` months before the command's day to `months_after` months after it."""

    months_before: int
    months_after: int

    def check(self, value: date, *, at: datetime, field: str, what: str) -> None:
        today = copenhagen_day(at)
        earliest, latest = add_months(today, -self.months_before), add_months(today, self.months_after)
        if value < earliest:
            raise ImplausibleValue(
                field,
                "{what} ({field}) {value} is too far in the past: the earliest accepted is {earliest}",
                what=what,
                field=field,
                value=value,
                earliest=earliest,
            )
        if value > latest:
            if self.months_after == 0:
                raise ImplausibleValue(
                    field,
                    "{what} ({field}) {value} is after today ({today}); record it once it has happened",
                    what=what,
                    field=field,
                    value=value,
                    today=today,
                )
            raise ImplausibleValue(
                field,
                "{what} ({field}) {value} is too far ahead: the latest accepted is {latest}",
                what=what,
                field=field,
                value=value,
                latest=latest,
            )


# A move is recorded when the household moves, after an accepted offer (an offer lives 14 days), or when
# it is agreed for a dwelling that frees up later; the follow-up visit (due 14 days after) and the handoff
# hang on it, so a move more than a year ahead is not agreed yet.
MOVED_ON = Window(months_before=RETENTION_MONTHS, months_after=12)
# A follow-up visit (14 days after the move in Aarhus and Esbjerg) is recorded after it took place.
VISITED_ON = Window(months_before=RETENTION_MONTHS, months_after=0)
# A school or daycare place starts within the next school year at the latest (known up to ~1½ years
# ahead; a daycare place is guaranteed within 3 months of applying).
STARTS_ON = Window(months_before=RETENTION_MONTHS, months_after=18)
# A replacement dwelling is published when it is about to be vacated; rehousing plans in the 2023 report
# run over about two years, so a dwelling available later than that is not a vacancy yet.
AVAILABLE_FROM = Window(months_before=RETENTION_MONTHS, months_after=24)
# A daycare or school place is needed from around the move into such a dwelling: the same horizon.
NEEDED_FROM = Window(months_before=RETENTION_MONTHS, months_after=24)
# A termination under almenlejeloven § 85 is given years ahead in a transformation area (the development
# plans run until 2030); one more than 10 years ahead is no plan but a typing error.
TERMINATION_DATE = Window(months_before=RETENTION_MONTHS, months_after=120)
# Consent is given before it is recorded, never after the command that records it.
GIVEN_ON = Window(months_before=RETENTION_MONTHS, months_after=0)

# A birth month lies within a human lifetime before the command's month. (No upper age for a child: a
# household registered at 17 stays the same household when the child turns 18.)
LIFETIME_YEARS = 120


def check_birth_month(birth_month: YearMonth, *, at: datetime, field: str) -> None:
    """A birth month not after the command's month, and not more than a lifetime before it."""
    this_month = copenhagen_day(at).replace(day=1)
    month = birth_month.first_day()
    if month > this_month:
        raise ImplausibleValue(
            field,
            "The birth month ({field}) {birth_month} is after the current month",
            field=field,
            birth_month=birth_month,
        )
    if month < add_months(this_month, -12 * LIFETIME_YEARS):
        raise ImplausibleValue(
            field,
            "The birth month ({field}) {birth_month} is more than {LIFETIME_YEARS} years ago",
            field=field,
            birth_month=birth_month,
            LIFETIME_YEARS=LIFETIME_YEARS,
        )


def check_consent(consent: Consent, *, at: datetime, field: str) -> None:
    """A consent is given before it is recorded, not longer ago than a case is kept, and names a real
    purpose (the erased stand-in a Consent may hold is never new input)."""
    if consent.purpose == ERASED or consent.recipient == ERASED:
        raise ImplausibleValue(
            f"{field}.purpose",
            "A consent must name its recipient and purpose ({field}.purpose), not the erased stand-in",
            field=field,
        )
    GIVEN_ON.check(consent.given_on, at=at, field=f"{field}.given_on", what="The consent")
