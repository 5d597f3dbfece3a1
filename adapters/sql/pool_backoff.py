"""The PostgreSQL pools' reconnect back-off, capped, so that a node serves again within seconds of its
database coming back.

psycopg_pool retries a failed connection after 1 s, doubling each time, without a cap until its
reconnect timeout (5 minutes): after a 30 s outage its next attempt was up to 32 s away, and commands got
503 for that long after the server was back (issue 17: 6 to 7 s, and ~50 s after an idle restart). The
eventsourcing library builds its pool itself and passes no back-off, so the cap is set on psycopg_pool's
attempt class, for every pool in the process. An attempt against a server that refuses costs well under
a millisecond.
"""

from __future__ import annotations

import psycopg_pool.pool
from psycopg_pool.base import AttemptWithBackoff

MAX_RECONNECT_DELAY_S = 1.0


class CappedBackoff(AttemptWithBackoff):
    """psycopg_pool's attempt, its delay growing no further than MAX_RECONNECT_DELAY_S."""

    def update_delay(self, now: float) -> None:
        super().update_delay(now)
        self.delay = min(self.delay, MAX_RECONNECT_DELAY_S)


def cap_reconnect_backoff() -> None:
    """Make every psycopg pool in this process retry a lost server at least every MAX_RECONNECT_DELAY_S."""
    psycopg_pool.pool.AttemptWithBackoff = CappedBackoff  # type: ignore[attr-defined]
