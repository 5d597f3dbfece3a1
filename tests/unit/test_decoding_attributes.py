"""A handler that declares the attributes it reads is given its event class with exactly those, as decoded whole."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import uuid4

from eventsourcing.compressor import ZlibCompressor
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, Mapper, Notification, UUIDAsHex

from adapters.eventstore.event_decoding import decode_attributes
from adapters.eventstore.transcoding import FastJSONTranscoder, register_domain_transcodings
from ops.bench.fixtures import read_model_support as s
from ops.bench.fixtures.history import household_with_referrals

READS = ("timestamp", "at", "by", "household_id")


def _mapper(**options: Any) -> Mapper[Any]:
    transcoder = FastJSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_domain_transcodings(transcoder)
    return Mapper(transcoder, **options)


def _stored(mapper: Mapper[Any], domain_event: Any) -> Notification:
    stored = mapper.to_stored_event(domain_event)
    return Notification(
        id=1,
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=stored.state,
    )


def test_the_declared_attributes_are_decoded_as_the_whole_event_would_have_them_and_no_others() -> None:
    mapper = _mapper()
    for aggregate in household_with_referrals(1):
        for domain_event in aggregate.collect_events():
            notification = _stored(mapper, domain_event)
            whole = vars(mapper.to_domain_event(notification))

            partial = decode_attributes(mapper, notification, READS)

            assert type(partial) is type(domain_event)
            wanted = {"originator_id", "originator_version", *READS}
            assert vars(partial) == {name: value for name, value in whole.items() if name in wanted}


def test_a_compressed_event_is_decoded_whole() -> None:
    mapper = _mapper(compressor=ZlibCompressor())
    domain_event = s.hb.register(by=s.CONSULTANT).collect_events()[0]
    notification = _stored(mapper, domain_event)

    assert vars(decode_attributes(mapper, notification, READS)) == vars(mapper.to_domain_event(notification))


class Renamed(Aggregate):
    """An aggregate whose event renamed an attribute in its second version."""

    class Noted(Aggregate.Event):
        class_version: ClassVar[int] = 2
        text: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["text"] = state.pop("note")

    @event(Noted)
    def _noted(self, text: str) -> None:
        self.text = text


def test_an_event_stored_before_an_upcast_is_decoded_whole_and_upcast() -> None:
    mapper = _mapper()
    domain_event = Renamed.Noted(originator_id=uuid4(), originator_version=1, timestamp=s.at(), text="hej")
    notification = _stored(mapper, domain_event)
    old_state = notification.state.replace(b'"text"', b'"note"').replace(b',"class_version":2', b"")
    assert b'"note"' in old_state and b"class_version" not in old_state
    old = Notification(**{**vars(notification), "state": old_state})  # type: ignore[arg-type]

    partial = decode_attributes(mapper, old, ("text",))

    assert partial.text == "hej"
