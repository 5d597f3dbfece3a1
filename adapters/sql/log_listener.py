"""Followers of a node's log woken by PostgreSQL instead of polling it: the recorder NOTIFYs its channel
in every transaction that inserts events (eventsourcing's and adapters/eventstore/pg_events.py's), so one
connection LISTENing on it can wake the relay, the sealer and the projections when there is something to
read, and they may sleep long in between.

Nothing is lost while the listener is down: the followers still poll at their (long) idle interval, and
are all woken when the listener connects again, in case something was stored meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import psycopg
import structlog
from psycopg import sql
from psycopg.conninfo import make_conninfo

from adapters.sql.node_db import notifications_within

log = structlog.get_logger()

CONNECT_TIMEOUT_S = 5
# How often the listening thread looks up from its wait to see whether it is asked to stop.
STOP_CHECK_S = 1.0
RETRY_MAX_S = 5.0


class LogListener:
    """LISTENs on `channel` on a connection of its own and calls every `wakes` once per batch of
    notifications (a burst of commits wakes the followers once, not once per commit)."""

    def __init__(self, conninfo: str, channel: str, wakes: Sequence[Callable[[], None]]) -> None:
        self._conninfo = conninfo
        self._channel = channel
        self._wakes = list(wakes)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()
        self.notifications = 0

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=f"listen:{self._channel}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = STOP_CHECK_S + 2) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _wake_all(self) -> None:
        for wake in self._wakes:
            wake()

    def _run(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as connection:
                    connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                    self.listening.set()
                    backoff = 0.5
                    self._wake_all()  # whatever was stored while nobody listened
                    self._listen(connection)
            except psycopg.Error as error:
                self.listening.clear()
                log.warning(
                    "log_listener.disconnected",
                    error=type(error).__name__,
                    retry_in_s=backoff,
                    exc_info=error,
                )
                self._wake_all()  # the followers poll until the listener is back
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, RETRY_MAX_S)
        self.listening.clear()

    def _listen(self, connection: psycopg.Connection[Any]) -> None:
        while not self._stopping.is_set():
            arrived = notifications_within(connection, STOP_CHECK_S)
            if arrived:
                self.notifications += arrived
                self._wake_all()


def log_listener(
    env: Mapping[str, str], recorder: Any, wakes: Sequence[Callable[[], None]]
) -> LogListener | None:
    """A listener on the application's PostgreSQL store, or None for a store that does not notify
    (SQLite, memory: their followers keep polling)."""
    channel = getattr(recorder, "channel_name", None)
    if env.get("PERSISTENCE_MODULE") != "eventsourcing.postgres" or channel is None:
        return None
    conninfo = make_conninfo(
        host=env.get("POSTGRES_HOST", "127.0.0.1"),
        port=env.get("POSTGRES_PORT", "5432"),
        user=env.get("POSTGRES_USER", ""),
        password=env.get("POSTGRES_PASSWORD", ""),
        dbname=env.get("POSTGRES_DBNAME", ""),
        connect_timeout=CONNECT_TIMEOUT_S,
        application_name="coordination-log-listener",
    )
    return LogListener(conninfo, channel, wakes)
