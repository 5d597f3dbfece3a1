"""Every node keeps the municipality's picture: the placements, offer outcomes and referral timings other
organisations share (coordination/domain/municipal_picture.py), each as a mirror of its own."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from coordination.applications.base import NodeApplication, derived_id
from coordination.applications.commands import Decision, command
from coordination.domain.errors import InvalidInput
from coordination.domain.municipal_picture import SharedOfferOutcome, SharedPlacement, SharedReferralTiming
from coordination.domain.values import DeclinedBy, Money, Place, YearMonth


def shared_fact_id(reported_by: str, fact_id: UUID) -> UUID:
    """Where a node keeps another organisation's fact: one aggregate per (organisation, fact), so the same
    fact received again, under any message id, collides instead of counting twice."""
    return derived_id("shared-fact", reported_by, fact_id)


class MunicipalPictureDesk(NodeApplication):
    """Keeps what the other organisations of the municipality share; a node's own facts are in its own
    history already (its households' moves and offers, its referrals' steps) and are never kept twice."""

    def _kept_once(
        self, reported_by: str, fact_id: UUID, make: type[Aggregate], **fact: object
    ) -> Decision[UUID]:
        if reported_by == self.organisation:
            raise InvalidInput(f"{reported_by}'s own facts are in its own history, not kept as shared")
        aggregate_id = shared_fact_id(reported_by, fact_id)
        if self._exists(aggregate_id):
            return aggregate_id, []  # told again under another message id (not a re-publish): kept once
        keep = make.keep  # type: ignore[attr-defined]
        return aggregate_id, [keep(id=aggregate_id, reported_by=reported_by, fact_id=fact_id, **fact)]

    @command()
    def keep_shared_placement(
        self,
        *,
        command_id: UUID,
        reported_by: str,
        fact_id: UUID,
        place: Place,
        month: YearMonth,
        permanent: bool,
        from_area: str,
        old_rent: Money,
        new_rent: Money,
        overrides: Sequence[str],
        warnings: Sequence[str],
        at: datetime,
    ) -> Decision[UUID]:
        return self._kept_once(
            reported_by,
            fact_id,
            SharedPlacement,
            place=place,
            month=month,
            permanent=permanent,
            from_area=from_area,
            old_rent=old_rent,
            new_rent=new_rent,
            overrides=list(overrides),
            warnings=list(warnings),
            at=at,
        )

    @command(added=("reason_code",))
    def keep_shared_offer_outcome(
        self,
        *,
        command_id: UUID,
        reported_by: str,
        fact_id: UUID,
        place: Place,
        month: YearMonth,
        outcome: str,
        declined_by: DeclinedBy | None,
        overrides: Sequence[str],
        warnings: Sequence[str],
        at: datetime,
        reason_code: str | None = None,
    ) -> Decision[UUID]:
        return self._kept_once(
            reported_by,
            fact_id,
            SharedOfferOutcome,
            place=place,
            month=month,
            outcome=outcome,
            declined_by=declined_by,
            reason_code=reason_code,
            overrides=list(overrides),
            warnings=list(warnings),
            at=at,
        )

    @command()
    def keep_shared_referral_timing(
        self,
        *,
        command_id: UUID,
        reported_by: str,
        fact_id: UUID,
        timing_id: UUID,
        from_org: str,
        to_org: str,
        kind: str,
        milestone: str,
        issued_month: YearMonth,
        seconds: int,
        at: datetime,
    ) -> Decision[UUID]:
        return self._kept_once(
            reported_by,
            fact_id,
            SharedReferralTiming,
            timing_id=timing_id,
            from_org=from_org,
            to_org=to_org,
            kind=kind,
            milestone=milestone,
            issued_month=issued_month,
            seconds=seconds,
            at=at,
        )
