"""Reaching the family: the contact block a referral carries to its receiver, under the household's consent.

A referral's details say what the receiver must do (referral_values.py, no names); the contact block says
whom to call: the contact adult's name and phone, the language and whether an interpreter is needed, the
case reference, and the consultant who holds the case. It goes to the referral's receiver only when the
household consented to share its contact details with that receiver (purpose `contact_details`); a
daycare referral adds the CPR number of the child it is about only under a consent for that (purpose
`child_cpr`), so the department can register the child. Nothing else ever carries them: a redirected
referral reaches its new receiver without the block (the consent named the first), and on the wire the
block is sealed to the receiver alone (coordination/integration/personal.py: it is personal data).

The block is an event of its own on the referral (`Referral.ContactShared`, recorded with `Sent` in the
same transaction at the referrer and applied to the receiver's copy), personal data under the household's
key: erasing the household erases it at every node that holds it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from coordination.domain.errors import NotPermitted, RuleViolated
from coordination.domain.household_values import ChildCpr
from coordination.domain.referral_values import ReferralDetails, ReferralKind
from coordination.domain.values import Actor, NonEmpty, Value

if TYPE_CHECKING:
    from coordination.domain.household import Household
    from coordination.domain.referral import Referral

CONTACT_DETAILS = "contact_details"  # the consent purpose for the contact block
CHILD_CPR = "child_cpr"  # the consent purpose for a child's CPR number in a daycare referral


class ReferralContact(Value):
    """Whom the receiver calls about the referral, and (daycare only) the child's CPR number."""

    case_reference: NonEmpty
    adult_name: NonEmpty
    adult_phone: NonEmpty
    language: NonEmpty | None = None
    interpreter_needed: bool = False
    consultant_name: NonEmpty | None = None
    consultant_phone: NonEmpty | None = None
    child_cpr: list[ChildCpr] = []


class ContactShared(Aggregate.Event):
    """The referrer shared the contact block with the receiver; reads as None once the household is
    erased (personal_fields.py)."""

    contact: ReferralContact | None
    at: datetime
    by: Actor

    def apply(self, aggregate: Any) -> None:
        aggregate.contact = self.contact


class ContactWithdrawn(Aggregate.Event):
    """The household withdrew its consent for `purpose`: the receiver drops what it was given under it
    (all of the block for `contact_details`, the child's CPR number for `child_cpr`)."""

    purpose: str
    at: datetime
    by: Actor

    def apply(self, aggregate: Any) -> None:
        if aggregate.contact is None:
            return
        if self.purpose == CHILD_CPR:
            aggregate.contact = aggregate.contact.model_copy(update={"child_cpr": []})
        else:
            aggregate.contact = None


def contact_block(
    household: Household, receiver: str, kind: ReferralKind, details: ReferralDetails
) -> ReferralContact | None:
    """What the household consented to let `receiver` know to reach it, or None (no contact details
    recorded, or no consent to share them with this receiver)."""
    contact = household.contact_details
    if contact is None or not household.has_consent(receiver, CONTACT_DETAILS):
        return None
    children = {child.member_id for child in details.children}
    cprs = (
        [child for child in contact.children_cpr if child.member_id in children]
        if ReferralKind(kind) is ReferralKind.DAYCARE_FAST_TRACK
        and household.has_consent(receiver, CHILD_CPR)
        else []
    )
    return ReferralContact(
        case_reference=household.case_reference,
        adult_name=contact.adult_name,
        adult_phone=contact.phone,
        language=contact.language,
        interpreter_needed=contact.interpreter_needed,
        consultant_name=contact.consultant_name,
        consultant_phone=contact.consultant_phone,
        child_cpr=cprs,
    )


def share_contact(referral: Referral, contact: ReferralContact, *, at: datetime, by: Actor) -> None:
    """Record the block on the referral: by its referrer (at its node, or applied to the receiver's copy)."""
    if by.organisation != referral.referrer:
        raise NotPermitted(
            "Only {referrer}, which sent the referral, shares the family's contact",
            referrer=referral.referrer,
        )
    if referral.contact is not None:
        raise RuleViolated("The referral already carries the family's contact details")
    if contact.child_cpr and ReferralKind(referral.kind) is not ReferralKind.DAYCARE_FAST_TRACK:
        raise NotPermitted("Only a daycare referral carries a child's CPR number")
    referral.trigger_event(type(referral).ContactShared, contact=contact, at=at, by=by)


def carries_under(referral: Referral, purpose: str) -> bool:
    """Whether the referral carries something shared under a consent for `purpose` (to withdraw it)."""
    contact = referral.contact
    if contact is None or purpose not in (CONTACT_DETAILS, CHILD_CPR):
        return False
    return purpose == CONTACT_DETAILS or bool(contact.child_cpr)


def withdraw_contact(referral: Referral, purpose: str, *, at: datetime, by: Actor) -> None:
    """The consent for `purpose` is withdrawn (GDPR art. 7(3)): by the referrer, at its node or applied to
    the receiver's copy."""
    if by.organisation != referral.referrer:
        raise NotPermitted(
            "Only {referrer}, which sent the referral, withdraws the family's contact",
            referrer=referral.referrer,
        )
    if not carries_under(referral, purpose):
        raise RuleViolated(
            "The referral carries nothing shared under a consent for {purpose}", purpose=purpose
        )
    referral.trigger_event(type(referral).ContactWithdrawn, purpose=purpose, at=at, by=by)
