"""Policy settings: local practice and agreements that an organisation may change (docs/design.md §8)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import Field

from coordination.domain.calendar import add_days, add_months, add_working_days, later
from coordination.domain.values import Value, YearMonth


class RehousingPolicy(Value):
    """The numbers of docs/design.md §8 that are practice, not law. Defaults are the sources' figures."""

    # Two offers for permanent rehousing (Gellerup, FællesBo), one for temporary (Brabrand).
    offers_for_permanent: int = Field(default=2, ge=1)
    offers_for_temporary: int = Field(default=1, ge=1)
    offer_validity_days: int = Field(default=14, ge=1)
    # An offer given a longer life than this is refused: it keeps the dwelling reserved and the household
    # waiting (Boligkontoret Danmark gives 5 days to answer, the sources 14); two months is generous.
    longest_offer_validity_days: int = Field(default=60, ge=1)
    # § 86 stk. 3 (as explained by BL): temporary rehousing over 12 months gives a right to permanent.
    temporary_months_before_right_to_permanent: int = Field(default=12, ge=1)
    acknowledge_within_working_days: int = Field(default=3, ge=0)
    complete_within_days: int = Field(default=30, ge=1)
    # An urgent referral (an acute evacuation: one estate was cleared "inden for blot 8 dage").
    urgent_acknowledge_within_working_days: int = Field(default=1, ge=0)
    urgent_complete_within_days: int = Field(default=8, ge=1)
    stalled_after_days: int = Field(default=7, ge=1)  # Boston CAS default
    follow_up_within_days: int = Field(default=14, ge=1)  # 2023 report: Aarhus and Esbjerg
    expiring_soon_days: int = Field(default=7, ge=0)
    # A notification still undone this long after it was raised goes to the organisation's coordinators
    # (Boston CAS escalates a stalled step after the reminder).
    escalate_after_working_days: int = Field(default=2, ge=1)
    # A household whose lease ends within this many days without an accepted offer is on the worklist.
    termination_warning_days: int = Field(default=30, ge=0)
    # Pasningsgaranti (dagtilbudsbekendtgørelsen § 3).
    daycare_guarantee_months: int = Field(default=3, ge=0)
    daycare_minimum_age_weeks: int = Field(default=26, ge=0)
    # Dagtilbudsloven § 26 a: at most 30 % of an institution's yearly intake from the listed housing areas.
    daycare_26a_share_percent: int = Field(default=30, ge=0, le=100)
    # Erasure is proposed this long after settling (or after the last change of an unsettled case).
    retention_months: int = Field(default=60, ge=1)
    # 5 June, 24 and 31 December are no public holidays, but Danish offices close: no working days by default.
    half_holidays_closed: bool = True

    # Derived dates saturate at the calendar's end (domain/calendar.py): a stored date, however absurd,
    # never makes loading or viewing an aggregate raise.

    def acknowledgement_due(self, sent_at: datetime, *, urgent: bool = False) -> datetime:
        days = self.urgent_acknowledge_within_working_days if urgent else self.acknowledge_within_working_days
        return add_working_days(sent_at, days, half_holidays_closed=self.half_holidays_closed)

    def completion_due(self, sent_at: datetime, *, urgent: bool = False) -> datetime:
        days = self.urgent_complete_within_days if urgent else self.complete_within_days
        return later(sent_at, timedelta(days=days))

    def follow_up_due(self, moved_on: date) -> date:
        return add_days(moved_on, self.follow_up_within_days)

    def daycare_guarantee_date(self, applied_on: date, birth_month: YearMonth) -> date:
        """The latest date a place must be offered: 3 months after application, never before 26 weeks of age.

        Only the birth month is known, so the child is taken to be born on the last
        day of that month: the earliest date it is certainly 26 weeks old.
        """
        last_day_of_birth_month = add_days(add_months(birth_month.first_day(), 1), -1)
        old_enough = add_days(last_day_of_birth_month, 7 * self.daycare_minimum_age_weeks)
        return max(add_months(applied_on, self.daycare_guarantee_months), old_enough)

    def offers_allowed(self, *, permanent: bool) -> int:
        return self.offers_for_permanent if permanent else self.offers_for_temporary


DEFAULT_POLICY = RehousingPolicy()
