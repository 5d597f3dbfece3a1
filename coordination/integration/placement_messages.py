"""Which stored events become the municipality's picture (coordination/integration/placements.py).

Facts without a household: placements to every node of the municipality, offers' outcomes and referral
timings to its own nodes. The message's subject (and key) is the fact's own id, never the household's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from coordination.applications.base import NodeApplication, derived_id
from coordination.domain.calendar import copenhagen_day
from coordination.domain.household import Household
from coordination.domain.household_values import OfferStatus
from coordination.domain.referral import Referral
from coordination.domain.referral_values import ReferralStatus
from coordination.domain.vacancy import Vacancy
from coordination.domain.values import YearMonth
from coordination.integration import placements as p
from coordination.integration.events import Addressed, IntegrationEvent
from coordination.integration.topics import PLACEMENTS, Topics

Mapping = Callable[[Any], list[Addressed]]


class PlacementMessages:
    """The municipality's picture's part of a node's `Outbound` (its own table, told beside the Outbound's)."""

    def __init__(
        self,
        app: NodeApplication,
        topics: Topics,
        at_version: Callable[[Any], Any],
        municipalities: Sequence[str],
    ) -> None:
        """`municipalities`: the node's own; the first is where its referral timings are told."""
        self.topics = topics
        self.organisation = app.organisation
        self.municipalities = list(municipalities)
        self._at_version = at_version

    def mapping(self) -> dict[type[Any], Mapping]:
        return {
            Household.Moved: self._placement,
            Household.OfferReceived: self._offer_made,
            # An offer's answer is told by the vacancy's owner, whose step on the vacancy it is (the vacancy
            # as the step left it is loaded once for both messages), whoever's household held the offer.
            Vacancy.OfferAccepted: self._offer_outcome,
            Vacancy.OfferDeclined: self._offer_outcome,
            Vacancy.OfferExpired: self._offer_outcome,
            Referral.Acknowledged: self._referral_timed,
            Referral.Accepted: self._referral_timed,
        }

    def _fact_id(self, *parts: object) -> UUID:
        """The fact's id, derived from the stored event it is told from (the same on every re-publish, and
        the same for the same seed: the demo's history is deterministic). It is a one-way digest: only an
        organisation that already knows the household's id (one in its network) could test a fact against
        it; a digest under a per-node secret would close that, at the cost of that determinism."""
        return derived_id("shared-fact", self.organisation, *parts)

    def _shared(self, event: IntegrationEvent, municipality: str) -> list[Addressed]:
        fact_id = event.fact_id  # type: ignore[attr-defined]
        if event.topic == PLACEMENTS:
            topic = self.topics.placements(municipality)
        else:
            topic = self.topics.municipal_picture(municipality)
        return [Addressed(event, topic, subject=fact_id)]

    def _placement(self, e: Household.Moved) -> list[Addressed]:
        household: Household = self._at_version(e)
        move = e.move
        accepted = [
            o for o in household.offers if o.status == OfferStatus.ACCEPTED and o.dwelling.place == move.place
        ]
        offer = accepted[-1] if accepted else None
        placement = p.PlacementRecorded(
            fact_id=self._fact_id("placement", e.originator_id, e.originator_version),
            reported_by=self.organisation,
            place=move.place,
            month=_month(move.moved_on),
            permanent=move.permanent,
            from_area=household.origin.transformation_area,
            old_rent=move.old_rent,
            new_rent=move.new_rent,
            overrides=[] if offer is None else [o.rule for o in offer.overrides],
            warnings=[] if offer is None else [w.rule for w in offer.warnings],
            at=e.at,
        )
        return self._shared(placement, move.place.municipality)

    def _offer_made(self, e: Household.OfferReceived) -> list[Addressed]:
        made = p.OfferOutcomeRecorded(
            fact_id=self._fact_id("offer", e.offer_id, "made"),
            reported_by=self.organisation,
            place=e.dwelling.place,
            month=_month(e.at),
            outcome="made",
            overrides=[o.rule for o in e.overrides],
            warnings=[w.rule for w in getattr(e, "warnings", None) or ()],
            at=e.at,
        )
        return self._shared(made, e.dwelling.place.municipality)

    def _offer_outcome(self, e: Any) -> list[Addressed]:
        vacancy: Vacancy = self._at_version(e)
        if vacancy.owner != self.organisation:
            return []  # a mirror of another's vacancy: its owner tells
        outcome = {
            Vacancy.OfferAccepted: "accepted",
            Vacancy.OfferDeclined: "declined",
            Vacancy.OfferExpired: "expired",
        }[type(e)]
        place = vacancy.dwelling.place
        answered = p.OfferOutcomeRecorded(
            fact_id=self._fact_id("offer", e.offer_id, outcome),
            reported_by=self.organisation,
            place=place,
            month=_month(e.at),
            outcome=outcome,
            declined_by=getattr(e, "declined_by", None),
            reason_code=getattr(e, "reason_code", None),
            at=e.at,
        )
        return self._shared(answered, place.municipality)

    def _referral_timed(self, e: Any) -> list[Addressed]:
        if e.by.organisation != self.organisation or not self.municipalities:
            return []  # the receiver's node tells its own timing, once
        referral: Referral = self._at_version(e)
        issued = [step.at for step in referral.history if step.status == ReferralStatus.SENT]
        if not issued or e.at < issued[-1]:
            return []
        milestone = "acknowledged" if isinstance(e, Referral.Acknowledged) else "accepted"
        timed = p.ReferralTimed(
            fact_id=self._fact_id("referral-timing", e.originator_id, e.originator_version),
            timing_id=self._fact_id("referral-issue", e.originator_id, issued[-1].isoformat()),
            reported_by=self.organisation,
            from_org=referral.referrer,
            to_org=referral.receiver,
            kind=str(referral.kind),
            milestone=milestone,
            issued_month=_month(issued[-1]),
            seconds=int((e.at - issued[-1]).total_seconds()),
            at=e.at,
        )
        return self._shared(timed, self.municipalities[0])


def _month(day: Any) -> YearMonth:
    """The month of a day, or of a moment as Copenhagen counts it."""
    if isinstance(day, datetime):
        day = copenhagen_day(day)
    return YearMonth(year=day.year, month=day.month)
