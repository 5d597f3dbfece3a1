"""Which replica of a node runs each of its one-at-a-time jobs: PostgreSQL advisory locks, one per role.

Several replicas of one organisation's node share its PostgreSQL database. Every replica serves the API
and consumes its share of the Kafka partitions; the relay, each projection runner, the sealer and the
timers run on one replica at a time. Each replica tries, for every role it does not hold, to take the
role's advisory lock (`pg_try_advisory_lock`) on a connection kept for that role alone, every
`retry_s`; the lock is the server's, held as long as that session lives, so a holder that dies (SIGKILL,
a lost network) frees it as soon as the server notices its connection is gone, and another replica takes
it at its next try. A holder checks its connection every `retry_s` too and stops the role at once when
the connection fails: it may no longer hold the lock, and two holders of a role must not run long.

Every role is safe to run twice for a moment anyway (the relay publishes again with the same ids, a
projection's stale batch rolls back, a timer's step has a derived id): the locks keep the work in one
place, they are not what keeps effects once.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import select
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
import structlog

log = structlog.get_logger()

RETRY_S = 0.5
CONNECT_TIMEOUT_S = 3
# TCP keepalives on the lock connections, so a peer that vanishes without closing (a lost network) is
# noticed within seconds, on this side and the server's.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 2, "keepalives_interval": 1, "keepalives_count": 3}
# The same on the server's end of them (per session), so a holder cut off by the network loses its locks
# within seconds there too, not after the operating system's default of two hours.
SERVER_KEEPALIVES = "-c tcp_keepalives_idle=2 -c tcp_keepalives_interval=1 -c tcp_keepalives_count=3"


@dataclass(frozen=True)
class Role:
    """One job that must run on one replica at a time: how to start and stop it here."""

    start: Callable[[], None]
    stop: Callable[[], None]


def lock_key(namespace: str, role: str) -> int:
    """The role's advisory lock key: a signed 64-bit hash of the node's namespace (its database, schema
    and organisation) and the role, so two organisations sharing a server never share a lock."""
    digest = hashlib.blake2b(f"{namespace}/{role}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _free(watch: psycopg.Connection[Any], keys: set[int]) -> set[int]:
    """Which of `keys` no session of the database holds now, in one query (an advisory lock on a bigint key
    shows in pg_locks as its high and low 32 bits)."""
    rows = watch.execute(
        "SELECT classid::bigint, objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1"
        " AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    ).fetchall()
    taken = {
        int.from_bytes(((high << 32) | low).to_bytes(8, "big"), "big", signed=True) for high, low in rows
    }
    return keys - taken


def _readable(connection: psycopg.Connection[Any]) -> bool:
    """Whether the server sent anything on an idle connection: on a lock's connection that is almost only
    its end (the server gone, the session terminated, a keepalive that failed); costs no round trip."""
    ready, _, _ = select.select([connection.fileno()], [], [], 0)
    return bool(ready)


class Leadership:
    """Holds what roles this replica can get, and gives them up when their connections fail."""

    def __init__(
        self,
        conninfo: str,
        namespace: str,
        roles: Mapping[str, Role],
        *,
        retry_s: float = RETRY_S,
    ) -> None:
        self._conninfo = conninfo
        self._roles = dict(roles)
        self._keys = {name: lock_key(namespace, name) for name in self._roles}
        self._retry_s = retry_s
        self._held: dict[str, psycopg.Connection[Any]] = {}
        self._watch: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.acquisitions = 0
        self.losses = 0

    def held(self) -> list[str]:
        """The roles this replica holds now."""
        with self._lock:
            return sorted(self._held)

    def roles(self) -> list[str]:
        return sorted(self._roles)

    def start(self) -> None:
        """Try for every role now (a single replica starts with all of them), then keep trying."""
        self._stopping.clear()
        self._round()
        # In a copy of the starter's context: the thread's logs carry what it bound (the organisation).
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(self._run,), name="leadership", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop every role held and release its lock (closing the connection releases it)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(self._retry_s + 2 * CONNECT_TIMEOUT_S + 10)
            self._thread = None
        for name in self.held():
            self._give_up(name, reason="stopping")
        self._close_watch()

    def _run(self) -> None:
        while not self._stopping.wait(self._retry_s):
            self._round()

    def _round(self) -> None:
        try:
            self.step()
        except Exception as error:  # the loop must outlive anything one round does
            log.warning("leadership.round_failed", error=type(error).__name__, exc_info=error)

    def step(self) -> None:
        """One round: give up every role whose connection failed, then try for the free ones."""
        for name in self.held():
            self._check(name)
        wanted = {self._keys[name]: name for name in self._roles if name not in self._held}
        if not wanted or self._stopping.is_set():
            return
        try:
            if self._watch is None:
                self._watch = self._connect()
            free = _free(self._watch, set(wanted))
        except psycopg.Error as error:
            self._close_watch()
            log.debug("leadership.unreachable", error=type(error).__name__)
            return
        for key in sorted(free):
            if self._stopping.is_set():
                return
            self._try(wanted[key])

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            self._conninfo,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name="coordination-leadership",
            options=SERVER_KEEPALIVES,
            **KEEPALIVES,
        )

    def _close_watch(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.close()

    def _try(self, name: str) -> None:
        try:
            connection = self._connect()
            row = connection.execute("SELECT pg_try_advisory_lock(%s)", (self._keys[name],)).fetchone()
        except psycopg.Error as error:
            log.debug("leadership.unreachable", role=name, error=type(error).__name__)
            return
        if not (row and row[0]):
            connection.close()  # another replica was quicker; the lock's connection is kept only while held
            return
        with self._lock:
            self._held[name] = connection
        self.acquisitions += 1
        log.info("leadership.acquired", role=name)
        try:
            self._roles[name].start()
        except Exception as error:
            log.error("leadership.start_failed", role=name, error=type(error).__name__, exc_info=error)
            self._give_up(name, reason="start failed")

    def _check(self, name: str) -> None:
        connection = self._held[name]
        try:
            if connection.closed:
                raise psycopg.OperationalError("the lock's connection is closed")
            if _readable(connection):
                connection.execute("SELECT 1")  # the server's end raises here; anything else passes
        except (psycopg.Error, OSError, ValueError) as error:
            self.losses += 1
            self._give_up(name, reason=type(error).__name__)

    def _give_up(self, name: str, *, reason: str) -> None:
        with self._lock:
            connection = self._held.pop(name, None)
        if connection is None:
            return
        # Stopped first: the lock may already be someone else's (a lost connection), and the role must not
        # go on here a moment longer than it takes to stop it.
        try:
            self._roles[name].stop()
        except Exception as error:
            log.error("leadership.stop_failed", role=name, error=type(error).__name__, exc_info=error)
        with contextlib.suppress(psycopg.Error):
            connection.close()
        if reason == "stopping":
            log.info("leadership.released", role=name)
        else:
            log.warning("leadership.lost", role=name, reason=reason)
