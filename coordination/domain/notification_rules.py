"""What is due at an explicit `now`, and for whom: the steps a node's timers notify (notification.py).

Each due step names its kind, its subject and the moment it fell due; the moment is part of the step's
identity, so a referral sent on again (a new acknowledgement date) or moved on a step (a new stall) is a
new step, notified anew, while the same step is notified once.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from uuid import UUID

from coordination.domain.calendar import COPENHAGEN, add_days, later
from coordination.domain.household import Household
from coordination.domain.household_values import OfferStatus
from coordination.domain.notification import NotificationKind, Recipients
from coordination.domain.policy import RehousingPolicy
from coordination.domain.referral import Referral, ReferralStatus
from coordination.domain.values import Role, Value

_STARTED = (
    ReferralStatus.ACKNOWLEDGED,
    ReferralStatus.ACCEPTED,
    ReferralStatus.IN_PROGRESS,
    ReferralStatus.ON_HOLD,
)
# The follow-up visit and the household's offers are the consultants' at the household's owner.
CONSULTANTS = (Role.REHOUSING_CONSULTANT,)


class DueStep(Value):
    """A step someone must take, as of a moment: what, about which subject, due when, and for whom."""

    kind: NotificationKind
    subject: str
    subject_id: UUID
    household_id: UUID | None
    due: datetime
    recipients: Recipients


def referral_steps(
    referral: Referral, now: datetime, policy: RehousingPolicy, organisation: str
) -> list[DueStep]:
    """The steps a referral this node received owes at `now`: its receipt until acknowledged (due by the
    acknowledgement date), the acknowledgement once overdue, a stall, and completion once overdue. The
    referrer's copy owes nothing: the receiver is responsible."""
    if referral.receiver != organisation or referral.referrer == organisation:
        return []
    status = ReferralStatus(referral.status)
    recipients = Recipients(organisation=organisation, person=referral.assignee)
    steps: list[tuple[NotificationKind, datetime]] = []
    if status is ReferralStatus.SENT:
        steps.append((NotificationKind.REFERRAL_RECEIVED, referral.acknowledge_by))
        if now > referral.acknowledge_by:
            steps.append((NotificationKind.ACKNOWLEDGEMENT_OVERDUE, referral.acknowledge_by))
    stalled_from = later(referral.last_step_at, timedelta(days=policy.stalled_after_days))
    if status in _STARTED and now > stalled_from:
        steps.append((NotificationKind.REFERRAL_STALLED, stalled_from))
    if status.is_open and now > referral.complete_by:
        steps.append((NotificationKind.REFERRAL_OVERDUE, referral.complete_by))
    return [
        DueStep(
            kind=kind,
            subject="referral",
            subject_id=referral.id,
            household_id=referral.household_id,
            due=due,
            recipients=recipients,
        )
        for kind, due in steps
    ]


def household_steps(
    household: Household, now: datetime, policy: RehousingPolicy, organisation: str
) -> list[DueStep]:
    """The steps a household this node owns owes at `now`: a follow-up visit past its day, offers about
    to expire (within the policy's `expiring_soon_days`)."""
    if household.erased_at is not None or household.settled_at is not None:
        return []
    recipients = Recipients(organisation=organisation, roles=CONSULTANTS)
    steps: list[DueStep] = []
    follow_up_day = household.follow_up_due(policy)
    if follow_up_day is not None and not household.follow_up_visited:
        # Due by the end of its day in Copenhagen: overdue from the next day's start.
        due = datetime.combine(add_days(follow_up_day, 1), time(), tzinfo=COPENHAGEN)
        if now >= due:
            steps.append(
                _household_step(NotificationKind.FOLLOW_UP_OVERDUE, household, household.id, due, recipients)
            )
    soon = timedelta(days=policy.expiring_soon_days)
    for offer in household.offers:
        if offer.status == OfferStatus.LIVE and offer.expires_at - soon <= now < offer.expires_at:
            steps.append(
                _household_step(
                    NotificationKind.OFFER_EXPIRING,
                    household,
                    offer.offer_id,
                    offer.expires_at,
                    recipients,
                    "offer",
                )
            )
    return steps


def _household_step(
    kind: NotificationKind,
    household: Household,
    subject_id: UUID,
    due: datetime,
    recipients: Recipients,
    subject: str = "household",
) -> DueStep:
    return DueStep(
        kind=kind,
        subject=subject,
        subject_id=subject_id,
        household_id=household.id,
        due=due,
        recipients=recipients,
    )


def still_due(kind: NotificationKind, due: datetime | None, steps: list[DueStep]) -> bool:
    """Whether a notification's step is still among the subject's due steps (so it escalates); a receipt
    stays due while the referral is unacknowledged."""
    return any(step.kind == kind and step.due == due for step in steps)
