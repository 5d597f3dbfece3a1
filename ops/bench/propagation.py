"""Scenario b: a command committed at CIVICA's node → its effect committed at FAB's node, through Tansu.

CIVICA publishes vacancies to the Odense pool; FAB's node mirrors each one (relay → Kafka → consumer →
FAB's command, with its receipt). Latency runs from CIVICA's commit to FAB's commit of the mirror (its
save's transaction committed), both nodes in this process (one clock), no read models running. Then the
same with FAB's read models running (as `python -m ops.node` runs them), also to FAB's vacancy pool
having applied the vacancy (the projection's batch committed). Beside it: plain kafka-python produce →
consume in the same run.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from adapters.kafka.transport import KafkaPublisher, KafkaSettings, KafkaSubscription, KafkaTransport
from adapters.settings import NodeSettings, OrganisationRole
from adapters.transport import OutgoingMessage
from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.vacancy import Vacancy
from coordination.projections.engine import Batch
from coordination.projections.vacancy_pool import VacancyPoolProjection
from ops.bench.commands import percentile
from ops.bench.infra import Broker, Postgres
from ops.bench.report import Results, at_least, at_most
from ops.node import Node, node_read_models
from ops.reference_scenario import consultant, on, the_dwelling

RATE = 200  # events per second offered
GENTLE_RATE = 50
WAIT = 60.0  # seconds any one wait may take
CLIENTS = 4  # CIVICA's clients publishing at the offered rate


@dataclass
class Arrivals:
    """When each vacancy's mirror was committed at the receiving node, and when its vacancy pool had it."""

    times: dict[UUID, float] = field(default_factory=dict)
    projected: dict[UUID, float] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)
    _unprojected: dict[int, UUID] = field(default_factory=dict)  # FAB's notification id -> vacancy

    def record(self, recordings: list[object]) -> None:
        now = time.perf_counter()
        with self.changed:
            for recording in recordings:
                event = recording.domain_event  # type: ignore[attr-defined]
                if isinstance(event, Vacancy.Published):
                    self.times[event.originator_id] = now
                    self._unprojected[recording.notification.id] = event.originator_id  # type: ignore[attr-defined]
            self.changed.notify_all()

    def record_projected(self, through: int) -> None:
        """The vacancy pool committed a batch through notification id `through`."""
        now = time.perf_counter()
        with self.changed:
            for position in [p for p in self._unprojected if p <= through]:
                self.projected[self._unprojected.pop(position)] = now
            self.changed.notify_all()

    def wait_for(self, ids: list[UUID], seconds: float = WAIT, *, projected: bool = False) -> None:
        deadline = time.monotonic() + seconds
        arrived = self.projected if projected else self.times
        with self.changed:
            while not all(i in arrived for i in ids):
                left = deadline - time.monotonic()
                if left <= 0:
                    missing = sum(i not in arrived for i in ids)
                    raise TimeoutError(
                        f"{missing} of {len(ids)} vacancies did not reach FAB within {seconds:.0f} s"
                    )
                self.changed.wait(min(left, 0.5))


@dataclass
class Pair:
    civica: HousingOrganisationApp
    civica_node: Node
    fab_node: Node
    arrivals: Arrivals


@contextmanager
def _pair(postgres: Postgres, broker: Broker, *, fab_read_models: bool = False) -> Iterator[Pair]:
    """CIVICA's and FAB's nodes, started and warmed up; FAB's with its read models when asked (as
    `python -m ops.node` runs them)."""
    prefix = f"bench{secrets.token_hex(4)}."
    with ExitStack() as stack:
        nodes = []
        apps = []
        for organisation in ("civica", "fab"):
            settings = NodeSettings(
                organisation=organisation,
                role=OrganisationRole.HOUSING_ORGANISATION,
                kafka_topic_prefix=prefix,
                kafka_bootstrap_servers=broker.bootstrap_servers,
            )
            env = postgres.env(schema=f"bench_b_{organisation}_{secrets.token_hex(3)}")
            app = HousingOrganisationApp(
                organisation=organisation, env=env, cpr_secret=secrets.token_bytes(32)
            )
            stack.callback(app.close)
            read_models = (
                node_read_models(settings, app) if fab_read_models and organisation == "fab" else None
            )
            node = Node(settings, app, KafkaTransport(settings.kafka()), read_models=read_models)
            stack.callback(node.close)
            apps.append(app)
            nodes.append(node)
        arrivals = Arrivals()
        # The library calls _notify(recordings) after each committed save: the moment the effect is durable.
        apps[1]._notify = arrivals.record  # type: ignore[method-assign]
        pair = Pair(apps[0], nodes[0], nodes[1], arrivals)
        if fab_read_models:
            _on_each_batch(nodes[1], arrivals.record_projected)
        pair.fab_node.start()
        pair.civica_node.start()
        # Warm up: topics created, the consumer's partitions assigned, connections open.
        arrivals.wait_for([_publish(pair.civica)[0] for _ in range(5)], projected=fab_read_models)
        yield pair


def _on_each_batch(node: Node, projected: Callable[[int], None]) -> None:
    """Call `projected(last position)` after each batch FAB's vacancy pool projection commits."""
    assert node.read_models is not None
    runner = node.read_models.runners[VacancyPoolProjection.name]
    apply_batch = runner.apply_batch

    def applied(batch: Batch) -> int:
        moved = apply_batch(batch)
        if moved:
            projected(batch.last)
        return moved

    runner.apply_batch = applied  # type: ignore[method-assign]


def _publish(app: HousingOrganisationApp) -> tuple[UUID, float]:
    vacancy = app.publish_vacancy(command_id=uuid4(), dwelling=the_dwelling(), at=on(_DAY), by=consultant)
    return vacancy, time.perf_counter()


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
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS, thread_name_prefix="civica-client") as clients:
        publishing = []
        for i in range(events):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            publishing.append(clients.submit(_publish, pair.civica))
        for future in publishing:
            vacancy, committed = future.result()
            sent[vacancy] = committed
    offered = events / (max(sent.values()) - started)
    pair.arrivals.wait_for(list(sent))
    viewed = pair.fab_node.read_models is not None
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
    started = time.perf_counter()
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
                received[message.value] = time.perf_counter()

    try:
        publisher.publish([OutgoingMessage(topic=topic, key=b"warm", value=b"warm")])
        messages += 1
        sent: dict[bytes, float] = {b"warm": time.perf_counter()}
        reader = threading.Thread(target=consume, daemon=True)
        reader.start()
        subscription_ready = time.monotonic() + WAIT
        while b"warm" not in received and time.monotonic() < subscription_ready:
            time.sleep(0.01)
        started = time.perf_counter()
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
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent[value] = time.perf_counter()
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
    def add(key: str, label: str, unit: str, value: float, **kwargs: Any) -> None:
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
