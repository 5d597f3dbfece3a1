"""The envelope: integration events as CloudEvents 1.0 in Kafka binary content mode, and back again."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from cloudevents.core.bindings.kafka import KafkaMessage, from_binary, to_binary
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from pydantic import ValidationError

from adapters.exchange.transport import IncomingMessage, OutgoingMessage
from coordination.integration.events import IntegrationEvent, UnknownEventType, event_class
from coordination.integration.received import ReceivedEvent

CONTENT_TYPE = "application/json"
TRACEPARENT = "traceparent"
_TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
_MESSAGE_IDS = UUID("8e3c8f0e-6a0b-5d55-9a53-3f3c2b0f6a11")
_FORMAT = JSONFormat()


class DecodeError(Exception):
    """A received message is not an integration event this node understands; `reason` says why (no data)."""

    def __init__(self, reason: str, *, ce_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.ce_id = ce_id


def message_id(source: str, originator_id: UUID, originator_version: int, index: int) -> str:
    """The id of the `index`-th message made from one stored event: the same on every re-publish."""
    return str(uuid5(_MESSAGE_IDS, f"{source}|{originator_id}|{originator_version}|{index}"))


def new_traceparent() -> str:
    """A W3C trace context for a message that starts a trace (sampled)."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def encode(
    event: IntegrationEvent,
    *,
    source: str,
    originator_id: UUID,
    originator_version: int,
    index: int,
    time: datetime,
    traceparent: str | None = None,
    topic: str | None = None,
) -> OutgoingMessage:
    """The Kafka message for `event`, keyed by the aggregate it is about so its messages stay in order.

    Headers and key carry ids, names and times only: anything personal belongs in the data. `topic`
    addresses it within its class's topic family (the class's topic when not given).
    """
    cloud_event = CloudEvent(
        attributes={
            "id": message_id(source, originator_id, originator_version, index),
            "source": source,
            "type": event.event_type,
            "subject": str(originator_id),
            "time": time,
            "dataschema": event.dataschema(),
            "datacontenttype": CONTENT_TYPE,
        },
        data=event.model_dump(mode="json"),
    )
    kafka = to_binary(cloud_event, _FORMAT, key_mapper=lambda _: str(originator_id).encode())
    headers = (*kafka.headers.items(), (TRACEPARENT, (traceparent or new_traceparent()).encode()))
    assert isinstance(kafka.key, bytes)
    return OutgoingMessage(topic=topic or event.topic, key=kafka.key, value=kafka.value, headers=headers)


def decode(message: IncomingMessage) -> ReceivedEvent:
    """The integration event in `message`; any problem becomes a DecodeError, so the caller can park it."""
    ce_id: str | None = None
    try:
        raw_id = message.header("ce_id")
        ce_id = raw_id.decode("utf-8", errors="replace") if raw_id is not None else None
        return _decode(message)
    except DecodeError as error:
        error.ce_id = error.ce_id or ce_id
        raise
    except Exception as error:
        # The CloudEvents library raises AttributeError, ValueError and others on malformed input.
        raise DecodeError(f"malformed CloudEvent: {type(error).__name__}", ce_id=ce_id) from error


def _decode(message: IncomingMessage) -> ReceivedEvent:
    headers = dict(message.headers)
    if headers.get("ce_specversion") != b"1.0":
        raise DecodeError("not a CloudEvents 1.0 binary-mode message (ce_specversion is missing or not 1.0)")
    content_type = headers.get("content-type")
    if content_type != CONTENT_TYPE.encode():
        raise DecodeError(f"content-type must be {CONTENT_TYPE}")
    cloud_event = from_binary(
        KafkaMessage(headers=headers, key=message.key, value=message.value), _FORMAT, CloudEvent
    )
    attributes: dict[str, Any] = cloud_event.get_attributes()
    missing = [name for name in ("subject", "time", "dataschema") if not attributes.get(name)]
    if missing:
        raise DecodeError(f"missing CloudEvents attribute(s): {', '.join(missing)}")
    try:
        cls = event_class(attributes["type"])
    except UnknownEventType as error:
        raise DecodeError(str(error)) from None
    if attributes["dataschema"] != cls.dataschema():
        raise DecodeError(f"dataschema {attributes['dataschema']!r} is not {cls.dataschema()!r}")
    data = cloud_event.get_data()
    if not isinstance(data, dict):
        # The JSON format quietly falls back to text or bytes when the body is not JSON.
        raise DecodeError("data is not a JSON object")
    try:
        event = cls.model_validate(data)
    except ValidationError as error:
        # Locations and messages only: the input values may be personal data.
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or '(root)'}: {e['msg']}"
            for e in error.errors(include_input=False, include_url=False)
        )
        raise DecodeError(f"data does not match {cls.event_type}: {problems}") from None
    traceparent = headers.get(TRACEPARENT, b"").decode("ascii", errors="replace")
    return ReceivedEvent(
        id=attributes["id"],
        source=attributes["source"],
        type=attributes["type"],
        subject=attributes["subject"],
        time=attributes["time"],
        traceparent=traceparent if _TRACEPARENT.match(traceparent) else None,
        event=event,
    )
