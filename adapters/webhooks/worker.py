"""The webhook worker, a node background task: reads the node's log into deliveries (position and queue in
one transaction), then sends what is due, retrying a failure with bounded exponential backoff.

At least once: a delivery whose answer is lost is sent again with the same webhook-id, so a receiver that
remembers the ids it has processed applies each event once in effect.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import structlog

from adapters.background_loop import BackgroundLoop
from adapters.webhooks import events, signing
from adapters.webhooks.store import Delivery, WebhookStore
from coordination.applications.base import NodeApplication

log = structlog.get_logger()
MIN_SLEEP_S = 0.05  # a retry due now (or overdue) is looked at again this soon


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Backoff:
    """Retry after `first_s`, doubling up to `longest_s`; give up (failed, replayable) after `attempts`."""

    first_s: float = 5.0
    longest_s: float = 3600.0
    attempts: int = 12

    def after(self, attempt: int) -> timedelta | None:
        """The wait after the `attempt`-th failure; None once the attempts are used up."""
        if attempt >= self.attempts:
            return None
        return timedelta(seconds=min(self.first_s * 2 ** (attempt - 1), self.longest_s))


class WebhookWorker:
    """Delivers the node's referral events and notifications to the subscriptions of its organisation."""

    def __init__(
        self,
        app: NodeApplication,
        store: WebhookStore,
        *,
        backoff: Backoff = Backoff(),
        idle_s: float = 5.0,
        timeout_s: float = 10.0,
        clock: Callable[[], datetime] = wall_clock,
    ) -> None:
        self._app = app
        self._store = store
        self._backoff = backoff
        self._clock = clock
        self._timeout_s = timeout_s
        self._idle_s = idle_s
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=False)
        self._loop = BackgroundLoop(f"webhooks:{app.organisation}", self._step, idle_sleep=idle_s)
        self.sent = 0

    def read_log(self, limit: int = 200) -> int:
        """Queue a delivery per subscription for each delivered event after the position; how many events."""
        subscriptions = self._store.subscriptions(self._app.organisation)
        position = self._store.position()
        found: list[tuple[int, dict[str, object]]] = []
        for at, domain_event in events.stored_events(self._app, after=position, limit=limit):
            try:
                event = events.cloud_event(self._app, domain_event)
            except Exception as error:
                # Not delivered, and said so: one event that cannot be built must not stop every later one.
                log.warning(
                    "webhook.event_skipped",
                    organisation=self._app.organisation,
                    notification_id=at,
                    event_type=type(domain_event).__qualname__,
                    error=type(error).__name__,
                )
                event = None
            found.append((at, event or {}))
        if not found:
            return 0
        queued = [
            (subscription, event)
            for _, event in found
            if event
            for subscription in subscriptions
            if events.subscribed(subscription.types, str(event["type"]))
        ]
        self._store.enqueue(queued, position=found[-1][0], at=self._clock())
        return len(found)

    def send_due(self, limit: int = 50) -> int:
        """Send each delivery due now once; how many were attempted."""
        due = self._store.due(self._clock(), limit)
        for delivery, url, secret, body in due:
            self._send(delivery, url, secret, body)
        return len(due)

    def _send(self, delivery: Delivery, url: str, secret: str, body: bytes) -> None:
        timestamp = int(time.time())
        headers = signing.headers(secret, str(delivery.id), timestamp, body)
        status: int | None = None
        error: str | None = None
        try:
            response = self._client.post(url, content=body, headers=headers)
            status = response.status_code
        except httpx.HTTPError as failure:
            error = type(failure).__name__
        delivered = status is not None and 200 <= status < 300
        wait = None if delivered else self._backoff.after(delivery.attempts + 1)
        now = self._clock()
        self._store.attempted(
            delivery,
            at=now,
            status=status,
            error=error,
            delivered=delivered,
            retry_at=None if wait is None else now + wait,
        )
        if delivered:
            self.sent += 1
        log.info(
            "webhook.attempted",
            organisation=self._app.organisation,
            delivery_id=str(delivery.id),
            event_type=delivery.event_type,
            attempt=delivery.attempts + 1,
            status=status,
            error=error,
            delivered=delivered,
        )

    def run_once(self) -> int:
        return self.read_log() + self.send_due()

    def _step(self) -> bool:
        if self.run_once() > 0:
            return True
        # Idle: sleep until the next retry is due, or at most `idle_s` (new events wake the loop: a commit
        # here, or the log's NOTIFY when another replica committed).
        due = self._store.next_due()
        until_due = self._idle_s if due is None else (due - self._clock()).total_seconds()
        self._loop.idle_sleep = min(max(until_due, MIN_SLEEP_S), self._idle_s)
        return False

    def wake(self) -> None:
        self._loop.wake()

    def start(self) -> None:
        """Start (again, after `stop`: a replica elected to deliver after another one stopped)."""
        if self._client.is_closed:
            self._client = httpx.Client(timeout=self._timeout_s, follow_redirects=False)
        self._loop.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._loop.stop(timeout)
        self._client.close()

    @property
    def failures(self) -> int:
        return self._loop.failures
