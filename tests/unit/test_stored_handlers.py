"""The timeline read straight from stored JSON writes exactly what it writes from decoded events, or declines."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import orjson
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, Mapper, Notification, UUIDAsHex
from eventsourcing.utils import resolve_topic
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.eventstore.event_decoding import StoredEventDecoder, decode_attributes, stored_state
from adapters.eventstore.transcoding import FastJSONTranscoder, register_domain_transcodings
from adapters.sql.view_stores import SQLiteViewStore
from coordination.domain.errors import DomainError
from coordination.projections.columns import instant, stored_id, stored_instant
from coordination.projections.rebuild import compare
from coordination.projections.runner import ProjectionRunner
from coordination.projections.timeline import TimelineProjection
from coordination.projections.transaction import ProjectionTx
from ops.bench.fixtures import read_model_support
from ops.bench.fixtures.history import NodeLikeApp, household_with_referrals, vacancy_with_offers
from ops.node.read_models import READ_MODELS
from tests.unit.test_read_models_property import _command
from tests.unit.test_read_models_property import steps as read_model_steps

ZONES = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-3, minutes=-30)), None]


class _Unsent:
    """A view transaction that is never reached: the test looks at what the handlers queue."""

    def run(self, statements: Any) -> None:
        raise AssertionError("nothing is flushed here")


def _mapper() -> Mapper[Any]:
    transcoder = FastJSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_domain_transcodings(transcoder)
    return Mapper(transcoder)


def _stored(
    mapper: Mapper[Any], domain_event: Any, change: Callable[[dict[str, Any]], None] | None = None
) -> Any:
    stored = mapper.to_stored_event(domain_event)
    state = stored.state
    if change is not None:
        parsed = orjson.loads(state)
        change(parsed)
        state = orjson.dumps(parsed)
    return Notification(
        id=7,
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=state,
    )


def _written(handle: Callable[[ProjectionTx], Any]) -> tuple[Any, list[Any], list[Any]]:
    projection = TimelineProjection()
    tx = ProjectionTx(projection, _Unsent())  # type: ignore[arg-type]
    tx.position = 7
    try:
        result = handle(tx)
    except Exception as exc:
        result = type(exc)
    return result, list(tx._queue), list(tx._appended)


def _both(mapper: Mapper[Any], notification: Any) -> tuple[Any, Any]:
    """What the stored handler writes (or False) and what the ordinary handler writes (or its error)."""
    projection = TimelineProjection()
    names = projection.handler_for(notification.topic) and projection.reads(notification.topic)
    # At its class's version, as the runner reads it (an event with a coded reason is at v2).
    state = stored_state(notification.state, getattr(resolve_topic(notification.topic), "class_version", 1))
    assert names is not None
    assert state is not None
    stored = _written(lambda tx: projection.stored_entry(notification, state, tx))
    ordinary = _written(lambda tx: projection.entry(decode_attributes(mapper, notification, names), tx))
    return stored, ordinary


def _events() -> list[Any]:
    aggregates = [
        *household_with_referrals(1),
        *household_with_referrals(2),
        vacancy_with_offers(1),
        vacancy_with_offers(2),
    ]
    return [domain_event for aggregate in aggregates for domain_event in aggregate.collect_events()]


def test_every_event_of_a_history_is_written_the_same_from_its_stored_json() -> None:
    mapper = _mapper()
    projection = TimelineProjection()
    handled = 0
    for domain_event in _events():
        notification = _stored(mapper, domain_event)
        if projection.handler_for(notification.topic) is None:
            continue
        (taken, queued, appended), (outcome, ordinary_queued, ordinary_appended) = _both(mapper, notification)

        assert taken is True, notification.topic
        assert outcome is None, notification.topic
        assert (queued, appended) == (ordinary_queued, ordinary_appended), notification.topic
        handled += 1
    assert handled > 20


def _reserved() -> Any:
    return next(e for e in vacancy_with_offers(1).collect_events() if type(e).__name__ == "OfferReserved")


def _typed(name: str, data: Any) -> dict[str, Any]:
    return {"_type_": name, "_data_": data}


ODD_FORMS: dict[str, Callable[[dict[str, Any]], None]] = {
    "a moment without microseconds": lambda s: s.update(
        at=_typed("datetime_iso", "2026-03-01T09:00:00+00:00")
    ),
    "a moment in another zone": lambda s: s.update(at=_typed("datetime_iso", "2026-03-01T09:00:00.5+02:00")),
    "a moment without a zone": lambda s: s.update(timestamp=_typed("datetime_iso", "2026-03-01T09:00:00")),
    "a moment with a space": lambda s: s.update(
        at=_typed("datetime_iso", "2026-03-01 09:00:00.123456+00:00")
    ),
    "a moment in Zulu": lambda s: s.update(at=_typed("datetime_iso", "2026-03-01T09:00:00.123456Z")),
    "a week date": lambda s: s.update(at=_typed("datetime_iso", "2026-W09-7T09:00:00.123456+00:00")),
    "a moment out of range": lambda s: s.update(at=_typed("datetime_iso", "2026-13-01T09:00:00+00:00")),
    "a date for a moment": lambda s: s.update(at=_typed("date_iso", "2026-03-01")),
    "no moment": lambda s: s.pop("at"),
    "a null moment": lambda s: s.update(at=None),
    "no recorded time": lambda s: s.pop("timestamp"),
    "no actor": lambda s: s.pop("by"),
    "a null actor": lambda s: s.update(by=None),
    "an actor of an unknown role": lambda s: s["by"]["_data_"].update(role="mayor"),
    "an actor with an extra field": lambda s: s["by"]["_data_"].update(name="x"),
    "an actor without a person": lambda s: s["by"]["_data_"].pop("person"),
    "an encrypted actor": lambda s: s.update(by=_typed("Shredded", {"key_id": "x"})),
    "an upper-case id": lambda s: s["household_id"].update(_data_=s["household_id"]["_data_"].upper()),
    "a dashed id": lambda s: s["offer_id"].update(_data_=str(UUID(s["offer_id"]["_data_"]))),
    "no subject": lambda s: s.pop("offer_id"),
    "a null household": lambda s: s.update(household_id=None),
}


def test_a_value_in_any_other_form_is_written_as_decoded_or_left_to_the_ordinary_handler() -> None:
    mapper = _mapper()
    for form, change in ODD_FORMS.items():
        notification = _stored(mapper, _reserved(), change)
        (taken, queued, appended), (_, ordinary_queued, ordinary_appended) = _both(mapper, notification)

        assert taken in (True, False), form
        if taken:
            assert (queued, appended) == (ordinary_queued, ordinary_appended), form
        else:
            assert (queued, appended) == ([], []), form


def test_the_usual_forms_are_read_from_stored_json() -> None:
    mapper = _mapper()
    for form in ("a moment without microseconds", "no moment", "a null moment", "no actor", "a null actor"):
        notification = _stored(mapper, _reserved(), ODD_FORMS[form])
        (taken, _, _), _ = _both(mapper, notification)
        assert taken is True, form


@settings(max_examples=100, deadline=None)
@given(moment=st.datetimes(timezones=st.sampled_from(ZONES)))
def test_a_stored_moment_is_the_column_text_of_the_decoded_moment(moment: datetime) -> None:
    stored = DatetimeAsISO().encode(moment)

    assert stored_instant({"_type_": "datetime_iso", "_data_": stored}) == instant(
        datetime.fromisoformat(stored)
    )


def test_a_stored_id_is_the_text_of_the_decoded_id() -> None:
    for _ in range(50):
        uuid = uuid4()
        assert stored_id({"_type_": "uuid_hex", "_data_": UUIDAsHex().encode(uuid)}) == str(uuid)
    assert stored_id({"_type_": "uuid_hex", "_data_": uuid.hex.upper()}) is None
    assert stored_id({"_type_": "uuid_hex", "_data_": str(uuid)}) is None
    assert stored_id(str(uuid)) is None


@settings(max_examples=15, deadline=None)
@given(steps=read_model_steps)
def test_every_read_model_fed_in_random_batches_as_stored_equals_a_rebuild_from_decoded_events(
    steps: list[tuple[str, Any]],
) -> None:
    app = NodeLikeApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    views = SQLiteViewStore()
    try:
        live = read_model_support.runners(app, views, batch_size=3)
        world: dict[str, list[Any]] = {"vacancies": [], "households": [], "referrals": []}
        for t, (step, arg) in enumerate(steps):
            if step in ("run", "restart", "duplicate"):
                for runner in live.values():
                    runner.batch_size = arg
                    runner.run_once()
                continue
            with contextlib.suppress(DomainError, AssertionError, IndexError, ZeroDivisionError):
                _command(app, world, step, arg, 10 + t / 2)
        for name, projection in READ_MODELS.items():
            live[name].run_until_caught_up()
            decoded = ProjectionRunner(
                app, projection("decoded"), views, decoding=StoredEventDecoder(app.mapper)
            )
            decoded.stored_handlers = False
            decoded.run_until_caught_up()

            assert live[name].stored_handlers is True
            assert compare(live[name], decoded) == [], name
            assert live[name].parked() == [], name
    finally:
        views.close()
        app.close()
