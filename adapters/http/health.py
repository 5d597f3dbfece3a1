"""Readiness that answers within a second whatever is down: each check runs on a thread of its own, one run
at a time, its answer kept for a moment, and a check that has not answered within the budget is reported
as failing with "timeout"; the store is asked on a connection of its own, never queued behind a pool."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, wait
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Generic, TypeVar

import psycopg
import structlog
from psycopg.conninfo import make_conninfo

from adapters.http.node import ApiNode
from adapters.http.problems import ApiProblem

log = structlog.get_logger()

Answer = dict[str, Any]
T = TypeVar("T")

# /readyz answers within a second: the checks together get half of it; the rest is margin for a busy host.
READY_BUDGET_S = 0.5
# A burst of probes (several kubelets, a load balancer, a dashboard) reads one answer instead of each
# asking the database again.
CHECK_TTL_S = 1.0
FAILING_TTL_S = 0.2
# The store check's own connection: libpq treats a connect timeout under 2 s as 2 s; the budget above
# still bounds the answer, this only bounds how long the check's thread waits.
STORE_CONNECT_TIMEOUT_S = 2
STORE_STATEMENT_TIMEOUT_MS = 500
READY_PROJECTION_LAG = 100  # events a projection may be behind the log and the node still take traffic
# The relay may be behind by this many stored events for RELAY_BEHIND_S before the node is not ready: a
# burst of commands is published within a second or two, a broker that does not take messages is not.
RELAY_LAG_BOUND = 100
RELAY_BEHIND_S = 10.0
CONSUMER_LAG_BOUND = 1000  # messages on the node's topics not yet read
# The operations figures read every read model: a few hundred ms on a large node, never 30 s.
OPERATIONS_BUDGET_S = 5.0


class BoundedCheck:
    """One readiness check: `probe` runs on a daemon thread of its own, never two at once; its answer is
    kept for `ttl` seconds. A probe stuck on a dead server holds only its own thread, and the callers
    that wait for it stop waiting at their budget."""

    def __init__(self, name: str, probe: Callable[[], Answer], *, ttl: float = CHECK_TTL_S) -> None:
        self.name = name
        self._probe = probe
        self._ttl = ttl
        self._lock = threading.Lock()
        self._answer: Answer | None = None
        self._answered_at = float("-inf")
        self._running: Future[Answer] | None = None

    def begin(self) -> Future[Answer]:
        """The answer: the kept one while fresh, else the run under way, else a new run."""
        with self._lock:
            # A failing answer is kept for less: a server that is back should be seen as back at once.
            ttl = self._ttl if self._answer is not None and self._answer["ok"] else FAILING_TTL_S
            if self._answer is not None and time.monotonic() - self._answered_at < ttl:
                done: Future[Answer] = Future()
                done.set_result(self._answer)
                return done
            if self._running is None:
                self._running = Future()
                threading.Thread(target=self._run, name=f"ready:{self.name}", daemon=True).start()
            return self._running

    def _run(self) -> None:
        started = time.monotonic()
        failure: Exception | None = None
        try:
            answer = self._probe()
        except Exception as error:  # any failure to answer means not ready; named by its type only
            answer, failure = {"ok": False, "error": type(error).__name__}, error
        took = round(time.monotonic() - started, 2)
        with self._lock:
            running, self._running = self._running, None
            was_ok = None if self._answer is None else self._answer["ok"]
            self._answer, self._answered_at = answer, time.monotonic()
        # Logged when the check changes its mind (not at every probe through an outage), with the exception.
        if answer["ok"] and was_ok is False:
            log.info("ready.check_passes", check=self.name, seconds=took)
        elif not answer["ok"] and was_ok is not False:
            fields = {k: v for k, v in answer.items() if k != "ok"}
            log.warning("ready.check_fails", check=self.name, seconds=took, exc_info=failure, **fields)
        if running is not None:
            running.set_result(answer)


class SharedRun(Generic[T]):
    """One run at a time of a function whose answer is the same for every caller (the node's figures):
    callers arriving while it runs wait for that run, each at most its budget."""

    def __init__(self, name: str, function: Callable[[], T]) -> None:
        self.name = name
        self._function = function
        self._lock = threading.Lock()
        self._running: Future[T] | None = None

    def result(self, budget: float) -> T:
        """The answer of the run under way (or a new one); TimeoutError if none came within `budget`."""
        with self._lock:
            running = self._running
            if running is None:
                running = self._running = Future()
                threading.Thread(target=self._run, args=(running,), name=self.name, daemon=True).start()
        try:
            return running.result(timeout=budget)
        except FutureTimeout:
            raise TimeoutError(f"{self.name} did not answer within {budget} s") from None

    def _run(self, running: Future[T]) -> None:
        try:
            answer = self._function()
        except BaseException as error:  # handed to every waiting caller, which raises it as its own
            with self._lock:
                self._running = None
            running.set_exception(error)
            return
        with self._lock:
            self._running = None
        running.set_result(answer)


def _timed_out(budget: float) -> Answer:
    return {"ok": False, "error": "timeout", "budget_s": budget}


class PostgresStoreProbe:
    """The event store's position read on a connection of the probe's own, with short connect and statement
    timeouts. The application's pool would make a caller wait up to its timeout (30 s) for a connection
    while the server is down, and hand out connections that died with a restart."""

    def __init__(self, env: Mapping[str, str], statement: Any) -> None:
        self._conninfo = make_conninfo(
            host=env.get("POSTGRES_HOST", "127.0.0.1"),
            port=env.get("POSTGRES_PORT", "5432"),
            user=env.get("POSTGRES_USER", ""),
            password=env.get("POSTGRES_PASSWORD", ""),
            dbname=env.get("POSTGRES_DBNAME", ""),
            connect_timeout=STORE_CONNECT_TIMEOUT_S,
            options=f"-c statement_timeout={STORE_STATEMENT_TIMEOUT_MS}",
            application_name="coordination-readiness",
        )
        self._statement = statement  # the recorder's own `SELECT MAX(notification_id)`, schema and all
        self._connection: psycopg.Connection[Any] | None = None

    def __call__(self) -> Answer:
        connection = self._connection
        if connection is not None and not connection.closed:
            try:
                return self._position(connection)
            except psycopg.Error:
                connection.close()  # died with a restart, most likely: try once on a new one
        self._connection = None
        connection = psycopg.connect(self._conninfo, autocommit=True)
        try:
            answer = self._position(connection)
        except psycopg.Error:
            connection.close()
            raise
        self._connection = connection
        return answer

    def _position(self, connection: psycopg.Connection[Any]) -> Answer:
        row = connection.execute(self._statement).fetchone()
        return {"ok": True, "position": (row[0] if row else None) or 0}

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


def store_probe(node: ApiNode) -> Callable[[], Answer]:
    """PostgreSQL asked on the probe's own connection; SQLite and memory (no pool, no server) through the
    application's recorder."""
    recorder = node.app.recorder
    statement = getattr(recorder, "max_notification_id_statement", None)
    if node.app.env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres" and statement is not None:
        return PostgresStoreProbe(node.app.env, statement)
    return lambda: {"ok": True, "position": recorder.max_notification_id() or 0}


class NodeHealth:
    """A node's readiness: the store answers, each projection is within its bound of the log, the relay and
    the consumer run and neither is behind by more than its bound for long."""

    def __init__(
        self,
        node: ApiNode,
        *,
        relay_lag_bound: int = RELAY_LAG_BOUND,
        relay_behind_s: float = RELAY_BEHIND_S,
        consumer_lag_bound: int = CONSUMER_LAG_BOUND,
    ) -> None:
        self.node = node
        self.relay_lag_bound = relay_lag_bound
        self.relay_behind_s = relay_behind_s
        self.consumer_lag_bound = consumer_lag_bound
        self._store = BoundedCheck("store", store_probe(node))
        self.checks = [self._store]
        if node.read_models is not None:
            self.checks.append(BoundedCheck("projections", self._projections))
        self.checks.append(BoundedCheck("exchange", self._exchange))
        # The last moment the relay was seen within its bound, by a probe (the relay says so itself too).
        self._relay_within_at = time.monotonic()
        self._runs: dict[str, SharedRun[Any]] = {}
        self._runs_lock = threading.Lock()

    def readiness(self, budget: float = READY_BUDGET_S) -> dict[str, Answer]:
        running = {check.name: check.begin() for check in self.checks}
        wait(running.values(), timeout=budget)
        return self._answers(running, budget)

    async def readiness_async(self, budget: float = READY_BUDGET_S) -> dict[str, Answer]:
        """As `readiness`, waiting on the event loop: /readyz needs no worker thread of the server's, which
        requests stuck on a dead store may all be holding."""
        running = {check.name: check.begin() for check in self.checks}
        waiting = [asyncio.wrap_future(f) for f in running.values() if not f.done()]
        if waiting:
            await asyncio.wait(waiting, timeout=budget)
        return self._answers(running, budget)

    def _answers(self, running: dict[str, Future[Answer]], budget: float) -> dict[str, Answer]:
        answers = {name: f.result() if f.done() else _timed_out(budget) for name, f in running.items()}
        # Whether the relay and consumer loops run costs nothing to ask: asked now, never from the cache.
        exchange_running = self.node.exchange_running
        if exchange_running is not None and not exchange_running():
            exchange = dict(answers["exchange"])
            exchange.update(ok=False, running=False)
            exchange["error"] = ", ".join(
                ["not running", *([exchange["error"]] if "error" in exchange else [])]
            )
            answers["exchange"] = exchange
        elif exchange_running is not None:
            answers["exchange"] = {**answers["exchange"], "running": True}
        return answers

    def store_failing(self, budget: float = READY_BUDGET_S) -> Answer | None:
        """The store check's answer (waiting at most `budget` for it) if it is failing: a query that needs
        the store answers 503 at once then, rather than queueing behind the pool."""
        future = self._store.begin()
        wait([future], timeout=budget)
        answer = future.result() if future.done() else _timed_out(budget)
        return None if answer["ok"] else answer

    def require_store(self) -> None:
        """Raise a 503 problem naming the store when its check fails (or does not answer in time)."""
        failing = self.store_failing()
        if failing is not None:
            raise ApiProblem(
                503,
                "store-unavailable",
                "The node's store does not answer ({error}); try again shortly",
                error=failing["error"],
                headers={"Retry-After": "5"},
            )

    def figures(self, name: str, function: Callable[[], T], budget: float = OPERATIONS_BUDGET_S) -> T:
        """`function`'s answer (the same for every caller: one run serves all who ask meanwhile) within
        `budget`, or a 503 problem naming what failed: the store when its check fails, else the time."""
        self.require_store()
        with self._runs_lock:
            run: SharedRun[T] = self._runs.setdefault(name, SharedRun(f"figures:{name}", function))
        try:
            return run.result(budget)
        except TimeoutError:
            raise ApiProblem(
                503,
                "store-unavailable",
                "The {name} figures did not come within {budget:g} s (the store or the view store is slow or "
                "down); try again shortly",
                name=name,
                budget=budget,
                headers={"Retry-After": "5"},
            ) from None

    def _projections(self) -> Answer:
        models = self.node.read_models
        assert models is not None
        following = getattr(models, "_following", None)
        if following is None or not following.is_set():
            # Nothing follows the log in the background here (the embedded demo, a one-shot run): a short
            # catch-up, so readiness does not report a lag that the next query would clear anyway.
            try:
                models.catch_up(max_seconds=READY_BUDGET_S / 2)
            except Exception as error:  # still behind after the bound: judged by the lag below
                log.info("ready.catch_up_failed", error=type(error).__name__)
        behind = max((int(lag) for lag in models.lags().values()), default=0)
        return {"ok": behind <= READY_PROJECTION_LAG, "max_lag": behind, "bound": READY_PROJECTION_LAG}

    def _exchange(self) -> Answer:
        if self.node.exchange_running is None:
            return {"ok": True, "running": None}
        answer: Answer = {}
        problems = []
        figures = self.node.exchange_figures() if self.node.exchange_figures else {}
        relay_lag = figures.get("relay_lag")
        if relay_lag is not None:
            now = time.monotonic()
            if relay_lag <= self.relay_lag_bound:
                self._relay_within_at = now
            caught_up = figures.get("relay_caught_up_s_ago")
            behind_s = now - self._relay_within_at
            if caught_up is not None:
                behind_s = min(behind_s, caught_up)
            answer.update(relay_lag=relay_lag, relay_lag_bound=self.relay_lag_bound)
            if relay_lag > self.relay_lag_bound:
                answer["relay_behind_s"] = round(behind_s, 1)
                if behind_s > self.relay_behind_s:
                    problems.append("relay stalled")
        consumer_lag = figures.get("consumer_lag")
        if consumer_lag is not None:
            answer.update(consumer_lag=consumer_lag, consumer_lag_bound=self.consumer_lag_bound)
            if consumer_lag > self.consumer_lag_bound:
                problems.append("consumer behind")
        if problems:
            answer["error"] = ", ".join(problems)
        return {"ok": not problems, **answer}
