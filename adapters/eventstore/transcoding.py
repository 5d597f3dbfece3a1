"""How domain values are written into stored events: each pydantic Value by its class name, plus dates."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from functools import cached_property
from typing import Any
from uuid import UUID, SafeUUID

import orjson
from eventsourcing.persistence import JSONTranscoder, Transcoding, TranscodingNotRegisteredError

from adapters.eventstore.value_decoding import trusted_decoder
from coordination.domain.values import Value


class ValueTranscoding(Transcoding):
    """Stores a Value as its JSON-mode dump under its class name; loading trusts what was validated.

    Loading rebuilds the value without validating it again (adapters/eventstore/value_decoding.py): it was valid
    when it was stored. Data in any other shape is validated as before.
    """

    def __init__(self, cls: type[Value]) -> None:
        self.type = cls
        self.name = cls.__name__
        self._decode = trusted_decoder(cls)

    def encode(self, obj: Value) -> dict[str, Any]:
        return obj.model_dump(mode="json")

    def decode(self, data: dict[str, Any]) -> Value:
        return self._decode(data)  # type: ignore[no-any-return]


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
    import coordination.domain.network
    import coordination.domain.notification
    import coordination.domain.referral_values
    import coordination.domain.support_link  # noqa: F401

    transcoder.register(DateAsISO())
    names: dict[str, type[Value]] = {}
    for cls in _all_value_classes():
        if cls.__name__ in names and names[cls.__name__] is not cls:
            raise TypeError(f"Two domain values share the stored name {cls.__name__!r}")
        names[cls.__name__] = cls
        transcoder.register(ValueTranscoding(cls))


class _NotPlain(Exception):
    """A value the fast encoder leaves to the library's (it would not write it byte for byte alike)."""


class FastJSONTranscoder(JSONTranscoder):
    """The library's stored format, decoded with orjson and a walk that stops at each typed value, and
    encoded with orjson after a walk that writes each typed value as the library does.

    The stock decoder calls a Python hook for every JSON object, including every object inside a
    pydantic value's data. Here orjson parses in C and the walk only visits containers until it meets
    a `{"_type_", "_data_"}` pair, whose data goes to that type's decoder as it is: every transcoding
    registered here (UUID, Decimal, datetime, date, the Values) has flat data. Rebuilds decode every
    stored event, so this is their hot path.

    Encoding writes the same bytes as the library's encoder (compact, UTF-8, `{"_type_", "_data_"}` for
    each registered type): the walk replaces each typed value by that pair, and orjson writes the plain
    result. Anything it would not write alike (a non-string key, an integer beyond 64 bits, a float that
    is not finite, a type nobody registered) goes to the library's encoder instead.
    """

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._plain(obj))
        except (_NotPlain, TypeError, orjson.JSONEncodeError):
            return super().encode(obj)

    def _plain(self, value: Any) -> Any:
        kind = type(value)
        if kind is str or kind is bool or value is None:
            return value
        if kind is int:
            if -(2**63) <= value < 2**64:
                return value
            raise _NotPlain
        if kind is dict:
            plain = self._plain
            return {key: plain(item) for key, item in value.items()}
        if kind is list or kind is tuple:
            plain = self._plain
            return [plain(item) for item in value]
        transcoding = self.types.get(kind)
        if transcoding is not None:
            return {"_type_": transcoding.name, "_data_": self._plain(transcoding.encode(value))}
        if kind is float and math.isfinite(value):
            return value
        if isinstance(value, str):  # a str enum: the library writes its string
            return str.__str__(value)
        if isinstance(value, int) and not isinstance(value, bool):  # an int enum: its number
            return self._plain(int(value))
        raise _NotPlain

    def decode(self, data: bytes) -> Any:
        value = orjson.loads(data)
        if type(value) is not dict:
            return self._walk(value)
        # An event's state is a flat object: its typed attributes are rewritten in place (the dict is
        # new, and assigning existing keys while iterating is allowed), without a call per scalar.
        decoders = self._decoders
        for key, item in value.items():
            kind = type(item)
            if kind is dict:
                if len(item) == 2 and "_data_" in item and (name := item.get("_type_")) is not None:
                    decode = decoders.get(name) or self._decoder(name)
                    value[key] = decode(item["_data_"])
                else:
                    value[key] = self._walk(item)
            elif kind is list:
                value[key] = self._walk(item)
        return value

    def decode_attributes(self, data: bytes, names: tuple[str, ...]) -> dict[str, Any]:
        """Only the named attributes (those present) of a stored event's state, each decoded as `decode`
        would: a rebuild that reads a few attributes of an event does not pay for decoding the rest."""
        value = orjson.loads(data)
        if type(value) is not dict:
            raise ValueError("stored state is not an object")
        decoders = self._decoders
        found = {}
        for key in names:
            if key not in value:
                continue
            item = value[key]
            kind = type(item)
            if kind is dict:
                if len(item) == 2 and "_data_" in item and (name := item.get("_type_")) is not None:
                    decode = decoders.get(name) or self._decoder(name)
                    item = decode(item["_data_"])
                else:
                    item = self._walk(item)
            elif kind is list:
                item = self._walk(item)
            found[key] = item
        return found

    def _walk(self, value: Any) -> Any:
        kind = type(value)
        if kind is dict:
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                name = value["_type_"]
                decode = self._decoders.get(name)
                if decode is None:
                    decode = self._decoder(name)
                return decode(value["_data_"])
            return {key: self._walk(item) for key, item in value.items()}
        if kind is list:
            return [self._walk(item) for item in value]
        if isinstance(value, dict | list):  # a subclass: orjson never makes one, but be exact
            return self._walk(dict(value) if isinstance(value, dict) else list(value))
        return value

    @cached_property
    def _decoders(self) -> dict[str, Callable[[Any], Any]]:
        return {}

    def _decoder(self, name: str) -> Callable[[Any], Any]:
        try:
            transcoding = self.names[name]
        except KeyError:
            msg = f"Data serialized with name {name!r} is not deserializable"
            raise TranscodingNotRegisteredError(msg) from None
        decode = _uuid_from_hex if name == "uuid_hex" else transcoding.decode
        self._decoders[name] = decode
        return decode


def _uuid_from_hex(data: str) -> UUID:
    """UUID(hex) without the parsing of other spellings: ids are stored as exactly 32 hex digits."""
    if type(data) is str and len(data) == 32:
        try:
            number = int(data, 16)
        except ValueError:
            pass
        else:
            uuid = object.__new__(UUID)
            object.__setattr__(uuid, "int", number)
            object.__setattr__(uuid, "is_safe", SafeUUID.unknown)
            return uuid
    return UUID(data)
