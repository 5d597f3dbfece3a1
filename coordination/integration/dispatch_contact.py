"""How a node applies the family's contact its referrer shared with it, and the withdrawal of a consent it
was shared under (domain/referral_contact.py): a part of the dispatch table (dispatch.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from coordination.applications.base import NodeApplication
from coordination.applications.referrals import ReferralDesk
from coordination.domain.errors import NotPermitted
from coordination.integration import referrals as r
from coordination.integration.events import IntegrationEvent


def _desk(app: NodeApplication, command: str) -> ReferralDesk:
    if not isinstance(app, ReferralDesk):
        raise NotPermitted("{node} does not take {command}", node=app.organisation, command=command)
    return app


def _contact_shared(app: NodeApplication, c: UUID, e: r.ReferralContactShared) -> object:
    if e.contact is None:
        return None  # sealed for another organisation, or the household was erased: nothing to keep
    return _desk(app, "receive_referral_contact").receive_referral_contact(
        command_id=c, referral_id=e.referral_id, contact=e.contact, at=e.at, by=e.by
    )


def _contact_withdrawn(app: NodeApplication, c: UUID, e: r.ReferralContactWithdrawn) -> object:
    return _desk(app, "withdraw_referral_contact").withdraw_referral_contact(
        command_id=c, referral_id=e.referral_id, purpose=e.purpose, at=e.at, by=e.by
    )


CONTACT_STEPS: tuple[tuple[type[IntegrationEvent], Callable[[NodeApplication, UUID, Any], object]], ...] = (
    (r.ReferralContactShared, _contact_shared),
    (r.ReferralContactWithdrawn, _contact_withdrawn),
)
