"""Scenario b: a command committed at CIVICA's node → its effect committed at FAB's node, through Tansu.

CIVICA publishes vacancies to the Odense pool; FAB's node mirrors each one (relay → Kafka → consumer →
FAB's command, with its receipt). CIVICA's node (its clients and relay) runs in this process; FAB's runs
in a process of its own (ops/bench/receiver.py), as every organisation runs its node, and reports the
moment each mirror committed. Both read `time.monotonic()` (CLOCK_MONOTONIC: one clock for the whole
system on Linux), so latencies across the two processes are valid. Latency runs from CIVICA's commit to
FAB's commit of the mirror (its save's transaction committed), no read models running. Then the same with
FAB's read models running (as `python -m ops.node.serve` runs them), also to FAB's vacancy pool having applied
the vacancy (the projection's batch committed). Beside it: plain kafka-python produce → consume in the
same run.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import IO, Any
from uuid import UUID, uuid4

from adapters.exchange.transport import OutgoingMessage
from adapters.kafka.transport import KafkaPublisher, KafkaSettings, KafkaSubscription, KafkaTransport
from adapters.settings import NodeSettings
from coordination.applications.housing import HousingOrganisationApp
from coordination.percentiles import percentile
from ops.bench.infra import ROOT, Broker, Postgres
from ops.bench.receiver import NODE_SETTINGS, ORGANISATION
from ops.bench.report import Results, at_least, at_most
from ops.demo.reference_scenario import consultant, on, the_dwelling
from ops.node.bootstrap import NodeParts
from ops.node.exchange import Node

RATE = 200  # events per second offered
GENTLE_RATE = 50
WAIT = 60.0  # seconds any one wait may take
STOP_WAIT = 30.0  # seconds the receiver may take to stop before it is killed
CLIENTS = 4  # CIVICA's clients publishing at the offered rate


@dataclass
class Arrivals:
    """When each vacancy's mirror was committed at the receiving node, and when its vacancy pool had it
    (`time.monotonic()` readings, taken in the receiver's process)."""

    times: dict[UUID, float] = field(default_factory=dict)
    projected: dict[UUID, float] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)
    ended: str = ""  # why the receiver's reports ended, once they have

    def follow(self, lines: IO[str]) -> None:
        """Read the receiver's report lines until it closes them (run on a thread of its own)."""
        try:
            for line in lines:
                what, *rest = line.split()
                if what in ("committed", "projected"):
                    arrived = self.times if what == "committed" else self.projected
                    with self.changed:
                        arrived[UUID(rest[0])] = float(rest[1])
                        self.changed.notify_all()
        finally:
            with self.changed:
                self.ended = "the receiver stopped reporting"
                self.changed.notify_all()

    def wait_for(self, ids: list[UUID], seconds: float = WAIT, *, projected: bool = False) -> None:
        deadline = time.monotonic() + seconds
        arrived = self.projected if projected else self.times
        with self.changed:
            while not all(i in arrived for i in ids):
                left = deadline - time.monotonic()
                if left <= 0 or self.ended:
                    missing = sum(i not in arrived for i in ids)
                    why = f" ({self.ended})" if self.ended else ""
                    raise TimeoutError(
                        f"{missing} of {len(ids)} vacancies did not reach FAB within {seconds:.0f} s{why}"
                    )
                self.changed.wait(min(left, 0.5))


@dataclass
class Pair:
    civica: HousingOrganisationApp
    civica_node: Node
    arrivals: Arrivals
    viewed: bool  # FAB runs its read models


@contextmanager
def _receiver(
    postgres: Postgres, broker: Broker, prefix: str, *, read_models: bool, profile: str | None = None
) -> Iterator[Arrivals]:
    """FAB's node in a process of its own (ops/bench/receiver.py), its reports followed on a thread; stopped
    with SIGTERM (killed if it takes longer than STOP_WAIT)."""
    fields = postgres.node_settings(
        ORGANISATION,
        schema=f"bench_b_fab_{secrets.token_hex(3)}",
        kafka_topic_prefix=prefix,
        kafka_bootstrap_servers=broker.bootstrap_servers,
    )
    read_end, write_end = os.pipe()
    command = [sys.executable, "-m", "ops.bench.receiver", "--report-fd", str(write_end)]
    command += ["--read-models"] if read_models else []
    command += ["--profile", profile] if profile else []
    try:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, NODE_SETTINGS: json.dumps(fields)},
            stdin=subprocess.PIPE,
            pass_fds=(write_end,),
        )
    finally:
        os.close(write_end)
    arrivals = Arrivals()
    lines = os.fdopen(read_end, "r")
    follower = threading.Thread(target=arrivals.follow, args=(lines,), name="receiver-reports", daemon=True)
    follower.start()
    try:
        yield arrivals
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stdin is not None:
            process.stdin.close()
        follower.join(5)
        lines.close()


