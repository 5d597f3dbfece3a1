"""What is due and overdue for an organisation and its people, with dates: the caseworker's worklist.

One pure function, `due_items`, decides it from facts the read models hold (a household's case as this
node knows it, the live offers, the open referrals, the proposed erasures), an explicit `now` and the
policy. The API's worklist asks it; the node's timers may ask it too (to notify and escalate), so that
what a caseworker sees and what the timers act on are worked out once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from coordination.domain.calendar import COPENHAGEN, add_months, copenhagen_day
from coordination.domain.policy import RehousingPolicy
from coordination.domain.referral import ReferralStatus
from coordination.domain.values import Role


class WorkItemKind(StrEnum):
    """What is due, in the order a caseworker's day meets them."""

    ACKNOWLEDGEMENT_OWED = "acknowledgement_owed"  # a referral or handoff sent to us, not acknowledged
    REFERRAL_STALLED = "referral_stalled"  # an acknowledged referral with no step for stalled_after_days
    FOLLOW_UP_DUE = "follow_up_due"  # the follow-up visit after the move, not done yet
    OFFER_EXPIRING_SOON = "offer_expiring_soon"  # a live offer within expiring_soon_days of expiry
    # The lease ends within termination_warning_days and no offer is accepted (the 2023 report's warning:
    # vulnerable residents may lose their offer of rehousing).
    TERMINATION_WITHOUT_ACCEPTED_OFFER = "termination_without_accepted_offer"
    ERASURE_PROPOSED = "erasure_proposed"  # awaits the data-protection role's confirmation
    # § 86 stk. 3: a temporary rehousing beyond the policy's limit (12 months) gives the household the right
    # to a permanent offer; owed until it has moved permanently.
    PERMANENT_OFFER_OWED = "permanent_offer_owed"


class Facts(BaseModel):
    model_config = ConfigDict(frozen=True)


class CaseFacts(Facts):
    """A household as this node knows it: its owner's own record, or a member's copy of its network
    (which knows no termination date and no offers)."""

    household_id: UUID
    owner: str
    holder_organisation: str | None = None
    responsible_organisation: str | None = None
    responsible_person: str | None = None
    termination_date: date | None = None
    offer_accepted: bool = False
    moved_on: date | None = None
    follow_up_due: date | None = None
    follow_up_done: bool = False
    settled: bool = False
    # § 86 stk. 3 (the owner's record only): the right held from this day (a stay expected beyond the limit
    # when registered), the day of its first temporary move, and whether it has since moved permanently.
    right_to_permanent_from: date | None = None
    temporary_since: date | None = None
    moved_permanently: bool = False


class OfferFacts(Facts):
    """A live offer of a dwelling to a household (at the household's owner)."""

    offer_id: UUID
    household_id: UUID
    expires_at: datetime


class ReferralFacts(Facts):
    """An open referral or handoff as this node knows it (as referrer or receiver)."""

    referral_id: UUID
    household_id: UUID
    referrer: str
    receiver: str
    status: ReferralStatus
    acknowledge_by: datetime
    last_step_at: datetime


class ErasureFacts(Facts):
    """An erasure proposed at the household's owner (by a person or by the retention timer)."""

    household_id: UUID
    owner: str
    proposed_at: datetime
    proposed_by: str | None = None  # the person who proposed it; another person confirms it


class WorkItem(BaseModel):
    """One thing due: what, about which household (and referral or offer), by when, and for whom."""

    model_config = ConfigDict(frozen=True)

    kind: WorkItemKind
    household_id: UUID
    referral_id: UUID | None = None
    offer_id: UUID | None = None
    due_on: date  # the day in Copenhagen
    due_at: datetime | None = None  # the moment (in Copenhagen time), where the due date comes from one
    overdue: bool
    for_organisation: str
    for_role: Role | None = None
    for_person: str | None = None


def due_items(
    now: datetime,
    policy: RehousingPolicy,
    *,
    cases: Iterable[CaseFacts] = (),
    offers: Iterable[OfferFacts] = (),
    referrals: Iterable[ReferralFacts] = (),
    erasures: Iterable[ErasureFacts] = (),
) -> list[WorkItem]:
    """Everything due or overdue at `now` from these facts, soonest first (overdue ones lead)."""
    by_household = {case.household_id: case for case in cases}
    items = [
        *_referral_items(now, policy, referrals),
        *(item for case in by_household.values() for item in _case_items(now, policy, case)),
        *_offer_items(now, policy, offers, by_household),
        *_erasure_items(now, policy, erasures),
    ]
    return sorted(items, key=lambda i: (i.due_on, i.due_at or now, i.kind, str(i.household_id)))


