"""Plausible dates: the window around a command's own time `at` that each date given with it must fall in.

A date can be well-formed and still not be meant: a move on 9999-12-31, a consent given a year from now,
a child born in 2199. Such a date is refused before anything is recorded (an ImplausibleValue naming the
field), because once stored it stays in the household's history for good. Each window is chosen from the
domain (DESIGN §8) and says why; they are deliberately wide, to catch typing errors and not to second-guess
a caseworker recording something late or planning ahead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from coordination.domain.calendar import add_months, copenhagen_day
from coordination.domain.errors import ImplausibleValue
from coordination.domain.values import ERASED, Consent, YearMonth

# A case is proposed for erasure 60 months after it settles (RehousingPolicy.retention_months): a fact
# dated before that lies outside any case the node can still hold, so it is a typing error.
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
                field, f"{what} ({field}) {value} is too far in the past: the earliest accepted is {earliest}"
            )
        if value > latest:
            if self.months_after == 0:
                raise ImplausibleValue(
                    field,
                    f"{what} ({field}) {value} is after today ({today}); record it once it has happened",
                )
            raise ImplausibleValue(
                field, f"{what} ({field}) {value} is too far ahead: the latest accepted is {latest}"
            )


# A move is recorded when the household moves, after an accepted offer (an offer lives 14 days), or may be
# agreed for a dwelling that frees up later; the follow-up visit (due 14 days after) and the handoff hang
# on it, so one more than a year ahead is not agreed yet. It may be entered late (a case taken over from
# paper), as far back as a case is kept.
MOVED_ON = Window(months_before=RETENTION_MONTHS, months_after=12)
# A follow-up visit is recorded after it took place (14 days after the move in Aarhus and Esbjerg),
# never before; entered late as far back as a case is kept.
VISITED_ON = Window(months_before=RETENTION_MONTHS, months_after=0)
# A school or daycare place starts within the next school year (known up to ~1½ years ahead; daycare is
# guaranteed within 3 months); one learned late may have started as far back as a case is kept.
STARTS_ON = Window(months_before=RETENTION_MONTHS, months_after=18)
# A replacement dwelling is published when it is about to be vacated or stands empty; one empty for more
# than a year is not in the letting pool, and rehousing plans in the 2023 report run over about two years,
# so availability further ahead is not a vacancy yet.
AVAILABLE_FROM = Window(months_before=12, months_after=24)
# A daycare or school place is needed from around the move: the same horizon as availability.
NEEDED_FROM = Window(months_before=12, months_after=24)
# A termination under almenlejeloven § 85 is given years ahead in a transformation area (development plans
# run until 2030); one more than 10 years ahead, or older than the retention period, is a typing error.
TERMINATION_DATE = Window(months_before=RETENTION_MONTHS, months_after=120)
# Consent is given before it is recorded (never after the command) and is kept no longer than the case.
GIVEN_ON = Window(months_before=RETENTION_MONTHS, months_after=0)

# A child in the household is under 18 (an older member is an adult of the household); anyone's birth
# month, a child's in a referral sent later included, is within a human lifetime.
CHILD_YEARS, LIFETIME_YEARS = 18, 120


def check_birth_month(birth_month: YearMonth, *, child: bool, at: datetime, field: str) -> None:
    """A birth month not after the command's month, and within a child's (or a lifetime's) years of it."""
    this_month = copenhagen_day(at).replace(day=1)
    month = birth_month.first_day()
    if month > this_month:
        raise ImplausibleValue(field, f"The birth month ({field}) {birth_month} is after the current month")
    years = CHILD_YEARS if child else LIFETIME_YEARS
    if month < add_months(this_month, -12 * years):
        who = "a child (an older member is an adult of the household)" if child else "anyone"
        raise ImplausibleValue(
            field, f"The birth month ({field}) {birth_month} makes {who} more than {years} years old"
        )


def check_consent(consent: Consent, *, at: datetime, field: str) -> None:
    """A consent is given before it is recorded, not longer ago than a case is kept, and names a real
    purpose (the erased stand-in a Consent may hold is never new input)."""
    if consent.purpose == ERASED or consent.recipient == ERASED:
        raise ImplausibleValue(f"{field}.purpose", f"A consent ({field}) must name its recipient and purpose")
    GIVEN_ON.check(consent.given_on, at=at, field=f"{field}.given_on", what="The consent")
