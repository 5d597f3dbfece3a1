"""What the handoff status says about a household at a moment, and the one derivation of it from facts.

Two sources answer the question: the handoff-status read model (from its rows) and the audit's as-of
reconstruction (from aggregates replayed to a moment). Both hand their facts to `referral_state` and
`household_status`, so what counts as overdue, stalled or followed up is decided here once, and the two
answers can be set side by side.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema

from coordination.domain.network import Item, ItemKind, Membership, NetworkPicture
from coordination.domain.policy import RehousingPolicy
from coordination.domain.referral import ReferralKind, ReferralStatus
from coordination.domain.values import Holder


def iso_duration(value: timedelta) -> str:
    """An RFC 3339 duration (JSON Schema's `duration`) of whole days and seconds, e.g. "P542DT9H18M28S".

    pydantic writes "P1Y177DT9H18M28.66S": 365-day years, a year followed by days without months, and
    fractions of a second, none of which RFC 3339's grammar allows. An age is never negative (a referral
    stamped later than the reader's clock is zero days old)."""
    seconds = max(0, int(value.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    return f"P{days}DT{hours}H{minutes}M{seconds}S"


Duration = Annotated[
    timedelta,
    PlainSerializer(iso_duration, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "duration"}),
]


class ReferralState(BaseModel):
    """An open referral or handoff as of `now`, with its due dates and what is overdue."""

    model_config = ConfigDict(frozen=True)

    referral_id: UUID
    household_id: UUID
    kind: ReferralKind
    is_handoff: bool
    referrer: str
    receiver: str
    status: ReferralStatus
    sent_at: datetime
    age: Duration
    acknowledge_by: datetime
    complete_by: datetime
    acknowledged_at: datetime | None
    accepted_at: datetime | None
    acknowledgement_overdue: bool  # still not acknowledged after acknowledge_by
    acknowledged_late: bool  # acknowledged, but after acknowledge_by
    completion_overdue: bool
    stalled: bool


class PendingHandoffState(BaseModel):
    model_config = ConfigDict(frozen=True)

    referral_id: UUID
    to: Holder
    issued_at: datetime


class HouseholdStatus(BaseModel):
    """Who holds a household now and what is open about it (holder is None where the node does not own it)."""

    model_config = ConfigDict(frozen=True)

    household_id: UUID
    holder: Holder | None
    pending_handoff: PendingHandoffState | None
    moved_on: date | None
    follow_up_due: date | None
    follow_up_done: bool
    follow_up_overdue: bool
    open_referrals: list[ReferralState]
    # From the household's network (docs/design.md §4): the same at the owner's node and every member's.
    owner: str | None = None
    members: list[Membership] = []
    open_support_links: list[Item] = []
    settlement_gaps: list[str] = []
    settled_at: datetime | None = None
    network_version: int | None = None  # the owner's version of the network this answer is from


def referral_state(
    now: datetime,
    policy: RehousingPolicy,
    *,
    referral_id: UUID,
    household_id: UUID,
    kind: ReferralKind,
    referrer: str,
    receiver: str,
    status: ReferralStatus,
    sent_at: datetime,
    acknowledge_by: datetime,
    complete_by: datetime,
    acknowledged_at: datetime | None,
    accepted_at: datetime | None,
    last_step_at: datetime,
) -> ReferralState:
    """A referral's state at `now` from its facts: its age and what is overdue or stalled then."""
    return ReferralState(
        referral_id=referral_id,
        household_id=household_id,
        kind=kind,
        is_handoff=kind is ReferralKind.HANDOFF,
        referrer=referrer,
        receiver=receiver,
        status=status,
        sent_at=sent_at,
        age=now - sent_at,
        acknowledge_by=acknowledge_by,
        complete_by=complete_by,
        acknowledged_at=acknowledged_at,
        accepted_at=accepted_at,
        acknowledgement_overdue=status is ReferralStatus.SENT and now > acknowledge_by,
        acknowledged_late=acknowledged_at is not None and acknowledged_at > acknowledge_by,
        completion_overdue=status.is_open and now > complete_by,
        stalled=status.is_open and now - last_step_at > timedelta(days=policy.stalled_after_days),
    )


def household_status(
    household_id: UUID,
    now: datetime,
    policy: RehousingPolicy,
    open_referrals: list[ReferralState],
    *,
    holder: Holder | None = None,
    pending_handoff: PendingHandoffState | None = None,
    moved_on: date | None = None,
    visited_on: date | None = None,
) -> HouseholdStatus:
    """A household's status at `now` from its facts (`visited_on`: the latest follow-up visit). Without a
    holder (a node that does not own the household) only its open referrals are known."""
    due = None if moved_on is None else policy.follow_up_due(moved_on)
    # A visit counts for the latest move only; before any move there is nothing to follow up.
    done = moved_on is not None and visited_on is not None and visited_on >= moved_on
    return HouseholdStatus(
        household_id=household_id,
        holder=holder,
        pending_handoff=pending_handoff,
        moved_on=moved_on,
        follow_up_due=due,
        follow_up_done=done,
        follow_up_overdue=due is not None and not done and now.date() > due,
        open_referrals=sorted(open_referrals, key=lambda state: (state.sent_at, str(state.referral_id))),
    )


def status_from_picture(picture: NetworkPicture, now: datetime, policy: RehousingPolicy) -> HouseholdStatus:
    """A household's status at `now` from its network's picture: what the owner's node and every member's
    node answer alike (the overdue flags are worked out from the picture's due dates at `now`)."""
    open_referrals = [
        referral_state(
            now,
            policy,
            referral_id=item.item_id,
            household_id=picture.household_id,
            kind=ReferralKind(item.subtype),
            referrer=item.from_org,
            receiver=item.to_org,
            status=ReferralStatus(item.state),
            sent_at=item.opened_at,
            acknowledge_by=item.acknowledge_by or item.opened_at,
            complete_by=item.complete_by or item.opened_at,
            acknowledged_at=item.acknowledged_at,
            accepted_at=item.accepted_at,
            last_step_at=item.last_step_at,
        )
        for item in picture.open_items()
        if item.kind is not ItemKind.SUPPORT_LINK
    ]
    household = picture.household
    pending = None
    if household is not None and household.pending_handoff is not None:
        handoff = household.pending_handoff
        pending = PendingHandoffState(
            referral_id=handoff.referral_id, to=handoff.to, issued_at=handoff.issued_at
        )
    due = household.follow_up_due if household is not None else None
    done = household is not None and household.follow_up_done
    return HouseholdStatus(
        household_id=picture.household_id,
        holder=household.holder if household is not None else None,
        pending_handoff=pending,
        moved_on=household.moved_on if household is not None else None,
        follow_up_due=due,
        follow_up_done=done,
        follow_up_overdue=due is not None and not done and now.date() > due,
        open_referrals=sorted(open_referrals, key=lambda state: (state.sent_at, str(state.referral_id))),
        owner=picture.owner,
        members=picture.members,
        open_support_links=[i for i in picture.open_items() if i.kind is ItemKind.SUPPORT_LINK],
        # The household's own criteria, and anything still open across its network (settling waits).
        settlement_gaps=[*household.settlement_gaps, *picture.settlement_gaps()]
        if household is not None
        else [],
        settled_at=household.settled_at if household is not None else None,
        network_version=picture.version,
    )


class HandoffLatency(BaseModel):
    model_config = ConfigDict(frozen=True)

    referral_id: UUID
    from_org: str
    to_org: str
    kind: str
    issued_at: datetime  # the latest issue: sent, redirected or sent again after an overridden decline
    to_acknowledgement: timedelta | None
    to_acceptance: timedelta | None