@contextmanager
def _pair(
    postgres: Postgres, broker: Broker, *, fab_read_models: bool = False, profile: str | None = None
) -> Iterator[Pair]:
    """CIVICA's node here and FAB's in its own process, started and warmed up; FAB's with its read models
    when asked (as `python -m ops.node.serve` runs them)."""
    prefix = f"bench{secrets.token_hex(4)}."
    settings = NodeSettings(
        **postgres.node_settings(
            "civica",
            schema=f"bench_b_civica_{secrets.token_hex(3)}",
            kafka_topic_prefix=prefix,
            kafka_bootstrap_servers=broker.bootstrap_servers,
        )
    )
    with ExitStack() as stack:
        arrivals = stack.enter_context(
            _receiver(postgres, broker, prefix, read_models=fab_read_models, profile=profile)
        )
        # CIVICA's clients and relay, built by the composition root: no read models, no group commit.
        parts = NodeParts(settings, read_models=False, group_commit=False)
        stack.callback(parts.close)
        node = parts.on_exchange(KafkaTransport(settings.kafka()))
        node.start()
        app = parts.app
        assert isinstance(app, HousingOrganisationApp)
        pair = Pair(app, node, arrivals, fab_read_models)
        # Warm up: FAB's node started, topics created, its consumer's partitions assigned, connections open.
        arrivals.wait_for([_publish(pair.civica)[0] for _ in range(5)], projected=fab_read_models)
        yield pair


def _publish(app: HousingOrganisationApp) -> tuple[UUID, float]:
    vacancy = app.publish_vacancy(command_id=uuid4(), dwelling=the_dwelling(), at=on(_DAY), by=consultant)
    return vacancy, time.monotonic()


_DAY = the_dwelling().available_from


@dataclass(frozen=True)
class Rated:
    """Latencies (ms) at an offered rate: to FAB's commit and to FAB's vacancy pool; the rate achieved."""

    committed: list[float]
    projected: list[float]
    offered: float


def _at_rate(pair: Pair, events: int, rate: float) -> Rated:
    """CIVICA's clients publish `events` vacancies, one every 1/`rate` s (several clients: one alone waits
    for each commit and falls behind 200/s here)."""
    sent: dict[UUID, float] = {}
    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS, thread_name_prefix="civica-client") as clients:
        publishing = []
        for i in range(events):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            publishing.append(clients.submit(_publish, pair.civica))
        for future in publishing:
            vacancy, committed = future.result()
            sent[vacancy] = committed
    offered = events / (max(sent.values()) - started)
    pair.arrivals.wait_for(list(sent))
    viewed = pair.viewed
    if viewed:
        pair.arrivals.wait_for(list(sent), projected=True)
    return Rated(
        committed=sorted((pair.arrivals.times[v] - t) * 1000 for v, t in sent.items()),
        projected=sorted((pair.arrivals.projected[v] - t) * 1000 for v, t in sent.items()) if viewed else [],
        offered=offered,
    )


def _drain_rate(pair: Pair, events: int) -> float:
    """Events stored at CIVICA while its relay is stopped, then relayed and applied at FAB: events/s."""
    pair.civica_node.relay.stop()
    ids = [_publish(pair.civica)[0] for _ in range(events)]
    started = time.monotonic()
    pair.civica_node.relay.start()
    pair.arrivals.wait_for(ids, seconds=max(WAIT, events / 50))
    return events / (max(pair.arrivals.times[i] for i in ids) - started)


