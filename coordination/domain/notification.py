"""The Notification aggregate: one thing a node tells the people responsible for it, escalated once if it
stays undone.

A node's timers raise a notification when a step falls due (a referral received, an acknowledgement
overdue, a referral stalled, a follow-up visit overdue, an offer about to expire) and escalate it to the
organisation's coordinators when the step is still undone a policy interval later. Its id is derived from
the due step (application), so the same step is notified once however often the timers look.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from coordination.domain.calendar import add_working_days
from coordination.domain.errors import InvalidInput, RuleViolated
from coordination.domain.policy import RehousingPolicy
from coordination.domain.values import Role, Value

# Who an escalation reaches at the responsible organisation.
COORDINATORS = (Role.COORDINATOR, Role.MUNICIPAL_COORDINATOR)


class NotificationKind(StrEnum):
    """What happened or fell due; each names the step someone must take."""

    REFERRAL_RECEIVED = "referral_received"  # a referral or handoff arrived: acknowledge it
    ACKNOWLEDGEMENT_OVERDUE = "acknowledgement_overdue"
    REFERRAL_STALLED = "referral_stalled"
    REFERRAL_OVERDUE = "referral_overdue"  # not completed by its due date
    FOLLOW_UP_OVERDUE = "follow_up_overdue"
    OFFER_EXPIRING = "offer_expiring"
    ESCALATION = "escalation"  # a notification above stayed undone

    @property
    def escalates(self) -> bool:
        """Whether it names a step overdue or about to lapse (escalated when still undone). A receipt is
        news, not yet late: its acknowledgement escalates once overdue; an escalation never again."""
        return self not in (NotificationKind.ESCALATION, NotificationKind.REFERRAL_RECEIVED)


class Recipients(Value):
    """Who a notification is for at its organisation: one person, or people in some roles, or (neither
    named) everyone there."""

    organisation: str
    person: str | None = None
    roles: tuple[Role, ...] = ()

    def include(self, *, organisation: str, person: str, role: Role) -> bool:
        if organisation != self.organisation:
            return False
        if self.person is not None:
            return person == self.person
        return not self.roles or role in self.roles


class Notification(Aggregate):
    """A notification (besked) to the people responsible for a step: raised → read by each of them →
    escalated to the coordinators once if the step is still undone, or resolved once it is taken."""

    class Raised(Aggregate.Created):
        kind: NotificationKind
        subject: str  # what the id names: "referral", "household" or "offer"
        subject_id: UUID
        household_id: UUID | None
        recipients: Recipients
        due: datetime | None
        escalates: UUID | None  # the notification an escalation is about
        at: datetime

    class Escalated(Aggregate.Event):
        escalation_id: UUID
        at: datetime

    class Resolved(Aggregate.Event):
        at: datetime

    class Read(Aggregate.Event):
        person: str
        at: datetime

    @event(Raised)
    def __init__(
        self,
        id: UUID,
        kind: NotificationKind,
        subject: str,
        subject_id: UUID,
        household_id: UUID | None,
        recipients: Recipients,
        due: datetime | None,
        escalates: UUID | None,
        at: datetime,
    ) -> None:
        self.kind = NotificationKind(kind)
        self.subject = subject
        self.subject_id = subject_id
        self.household_id = household_id
        self.recipients = recipients
        self.due = due
        self.escalates = escalates
        self.raised_at = at
        self.read_by: dict[str, datetime] = {}
        self.escalated_to: UUID | None = None
        self.resolved_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.escalated_to is None and self.resolved_at is None

    def escalation_due(self, policy: RehousingPolicy) -> datetime:
        return add_working_days(self.raised_at, policy.escalate_after_working_days)

    def escalate(self, *, escalation_id: UUID, policy: RehousingPolicy, at: datetime) -> Notification:
        """The escalation of this notification to the coordinators of its organisation."""
        if not self.kind.escalates or not self.open:
            raise RuleViolated(
                "Notification {notification_id} is not open to escalation", notification_id=self.id
            )
        if at < self.escalation_due(policy):
            raise RuleViolated(
                "Notification {notification_id} escalates from {due}",
                notification_id=self.id,
                due=self.escalation_due(policy),
            )
        escalation = Notification(
            id=escalation_id,
            kind=NotificationKind.ESCALATION,
            subject=self.subject,
            subject_id=self.subject_id,
            household_id=self.household_id,
            recipients=Recipients(organisation=self.recipients.organisation, roles=COORDINATORS),
            due=self.due,
            escalates=self.id,
            at=at,
        )
        self._escalated(escalation_id=escalation_id, at=at)
        return escalation

    def resolve(self, *, at: datetime) -> None:
        """The step was taken (or is no longer anyone's): nothing to escalate."""
        if self.escalated_to is not None:
            raise RuleViolated(
                "Notification {notification_id} was escalated; it is no longer resolved by the timers",
                notification_id=self.id,
            )
        if self.resolved_at is not None:
            raise RuleViolated("Notification {notification_id} is already resolved", notification_id=self.id)
        self._resolved(at=at)

    def mark_read(self, *, person: str, at: datetime) -> None:
        """Read by `person`; reading it again changes nothing."""
        if not person.strip():
            raise InvalidInput("A notification is read by a person")
        if person not in self.read_by:
            self._read(person=person, at=at)

    @event(Escalated)
    def _escalated(self, escalation_id: UUID, at: datetime) -> None:
        self.escalated_to = escalation_id

    @event(Resolved)
    def _resolved(self, at: datetime) -> None:
        self.resolved_at = at

    @event(Read)
    def _read(self, person: str, at: datetime) -> None:
        self.read_by[person] = at
