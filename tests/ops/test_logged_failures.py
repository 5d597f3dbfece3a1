"""Every logged failure carries its exception (type, message, frames), and no personal data it quotes."""

from __future__ import annotations

import json
import logging
import sqlite3

import pytest
import structlog

from ops.logging import configure


def _logged(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]


def test_a_failure_logged_inside_except_carries_its_exception_in_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure(json=True)
    try:
        log = structlog.get_logger().bind(projection="timeline_live")
        try:
            sqlite3.connect(":memory:").execute("SELECT * FROM no_such_table")
        except sqlite3.OperationalError:
            log.exception("batch failed; retrying")  # as the projection runner logs a failed batch
        (entry,) = _logged(capsys)
    finally:
        configure(json=False, level=logging.WARNING)
    assert "exc_info" not in entry
    assert entry["error"] == "OperationalError"
    exception = str(entry["exception"])
    assert "Traceback" in exception
    assert "no such table: no_such_table" in exception
    assert "test_logged_failures.py" in exception


def test_a_failure_logged_with_the_exception_itself_carries_it_without_the_data_it_quotes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure(json=True)
    try:
        cpr = "010203-1234"
        error = ValueError(f"no household with cpr {cpr}; input_value='Jens Hansen', input_type=str")
        structlog.get_logger().warning("loop.step_failed", loop="relay:exchange", exc_info=error)
        (entry,) = _logged(capsys)
    finally:
        configure(json=False, level=logging.WARNING)
    exception = str(entry["exception"])
    assert exception.startswith("ValueError: no household with cpr")
    assert cpr not in exception
    assert "Jens Hansen" not in exception
    assert entry["error"] == "ValueError"


def test_the_console_log_shows_the_exception_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure(json=False)
    try:
        try:
            raise ConnectionError("server closed the connection unexpectedly")
        except ConnectionError:
            structlog.get_logger().exception("batch failed; retrying")
        err = capsys.readouterr().err
    finally:
        configure(json=False, level=logging.WARNING)
    assert "ConnectionError: server closed the connection unexpectedly" in err
    assert "Traceback" in err
