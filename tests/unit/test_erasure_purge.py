"""Parked messages about an erased household are deleted: by their subject, or by its id in their bytes."""

from __future__ import annotations

from uuid import uuid4

from adapters.erasure_purge import parked_purger
from adapters.exchange.tables import ParkedMessages
from adapters.exchange.transport import IncomingMessage
from adapters.sql.node_db import SqliteDatabase


def _message(offset: int, subject: str, value: bytes) -> IncomingMessage:
    headers = (("ce_subject", subject.encode()), ("ce_id", str(uuid4()).encode()))
    return IncomingMessage(
        topic="rehousing.referrals.x", partition=0, offset=offset, key=None, headers=headers, value=value
    )


def test_parked_messages_about_the_household_go_and_others_stay() -> None:
    household, referral, other = uuid4(), uuid4(), uuid4()
    parked = ParkedMessages(SqliteDatabase(":memory:"))
    parked.park(
        "exchange", _message(1, str(referral), b'{"assignee": "a named person"}'), reason="x", ce_id=None
    )
    parked.park(
        "exchange",
        _message(2, "garbled", b'{"household_id": "%s"}' % str(household).encode()),
        reason="x",
        ce_id=None,
    )
    parked.park("exchange", _message(3, str(other), b'{"note": "someone else"}'), reason="x", ce_id=None)

    parked_purger(parked, lambda h: [referral] if h == household else [])(household)

    assert [p.offset for p in parked.list()] == [3]
