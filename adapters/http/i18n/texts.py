"""The sentences the API writes for a caseworker beside its codes: each notification's and worklist item's
label and text, and a reason code's label, in the reader's language.

The domain names what happened by kind (`acknowledgement_overdue`, `offer_expiring_soon`) and keeps dates
as dates; this module words them. Each label and text is an English msgid with named placeholders that
the catalogues translate (da.py); dates are written as the reader writes them ("7. december 2026 kl.
14.30"). tests/unit/test_translations.py checks every msgid here has its Danish.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from uuid import UUID

from adapters.http.i18n import translate
from coordination.domain.notification import NotificationKind
from coordination.domain.reasons import LABELS as REASON_LABELS
from coordination.projections.worklist import WorkItemKind

# A notification: (label, text with its due moment, text when it has none).
NOTIFICATIONS: dict[NotificationKind, tuple[str, str, str]] = {
    NotificationKind.REFERRAL_RECEIVED: (
        "Referral received",
        "Referral {subject_id} was received; acknowledge it by {due}",
        "Referral {subject_id} was received; acknowledge it",
    ),
    NotificationKind.ACKNOWLEDGEMENT_OVERDUE: (
        "Acknowledgement overdue",
        "Referral {subject_id} was to be acknowledged by {due} and is not",
        "Referral {subject_id} is not acknowledged in time",
    ),
    NotificationKind.REFERRAL_STALLED: (
        "Referral stalled",
        "Referral {subject_id} has stalled: no new step by {due}",
        "Referral {subject_id} has stalled: no new step",
    ),
    NotificationKind.REFERRAL_OVERDUE: (
        "Referral overdue",
        "Referral {subject_id} was to be completed by {due}",
        "Referral {subject_id} is not completed in time",
    ),
    NotificationKind.FOLLOW_UP_OVERDUE: (
        "Follow-up visit overdue",
        "The follow-up visit to household {household_id} was due by {due}",
        "The follow-up visit to household {household_id} is overdue",
    ),
    NotificationKind.OFFER_EXPIRING: (
        "Offer expiring",
        "Offer {subject_id} expires on {due}; the household has not answered",
        "Offer {subject_id} expires soon; the household has not answered",
    ),
    NotificationKind.ESCALATION: (
        "Escalation",
        "Escalated to the coordinators: the step on {subject} {subject_id} due by {due} is still not taken",
        "Escalated to the coordinators: the step on {subject} {subject_id} is still not taken",
    ),
}

# A worklist item: (label, text); {due} is its due moment, or its day where it has no moment.
WORK_ITEMS: dict[WorkItemKind, tuple[str, str]] = {
    WorkItemKind.ACKNOWLEDGEMENT_OWED: (
        "Acknowledgement owed",
        "Acknowledge referral {referral_id} by {due}",
    ),
    WorkItemKind.REFERRAL_STALLED: (
        "Referral stalled",
        "Referral {referral_id} has had no new step; it stalled on {due}",
    ),
    WorkItemKind.FOLLOW_UP_DUE: (
        "Follow-up visit due",
        "Visit household {household_id} after its move by {due}",
    ),
    WorkItemKind.OFFER_EXPIRING_SOON: (
        "Offer expiring soon",
        "Offer {offer_id} to household {household_id} expires on {due}",
    ),
    WorkItemKind.TERMINATION_WITHOUT_ACCEPTED_OFFER: (
        "Lease ending without an accepted offer",
        "The lease of household {household_id} ends on {due} and no offer is accepted",
    ),
    WorkItemKind.PERMANENT_OFFER_OWED: (
        "Permanent offer owed",
        "Household {household_id} has had the right to a permanent offer since {due}",
    ),
    WorkItemKind.ERASURE_PROPOSED: (
        "Erasure proposed",
        "Confirm or reject the proposed erasure of household {household_id} by {due}",
    ),
}
OVERDUE = "Overdue: {text}"


def notification_words(
    kind: NotificationKind,
    language: str,
    *,
    subject: str,
    subject_id: UUID,
    household_id: UUID | None,
    due: datetime | None,
) -> tuple[str, str]:
    """The notification's label and text in `language`."""
    label, dated, undated = NOTIFICATIONS[NotificationKind(kind)]
    params = {"subject": subject, "subject_id": subject_id, "household_id": household_id, "due": due}
    return translate(label, language), translate(dated if due is not None else undated, language, params)


def work_item_words(
    kind: WorkItemKind,
    language: str,
    *,
    household_id: UUID,
    referral_id: UUID | None,
    offer_id: UUID | None,
    due: date | datetime,
    overdue: bool,
) -> tuple[str, str]:
    """The worklist item's label and text in `language` (an overdue one says so first)."""
    label, template = WORK_ITEMS[WorkItemKind(kind)]
    params = {"household_id": household_id, "referral_id": referral_id, "offer_id": offer_id, "due": due}
    text = translate(template, language, params)
    if overdue:
        text = translate(OVERDUE, language, {"text": text})
    return translate(label, language), text


def reason_label(code: str, language: str) -> str:
    """A reason code's label in `language`; a code this version does not know reads as itself."""
    return translate(REASON_LABELS.get(code, code), language)


def msgids() -> Iterator[str]:
    """Every sentence this module writes (for the catalogue test)."""
    for words in (*NOTIFICATIONS.values(), *WORK_ITEMS.values()):
        yield from words
    yield OVERDUE
    yield from REASON_LABELS.values()
