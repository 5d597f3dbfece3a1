"""Logging set-up: structlog, JSON in production, with a last guard against personal data in log fields."""

from __future__ import annotations

import logging
import sys
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
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        # Not cached, so a later configure() (a test's capture, a CLI's level) takes effect everywhere.
        cache_logger_on_first_use=False,
    )
