"""The rules a referral is checked against when it is sent or redirected (referral.py): a time zone on
every time, exactly one lawful basis, plausible dates, a daycare fast-track's details and its due date; and
at every step: who may take it, in which status, dated when."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, time

from coordination.domain.calendar import COPENHAGEN, copenhagen_day
from coordination.domain.errors import ConsentMissing, InvalidInput, NotPermitted, ReferralNotOpen, Sentence
from coordination.domain.plausibility import NEEDED_FROM, check_birth_month, check_consent
from coordination.domain.policy import RehousingPolicy
from coordination.domain.referral_values import ReferralDetails, ReferralKind, ReferralStatus
from coordination.domain.values import Actor, Consent, checked_reason


def require_aware(at: datetime) -> None:
    if at.tzinfo is None:
        raise InvalidInput("A referral's times must carry a time zone; the domain never guesses one")


def lawful_basis(consent: Consent | None, legal_basis: str | None, receiver: str) -> str | None:
    """Exactly one lawful basis: the household's consent naming the receiver, or a legal basis."""
    if consent is None and legal_basis is None:
        raise ConsentMissing(
            "Sharing the household's data with {receiver} needs its consent or a legal basis",
            receiver=receiver,
        )
    if consent is not None and legal_basis is not None:
        raise InvalidInput("Give either the household's consent or a legal basis, not both")
    if consent is not None:
        if consent.recipient != receiver.lower():
            raise ConsentMissing(
                "The consent names {recipient}, not the receiver {receiver}",
                recipient=consent.recipient,
                receiver=receiver,
            )
        return None
    assert legal_basis is not None
    return checked_reason(legal_basis, what="legal basis")


def check_dates(details: ReferralDetails, consent: Consent | None, at: datetime) -> None:
    """The referral's dates are plausible around the time it is sent (domain/plausibility.py)."""
    if consent is not None:
        check_consent(consent, at=at, field="consent")
    if details.needed_from is not None:
        NEEDED_FROM.check(
            details.needed_from, at=at, field="details.needed_from", what="The date needed from"
        )
    for index, child in enumerate(details.children):
        field = f"details.children[{index}].birth_month"
        check_birth_month(child.birth_month, at=at, field=field)


def require_daycare_details(details: ReferralDetails) -> None:
    missing = []  # each its own sentence, so the edge translates each
    if len(details.children) != 1:
        missing.append(Sentence("exactly one child (got {count})", count=len(details.children)))
    if details.needed_from is None:
        missing.append(Sentence("the date the place is needed from"))
    if details.place is None:
        missing.append(Sentence("the new address's area"))
    if missing:
        raise InvalidInput("A daycare fast-track referral needs {missing}", missing=missing)


def require_description(kind: ReferralKind, details: ReferralDetails) -> None:
    """A referral of kind `other` says what it asks for: the receiver has no kind to go by."""
    if kind is ReferralKind.OTHER and not (details.note or "").strip():
        raise InvalidInput("A referral of kind other needs a description of what it asks for in its note")


def completion_due(
    kind: ReferralKind, details: ReferralDetails, policy: RehousingPolicy, at: datetime
) -> datetime:
    """When the referral must be done: for daycare the guarantee date (never before the place is needed)."""
    if kind is not ReferralKind.DAYCARE_FAST_TRACK:
        return policy.completion_due(at, urgent=details.urgent)
    assert details.needed_from is not None
    # The application date is the Copenhagen calendar day the referral was sent, whatever zone `at` is in.
    applied_on = copenhagen_day(at)
    due_on = max(
        policy.daycare_guarantee_date(applied_on, details.children[0].birth_month), details.needed_from
    )
    return datetime.combine(due_on, time.max, COPENHAGEN)


def require_party(party: str, expected: str, by: Actor, step: str, referral: str) -> None:
    """Only the referral's receiver (or referrer, as `party` says) takes this step."""
    if by.organisation == expected:
        return
    if party == "receiver":
        raise NotPermitted(
            "Only the receiver {receiver} may {step} referral {referral}, not {organisation}",
            receiver=expected,
            step=step,
            referral=referral,
            organisation=by.organisation,
        )
    raise NotPermitted(
        "Only the referrer {referrer} may {step} referral {referral}, not {organisation}",
        referrer=expected,
        step=step,
        referral=referral,
        organisation=by.organisation,
    )


def require_step(
    status: ReferralStatus,
    last_step_at: datetime,
    step: str,
    at: datetime,
    allowed: Collection[ReferralStatus],
    referral: str,
) -> None:
    """The step is allowed in the referral's status, and dated no earlier than its last step."""
    if status not in allowed:
        raise ReferralNotOpen(
            "Referral {referral} is {words}; it cannot be {step}",
            referral=referral,
            words=status.words,
            step=step,
        )
    require_aware(at)
    # History is read as a sequence (latency, audits): a step dated before the last one would reorder it.
    if at < last_step_at:
        raise InvalidInput(
            "A step at {at} is dated before the referral's last step at {last_step_at}",
            at=at,
            last_step_at=last_step_at,
        )
