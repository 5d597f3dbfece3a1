"""Notifications at every node: raised by its timers (and on a referral's receipt), escalated once to the
coordinators when the step stays undone, read in each person's inbox (docs/api.md "Inbox")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from coordination.applications.base import NodeApplication, derived_id, require_time
from coordination.applications.commands import Decision, command
from coordination.applications.timers import originators, timer_command_id
from coordination.domain.errors import DomainError, NotPermitted
from coordination.domain.household import Household
from coordination.domain.notification import Notification, NotificationKind
from coordination.domain.notification_rules import DueStep, household_steps, referral_steps, still_due
from coordination.domain.personal_fields import declare_not_personal
from coordination.domain.referral import Referral
from coordination.domain.values import Actor, Role, Value

# A notification names ids, kinds, dates and staff ids: nothing about a person of the household.
declare_not_personal(
    Notification.Raised,
    {"kind", "subject", "subject_id", "household_id", "recipients", "due", "escalates"},
)
declare_not_personal(Notification.Escalated, {"escalation_id"})
declare_not_personal(Notification.Resolved, set())
declare_not_personal(Notification.Read, {"person"})


def notification_id(organisation: str, step: DueStep) -> UUID:
    """Derived from the due step: the same step is notified once, however often (and wherever) it is seen."""
    return derived_id("notification", organisation, step.kind, step.subject_id, step.due.isoformat())


class NotificationView(Value):
    """A notification as its reader sees it."""

    notification_id: UUID
    kind: NotificationKind
    subject: str
    subject_id: UUID
    household_id: UUID | None
    due: datetime | None
    raised_at: datetime
    read: bool
    escalated: bool
    resolved: bool
    escalates: UUID | None

    @classmethod
    def of(cls, notification: Notification, person: str) -> NotificationView:
        return cls(
            notification_id=notification.id,
            kind=notification.kind,
            subject=notification.subject,
            subject_id=notification.subject_id,
            household_id=notification.household_id,
            due=notification.due,
            raised_at=notification.raised_at,
            read=person in notification.read_by,
            escalated=notification.escalated_to is not None,
            resolved=notification.resolved_at is not None,
            escalates=notification.escalates,
        )


@dataclass(frozen=True)
class Notices:
    """What one run of the notification timers did, by id."""

    raised: tuple[UUID, ...] = ()
    escalated: tuple[UUID, ...] = ()
    resolved: tuple[UUID, ...] = ()


class NotificationDesk(NodeApplication):
    """The node's notifications: raised for the steps due at its own households and received referrals."""

    def _also_changed(self, changed: Sequence[Aggregate]) -> list[Aggregate]:
        """A referral received here notifies the receiving organisation in the same transaction."""
        also = super()._also_changed(changed)
        for aggregate in changed:
            if not isinstance(aggregate, Referral):
                continue
            if not any(isinstance(e, Referral.Sent) for e in aggregate.pending_events):
                continue
            for step in referral_steps(aggregate, aggregate.sent_at, self.policy, self.organisation):
                if step.kind is NotificationKind.REFERRAL_RECEIVED:
                    also.append(self._notification(step, aggregate.sent_at))
        return also

    def _notification(self, step: DueStep, at: datetime) -> Notification:
        return Notification(
            id=notification_id(self.organisation, step),
            kind=step.kind,
            subject=step.subject,
            subject_id=step.subject_id,
            household_id=step.household_id,
            recipients=step.recipients,
            due=step.due,
            escalates=None,
            at=at,
        )

    # Timers

    def notify_due(self, *, now: datetime) -> Notices:
        """Raise a notification for each step due at `now` not yet notified; escalate each one still undone
        past the policy's interval, or resolve it once its step was taken."""
        now = require_time(now)
        raised = [self._raise(step, now) for step in self._due_steps(now) if not self._notified(step)]
        escalated: list[UUID] = []
        resolved: list[UUID] = []
        for nid in originators(self, Notification.Raised):
            notification = self._get(Notification, nid, "notification")
            if not notification.kind.escalates or not notification.open:
                continue
            if now < notification.escalation_due(self.policy):
                continue
            try:
                if still_due(notification.kind, notification.due, self._steps_of(notification, now)):
                    self.escalate_notification(
                        command_id=timer_command_id("escalate_notification", nid), notification_id=nid, at=now
                    )
                    escalated.append(nid)
                else:
                    self.resolve_notification(
                        command_id=timer_command_id("resolve_notification", nid), notification_id=nid, at=now
                    )
                    resolved.append(nid)
            except DomainError:
                continue  # changed meanwhile: decided again next run
        return Notices(
            raised=tuple(r for r in raised if r is not None),
            escalated=tuple(escalated),
            resolved=tuple(resolved),
        )

    def _due_steps(self, now: datetime) -> list[DueStep]:
        steps: list[DueStep] = []
        for referral_id in originators(self, Referral.Sent):
            steps += referral_steps(
                self._get(Referral, referral_id, "referral"), now, self.policy, self.organisation
            )
        for household_id in originators(self, Household.Registered):
            household = self._get(Household, household_id, "household")
            if household.owner == self.organisation:
                steps += household_steps(household, now, self.policy, self.organisation)
        return steps

    def _steps_of(self, notification: Notification, now: datetime) -> list[DueStep]:
        """The steps due now of the subject a notification is about (none once it is gone)."""
        try:
            if notification.subject == "referral":
                referral = self._get(Referral, notification.subject_id, "referral")
                return referral_steps(referral, now, self.policy, self.organisation)
            if notification.household_id is not None:
                household = self._get(Household, notification.household_id, "household")
                return household_steps(household, now, self.policy, self.organisation)
        except DomainError:
            return []
        return []

    def _notified(self, step: DueStep) -> bool:
        return self._exists(notification_id(self.organisation, step))

    def _raise(self, step: DueStep, now: datetime) -> UUID | None:
        nid = notification_id(self.organisation, step)
        try:
            return self.raise_notification(
                command_id=timer_command_id("raise_notification", nid), step=step, at=now
            )
        except DomainError:
            return None

    def _notification_timer(self) -> Actor:
        return Actor(organisation=self.organisation, person="notification-timer", role=Role.SYSTEM)

    @command(also=lambda app, call: {"by": app._notification_timer()})
    def raise_notification(self, *, command_id: UUID, step: DueStep, at: datetime) -> Decision[UUID]:
        notification = self._notification(step, at)
        return notification.id, [notification]

    @command(also=lambda app, call: {"by": app._notification_timer()})
    def escalate_notification(
        self, *, command_id: UUID, notification_id: UUID, at: datetime
    ) -> Decision[UUID]:
        notification = self._get(Notification, notification_id, "notification")
        escalation = notification.escalate(
            escalation_id=derived_id("escalation", notification_id), policy=self.policy, at=at
        )
        return escalation.id, [notification, escalation]

    @command(also=lambda app, call: {"by": app._notification_timer()})
    def resolve_notification(
        self, *, command_id: UUID, notification_id: UUID, at: datetime
    ) -> Decision[UUID]:
        notification = self._get(Notification, notification_id, "notification")
        notification.resolve(at=at)
        return notification_id, [notification]

    # The inbox

    @command()
    def mark_notification_read(
        self, *, command_id: UUID, notification_id: UUID, at: datetime, by: Actor
    ) -> Decision[UUID]:
        notification = self._get(Notification, notification_id, "notification")
        if not notification.recipients.include(organisation=by.organisation, person=by.person, role=by.role):
            raise NotPermitted(
                "Notification {notification_id} is not addressed to {person}",
                notification_id=notification_id,
                person=by.person,
            )
        notification.mark_read(person=by.person, at=at)
        return notification_id, [notification]

    def notification(self, notification_id: UUID, reader: Actor) -> NotificationView:
        notification = self._get(Notification, notification_id, "notification")
        if not notification.recipients.include(
            organisation=reader.organisation, person=reader.person, role=reader.role
        ):
            raise NotPermitted(
                "Notification {notification_id} is not addressed to {person}",
                notification_id=notification_id,
                person=reader.person,
            )
        return NotificationView.of(notification, reader.person)

    def inbox(
        self,
        reader: Actor,
        *,
        everyone: bool = False,
        unread: bool = False,
        after: UUID | None = None,
        limit: int = 50,
    ) -> list[NotificationView]:
        """The reader's notifications, newest first (all of its organisation's with `everyone`), from the one
        after `after` (the last of the previous page). Read from the log on every call: a node's
        notifications are few (one per due step), and each is loaded only until the page is full."""
        found: list[NotificationView] = []
        ids = list(reversed(originators(self, Notification.Raised)))
        start = ids.index(after) + 1 if after in ids else 0
        for nid in ids[start:]:
            if len(found) == limit:
                break
            notification = self._get(Notification, nid, "notification")
            recipients = notification.recipients
            if recipients.organisation != reader.organisation:
                continue
            if not everyone and not recipients.include(
                organisation=reader.organisation, person=reader.person, role=reader.role
            ):
                continue
            view = NotificationView.of(notification, reader.person)
            if not (unread and view.read):
                found.append(view)
        return found
