"""The base of integration events (versioned pydantic contracts that cross organisations) and a registry."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

# Reverse-DNS name ending in a version: "dk.rehousing.vacancy.published.v1".
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9]*(\.[a-z][a-z0-9_]*)+\.v[1-9][0-9]*$")
_TOPIC = re.compile(r"^[a-z][a-z0-9_.-]{0,200}$")
SCHEMA_URN_PREFIX = "urn:dk:rehousing:schema:"


class UnknownEventType(LookupError):
    """No integration event class is registered under a received type name (unknown type or version)."""


class SealedFields(BaseModel):
    """A message's personal fields, encrypted under the sending organisation's exchange key of one household
    for the message's one recipient.

    The key never travels with the message: the recipient asks `owner` for it (outside Kafka), which hands
    it to that recipient alone, and once the household is erased there it is gone, so the fields stay
    unreadable. Ids and organisations are not personal data here. A message sealed before keys were per
    recipient names no `recipient`: it opens with the owner's one key of the household of then.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    owner: str
    household_id: UUID
    recipient: str | None = Field(
        default=None,
        description="The organisation the fields were sealed for: only it is given their key"
        " (GET /v1/exchange-keys/{household_id}/{recipient}); absent on messages of the old scheme.",
    )
    fields: dict[str, str]  # field name → base64 of the AES-GCM nonce and ciphertext of its JSON value


class IntegrationEvent(BaseModel):
    """What one organisation tells others: only what the recipients need, never a raw stored event.

    A subclass names its `event_type` (with the version: a changed contract is a new type, and the
    old one stays registered while anyone may still publish it) and the `topic` it travels on.
    Subclasses register themselves; their fields are the message's JSON data. On the wire a personal field
    holds its erased stand-in and its value travels in `sealed` (coordination/integration/personal.py).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    topic: ClassVar[str]

    sealed: SealedFields | None = Field(
        default=None,
        description="The personal fields' values, encrypted under the sender's exchange key of the household"
        " for the message's recipient (GET /v1/exchange-keys/{household_id}/{recipient} on the sender's API,"
        " for that recipient alone); in the data they hold stand-ins.",
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # An intermediate base without its own type (e.g. shared fields) is not registered.
        if "event_type" in cls.__dict__:
            register(cls)

    @classmethod
    def dataschema(cls) -> str:
        """The URI naming this event's JSON Schema (the CloudEvents `dataschema` attribute)."""
        return SCHEMA_URN_PREFIX + cls.event_type

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of the message data, with its type and URI as `$id` and `title`."""
        schema = cls.model_json_schema()
        return {"$id": cls.dataschema(), **schema, "title": cls.event_type}


_REGISTRY: dict[str, type[IntegrationEvent]] = {}


def register(cls: type[IntegrationEvent]) -> type[IntegrationEvent]:
    """Register an event class under its type; one class per type name, ever."""
    if not _EVENT_TYPE.match(cls.event_type):
        raise ValueError(f"Integration event type {cls.event_type!r} is not reverse-DNS ending in .v<N>")
    if not _TOPIC.match(getattr(cls, "topic", "")):
        raise ValueError(
            f"Integration event {cls.event_type!r} needs a topic name, got {cls.__dict__.get('topic')!r}"
        )
    known = _REGISTRY.get(cls.event_type)
    if known is not None and known.__qualname__ != cls.__qualname__:
        raise ValueError(f"Two integration events claim the type {cls.event_type!r}")
    _REGISTRY[cls.event_type] = cls
    return cls


def event_class(event_type: str) -> type[IntegrationEvent]:
    try:
        return _REGISTRY[event_type]
    except KeyError:
        raise UnknownEventType(f"unknown integration event type {event_type!r}") from None


def registered_events() -> dict[str, type[IntegrationEvent]]:
    """Every registered type name → class (a copy), e.g. to write the JSON Schemas and AsyncAPI document."""
    return dict(_REGISTRY)


@dataclass(frozen=True)
class Addressed:
    """An integration event with the topic it travels on: its class's topic family, addressed to one
    organisation or municipality (e.g. "rehousing.referrals.civica"); `to` names the recipient organisation
    when the event may carry a household's personal fields (whom the sender's exchange key is shared with).

    `subject`, when given, stands for the stored event's aggregate as the message's subject, key and id
    seed: a fact made from a household's event but shared without the household names its own id."""

    event: IntegrationEvent
    topic: str
    to: str | None = None
    subject: UUID | None = None

    def __post_init__(self) -> None:
        if not _TOPIC.match(self.topic):
            raise ValueError(f"{self.topic!r} is not a topic name")
