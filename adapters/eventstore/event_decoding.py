"""Decoding stored events for projection runners: whole, attribute by attribute, or left as stored JSON.

Implements coordination/projections/decoding.py's `EventDecoding` for the library's mapper (and mappers
that add to it, such as adapters/eventstore/shredding.py's). Partial decoding builds events the way the library's
mapper does, without the attributes a handler does not read; why it exists: docs/performance.md,
"Projection engine shims".
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import orjson
from eventsourcing.persistence import Mapper, MapperDeserialisationError, Notification
from eventsourcing.utils import get_topic, resolve_topic


class StoredEventDecoder:
    """The decoding a projection runner is given for an application's mapper."""

    def __init__(self, mapper: Any) -> None:
        self.mapper = mapper
        self.reads_stored_json = stores_plain_json(mapper)
        # The mapper's own method, not a wrapper around it: it runs once per event a rebuild decodes.
        self.event = mapper.to_domain_event

    def attributes(self, stored: Any, names: tuple[str, ...]) -> Any:
        return decode_attributes(self.mapper, stored, names)

    def stored_state(self, data: bytes, class_version: int) -> dict[str, Any] | None:
        return stored_state(data, class_version)

    def topics_renamed(self) -> bool:
        return _topic_aliases()


def decode_attributes(mapper: Any, stored: Notification, names: tuple[str, ...]) -> Any:
    """The stored event as an instance of its class holding only the named attributes (those it has).

    Only where that is the same as decoding it whole and then forgetting the rest: a mapper that says how
    (`to_partial_domain_event`), or the library's own mapper without cipher or compressor whose transcoder
    decodes attributes one by one (`decode_attributes`), and an event stored at its class's version (an
    upcast may rename or derive attributes, so an older one is decoded whole and upcast).
    """
    partial = getattr(mapper, "to_partial_domain_event", None)
    if partial is not None:
        return partial(stored, names)
    if type(mapper) is not Mapper or mapper.cipher or mapper.compressor:
        return mapper.to_domain_event(stored)
    return partial_domain_event(mapper, stored, names)


def stores_plain_json(mapper: Any) -> bool:
    """Whether `decode_attributes` reads this mapper's stored events attribute by attribute: they are then
    plain JSON objects, and `handles_stored` methods may read them as stored."""
    if mapper.cipher or mapper.compressor or getattr(mapper.transcoder, "decode_attributes", None) is None:
        return False
    return type(mapper) is Mapper or getattr(mapper, "to_partial_domain_event", None) is not None


def stored_state(data: bytes, class_version: int = 1) -> dict[str, Any] | None:
    """A stored event's state as parsed JSON, for a `handles_stored` method; None unless it is a JSON
    object stored at this version of its class (an older one would be upcast when decoded)."""
    try:
        state = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if type(state) is not dict or state.get("class_version", 1) != class_version:
        return None
    return state


def partial_domain_event(mapper: Any, stored: Notification, names: tuple[str, ...]) -> Any:
    """What `decode_attributes` does for the library's mapper (for mappers that add to it)."""
    decode = getattr(mapper.transcoder, "decode_attributes", None)
    cls = resolve_topic(stored.topic)
    class_version = getattr(cls, "class_version", 1)
    if decode is None or class_version != 1:
        return mapper.to_domain_event(stored)
    try:
        state: dict[str, Any] = decode(stored.state, (*names, "class_version"))
    except Exception as e:
        msg = (
            f"Failed to deserialise state of stored event with topic '{stored.topic}', originator_id "
            f"'{stored.originator_id}' and originator_version {stored.originator_version}: {e}"
        )
        raise MapperDeserialisationError(msg) from e
    if state.pop("class_version", 1) != class_version:
        return mapper.to_domain_event(stored)
    state["originator_id"] = stored.originator_id
    state["originator_version"] = stored.originator_version
    event = object.__new__(cls)
    object.__setattr__(event, "__dict__", state)
    return event


def _topic_aliases() -> bool:
    """Whether any stored topic is registered to resolve to a class under another name (a moved class)."""
    # The library keeps registered aliases in its topic cache beside the topics it has resolved.
    from eventsourcing.utils import _topic_cache

    return any(
        (isinstance(obj, ModuleType) and obj.__name__ != topic)
        or (isinstance(obj, type) and get_topic(obj) != topic)
        for topic, obj in list(_topic_cache.items())
    )
