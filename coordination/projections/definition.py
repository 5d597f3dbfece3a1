"""What a projection is: a read model's handlers by event class, and the form each takes its events in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from eventsourcing.utils import resolve_topic

from coordination.projections.tables import ProjectionTables

if TYPE_CHECKING:
    from coordination.projections.transaction import ProjectionTx

Handler = Callable[[Any, "ProjectionTx"], None]
StoredHandler = Callable[[Any, dict[str, Any], "ProjectionTx"], bool]
F = TypeVar("F", bound=Callable[..., None])


def handles(
    *event_classes: type, header_only: bool = False, reads: Sequence[str] | None = None
) -> Callable[[F], F]:
    """Marks a projection method `(self, event, tx)` as the handler of these event classes.

    With `header_only`, the handler is given the stored notification instead of the decoded event: it may
    read only `originator_id`, `originator_version`, `topic` and `id`, which are stored in clear (nor is
    it parked for an event whose state cannot be decoded: it never reads that state).

    With `reads`, the handler is given an event of its class with only these attributes decoded (those the
    event has), besides originator_id and originator_version, where the runner's `EventDecoding` can
    decode attributes one by one; the whole event otherwise.

    Why: decoding is most of a rebuild's cost (figures in docs/performance.md, "Projection engine shims").
    """

    def mark(method: F) -> F:
        method._handles = event_classes  # type: ignore[attr-defined]
        method._header_only = header_only  # type: ignore[attr-defined]
        method._reads = None if reads is None else tuple(reads)  # type: ignore[attr-defined]
        return method

    return mark


def handles_stored(*event_classes: type) -> Callable[[F], F]:
    """Marks a projection method `(self, stored, state, tx) -> bool` as a faster way to handle these event
    classes, beside their ordinary handlers (each class must have one).

    It is given the stored notification and its state as parsed JSON, undecoded (a typed value is still
    `{"_type_": name, "_data_": data}`), where the runner's `EventDecoding` says events are stored as
    plain JSON read attribute by attribute (`reads_stored_json`) and the event was stored at its class's
    current version (no upcast). It returns False, before writing anything, for whatever it does not know
    how to read as stored (an attribute encrypted under a household's key, an unusual form of a value);
    the runner then decodes the event and calls the ordinary handler. It must write exactly what the
    ordinary handler writes for the same event.

    Why: decoding costs more than handling (figures in docs/performance.md, "Projection engine shims").
    """

    def mark(method: F) -> F:
        method._handles_stored = event_classes  # type: ignore[attr-defined]
        return method

    return mark


class EventHeader(Protocol):
    """What a `header_only` handler reads of an event: the stored notification's clear-text fields."""

    @property
    def id(self) -> int: ...
    @property
    def originator_id(self) -> Any: ...
    @property
    def originator_version(self) -> int: ...
    @property
    def topic(self) -> str: ...


class Projection(ProjectionTables):
    """A read model that answers one question and owns its tables.

    Subclasses declare `name`, `tables` (logical name → portable column DDL), optional `indexes`
    (index name → (logical table, columns)) and `@handles(...)` methods that only write, through
    `tx.execute("... {logical_table} ...", params)`. Every table lives as `<logical>__<suffix>`, so a
    rebuild under another suffix can sit beside the live instance (tables.py lays them out).
    """

    _handler_names: ClassVar[dict[type, str]] = {}
    _stored_handler_names: ClassVar[dict[type, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[type, str] = {}
        stored: dict[type, str] = {}
        # Base classes first, so a subclass's handler for the same event class wins.
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                for event_class in getattr(value, "_handles", ()):
                    found[event_class] = attr
                for event_class in getattr(value, "_handles_stored", ()):
                    stored[event_class] = attr
        cls._handler_names = found
        cls._stored_handler_names = stored

    def __init__(self, suffix: str = "live") -> None:
        super().__init__(suffix)
        self._by_topic: dict[str, Handler | None] = {}
        self._stored_by_topic: dict[str, tuple[StoredHandler, int] | None] = {}
        self._header_only_topics: set[str] = set()
        self._reads: dict[str, tuple[str, ...]] = {}
        self._topics: tuple[str, ...] | None = None

    def handler_for(self, topic: str) -> Handler | None:
        """The bound handler for a stored event's topic, or None; raises if the topic names no class."""
        if topic in self._by_topic:
            return self._by_topic[topic]
        handler = self._by_topic[topic] = self._method_for(resolve_topic(topic), self._handler_names)
        if handler is not None and getattr(handler, "_header_only", False):
            self._header_only_topics.add(topic)
        if handler is not None and getattr(handler, "_reads", None) is not None:
            self._reads[topic] = handler._reads  # type: ignore[attr-defined]
        return handler

    def stored_handler_for(self, topic: str) -> tuple[StoredHandler, int] | None:
        """The bound `handles_stored` method for a stored event's topic and the version of its class (the
        handler is for events stored at that version), or None."""
        if topic in self._stored_by_topic:
            return self._stored_by_topic[topic]
        event_class = resolve_topic(topic)
        handler = self._method_for(event_class, self._stored_handler_names)
        found = None if handler is None else (handler, getattr(event_class, "class_version", 1))
        self._stored_by_topic[topic] = found
        return found

    def _method_for(self, event_class: type, names: dict[type, str]) -> Any:
        """The bound method named for the nearest of `event_class`'s classes (itself first), or None."""
        for klass in getattr(event_class, "__mro__", (event_class,)):
            if klass in names:
                return getattr(self, names[klass])
        return None

    def reads(self, topic: str) -> tuple[str, ...] | None:
        """The attributes the handler of this topic reads, or None if it reads the whole event."""
        return self._reads.get(topic)

    def wants_header_only(self, topic: str) -> bool:
        """Whether the handler of this topic (looked up with `handler_for` first) takes the notification."""
        return topic in self._header_only_topics

    def handled_topics(self) -> tuple[str, ...] | None:
        """The stored topics of every event class a handler takes (subclasses included), or None if none.

        Under their current names: where a topic might be stored under another (a registered alias), the
        runner reads every event instead (see `EventDecoding.topics_renamed`).
        """
        if self._topics is not None:
            return self._topics or None
        found: list[str] = []
        pending = list(self._handler_names)
        while pending:
            cls = pending.pop()
            # Not get_topic(): the library may copy an event class under the same name, which it refuses.
            found.append(f"{cls.__module__}:{cls.__qualname__}")
            pending += cls.__subclasses__()
        self._topics = tuple(sorted(set(found)))
        return self._topics
