"""Decoding stored Values without validating them again: a constructor per class, built from its fields.

A Value was validated when it was created, before it was ever stored, so loading it needs no second
check: rebuilds decode every stored event, and re-validation was most of that cost. Each class gets a
constructor that converts the JSON-mode data back to field types (nested Values, enums, dates, decimals,
UUIDs, lists, optionals) and builds the instance the way pydantic's `model_construct` does. Anything it
does not expect (a missing or extra key, a type it has no converter for, a shape it cannot convert, a
class whose validators or serialisers may reshape data) goes to `model_validate` exactly as before, so
old or odd data still loads, or fails, as it always did. New input never comes through here.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache, lru_cache
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, TypeAdapter

Convert = Callable[[Any], Any]
_set = object.__setattr__


class _Unexpected(Exception):
    """The stored data is not in the shape this class's fields were written in: validate it instead."""


def _identity_of(kind: type) -> Convert:
    def check(value: Any) -> Any:
        if type(value) is not kind:
            raise _Unexpected
        return value

    return check


def _enum(cls: type[Enum]) -> Convert:
    members = cls._value2member_map_

    def convert(value: Any) -> Any:
        try:
            return members[value]
        except (KeyError, TypeError):
            raise _Unexpected from None

    return convert


def _optional(inner: Convert) -> Convert:
    return lambda value: None if value is None else inner(value)


def _list(inner: Convert) -> Convert:
    def convert(value: Any) -> Any:
        if type(value) is not list:
            raise _Unexpected
        return [inner(item) for item in value]

    return convert


def _decimal(value: Any) -> Decimal:
    # pydantic dumps a Decimal as its exact string in JSON mode.
    if type(value) is not str:
        raise _Unexpected
    return Decimal(value)


def _typed(annotation: Any) -> Convert:
    """pydantic's own conversion for a type with no shortcut here (e.g. datetime, whose tzinfo it picks)."""
    adapter: TypeAdapter[Any] = TypeAdapter(annotation)
    return adapter.validate_python


def _converter(annotation: Any) -> Convert | None:
    """How to turn the JSON-mode form of a field back into its value, or None if this module cannot."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        # Constraints only check; the stored value met them when it was written.
        return _converter(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(options) != 1 or len(options) == len(typing.get_args(annotation)):
            return None
        inner = _converter(options[0])
        return None if inner is None else _optional(inner)
    if origin is list:
        (item,) = typing.get_args(annotation) or (Any,)
        inner = _converter(item)
        return None if inner is None else _list(inner)
    if origin is Literal:
        allowed = frozenset(typing.get_args(annotation))

        def literal(value: Any) -> Any:
            if value not in allowed:
                raise _Unexpected
            return value

        return literal
    if not isinstance(annotation, type):
        return None
    if issubclass(annotation, BaseModel):
        return trusted_decoder(annotation)
    if issubclass(annotation, Enum):
        return _enum(annotation)
    if annotation is bool or annotation is str or annotation is int:
        return _identity_of(annotation)
    if annotation is Decimal:
        return _decimal
    if annotation is date:
        return date.fromisoformat
    if annotation is UUID:
        return UUID
    if annotation is datetime:
        return _typed(datetime)
    return None


def _trusted(cls: type[BaseModel]) -> bool:
    """Whether data this class dumped can be rebuilt field by field: no aliases, validators, serialisers."""
    decorators = cls.__pydantic_decorators__
    return not (
        decorators.field_validators
        or decorators.field_serializers
        or decorators.model_serializers
        or decorators.root_validators
        or decorators.validators
        or any(v.info.mode != "after" for v in decorators.model_validators.values())
        or cls.__private_attributes__
        or cls.__pydantic_post_init__
        or cls.__pydantic_root_model__
        or any(f.alias or f.validation_alias for f in cls.model_fields.values())
    )


@cache
def trusted_decoder(cls: type[BaseModel]) -> Callable[[Any], Any]:
    """The instance of `cls` whose JSON-mode dump `data` is; `model_validate(data)` for anything unexpected.

    After-validators of the model (checks of combinations of fields) are not run: the data passed them
    when the value was created. Instances are built like `model_construct` builds them.
    """
    converters = {name: _converter(f.annotation) for name, f in cls.model_fields.items()}
    if not _trusted(cls) or any(c is None for c in converters.values()):
        return cls.model_validate
    names = tuple(converters)
    pairs = tuple(converters.items())
    count = len(names)
    validate = cls.model_validate
    new = cls.__new__

    def decode(data: Any) -> Any:
        if type(data) is not dict or len(data) != count:
            return validate(data)
        try:
            values = {name: convert(data[name]) for name, convert in pairs}  # type: ignore[misc]
        except (_Unexpected, KeyError, TypeError, ValueError, ArithmeticError):
            return validate(data)
        instance = new(cls)
        _set(instance, "__dict__", values)
        _set(instance, "__pydantic_fields_set__", set(names))
        _set(instance, "__pydantic_extra__", None)
        _set(instance, "__pydantic_private__", None)
        return instance

    if all(_is_flat(f.annotation) for f in cls.model_fields.values()):
        return _shared(decode)
    return decode


def _is_flat(annotation: Any) -> bool:
    return annotation in (str, int, bool, Decimal) or (
        isinstance(annotation, type) and issubclass(annotation, Enum)
    )


def _shared(decode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """One instance per distinct data of a small flat value (Actor, Holder, Place, Money repeat a lot).

    Safe because Values are frozen and their fields here are immutable scalars.
    """
    cached = lru_cache(maxsize=4096)(lambda items: decode(dict(items)))

    def shared(data: Any) -> Any:
        if type(data) is not dict:
            return decode(data)
        try:
            return cached(tuple(data.items()))
        except TypeError:  # an unhashable value: not the shape this class was stored in
            return decode(data)

    return shared
