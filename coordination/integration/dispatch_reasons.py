"""How a node applies the referral steps the other party took with a coded reason (a hold, a decline, an
override, a withdrawal) and a daycare place's steps (offered, accepted, declined by the family): a part
of the dispatch table (dispatch.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from coordination.applications.base import NodeApplication
from coordination.applications.referrals import ReferralDesk
from coordination.domain.errors import NotPermitted
from coordination.domain.reasons import OTHER
from coordination.integration import referrals as r
from coordination.integration.events import IntegrationEvent


def _desk(app: NodeApplication, command: str) -> ReferralDesk:
    if not isinstance(app, ReferralDesk):
        raise NotPermitted(f"{app.organisation} ({type(app).__name__}) does not take {command}")
    return app


def _code(reason_code: str | None) -> str | None:
    # `other` beside free text is what the text alone is recorded as (domain/reasons.py): applied without a
    # code, a step fingerprints as it did before codes existed, and a redelivered old message still matches.
    return None if reason_code in (None, OTHER) else reason_code


def _on_hold(app: NodeApplication, c: UUID, e: r.ReferralPutOnHold) -> object:
    desk = _desk(app, "put_referral_on_hold")
    return desk.put_referral_on_hold(
        command_id=c,
        referral_id=e.referral_id,
        reason=e.reason,
        reason_code=_code(e.reason_code),
        at=e.at,
        by=e.by,
    )


def _declined(app: NodeApplication, c: UUID, e: r.ReferralDeclined) -> object:
    return _desk(app, "decline_referral").decline_referral(
        command_id=c,
        referral_id=e.referral_id,
        declined_by=e.declined_by,
        reason=e.reason,
        reason_code=_code(e.reason_code),
        at=e.at,
        by=e.by,
    )


def _decline_overridden(app: NodeApplication, c: UUID, e: r.ReferralDeclineOverridden) -> object:
    return _desk(app, "override_referral_decline").override_referral_decline(
        command_id=c,
        referral_id=e.referral_id,
        reason=e.reason,
        reason_code=_code(e.reason_code),
        at=e.at,
        by=e.by,
    )


def _withdrawn(app: NodeApplication, c: UUID, e: r.ReferralWithdrawn) -> object:
    desk = _desk(app, "withdraw_referral")
    return desk.withdraw_referral(
        command_id=c,
        referral_id=e.referral_id,
        reason=e.reason,
        reason_code=_code(e.reason_code),
        at=e.at,
        by=e.by,
    )


def _place_offered(app: NodeApplication, c: UUID, e: r.ReferralPlaceOffered) -> object:
    # The department's step applied to the referrer's copy: § 26 a was assessed where it was taken.
    return _desk(app, "offer_daycare_place").offer_daycare_place(
        command_id=c,
        referral_id=e.referral_id,
        institution=e.institution,
        starts_on=e.starts_on,
        priority_reason=e.priority_reason,
        counts_under_26a=e.counts_under_26a,
        intake=None,
        overrides=e.overrides,
        at=e.at,
        by=e.by,
    )


def _place_accepted(app: NodeApplication, c: UUID, e: r.ReferralPlaceAccepted) -> object:
    return _desk(app, "accept_daycare_place").accept_daycare_place(
        command_id=c, referral_id=e.referral_id, at=e.at, by=e.by
    )


def _place_declined(app: NodeApplication, c: UUID, e: r.ReferralPlaceDeclined) -> object:
    return _desk(app, "decline_daycare_place").decline_daycare_place(
        command_id=c,
        referral_id=e.referral_id,
        reason=e.reason,
        reason_code=_code(e.reason_code),
        at=e.at,
        by=e.by,
    )


REASONED_STEPS: tuple[tuple[type[IntegrationEvent], Callable[[NodeApplication, UUID, Any], object]], ...] = (
    (r.ReferralPutOnHold, _on_hold),
    (r.ReferralDeclined, _declined),
    (r.ReferralDeclineOverridden, _decline_overridden),
    (r.ReferralWithdrawn, _withdrawn),
    (r.ReferralPlaceOffered, _place_offered),
    (r.ReferralPlaceAccepted, _place_accepted),
    (r.ReferralPlaceDeclined, _place_declined),
)
