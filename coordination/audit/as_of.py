"""State as of any moment, reconstructed from history: any aggregate, and a household's handoff status.

"As of a moment" reads the events' business time `at` (what was true then in the business, the time
the caseworker gave), not the time the store recorded them; `clock=RECORDED` asks the other question
(what the node knew then). History replays in recorded order, so the state as of `t` is the state after
the longest run of an aggregate's first events dated at or before `t`: a step recorded after one dated
later than `t` is not part of it, even if it is backdated, because it was not yet part of that history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from pydantic import BaseModel

from coordination.applications.answers import HouseholdView, ReferralView, SupportLinkView, VacancyView
from coordination.applications.replay import replay
from coordination.domain.errors import InvalidInput, NotFound
from coordination.domain.household import Household
from coordination.domain.policy import DEFAULT_POLICY, RehousingPolicy
from coordination.domain.referral import Referral
from coordination.domain.support_link import SupportLink
from coordination.domain.vacancy import Vacancy
from coordination.projections.household_status import (
    HouseholdStatus,
    PendingHandoffState,
    ReferralState,
    household_status,
    referral_state,
)


class Clock(StrEnum):
    BUSINESS = "business"  # the event's `at`
    RECORDED = "recorded"  # the event's stored timestamp


def version_as_of(events: Iterable[Any], moment: datetime, clock: Clock = Clock.BUSINESS) -> int | None:
    """The version after the longest run of first events dated at or before `moment`; None if none is."""
    history = _history_as_of(events, moment, clock)
    return history[-1].originator_version if history else None


def _history_as_of(events: Iterable[Any], moment: datetime, clock: Clock) -> list[Any]:
    if moment.tzinfo is None:
        raise InvalidInput("An as-of moment needs a time zone, e.g. 2026-03-01T12:00+01:00")
    history = []
    for event in events:
        when = event.timestamp if clock is Clock.RECORDED else getattr(event, "at", event.timestamp)
        if when > moment:
            break
        history.append(event)
    return history


def aggregate_as_of(
    app: Application[UUID],
    aggregate_id: UUID,
    *,
    moment: datetime | None = None,
    version: int | None = None,
    clock: Clock = Clock.BUSINESS,
) -> Aggregate:
    """The aggregate as it stood at `moment` (or at `version`), replayed from this node's stored events."""
    if (moment is None) == (version is None):
        raise InvalidInput("Give either a moment or a version")
    if moment is not None:
        # The events are read and decoded once: the ones that had happened by then are replayed as read.
        history = _history_as_of(app.repository.event_store.get(aggregate_id), moment, clock)
        if not history:
            raise NotFound(
                "{aggregate_id} did not exist yet at {moment} at this node",
                aggregate_id=aggregate_id,
                moment=moment,
            )
        return replay(None, history)
    try:
        aggregate: Aggregate = app.repository.get(aggregate_id, version=version, projector_func=replay)
    except AggregateNotFoundError:
        raise NotFound(
            "No aggregate {aggregate_id} is stored at this node", aggregate_id=aggregate_id
        ) from None
    if aggregate.version != version:
        raise NotFound(
            "{aggregate_id} has no version {version} (it is at version {current})",
            aggregate_id=aggregate_id,
            version=version,
            current=aggregate.version,
        )
    return aggregate


def view_of(aggregate: Aggregate, moment: datetime, policy: RehousingPolicy = DEFAULT_POLICY) -> BaseModel:
    """The aggregate printed as the view the application hands out (for a household: as of `moment`)."""
    if isinstance(aggregate, Household):
        return HouseholdView.of(aggregate, policy, moment.date())
    if isinstance(aggregate, Referral):
        return ReferralView.of(aggregate)
    if isinstance(aggregate, SupportLink):
        return SupportLinkView.of(aggregate)
    if isinstance(aggregate, Vacancy):
        return VacancyView.of(aggregate)
    raise InvalidInput("{kind} {id} has no audit view", kind=type(aggregate).__name__, id=aggregate.id)


def handoff_status_as_of(
    household_id: UUID,
    household: Household | None,
    referrals: Sequence[Referral],
    now: datetime,
    policy: RehousingPolicy = DEFAULT_POLICY,
) -> HouseholdStatus:
    """Who held the household at `now`, its pending handoff, and its open referrals with what was overdue.

    A pure function of aggregates reconstructed as of `now`, answering in the handoff-status read
    model's terms, so an audit can set the two side by side. `household` is None at a node that does
    not own it (there the holder is not known, as in the read model).
    """
    open_referrals = [
        _referral_state(r, now, policy)
        for r in referrals
        if r.household_id == household_id and r.status.is_open
    ]
    if household is None:
        return household_status(household_id, now, policy, open_referrals)
    pending = household.pending_handoff
    return household_status(
        household_id,
        now,
        policy,
        open_referrals,
        holder=household.holder,
        pending_handoff=None
        if pending is None
        else PendingHandoffState(referral_id=pending.referral_id, to=pending.to, issued_at=pending.issued_at),
        moved_on=None if household.move is None else household.move.moved_on,
        visited_on=max(household.follow_up_visits, default=None),
    )


def _referral_state(referral: Referral, now: datetime, policy: RehousingPolicy) -> ReferralState:
    return referral_state(
        now,
        policy,
        referral_id=referral.id,
        household_id=referral.household_id,
        kind=referral.kind,
        referrer=referral.referrer,
        receiver=referral.receiver,
        status=referral.status,
        sent_at=referral.sent_at,
        acknowledge_by=referral.acknowledge_by,
        complete_by=referral.complete_by,
        acknowledged_at=referral.acknowledged_at,
        accepted_at=referral.accepted_at,
        last_step_at=referral.last_step_at,
    )


def household_status_as_of(
    app: Any, household_id: UUID, now: datetime, policy: RehousingPolicy = DEFAULT_POLICY
) -> HouseholdStatus:
    """The handoff status of a household at this node as of `now`, from its history (`app.history`)."""
    household: Household | None = None
    referrals: list[Referral] = []
    related = {(entry.aggregate, entry.aggregate_id) for entry in app.history(household_id)}
    for kind, aggregate_id in sorted(related, key=str):
        if kind not in ("Household", "Referral"):
            continue
        try:
            aggregate = aggregate_as_of(app, aggregate_id, moment=now)
        except NotFound:
            continue  # not yet in existence then
        if isinstance(aggregate, Household):
            household = aggregate
        elif isinstance(aggregate, Referral):
            referrals.append(aggregate)
    return handoff_status_as_of(household_id, household, referrals, now, policy)
