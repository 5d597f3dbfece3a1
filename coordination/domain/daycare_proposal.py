"""The fast-track daycare referral proposed when a household with a child needing daycare has accepted an
offer: a proposal the consultant confirms (by referring the household), never a referral sent by itself.
The 2023 report's practice: the children and youth department learns of the child as soon as the new
address is known, so the place can be ready from the move."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from coordination.domain.household import Household
from coordination.domain.household_values import MemberKind, OfferStatus
from coordination.domain.values import ReferralKind, Value

PROPOSAL_REASON = "An offer was accepted for a household with a child who needs daycare."


class ProposedReferral(Value):
    """A referral the consultant may confirm: its kind, the child, the date needed and the receiver
    named by the household's consent for it (None when no consent names one yet)."""

    kind: ReferralKind
    child_id: str
    needed_from: date
    receiver: str | None
    reason: str = PROPOSAL_REASON


def proposed_daycare_referrals(household: Household, referred: Collection[str]) -> list[ProposedReferral]:
    """One proposal per child needing daycare not yet `referred` (member ids of the household's open or
    completed daycare referrals), once an offer is accepted or the household has moved."""
    accepted = [offer for offer in household.offers if offer.status == OfferStatus.ACCEPTED]
    move = household.move
    if move is None and not accepted:
        return []
    needed_from = move.moved_on if move is not None else accepted[-1].dwelling.available_from
    purpose = ReferralKind.DAYCARE_FAST_TRACK.value
    consent = next((c for c in household.consents if c.purpose == purpose), None)
    return [
        ProposedReferral(
            kind=ReferralKind.DAYCARE_FAST_TRACK,
            child_id=member.member_id,
            needed_from=needed_from,
            receiver=None if consent is None else consent.recipient,
        )
        for member in household.members
        if member.kind == MemberKind.CHILD and member.needs_daycare and member.member_id not in referred
    ]
