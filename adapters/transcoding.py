"""How domain values are written into stored events: each pydantic Value by its class name, plus dates."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from coordination.domain.values import Value


class ValueTranscoding(Transcoding):
    """Stores a Value as its JSON-mode dump under its class name; loading re-validates it."""

    def __init__(self, cls: type[Value]) -> None:
        self.type = cls
        self.name = cls.__name__

    def encode(self, obj: Value) -> dict[str, Any]:
        return obj.model_dump(mode="json")

    def decode(self, data: dict[str, Any]) -> Value:
        return self.type.model_validate(data)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def _all_value_classes(cls: type[Value] = Value) -> list[type[Value]]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_value_classes(sub))
    return found


def register_domain_transcodings(transcoder: JSONTranscoder) -> None:
    """Register every Value subclass that is imported at this point, and dates.

    Names must be unique: two values with one class name would overwrite each other's decoder.
    """
    # Import every module that defines values, so none is missing from the list below.
    import coordination.domain.follow_up
    import coordination.domain.household_values
    import coordination.domain.referral_values
    import coordination.domain.support_link  # noqa: F401

    transcoder.register(DateAsISO())
    names: dict[str, type[Value]] = {}
    for cls in _all_value_classes():
        if cls.__name__ in names and names[cls.__name__] is not cls:
            raise TypeError(f"Two domain values share the stored name {cls.__name__!r}")
        names[cls.__name__] = cls
        transcoder.register(ValueTranscoding(cls))