def _referral_items(
    now: datetime, policy: RehousingPolicy, referrals: Iterable[ReferralFacts]
) -> Iterable[WorkItem]:
    for referral in referrals:
        if not referral.status.is_open:
            continue
        if referral.status is ReferralStatus.SENT:
            # Owed from the day it was sent, overdue after the policy's working days.
            yield _item(
                WorkItemKind.ACKNOWLEDGEMENT_OWED,
                referral,
                referral.acknowledge_by,
                now > referral.acknowledge_by,
            )
            continue
        # A referral not yet acknowledged is owed an acknowledgement (above), not reported twice as stalled.
        stalled_at = referral.last_step_at + timedelta(days=policy.stalled_after_days)
        if now > stalled_at:
            yield _item(WorkItemKind.REFERRAL_STALLED, referral, stalled_at, True)


def _item(kind: WorkItemKind, referral: ReferralFacts, due_at: datetime, overdue: bool) -> WorkItem:
    return WorkItem(
        kind=kind,
        household_id=referral.household_id,
        referral_id=referral.referral_id,
        due_on=copenhagen_day(due_at),
        due_at=_local(due_at),
        overdue=overdue,
        for_organisation=referral.receiver,
    )


def _local(moment: datetime) -> datetime:
    """A moment as Danish offices read it (Europe/Copenhagen); the same instant."""
    try:
        return moment.astimezone(COPENHAGEN)
    except (OverflowError, ValueError):
        return moment


def _person(case: CaseFacts, organisation: str) -> str | None:
    """The case's responsible person, where that person works for `organisation`."""
    return case.responsible_person if case.responsible_organisation == organisation else None


def _case_items(now: datetime, policy: RehousingPolicy, case: CaseFacts) -> Iterable[WorkItem]:
    today = copenhagen_day(now)
    if case.settled:
        return
    if case.follow_up_due is not None and not case.follow_up_done:
        holder = case.holder_organisation or case.owner
        yield WorkItem(
            kind=WorkItemKind.FOLLOW_UP_DUE,
            household_id=case.household_id,
            due_on=case.follow_up_due,
            overdue=today > case.follow_up_due,
            for_organisation=holder,
            for_person=_person(case, holder),
        )
    ends = case.termination_date
    if (
        ends is not None
        and not case.offer_accepted
        and case.moved_on is None
        and (ends - today).days <= policy.termination_warning_days
    ):
        # The owner's consultant holds the household until it moves, and makes its offers.
        yield WorkItem(
            kind=WorkItemKind.TERMINATION_WITHOUT_ACCEPTED_OFFER,
            household_id=case.household_id,
            due_on=ends,
            overdue=today > ends,
            for_organisation=case.owner,
            for_person=_person(case, case.owner),
        )
    since = right_to_permanent_since(case, policy)
    if since is not None and since <= today and not case.moved_permanently:
        # A right, not a deadline: owed from that day, never overdue; the owner's consultant makes the offer.
        yield WorkItem(
            kind=WorkItemKind.PERMANENT_OFFER_OWED,
            household_id=case.household_id,
            due_on=since,
            overdue=False,
            for_organisation=case.owner,
            for_person=_person(case, case.owner),
        )


def right_to_permanent_since(case: CaseFacts, policy: RehousingPolicy) -> date | None:
    """§ 86 stk. 3 as the household's record decides it (household_record.py `right_to_permanent_since`):
    from registration if the stay was expected beyond the limit, else the day after the limit's months
    from its first temporary move; None if neither."""
    if case.right_to_permanent_from is not None:
        return case.right_to_permanent_from
    if case.temporary_since is None:
        return None
    return add_months(case.temporary_since, policy.temporary_months_before_right_to_permanent) + timedelta(
        days=1
    )


def _offer_items(
    now: datetime, policy: RehousingPolicy, offers: Iterable[OfferFacts], cases: dict[UUID, CaseFacts]
) -> Iterable[WorkItem]:
    soon = timedelta(days=policy.expiring_soon_days)
    for offer in offers:
        case = cases.get(offer.household_id)
        if case is None or offer.expires_at - now > soon:
            continue
        yield WorkItem(
            kind=WorkItemKind.OFFER_EXPIRING_SOON,
            household_id=offer.household_id,
            offer_id=offer.offer_id,
            due_on=copenhagen_day(offer.expires_at),
            due_at=_local(offer.expires_at),
            # Past its expiry and not yet expired by the timer: the household may still answer until then.
            overdue=now > offer.expires_at,
            for_organisation=case.owner,
            for_person=_person(case, case.owner),
        )


def _erasure_items(
    now: datetime, policy: RehousingPolicy, erasures: Iterable[ErasureFacts]
) -> Iterable[WorkItem]:
    for erasure in erasures:
        # No statute gives a number of days; a proposal left as long as a stalled step is overdue.
        due_at = erasure.proposed_at + timedelta(days=policy.stalled_after_days)
        yield WorkItem(
            kind=WorkItemKind.ERASURE_PROPOSED,
            household_id=erasure.household_id,
            due_on=copenhagen_day(due_at),
            due_at=_local(due_at),
            overdue=now > due_at,
            for_organisation=erasure.owner,
            for_role=Role.DATA_PROTECTION,
        )
