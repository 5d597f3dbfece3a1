"""One classifier tells a passing failure of the database, network or disk from an event's own fault."""

from __future__ import annotations

import errno
import sqlite3

import psycopg
import psycopg.errors
import pytest
from eventsourcing.persistence import IntegrityError as StoreIntegrityError
from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from eventsourcing.persistence import ProgrammingError as StoreProgrammingError

from coordination.projections.view_store import StatementFailed
from coordination.transient import is_transient, retried


def _raised_from(error: Exception, cause: BaseException) -> Exception:
    """`error` as the eventsourcing library raises it: `raise error from cause`."""
    try:
        raise error from cause
    except Exception as raised:
        return raised


@pytest.mark.parametrize(
    "error",
    [
        psycopg.OperationalError("server closed the connection unexpectedly"),
        psycopg.InterfaceError("the connection is closed"),
        psycopg.errors.DiskFull("could not extend file: No space left on device"),
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.CannotConnectNow("the database system is starting up"),
        psycopg.errors.SerializationFailure("could not serialize access"),
        psycopg.errors.IoError("could not read block"),
        psycopg.errors.LockNotAvailable("could not obtain lock"),
        psycopg.errors.ReadOnlySqlTransaction("cannot execute INSERT in a read-only transaction"),
        sqlite3.OperationalError("database is locked"),
        sqlite3.OperationalError("database or disk is full"),
        sqlite3.OperationalError("disk I/O error"),
        ConnectionRefusedError("connection refused"),
        TimeoutError("timed out"),
        OSError(errno.ENOSPC, "No space left on device"),
    ],
    ids=lambda error: f"{type(error).__name__}:{error}",
)
def test_a_failure_of_the_database_network_or_disk_is_transient(error: Exception) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.UniqueViolation("duplicate key value"),
        psycopg.errors.UndefinedColumn("column does not exist"),
        psycopg.errors.ProgramLimitExceeded("index row size exceeds maximum"),  # an OperationalError
        psycopg.errors.NumericValueOutOfRange("integer out of range"),
        sqlite3.OperationalError("no such column: rooms"),
        sqlite3.IntegrityError("UNIQUE constraint failed"),
        ValueError("rooms must be positive"),
        KeyError("household_id"),
        FileNotFoundError(errno.ENOENT, "no such file"),
    ],
    ids=lambda error: f"{type(error).__name__}:{error}",
)
def test_an_events_own_fault_is_not_transient(error: Exception) -> None:
    assert not is_transient(error)


def test_the_stores_own_operational_error_is_judged_by_the_psycopg_error_it_was_raised_from() -> None:
    # Not subclasses of psycopg's: a consumer catching psycopg.OperationalError alone parked these.
    assert not issubclass(StoreOperationalError, psycopg.OperationalError)
    disk_full = _raised_from(StoreOperationalError("could not extend file"), psycopg.errors.DiskFull())
    too_big = _raised_from(StoreOperationalError("index row too big"), psycopg.errors.ProgramLimitExceeded())
    gone = _raised_from(StoreInterfaceError("connection closed"), psycopg.InterfaceError())

    assert is_transient(disk_full)
    assert is_transient(gone)
    assert not is_transient(too_big)
    assert is_transient(StoreOperationalError("couldn't get a connection after 30.00 sec"))
    assert not is_transient(_raised_from(StoreIntegrityError("duplicate"), psycopg.errors.UniqueViolation()))
    assert not is_transient(_raised_from(StoreProgrammingError("syntax"), psycopg.errors.SyntaxError()))


def test_a_refused_view_write_is_an_events_fault_but_one_raised_from_a_lost_connection_is_not() -> None:
    assert not is_transient(
        _raised_from(StatementFailed("UniqueViolation"), psycopg.errors.UniqueViolation())
    )
    assert is_transient(_raised_from(ValueError("could not read keys"), psycopg.OperationalError("gone")))


def test_a_retried_call_is_called_again_after_a_transient_failure_but_not_after_any_other() -> None:
    calls: list[str] = []

    @retried(attempts=3, wait=0.001)
    def read(failure: Exception | None) -> str:
        calls.append("called")
        if failure is not None and len(calls) < 3:
            raise failure
        return "read"

    assert read(sqlite3.OperationalError("database is locked")) == "read"
    assert len(calls) == 3
    calls.clear()
    with pytest.raises(ValueError, match="bad"):
        read(ValueError("bad"))
    assert len(calls) == 1
