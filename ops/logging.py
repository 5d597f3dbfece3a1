"""Logging set-up: structlog, JSON in production, with a last guard against personal data in log fields."""

from __future__ import annotations

import logging
import re
import sys
import traceback
from typing import Any

import structlog

# Field names that could carry personal data. Code must not log them; this guard drops them if it does.
PERSONAL_FIELDS = frozenset(
    {"cpr", "name", "members", "address", "new_address", "needs", "details", "consents"}
)


def _drop_personal_fields(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    for key in PERSONAL_FIELDS & event.keys():
        event[key] = "[removed: personal data]"
    return event


# What an exception's message may quote from the data it failed on: a CPR number (ddmmyy-nnnn), and the
# input pydantic repeats in a validation error. Tracebacks carry no locals (they would hold everything).
_QUOTED_DATA = (
    (re.compile(r"\b\d{6}-?\d{4}\b"), "[removed: number]"),
    (re.compile(r"input_value=(?:'[^']*'|\"[^\"]*\"|[^,\]\s]+)"), "input_value=[removed]"),
)


def _render_exception(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """`exc_info` (True inside an `except`, or the exception itself) as the `exception` field: the type, the
    message and the traceback's frames, without locals, and without what a message quotes from the data.
    Without this the JSON renderer wrote `"exc_info": true` and the exception was lost."""
    exc_info = event.pop("exc_info", None)
    if not exc_info:
        return event
    if isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    elif not isinstance(exc_info, tuple):
        exc_info = sys.exc_info()
    if exc_info[0] is None:
        return event  # asked for outside an `except`: there is no exception to show
    text = "".join(traceback.format_exception(*exc_info)).rstrip()
    for pattern, replacement in _QUOTED_DATA:
        text = pattern.sub(replacement, text)
    event["exception"] = text
    event.setdefault("error", exc_info[0].__name__)
    return event


class _CurrentStderr:
    """Writes to whatever sys.stderr is at the time of writing, not when logging was configured."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(*, json: bool, level: int = logging.INFO) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _drop_personal_fields,
            _render_exception,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        # Not cached, so a later configure() (a test's capture, a CLI's level) takes effect everywhere.
        cache_logger_on_first_use=False,
    )
