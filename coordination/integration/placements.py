"""Integration events of the municipality's picture: every housing organisation's placements into
receiving areas, shared with every node of the municipality (`rehousing.placements.<municipality>`) so
that each waterbed guard counts every placement; and its offers' outcomes and every receiver's referral
timings, shared with the municipality's own nodes (`rehousing.municipal-picture.<municipality>`), where
the municipal coordinator sees across housing organisations. Nobody else needs those (data minimisation),
and each message told to every node is applied at every node.

Nothing about a household crosses here: no household id (the message's subject and key are `fact_id`, a
one-way digest of the stored event it is told from), no address, no names, no reasons in the household's
words; a month instead of a day. `reported_by` is the organisation whose node speaks (checked against the
message's source on receipt).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from coordination.domain.values import DeclinedBy, Money, NonEmpty, Place, YearMonth
from coordination.integration.events import IntegrationEvent
from coordination.integration.topics import MUNICIPAL_PICTURE, PLACEMENTS

RuleName = NonEmpty


class PlacementRecorded(IntegrationEvent):
    """A housing organisation recorded a move into a receiving area (the move's month, not its day)."""

    event_type: ClassVar[str] = "dk.rehousing.placement.recorded.v1"
    topic: ClassVar[str] = PLACEMENTS

    fact_id: UUID
    reported_by: NonEmpty
    place: Place
    month: YearMonth
    permanent: bool
    from_area: NonEmpty = Field(description="The transformation area the household is rehoused from")
    old_rent: Money
    new_rent: Money
    overrides: list[RuleName] = Field(
        default_factory=list, description="The rules the accepted offer into the area overrode"
    )
    warnings: list[RuleName] = Field(
        default_factory=list, description="The waterbed warnings that offer carried"
    )
    at: datetime


class OfferOutcomeRecorded(IntegrationEvent):
    """An offer into a receiving area was made (with its warnings and overrides), accepted, declined (by
    the household or the provider: the category, never the words) or expired."""

    event_type: ClassVar[str] = "dk.rehousing.placement.offer_outcome.v1"
    topic: ClassVar[str] = MUNICIPAL_PICTURE

    fact_id: UUID
    reported_by: NonEmpty
    place: Place
    month: YearMonth
    outcome: Literal["made", "accepted", "declined", "expired"]
    declined_by: DeclinedBy | None = None
    reason_code: str | None = Field(
        default=None, description="A decline's reason code (domain/reasons.py), never the household's words"
    )
    overrides: list[RuleName] = Field(default_factory=list)
    warnings: list[RuleName] = Field(default_factory=list)
    at: datetime


class ReferralTimed(IntegrationEvent):
    """The receiver of a referral (or handoff) acknowledged or accepted it: after how many seconds since
    its latest issue. Sent by the receiver's node, so each timing is told once."""

    event_type: ClassVar[str] = "dk.rehousing.placement.referral_timed.v1"
    topic: ClassVar[str] = MUNICIPAL_PICTURE

    fact_id: UUID
    timing_id: UUID = Field(description="The same for one issue's acknowledgement and acceptance")
    reported_by: NonEmpty
    from_org: NonEmpty
    to_org: NonEmpty
    kind: NonEmpty
    milestone: Literal["acknowledged", "accepted"]
    issued_month: YearMonth
    seconds: int = Field(ge=0)
    at: datetime


MUNICIPAL_FACTS = (PlacementRecorded, OfferOutcomeRecorded, ReferralTimed)
