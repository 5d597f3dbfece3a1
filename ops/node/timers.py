"""The node's timers on the wall clock: offers past expiry, referrals past due, erasures past retention,
notifications of steps due and their escalation.

The applications decide what is due at an explicit `now` (`expire_due`, `propose_erasures`), so replays
and tests choose the time; this loop is the one place a running node reads the clock for them. Every
step's command id is derived from what expires, so two nodes' loops (or a restart mid-run) never apply a
step twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from adapters.background_loop import BackgroundLoop
from adapters.settings import NodeSettings
from coordination.applications.base import NodeApplication

log = structlog.get_logger()


def wall_clock() -> datetime:
    return datetime.now(UTC)


class NodeTimers:
    """Runs the node application's timers every `interval_s` seconds (and once at start)."""

    def __init__(
        self, app: NodeApplication, *, interval_s: float, clock: Callable[[], datetime] = wall_clock
    ) -> None:
        self._app = app
        self._clock = clock
        self._loop = BackgroundLoop(f"timers:{app.organisation}", self._step, idle_sleep=interval_s)
        self.runs = 0

    def run_once(self) -> dict[str, int]:
        """Run every timer of the application as of the clock's now; how many steps each took."""
        now = self._clock()
        done: dict[str, int] = {}
        expire_due = getattr(self._app, "expire_due", None)
        if expire_due is not None:
            expiries = expire_due(now=now)
            done |= {
                "offers_expired": len(expiries.offers) + len(expiries.requested_offers),
                "referrals_expired": len(expiries.referrals),
                "skipped": len(expiries.skipped),
            }
        propose_erasures = getattr(self._app, "propose_erasures", None)
        if propose_erasures is not None:
            done["erasures_proposed"] = len(propose_erasures(now=now))
        # After the expiries, so a step the run itself closed is not notified as overdue.
        notify_due = getattr(self._app, "notify_due", None)
        if notify_due is not None:
            notices = notify_due(now=now)
            done |= {
                "notifications_raised": len(notices.raised),
                "notifications_escalated": len(notices.escalated),
            }
        self.runs += 1
        if any(done.values()):
            log.info("timers.ran", organisation=self._app.organisation, **done)
        return done

    def _step(self) -> bool:
        self.run_once()
        return False  # then wait out the interval

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._loop.stop(timeout)

    @property
    def failures(self) -> int:
        return self._loop.failures


def start_timers(settings: NodeSettings, app: NodeApplication) -> NodeTimers | None:
    """The node's timers, started, unless the settings turn them off (COORDINATION_TIMERS_INTERVAL_S=0)."""
    if settings.timers_interval_s <= 0:
        return None
    timers = NodeTimers(app, interval_s=settings.timers_interval_s)
    timers.start()
    return timers