def _raw_kafka(broker: Broker, messages: int, rate: float | None) -> tuple[list[float], float]:
    """Plain produce → consume (fetch_max_wait_ms=10); latencies at `rate`, or messages/s when flooding."""
    settings = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, client_id=f"bench-{uuid4().hex[:6]}")
    topic = f"bench.raw.{uuid4().hex[:10]}"
    subscription = KafkaSubscription(settings, [topic], group=f"bench-{uuid4().hex[:8]}")
    publisher = KafkaPublisher(settings)
    received: dict[bytes, float] = {}

    def consume() -> None:
        deadline = time.monotonic() + WAIT
        while len(received) < messages and time.monotonic() < deadline:
            for message in subscription.poll(0.05):
                received[message.value] = time.monotonic()

    try:
        publisher.publish([OutgoingMessage(topic=topic, key=b"warm", value=b"warm")])
        messages += 1
        sent: dict[bytes, float] = {b"warm": time.monotonic()}
        reader = threading.Thread(target=consume, daemon=True)
        reader.start()
        subscription_ready = time.monotonic() + WAIT
        while b"warm" not in received and time.monotonic() < subscription_ready:
            time.sleep(0.01)
        started = time.monotonic()
        batch = []
        for i in range(messages - 1):
            value = b"%d" % i
            if rate is None:
                batch.append(OutgoingMessage(topic=topic, key=b"k%d" % (i % 5), value=value))
                sent[value] = started
                if len(batch) == 200:
                    publisher.publish(batch)
                    batch = []
                continue
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent[value] = time.monotonic()
            publisher.publish([OutgoingMessage(topic=topic, key=b"k%d" % (i % 5), value=value)])
        if batch:
            publisher.publish(batch)
        reader.join(WAIT)
        del sent[b"warm"]
        missing = sum(v not in received for v in sent)
        if missing:
            raise TimeoutError(f"{missing} raw messages were not consumed within {WAIT:.0f} s")
        flood_rate = len(sent) / (max(received[v] for v in sent) - started)
        return sorted((received[v] - t) * 1000 for v, t in sent.items()), flood_rate
    finally:
        publisher.close()
        subscription.close()


def run(results: Results, postgres: Postgres, broker: Broker, events: int, repeat: int) -> None:
    def add(key: str, label: str, unit: str, value: float | None, **kwargs: Any) -> None:
        results.add("b", key, label, unit, value, **kwargs)

    with _pair(postgres, broker) as pair:
        for _ in range(repeat):
            raw, _ = _raw_kafka(broker, events, RATE)
            add("raw_p50", f"raw kafka-python produce → consume at {RATE}/s: p50", "ms", percentile(raw, 50))
            add("raw_p99", f"raw kafka-python produce → consume at {RATE}/s: p99", "ms", percentile(raw, 99))
            _, flood = _raw_kafka(broker, events * 5, None)
            add("raw_rate", "raw kafka-python produce → consume, flooded", "messages/s", flood)
            busy = _at_rate(pair, events, RATE)
            add(
                "offered",
                f"offered rate (CIVICA's {CLIENTS} clients, asked {RATE}/s)",
                "events/s",
                busy.offered,
            )
            label = f"propagation CIVICA commit → FAB commit at {RATE}/s"
            p50, p99 = percentile(busy.committed, 50), percentile(busy.committed, 99)
            add("p50", f"{label}: p50", "ms", p50, limit="raw_p50", target=at_most(15))
            add("p99", f"{label}: p99", "ms", p99, limit="raw_p99", target=at_most(40))
            # Below the receiver's capacity the latency is the pipeline's own, not a queue's.
            gentle = _at_rate(pair, max(50, events // 4), GENTLE_RATE)
            for p in (50, 99):
                add(
                    f"gentle_p{p}",
                    f"propagation at {GENTLE_RATE}/s: p{p}",
                    "ms",
                    percentile(gentle.committed, p),
                )
            drained = _drain_rate(pair, events * 2)
            label = f"propagation end to end, {events * 2:,} stored events drained"
            add("drain_rate", label, "events/s", drained, limit="raw_rate", target=at_least(1000))
    # The same with FAB's read models running: "the effect committed in another node's projection".
    with _pair(postgres, broker, fab_read_models=True) as pair:
        for _ in range(repeat):
            for rate, key in ((RATE, "views"), (GENTLE_RATE, "gentle_views")):
                rated = _at_rate(pair, events if rate == RATE else max(50, events // 4), rate)
                for p in (50, 99):
                    add(
                        f"{key}_commit_p{p}",
                        f"with FAB's read models, at {rate}/s: → FAB commit p{p}",
                        "ms",
                        percentile(rated.committed, p),
                    )
                    add(
                        f"{key}_pool_p{p}",
                        f"with FAB's read models, at {rate}/s: → FAB's vacancy pool p{p}",
                        "ms",
                        percentile(rated.projected, p),
                    )
