"""The integration event of an erasure: the household's owner erased it, and so must its recipients."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from coordination.domain.values import Actor
from coordination.integration.events import IntegrationEvent
from coordination.integration.topics import NETWORK, REFERRALS

ERASURE_RECIPIENT = "erasure_recipient"


class HouseholdErasureNotice(IntegrationEvent):
    """Sent on the referrals topic of each organisation the household was referred to; carries its id only."""

    event_type: ClassVar[str] = "dk.rehousing.household.erased.v1"
    topic: ClassVar[str] = REFERRALS

    household_id: UUID
    at: datetime
    by: Actor


class HouseholdErasureConfirmed(IntegrationEvent):
    """An organisation told of an erasure erased the household too: sent to the owner on
    `rehousing.network.<owner>`, which shows the erasure complete once every one told has confirmed."""

    event_type: ClassVar[str] = "dk.rehousing.household.erasure_confirmed.v1"
    topic: ClassVar[str] = NETWORK

    household_id: UUID
    at: datetime
    by: Actor
