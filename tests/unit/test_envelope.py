"""The CloudEvents envelope: round trip, valid attributes only, stable ids, and DecodeError for the rest."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import ClassVar
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.exchange.envelope import DecodeError, decode, encode, message_id, new_traceparent
from adapters.exchange.transport import IncomingMessage, OutgoingMessage
from coordination.integration.events import IntegrationEvent, event_class, registered_events
from tests.exchange_support import SOURCE, TOPIC, CaseNoted

CASE = UUID("3f0a3c4e-9b1c-4c55-8a66-0c1d2e3f4a5b")
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
# CloudEvents 1.0: attribute names are lower-case letters and digits, at most 20 characters.
ATTRIBUTE_NAME = re.compile(r"^[a-z0-9]{1,20}$")
CONTEXT_ATTRIBUTES = {"id", "source", "specversion", "type", "subject", "time", "dataschema"}


def _sent(event: IntegrationEvent | None = None, **overrides: object) -> OutgoingMessage:
    arguments: dict[str, object] = {
        "source": SOURCE,
        "originator_id": CASE,
        "originator_version": 2,
        "index": 0,
        "time": AT,
    }
    arguments.update(overrides)
    return encode(event or CaseNoted(case_id=CASE, n=1, note="Sofie needs a ground-floor flat"), **arguments)  # type: ignore[arg-type]


def _received(message: OutgoingMessage, **changes: object) -> IncomingMessage:
    fields: dict[str, object] = {
        "topic": message.topic,
        "partition": 0,
        "offset": 7,
        "key": message.key,
        "headers": message.headers,
        "value": message.value,
    }
    fields.update(changes)
    return IncomingMessage(**fields)  # type: ignore[arg-type]


def _with_header(message: OutgoingMessage, name: str, value: bytes | None) -> tuple[tuple[str, bytes], ...]:
    kept = tuple((key, data) for key, data in message.headers if key != name)
    return kept if value is None else (*kept, (name, value))


def test_an_integration_event_survives_the_envelope_with_its_attributes() -> None:
    sent = _sent()
    received = decode(_received(sent))

    assert received.event == CaseNoted(case_id=CASE, n=1, note="Sofie needs a ground-floor flat")
    assert received.type == "dk.rehousing.test.case.noted.v1"
    assert received.source == SOURCE
    assert received.subject == str(CASE)
    assert received.time == AT
    assert received.id == message_id(SOURCE, CASE, 2, 0)
    assert sent.topic == TOPIC
    assert sent.key == str(CASE).encode()


def test_every_header_is_a_cloudevents_attribute_content_type_or_trace_context() -> None:
    sent = _sent()
    headers = dict(sent.headers)

    assert len(headers) == len(sent.headers), "no header is repeated"
    for name in headers:
        if name in ("content-type", "traceparent"):
            continue
        assert name.startswith("ce_")
        assert ATTRIBUTE_NAME.match(name.removeprefix("ce_")), name
    assert {name.removeprefix("ce_") for name in headers if name.startswith("ce_")} == CONTEXT_ATTRIBUTES
    assert headers["ce_specversion"] == b"1.0"
    assert headers["content-type"] == b"application/json"
    assert headers["ce_time"] == b"2026-03-02T09:30:00Z"
    assert headers["ce_dataschema"] == b"urn:dk:rehousing:schema:dk.rehousing.test.case.noted.v1"
    assert re.match(rb"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$", headers["traceparent"])


def test_headers_and_key_carry_no_data_from_the_event() -> None:
    sent = _sent()
    outside = b"".join(value for _, value in sent.headers) + sent.key
    assert b"Sofie" not in outside
    assert b"ground-floor" not in outside


def test_a_republished_event_has_the_same_id_and_each_message_of_an_event_its_own() -> None:
    first, again = _sent(), _sent()
    assert _with_header(first, "traceparent", None) == _with_header(again, "traceparent", None)
    assert first.key == again.key
    assert first.value == again.value
    ids = {
        dict(_sent(**change).headers)["ce_id"]
        for change in (
            {},
            {"index": 1},
            {"originator_version": 3},
            {"originator_id": uuid4()},
            {"source": "urn:x"},
        )
    }
    assert len(ids) == 5


def test_the_incoming_trace_context_is_carried_to_the_receiver() -> None:
    parent = new_traceparent()
    assert decode(_received(_sent(traceparent=parent))).traceparent == parent
    sent = _sent()
    broken = _received(sent, headers=_with_header(sent, "traceparent", b"not-a-trace"))
    assert decode(broken).traceparent is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"\x00\xff garbage", "data is not a JSON object"),
        (b"[1, 2, 3]", "data is not a JSON object"),
        (b"42", "data is not a JSON object"),
        (b'"a string"', "data is not a JSON object"),
        (b"null", "data is not a JSON object"),
        (b"", "data is not a JSON object"),
        (b'{"case_id": "not-a-uuid", "n": 1, "note": "x"}', "case_id"),
        (b'{"case_id": "3f0a3c4e-9b1c-4c55-8a66-0c1d2e3f4a5b", "n": 1}', "note: Field required"),
        (b'{"case_id": "3f0a3c4e-9b1c-4c55-8a66-0c1d2e3f4a5b", "n": 1, "note": "x", "cpr": "1"}', "cpr"),
    ],
)
def test_a_body_that_is_not_the_events_json_is_a_decode_error_with_a_reason(
    value: bytes, reason: str
) -> None:
    with pytest.raises(DecodeError) as raised:
        decode(_received(_sent(), value=value))
    assert reason in raised.value.reason
    assert raised.value.ce_id == message_id(SOURCE, CASE, 2, 0)


def test_a_schema_error_names_the_field_but_not_the_value() -> None:
    value = b'{"case_id": "3f0a3c4e-9b1c-4c55-8a66-0c1d2e3f4a5b", "n": "Sofie", "note": "x"}'
    with pytest.raises(DecodeError) as raised:
        decode(_received(_sent(), value=value))
    assert "n:" in raised.value.reason
    assert "Sofie" not in raised.value.reason


@pytest.mark.parametrize(
    ("header", "value", "reason"),
    [
        ("ce_type", b"dk.rehousing.test.case.unheard.v1", "unknown integration event type"),
        ("ce_type", b"dk.rehousing.test.case.noted.v2", "unknown integration event type"),
        ("ce_specversion", b"0.3", "CloudEvents 1.0"),
        ("ce_specversion", None, "CloudEvents 1.0"),
        ("content-type", b"text/plain", "content-type"),
        ("ce_subject", None, "subject"),
        ("ce_time", b"yesterday", "malformed CloudEvent"),
        ("ce_time", b"2026-03-02T09:30:00", "malformed CloudEvent"),
        ("ce_source", None, "malformed CloudEvent"),
        ("ce_dataschema", b"urn:other", "dataschema"),
        ("ce_id", b"\xff\xfe", "malformed CloudEvent"),
    ],
)
def test_a_message_with_wrong_headers_is_a_decode_error_with_a_reason(
    header: str, value: bytes | None, reason: str
) -> None:
    sent = _sent()
    with pytest.raises(DecodeError) as raised:
        decode(_received(sent, headers=_with_header(sent, header, value)))
    assert reason in raised.value.reason


HEADER_NAMES = ["ce_id", "ce_type", "ce_time", "ce_specversion", "ce_source", "ce_subject", "ce_dataschema"]


@settings(max_examples=100, deadline=None)
@given(
    changes=st.dictionaries(
        st.sampled_from([*HEADER_NAMES, "content-type", "traceparent"]), st.none() | st.binary(max_size=40)
    ),
    value=st.none() | st.binary(max_size=80),
    key=st.none() | st.binary(max_size=20),
)
def test_a_message_with_arbitrary_bytes_decodes_or_raises_only_decode_error(
    changes: dict[str, bytes | None], value: bytes | None, key: bytes | None
) -> None:
    sent = _sent()
    headers = sent.headers
    for name, data in changes.items():
        headers = tuple((k, v) for k, v in headers if k != name) + (() if data is None else ((name, data),))
    message = _received(sent, headers=headers, key=key, value=sent.value if value is None else value)
    outcome: object
    try:
        outcome = decode(message)
    except DecodeError as error:
        outcome = error.reason
    assert outcome


def test_integration_events_are_registered_by_type_with_a_json_schema() -> None:
    assert event_class("dk.rehousing.test.case.noted.v1") is CaseNoted
    assert registered_events()["dk.rehousing.test.case.noted.v1"] is CaseNoted
    schema = CaseNoted.json_schema()
    assert schema["$id"] == "urn:dk:rehousing:schema:dk.rehousing.test.case.noted.v1"
    assert set(schema["required"]) == {"case_id", "n", "note"}


def test_an_integration_event_type_must_be_reverse_dns_with_a_version() -> None:
    with pytest.raises(ValueError, match="reverse-DNS"):

        class Unversioned(IntegrationEvent):
            event_type: ClassVar[str] = "dk.rehousing.test.unversioned"
            topic: ClassVar[str] = TOPIC
