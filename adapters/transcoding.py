"""How domain values are written into stored events: each pydantic Value by its class name, plus dates."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder, Transcoding, TranscodingNotRegisteredError

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


class FastJSONTranscoder(JSONTranscoder):
    """The library's stored format, decoded with orjson and a walk that stops at each typed value.

    The stock decoder calls a Python hook for every JSON object, including every object inside a
    pydantic value's data. Here orjson parses in C and the walk only visits containers until it meets
    a `{"_type_", "_data_"}` pair, whose data goes to that type's decoder as it is: every transcoding
    registered here (UUID, Decimal, datetime, date, the Values) has flat data. Rebuilds decode every
    stored event, so this is their hot path. Encoding is the library's own; the stored bytes do not change.
    """

    def decode(self, data: bytes) -> Any:
        return self._walk(orjson.loads(data))

    def _walk(self, value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                try:
                    transcoding = self.names[value["_type_"]]
                except KeyError:
                    msg = f"Data serialized with name {value['_type_']!r} is not deserializable"
                    raise TranscodingNotRegisteredError(msg) from None
                return transcoding.decode(value["_data_"])
            return {key: self._walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._walk(item) for item in value]
        return value
