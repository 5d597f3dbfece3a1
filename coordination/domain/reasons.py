"""Coded reasons: why a household or a provider said no, why a referral was withdrawn, put on hold or its
decline overridden. One stable code per reason, with optional free text beside it, so that the reasons can
be counted (the municipal view) and the households' answers learnt from, not only read one at a time.

Adapted from published lists: HUD's HMIS referral results (client rejected / provider rejected, HMIS Data
Standards 4.20), the decline reasons per role of Boston's Coordinated Access System (CAS: "household could
not be located", "ineligible", "program full", "does not want to live in the location", "hospitalised",
...), and Danish rehousing practice (rent too high, the wrong area, too far from school or work, health).
A code is data: once stored it is never renamed or reused for another meaning; a new reason gets a new
code. The labels are English sentences (the message catalogues translate whole sentences).
"""

from __future__ import annotations

from enum import StrEnum

from coordination.domain.errors import InvalidInput
from coordination.domain.values import Value, checked_reason

OTHER = "other"
# What a step recorded before reasons were coded reads as (the events' upcasts); no command takes it.
UNSPECIFIED = "unspecified"


class ReasonFor(StrEnum):
    """The step a reason is given for: each has its own list of codes."""

    HOUSEHOLD_DECLINE = "household_decline"  # HMIS: client rejected
    PROVIDER_DECLINE = "provider_decline"  # HMIS: provider rejected
    WITHDRAWAL = "withdrawal"
    HOLD = "hold"
    OVERRIDE = "override"


LABELS: dict[str, str] = {
    # The household's answer (to an offer of a dwelling, a referral, a daycare place).
    "rent_too_high": "The rent is too high for the household.",
    "wrong_area": "The dwelling is in an area the household does not want to live in.",
    "too_far_from_school": "It is too far from the children's school or daycare.",
    "too_far_from_work": "It is too far from the household's work or education.",
    "too_far_from_network": "It is too far from the household's family and network.",
    "dwelling_too_small": "The dwelling is too small for the household.",
    "dwelling_unsuitable": "The dwelling does not suit the household's needs (access, floor, layout).",
    "health": "The household's health does not allow it.",
    "has_other_housing": "The household has found housing elsewhere.",
    "wants_another_offer": "The household wants to wait for another offer.",
    "does_not_want_service": "The household does not want the service.",
    "place_not_suitable": "The daycare place offered does not suit the family.",
    # The provider's (the receiver's or the vacancy owner's) answer.
    "not_eligible": "The household is not eligible for the service or the dwelling.",
    "no_capacity": "There is no capacity: the service or programme is full.",
    "household_not_reachable": "The household could not be reached.",
    "member_in_hospital": "A member of the household is in hospital.",
    "wrong_receiver": "The referral belongs with another organisation.",
    "dwelling_not_available": "The dwelling is no longer available.",
    "health_and_safety": "A health and safety concern prevents it.",
    "already_served": "The household already receives this help.",
    # The referrer's withdrawal.
    "no_longer_needed": "The household no longer needs it.",
    "moved_away": "The household moved out of the municipality.",
    "served_elsewhere": "The household receives the help elsewhere.",
    "consent_withdrawn": "The household withdrew its consent.",
    "member_deceased": "The person the referral was about has died.",
    # A hold.
    "waiting_for_household": "Waiting for the household to answer.",
    "waiting_for_documents": "Waiting for documents or information.",
    "waiting_for_capacity": "Waiting for a free place.",
    # A coordinator's override of a decline.
    "decline_not_valid": "The reason given for the decline does not hold.",
    "household_changed_mind": "The household has changed its mind.",
    "circumstances_changed": "The household's circumstances have changed.",
    "acute_need": "The household's need is acute.",
    OTHER: "Another reason, described in the text.",
    UNSPECIFIED: "No reason code was recorded (the step was recorded before reasons were coded).",
}

CODES: dict[ReasonFor, tuple[str, ...]] = {
    ReasonFor.HOUSEHOLD_DECLINE: (
        "rent_too_high",
        "wrong_area",
        "too_far_from_school",
        "too_far_from_work",
        "too_far_from_network",
        "dwelling_too_small",
        "dwelling_unsuitable",
        "health",
        "has_other_housing",
        "wants_another_offer",
        "does_not_want_service",
        "place_not_suitable",
        OTHER,
    ),
    ReasonFor.PROVIDER_DECLINE: (
        "not_eligible",
        "no_capacity",
        "household_not_reachable",
        "member_in_hospital",
        "wrong_receiver",
        "dwelling_not_available",
        "health_and_safety",
        "already_served",
        OTHER,
    ),
    ReasonFor.WITHDRAWAL: (
        "no_longer_needed",
        "moved_away",
        "served_elsewhere",
        "has_other_housing",
        "consent_withdrawn",
        "household_not_reachable",
        "member_deceased",
        OTHER,
    ),
    ReasonFor.HOLD: (
        "waiting_for_household",
        "household_not_reachable",
        "waiting_for_documents",
        "member_in_hospital",
        "waiting_for_capacity",
        OTHER,
    ),
    ReasonFor.OVERRIDE: (
        "decline_not_valid",
        "household_changed_mind",
        "circumstances_changed",
        "acute_need",
        OTHER,
    ),
}


class CodedReason(Value):
    """A reason as recorded: its code, and the caseworker's words beside it ("" when none were given)."""

    code: str
    text: str = ""

    @property
    def label(self) -> str:
        return label(self.code)


def label(code: str) -> str:
    """The English sentence for a code; a code this version does not know reads as itself."""
    return LABELS.get(code, code)


def coded_reason(reason_for: ReasonFor, code: str | None, text: str | None) -> CodedReason:
    """Check a reason given for a step: a code of the step's list, free text optional beside it, required
    with `other`. Text without a code is `other` (how every reason was given before codes existed)."""
    text = (text or "").strip()
    if code is None or not code.strip():
        if not text:
            raise InvalidInput(f"A reason code is required, one of: {', '.join(CODES[reason_for])}")
        code = OTHER
    code = code.strip().lower()
    if code not in CODES[reason_for]:
        raise InvalidInput(
            f"{code!r} is not a reason code for a {reason_for.value.replace('_', ' ')}; "
            f"one of: {', '.join(CODES[reason_for])}"
        )
    if code == OTHER and not text:
        raise InvalidInput("The reason code 'other' needs the reason described in the text")
    return CodedReason(code=code, text=checked_reason(text) if text else "")
