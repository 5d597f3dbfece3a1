"""Who else is around a household: its consents to share with whom and why, its children's enrolments,
and its contact persons in the receiving area. A part of the Household aggregate (household.py), which
records each as its event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from coordination.domain.errors import ConsentMissing, ContactPersonNotLinked, InvalidInput, RuleViolated
from coordination.domain.household_values import ContactPerson, Enrolment, Member, MemberKind
from coordination.domain.plausibility import STARTS_ON, check_consent
from coordination.domain.values import Actor, Consent, Place


class HouseholdCircle:
    """The Household's consents, enrolments and contact persons: queries and commands (check, then record)."""

    if TYPE_CHECKING:  # the Household's state and recorders (household.py)
        case_reference: str
        members: list[Member]
        consents: list[Consent]
        contact_persons: list[ContactPerson]
        _consent_given: Callable[..., None]
        _consent_withdrawn: Callable[..., None]
        _child_enrolled: Callable[..., None]
        _contact_person_linked: Callable[..., None]
        _contact_person_unlinked: Callable[..., None]

    def has_consent(self, recipient: str, purpose: str) -> bool:
        return self.consent_for(recipient, purpose) is not None

    def consent_for(self, recipient: str, purpose: str) -> Consent | None:
        """The recorded consent to send along with a referral, so the recipient need not collect it again."""
        wanted = (recipient.lower(), purpose.lower())
        return next((c for c in self.consents if (c.recipient, c.purpose) == wanted), None)

    def member(self, member_id: str) -> Member | None:
        return next((m for m in self.members if m.member_id == member_id), None)

    def give_consent(self, *, consent: Consent, at: datetime, by: Actor) -> None:
        check_consent(consent, at=at, field="consent")
        self._consent_given(consent=consent, at=at, by=by)

    def withdraw_consent(self, *, recipient: str, purpose: str, at: datetime, by: Actor) -> None:
        if not self.has_consent(recipient, purpose):
            raise ConsentMissing(
                "Household {case_reference} has no consent for {recipient} to {purpose}",
                case_reference=self.case_reference,
                recipient=recipient,
                purpose=purpose,
            )
        self._consent_withdrawn(recipient=recipient.lower(), purpose=purpose.lower(), at=at, by=by)

    def record_enrolment(self, *, enrolment: Enrolment, at: datetime, by: Actor) -> None:
        member = self.member(enrolment.member_id)
        if member is None or member.kind != MemberKind.CHILD:
            raise InvalidInput(
                "{member_id} is not a child of household {case_reference}",
                member_id=enrolment.member_id,
                case_reference=self.case_reference,
            )
        STARTS_ON.check(enrolment.starts_on, at=at, field="enrolment.starts_on", what="The start date")
        self._child_enrolled(enrolment=enrolment, at=at, by=by)

    def record_contact_person(self, *, link_id: UUID, place: Place, at: datetime, by: Actor) -> None:
        if any(person.link_id == link_id for person in self.contact_persons):
            raise RuleViolated("Contact person link {link_id} is already active", link_id=link_id)
        self._contact_person_linked(link_id=link_id, place=place, at=at, by=by)

    def end_contact_person(self, *, link_id: UUID, at: datetime, by: Actor) -> None:
        if not any(person.link_id == link_id for person in self.contact_persons):
            raise ContactPersonNotLinked(
                "Household {case_reference} has no active contact person {link_id}",
                case_reference=self.case_reference,
                link_id=link_id,
            )
        self._contact_person_unlinked(link_id=link_id, at=at, by=by)
