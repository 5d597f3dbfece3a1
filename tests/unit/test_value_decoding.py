"""Stored Values load without re-validation, yet exactly as validation would have built them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, Transcoder, UUIDAsHex
from pydantic import BaseModel, ValidationError, field_validator

from adapters.eventstore.transcoding import FastJSONTranscoder, ValueTranscoding, register_domain_transcodings
from adapters.eventstore.value_decoding import trusted_decoder
from coordination.domain.household_values import Member, RehousingKind
from coordination.domain.values import Actor, Dwelling, Money, Role
from ops.bench.fixtures import history as bench


class _FastApp(Application):
    def construct_transcoder(self) -> Transcoder:
        transcoder = FastJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)


class _Validating(ValueTranscoding):
    def decode(self, data: dict[str, Any]) -> Any:
        return self.type.model_validate(data)


def _validating_transcoder() -> JSONTranscoder:
    transcoder = FastJSONTranscoder()
    for library_transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(library_transcoding)
    register_domain_transcodings(transcoder)
    for name, transcoding in list(transcoder.names.items()):
        if isinstance(transcoding, ValueTranscoding):
            transcoder.names[name] = _Validating(transcoding.type)
    return transcoder


def _same(a: Any, b: Any, where: str = "") -> None:
    """Equal, and of the same type all the way down (an enum is not its string, a Decimal not a str)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} is not {type(b).__name__}"
    if isinstance(a, BaseModel):
        assert a.model_fields_set == b.model_fields_set, where
        for name in type(a).model_fields:
            _same(getattr(a, name), getattr(b, name), f"{where}.{name}")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where
    assert a == b, where


def test_every_value_of_a_varied_history_loads_as_validation_would_build_it() -> None:
    app = _FastApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    for i in range(6):
        app.save(bench.vacancy_with_offers(i), *bench.household_with_referrals(i))
    validating = _validating_transcoder()
    trusting = app.mapper.transcoder
    notifications = app.recorder.select_notifications(start=1, limit=10_000)
    for notification in notifications:
        state = notification.state
        _same(trusting.decode(state), validating.decode(state), notification.topic)
    assert len({n.topic for n in notifications}) >= 15


def test_a_stored_value_missing_a_field_with_a_default_gets_the_default_as_before() -> None:
    stored = {"member_id": "A1", "kind": "adult", "birth_month": None}
    loaded = trusted_decoder(Member)(stored)
    assert loaded == Member.model_validate(stored)
    assert loaded.needs_school is False


def test_stored_data_in_another_shape_is_validated_and_refused_as_before() -> None:
    with pytest.raises(ValidationError):
        trusted_decoder(Actor)({"organisation": "civica", "person": "c-1", "role": "not_a_role"})
    with pytest.raises(ValidationError):
        trusted_decoder(Actor)({"organisation": "civica", "person": "c-1", "role": "auditor", "extra": 1})
    with pytest.raises(ValidationError):
        trusted_decoder(Money)({"dkk": "a lot"})


def test_a_value_loaded_from_its_dump_is_a_real_instance_equal_to_the_original() -> None:
    dwelling = Dwelling.model_validate(
        {
            "estate": "Kochsgade",
            "address": {"street": "Kochsgade 31", "postcode": "5000", "city": "Odense C"},
            "place": {"municipality": "Odense", "area": "Odense C"},
            "rooms": 3,
            "area_m2": "78.50",
            "rent": {"dkk": "6400.00"},
            "available_from": date(2026, 1, 1),
        }
    )
    stored = dwelling.model_dump(mode="json")
    loaded = trusted_decoder(Dwelling)(stored)
    _same(loaded, Dwelling.model_validate(stored))
    assert loaded == dwelling
    assert isinstance(loaded, Dwelling)
    assert loaded.rent.dkk == Decimal("6400.00")
    with pytest.raises(ValidationError):
        loaded.rooms = 4  # type: ignore[misc]  # still frozen


def test_small_repeated_values_are_shared_and_larger_ones_are_not() -> None:
    data = {"organisation": "civica", "person": "c-1", "role": "auditor"}
    assert trusted_decoder(Actor)(dict(data)) is trusted_decoder(Actor)(dict(data))
    assert trusted_decoder(Actor)(data).role is Role.AUDITOR


class _Lowered(BaseModel):
    """A model whose field validator reshapes its input (as Consent's did before it used Annotated)."""

    text: str

    @field_validator("text")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


def test_values_whose_validators_may_reshape_data_are_validated_as_before() -> None:
    assert trusted_decoder(_Lowered) == _Lowered.model_validate
    # An after-validator only checks combinations the value met when it was created: it is not rerun.
    assert trusted_decoder(RehousingKind) != RehousingKind.model_validate
