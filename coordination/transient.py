"""Which failures are transient: the database, the network or the disk failed, not the work being done.

A consumer or projection runner retries such a failure with backoff and never parks for it: the message or
event is fine and will apply once the database is back, the disk has room or the lock is free. Parking is
for what cannot be applied on its own merits. This is the one place that tells the two apart, whichever
library raised the failure. It imports no driver: it reads what the drivers' errors have in common (the
DB-API 2.0 error kinds of PEP 249, and the SQLSTATE of the SQL standard where the driver reports one), so
coordination/ depends on no database technology:

* An error that reports the server's SQLSTATE (psycopg's do) is judged by its class, which says what went
  wrong; one whose SQLSTATE is None is the client's own (the connection was refused, closed or lost) and
  is transient when it is an OperationalError or InterfaceError.
* The eventsourcing library re-raises the driver's errors as its own OperationalError, InterfaceError, ...:
  they are judged by the driver's error they were raised from, and its own OperationalError and
  InterfaceError (a pool timeout, a retry given up) are transient by type.
* An OperationalError without a SQLSTATE (SQLite's) reports both "this statement is wrong" and "the disk is
  full": only its lock, busy, disk and I/O conditions are transient.
"""

from __future__ import annotations

import errno
import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from eventsourcing.persistence import PersistenceError

# SQLSTATE classes of conditions that pass: 08 connection exception, 40 transaction rollback (serialization
# failure, deadlock), 53 insufficient resources (53100 disk full, out of memory, too many connections),
# 57 operator intervention (57P01 admin shutdown, 57P03 cannot connect now, a cancelled statement), 58
# system error (an I/O error). Class 54 (program limit exceeded) is an OperationalError too, but the same
# statement fails again: it is not transient.
TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
# Single conditions of other classes: a lock not available now; a read-only transaction (a standby, or
# the server refusing writes while it recovers).
TRANSIENT_SQLSTATES = frozenset({"55P03", "55006", "25006"})

F = TypeVar("F", bound=Callable[..., Any])

_SQLITE_TRANSIENT = ("locked", "busy", "disk", "i/o", "full", "readonly", "unable to open", "interrupted")
_OS_TRANSIENT = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EAGAIN, errno.EROFS})


def is_transient(error: BaseException) -> bool:
    """Whether `error`, or any error it was raised from, is a passing failure of the database, network or
    disk rather than the fault of what was being applied."""
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 10:  # a cause chain is short; a cycle must not hang a consumer
        if _transient_itself(current):
            return True
        current, seen = current.__cause__, seen + 1
    return False


def _transient_itself(error: BaseException) -> bool:
    if _reports_sqlstate(error):
        sqlstate = getattr(error, "sqlstate", None)
        if sqlstate is None:
            return bool(_kinds(error) & {"OperationalError", "InterfaceError"})
        return sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES or sqlstate in TRANSIENT_SQLSTATES
    if isinstance(error, StoreOperationalError | StoreInterfaceError):
        # Raised from a driver's error with a SQLSTATE, that error decides (a chain is walked by
        # `is_transient`, so only a store error without one is judged here: the pool gave up waiting, or a
        # retry did).
        return not _reports_sqlstate(error.__cause__)
    if "OperationalError" in _kinds(error) and not isinstance(error, PersistenceError):
        message = str(error).lower()
        return any(marker in message for marker in _SQLITE_TRANSIENT)
    if isinstance(error, ConnectionError | TimeoutError):
        return True
    return isinstance(error, OSError) and error.errno in _OS_TRANSIENT


def _kinds(error: BaseException) -> set[str]:
    """The DB-API 2.0 kinds an error is of, by its classes' names (a driver's own classes, not imported)."""
    return {cls.__name__ for cls in type(error).__mro__}


def _reports_sqlstate(error: BaseException | None) -> bool:
    """Whether `error` is a driver's database error that carries a SQLSTATE attribute (psycopg's)."""
    return (
        error is not None
        and not isinstance(error, PersistenceError)
        and "Error" in _kinds(error)
        and isinstance(getattr(type(error), "sqlstate", False), str | None)
    )


def retried(attempts: int = 10, wait: float = 0.2, max_wait: float = 2.0) -> Callable[[F], F]:
    """Calls the decorated function again after a transient failure, up to `attempts` calls in all, waiting
    `wait` seconds before the first retry and twice as long before each next one (at most `max_wait`);
    any other failure, or the last transient one, is raised."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            pause = wait
            for attempt in range(1, attempts + 1):
                try:
                    return function(*args, **kwargs)
                except Exception as error:
                    if attempt == attempts or not is_transient(error):
                        raise
                time.sleep(pause)
                pause = min(pause * 2, max_wait)
            raise AssertionError("unreachable")  # pragma: no cover

        return call  # type: ignore[return-value]

    return decorate
