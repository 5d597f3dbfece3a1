"""The port a projection runner decodes stored events through (adapters/eventstore/event_decoding.py implements it)."""

from __future__ import annotations

from typing import Any, Protocol


class EventDecoding(Protocol):
    """How a runner turns a stored notification into what a handler takes, for one application's mapper.

    Handlers that need less than the whole event are given less (see `handles` and `handles_stored`):
    decoding is most of a rebuild's cost (docs/performance.md, "Projection engine shims").
    """

    # Whether stored events are plain JSON objects read attribute by attribute, so that `handles_stored`
    # methods may be given them as stored (False: the ordinary handlers always).
    reads_stored_json: bool

    def event(self, stored: Any) -> Any:
        """The stored event decoded whole (and upcast)."""
        ...

    def attributes(self, stored: Any, names: tuple[str, ...]) -> Any:
        """The stored event as an instance of its class holding only the named attributes (those it has),
        where that is the same as decoding it whole and forgetting the rest; the whole event otherwise."""
        ...

    def stored_state(self, data: bytes, class_version: int) -> dict[str, Any] | None:
        """A stored event's state as parsed JSON, for a `handles_stored` method; None unless it is a JSON
        object stored at this version of its class (an older one would be upcast when decoded)."""
        ...

    def topics_renamed(self) -> bool:
        """Whether a stored topic may resolve to a class under another name (a registered alias): the
        runner then reads every event rather than only the topics its handlers are registered under."""
        ...
