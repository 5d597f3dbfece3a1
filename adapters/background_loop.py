"""A background thread repeating one step: short sleeps when idle, growing (bounded) waits after failures."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

log = structlog.get_logger()


class BackgroundLoop:
    """Runs `step` until stopped; `step` returns True when it did work (then it runs again at once)."""

    def __init__(
        self, name: str, step: Callable[[], bool], *, idle_sleep: float = 0.05, max_backoff: float = 5.0
    ) -> None:
        self.name = name
        self._step = step
        self.idle_sleep = idle_sleep  # may be changed while running (e.g. once woken by notifications)
        self._max_backoff = max_backoff
        self._stopping = threading.Event()
        self._woken = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Cut the current idle sleep short: there is work (e.g. a command here has just committed)."""
        self._woken.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to stop after its current step and wait (bounded) for it."""
        self._stopping.set()
        self._woken.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("loop.stop_timed_out", loop=self.name, timeout_s=timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        backoff = self.idle_sleep
        while not self._stopping.is_set():
            # Cleared before the step, so a wake-up during the step is not lost: the wait returns at once.
            self._woken.clear()
            try:
                busy = self._step()
            except Exception as error:
                # Nothing is lost by failing: the step resumes from its durable position next time.
                self.failures += 1
                backoff = min(max(backoff * 2, 0.1), self._max_backoff)
                log.warning(
                    "loop.step_failed",
                    loop=self.name,
                    error=type(error).__name__,
                    retry_in_s=backoff,
                    exc_info=error,
                )
                self._stopping.wait(backoff)
                continue
            backoff = self.idle_sleep
            if not busy:
                self._woken.wait(self.idle_sleep)
