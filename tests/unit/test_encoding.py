"""Stored events are encoded with orjson (adapters/eventstore/transcoding.py FastJSONTranscoder.encode) into the very
bytes the library's encoder writes: every event of the reference scenario, and the odd values the fast
path leaves to the library."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum, IntEnum, StrEnum
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex

from adapters.eventstore.shredding import ShreddedTranscoding
from adapters.eventstore.transcoding import FastJSONTranscoder, register_domain_transcodings
from adapters.exchange.inprocess import InProcessBroker
from coordination.domain.values import Actor, Role
from ops.demo.reference_scenario import play
from tests.exchange_support import reference_nodes


def _pair() -> tuple[JSONTranscoder, FastJSONTranscoder]:
    """The library's transcoder and the fast one, with the same transcodings registered."""
    library, fast = JSONTranscoder(), FastJSONTranscoder()
    for transcoder in (library, fast):
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
            transcoder.register(transcoding)
        register_domain_transcodings(transcoder)
        transcoder.register(ShreddedTranscoding(transcoder))
    return library, fast


def test_every_stored_event_of_the_reference_scenario_is_written_alike() -> None:
    nodes = reference_nodes(InProcessBroker())
    library, fast = _pair()
    checked = 0
    try:
        play(nodes)
        for node in nodes.all():
            for notification in node.recorder.select_notifications(start=1, limit=10_000):
                state = node.mapper.transcoder.decode(notification.state)
                # What the node stored (written by the fast encoder) is what the library writes.
                assert library.encode(state) == notification.state
                assert fast.encode(state) == notification.state
                checked += 1
    finally:
        nodes.close()
    assert checked > 100


class _Colour(StrEnum):
    RED = "red"


class _Size(IntEnum):
    LARGE = 3


class _Mixed(str, Enum):  # noqa: UP042 (its str() is "_Mixed.ONE": the library writes "one")
    ONE = "one"


ODD_VALUES: list[Any] = [
    {
        "when": datetime(2026, 11, 22, 9, 30, tzinfo=UTC),
        "day": date(2026, 11, 22),
        "rent": Decimal("7800.50"),
    },
    {"ids": [uuid4(), uuid4()], "pair": (uuid4(), 1), "nested": {"deeper": [{"id": uuid4()}]}},
    {"text": 'quotes " and \\ and \n\t\r\b\f and \x01 and æøå ✓ and \u2028', "empty": "", "none": None},
    {"enums": [_Colour.RED, _Size.LARGE, _Mixed.ONE], "flags": [True, False]},
    {"by": Actor(organisation="civica", person="gk-17", role=Role.REHOUSING_CONSULTANT)},
    {"ints": [0, -1, 2**63 - 1, -(2**63), 2**64 - 1], "float": 1.5},
    # Left to the library: a big integer, a non-string key, floats that are not finite.
    {"big": 2**70},
    {1: "an int key", None: "a None key"},
    {"nan": float("nan"), "inf": float("inf")},
]


@pytest.mark.parametrize("value", ODD_VALUES, ids=range(len(ODD_VALUES)))
def test_odd_values_are_written_alike(value: Any) -> None:
    library, fast = _pair()
    assert fast.encode(value) == library.encode(value)


def test_a_type_nobody_registered_is_refused_as_the_library_refuses_it() -> None:
    library, fast = _pair()

    class Unknown:
        pass

    with pytest.raises(TypeError, match="not serializable"):
        library.encode({"x": Unknown()})
    with pytest.raises(TypeError, match="not serializable"):
        fast.encode({"x": Unknown()})


def test_what_is_written_reads_back_as_it_was() -> None:
    _, fast = _pair()
    value = {"id": uuid4(), "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "list": [Decimal("1.10")]}
    assert fast.decode(fast.encode(value)) == value
    assert json.loads(fast.encode(value))["id"]["_type_"] == "uuid_hex"
