"""Integration events on `rehousing.network.<organisation>`: the household's network between its owner and
its members (docs/design.md §4, hub and spoke through the owner).

The owner sends every organisation that is or was in a household's network the picture of it after each
change; a member that is not the owner reports the steps it knows and the owner does not (a referral it
sent about the household, its support link) to the owner, which checks the reporter's relation and notes
the step, or refuses it and sends the refusal back. Nothing here is personal: organisations, kinds, states
and dates (the pictures' contract, coordination/domain/network.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from coordination.domain.network import Item, NetworkPicture, RefusedFact
from coordination.domain.values import Actor, Place
from coordination.integration.events import IntegrationEvent
from coordination.integration.topics import NETWORK


class NetworkPictureSent(IntegrationEvent):
    """The owner's picture of a household's network at its `version`; a member keeps the newest."""

    event_type: ClassVar[str] = "dk.rehousing.network.picture.v1"
    topic: ClassVar[str] = NETWORK

    picture: NetworkPicture


class NetworkStepReported(IntegrationEvent):
    """A step a member knows and the owner does not: its referral about the household, or its support
    link, as it now stands. `contact_person` is the area of an activated or ended contact-person link,
    which the owner also records on (or ends from) the household."""

    event_type: ClassVar[str] = "dk.rehousing.network.step_reported.v1"
    topic: ClassVar[str] = NETWORK

    household_id: UUID
    item: Item
    contact_person: Place | None = None
    at: datetime
    by: Actor


class NetworkReportRefused(IntegrationEvent):
    """The owner refused a reported step (the reporter is not entitled to it): sent back to the reporter."""

    event_type: ClassVar[str] = "dk.rehousing.network.report_refused.v1"
    topic: ClassVar[str] = NETWORK

    household_id: UUID
    refusal: RefusedFact
    at: datetime
    by: Actor
