"""Scenario f: national fan-out. 2, 5, 10 and 20 organisations, each its node as an OS process on a
PostgreSQL database of its own, one Tansu broker, one municipality's shared vacancy pool.

The mix (ops/bench/fanout_deployment.py `organisations`): half housing organisations, a fifth municipal
departments, the rest bridge builders and civil actors. The load, offered open-loop at `rate` units a
second for `seconds`: each unit is one housing organisation (in turn) publishing a vacancy to the pool
(mirrored by every other housing organisation and every department) and registering a household that it
refers to a department, bridge builder or civil actor (in turn; a department for school change, a bridge
builder for bridge building, a civil actor for financial counselling). The load is the same for every
size, so what grows is the fan-out's own cost.

Measured per size: propagation (the sender's commit → each receiver's commit of the mirror or referral,
all pairs) p50/p99; the broker's messages and bytes per unit; CPU seconds per unit of the nodes and of
Tansu; each node's idle CPU (no load offered) and RSS; beside them, raw kafka-python produce → consume at
the same rate in the same run. On 2 cores the 20-node run fits only with a small load: the offered rate
is bounded (`Sizes`) and printed with the figures.

    .venv/bin/coordination bench --only f [--quick]
    .venv/bin/python -m ops.bench.fanout --sizes 2,5,10,20 --rate 2 --seconds 20
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from coordination.domain.values import Actor, Consent, ReferralKind, Role
from coordination.percentiles import percentile
from ops.bench.fanout_deployment import BRIDGE, CIVIL, DEPARTMENT, HOUSING, Deployment, deployment
from ops.bench.infra import Broker, Postgres
from ops.bench.propagation import _raw_kafka
from ops.bench.report import Results, at_most
from ops.bench.restart import cpu_seconds
from ops.demo.reference_family import the_family
from ops.demo.reference_scenario import on, the_dwelling

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaConsumer, TopicPartition

KIND = {DEPARTMENT: ReferralKind.SCHOOL_CHANGE, BRIDGE: ReferralKind.BRIDGE_BUILDING}
KIND[CIVIL] = ReferralKind.FINANCIAL_COUNSELLING
CLIENTS = 4
WAIT = 180.0  # seconds the arrivals of one load may take after it ends
SETTLE_S = 5.0  # after the warm-up, before the idle window
IDLE_CPU_LIMIT = 1.0  # per cent of a core, as the restart bench holds one node to
_DAY = the_dwelling().available_from


@dataclass(frozen=True)
class Sizes:
    node_counts: tuple[int, ...]
    rate: float  # units offered per second (a vacancy and a referral each)
    seconds: float
    idle_seconds: float

    @classmethod
    def of(cls, quick: bool) -> Sizes:
        if quick:
            return cls((2,), rate=1.0, seconds=3.0, idle_seconds=3.0)
        # 20 nodes on 2 shared cores: 2 units/s (2 vacancies to 13 receivers each, 2 referrals) fits.
        return cls((2, 5, 10, 20), rate=2.0, seconds=20.0, idle_seconds=15.0)


def _consultant(organisation: str) -> Actor:
    return Actor(organisation=organisation, person=f"{organisation}-gk-01", role=Role.REHOUSING_CONSULTANT)


@dataclass
class _Sent:
    """What the bench committed at the senders, and who should commit it in turn."""

    at: dict[UUID, float]
    receivers: dict[UUID, list[str]]
    referrals: set[UUID]


def _unit(running: Deployment, number: int, sent: _Sent, lock: threading.Lock) -> None:
    housing = sorted(running.housing)
    sender = housing[number % len(housing)]
    app, by = running.housing[sender], _consultant(sender)
    dwelling = the_dwelling().model_copy(update={"estate": f"{sender}-{number}"})
    vacancy = app.publish_vacancy(command_id=uuid4(), dwelling=dwelling, at=on(_DAY), by=by)
    committed = time.monotonic()
    mirrors = [o for o in running.of_role(HOUSING) + running.of_role(DEPARTMENT) if o != sender]
    with lock:
        sent.at[vacancy], sent.receivers[vacancy] = committed, mirrors
    receivers = [o for o, node in running.nodes.items() if node.role is not HOUSING]
    if not receivers:
        return
    receiver = receivers[number % len(receivers)]
    kind = KIND[running.nodes[receiver].role]
    consent = Consent(recipient=receiver, purpose=kind.value, given_on=date(2026, 6, 2))
    family = {**the_family(), "case_reference": f"{sender}-{number:05d}", "consents": [consent]}
    household = app.register_household(command_id=uuid4(), at=on(_DAY), by=by, **family)  # type: ignore[arg-type]
    referral = app.refer_household(
        command_id=uuid4(), household_id=household, receiver=receiver, kind=kind, at=on(_DAY), by=by
    )
    committed = time.monotonic()
    with lock:
        sent.at[referral], sent.receivers[referral] = committed, [receiver]
        sent.referrals.add(referral)


def _offer(running: Deployment, units: int, rate: float, first: int = 0) -> _Sent:
    """`units` units, one every 1/`rate` s, by CLIENTS caseworkers at once (open loop)."""
    sent, lock = _Sent({}, {}, set()), threading.Lock()
    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS, thread_name_prefix="fanout-client") as clients:
        futures = []
        for i in range(units):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(clients.submit(_unit, running, first + i, sent, lock))
        for future in futures:
            future.result()
    return sent


def _wait_arrived(running: Deployment, sent: _Sent, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        missing = [
            (sid, o)
            for sid, rs in sent.receivers.items()
            for o in rs
            if sid not in running.nodes[o].arrivals.times
        ]
        if not missing:
            return
        for node in running.nodes.values():
            if node.process.poll() is not None:
                raise RuntimeError(f"{node.organisation}'s node exited; see {node.log}")
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{len(missing)} deliveries did not commit within {seconds:.0f} s: {missing[:3]}"
            )
        time.sleep(0.1)


def _latencies(running: Deployment, sent: _Sent, referrals: bool) -> list[float]:
    return sorted(
        (running.nodes[o].arrivals.times[sid] - sent.at[sid]) * 1000
        for sid, receivers in sent.receivers.items()
        if (sid in sent.referrals) is referrals
        for o in receivers
    )


def _broker_totals(bootstrap_servers: str, prefix: str) -> tuple[int, int]:
    """Messages and bytes (keys, values, headers) on every topic of the run so far, read from the start."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, consumer_timeout_ms=1500
    )
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in consumer.topics()
            if topic.startswith(prefix)
            for p in consumer.partitions_for_topic(topic) or ()
        ]
        if not partitions:
            return 0, 0
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        count = size = 0
        deadline = time.monotonic() + 60
        for message in consumer:
            count += 1
            headers = sum(len(k) + len(v or b"") for k, v in message.headers or ())
            size += len(message.key or b"") + len(message.value or b"") + headers
            if time.monotonic() > deadline:
                break
        return count, size
    finally:
        consumer.close()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu(pids: list[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


def run(results: Results, postgres: Postgres, broker: Broker, sizes: Sizes, repeat: int) -> None:
    logs = Path(tempfile.mkdtemp(prefix="coordination-bench-fanout-"))
    for _ in range(repeat):
        raw, _ = _raw_kafka(broker, max(50, int(sizes.rate * sizes.seconds * 4)), sizes.rate * 4)
        results.add(
            "f",
            "raw_p50",
            f"raw kafka-python produce → consume at {sizes.rate * 4:g}/s: p50",
            "ms",
            percentile(raw, 50),
        )
        results.add(
            "f",
            "raw_p99",
            f"raw kafka-python produce → consume at {sizes.rate * 4:g}/s: p99",
            "ms",
            percentile(raw, 99),
        )
        for count in sizes.node_counts:
            _one_size(results, postgres, broker, sizes, count, logs / f"{count}-{secrets.token_hex(2)}")


Add = Callable[..., None]  # records one figure of the size being run


def _one_size(
    results: Results, postgres: Postgres, broker: Broker, sizes: Sizes, count: int, logs: Path
) -> None:
    logs.mkdir(parents=True)
    tansu = getattr(getattr(broker, "process", None), "pid", None)

    def add(key: str, label: str, unit: str, value: float | None, **kwargs: Any) -> None:
        results.add("f", f"n{count:02d}_{key}", f"{count} nodes: {label}", unit, value, **kwargs)

    with deployment(postgres, broker.bootstrap_servers, count, logs) as running:
        running.wait_ready(60 + 15 * count)
        # Warm-up: each housing organisation's first vacancy and referral, every consumer assigned.
        _wait_arrived(running, _offer(running, max(2, len(running.housing)), 10.0, first=10_000), WAIT)
        # Quiet first: a consumer fetches every 10 ms until 2 s after its last message, then long-polls.
        time.sleep(SETTLE_S)
        pids = [node.pid for node in running.nodes.values()]
        _idle(add, pids, tansu, sizes.idle_seconds)
        _loaded(add, running, broker, pids, tansu, sizes)


def _idle(add: Add, pids: list[int], tansu: int | None, seconds: float) -> None:
    """Each node's CPU and RSS, and Tansu's CPU, over `seconds` with nothing offered."""
    before, started = {pid: cpu_seconds(pid) for pid in pids}, time.monotonic()
    broker_before = cpu_seconds(tansu) if tansu else float("nan")
    time.sleep(seconds)
    idle = [100 * (cpu_seconds(pid) - before[pid]) / (time.monotonic() - started) for pid in pids]
    idle_broker = 100 * (cpu_seconds(tansu) - broker_before) / (time.monotonic() - started) if tansu else None
    rss = [_rss_mb(pid) for pid in pids]
    add("idle_cpu_max", "idle CPU, busiest node", "% of a core", max(idle), target=at_most(IDLE_CPU_LIMIT))
    add("idle_cpu_mean", "idle CPU, mean per node", "% of a core", sum(idle) / len(idle))
    add("idle_broker_cpu", "idle CPU of Tansu", "% of a core", idle_broker)
    add("rss_mean", "RSS per node (mean, after warm-up)", "MB", sum(rss) / len(rss))
    add("rss_max", "RSS per node (largest)", "MB", max(rss))


def _loaded(
    add: Add, running: Deployment, broker: Broker, pids: list[int], tansu: int | None, sizes: Sizes
) -> None:
    """The offered load's propagation, deliveries, broker messages and bytes, and CPU per unit."""
    messages_before, bytes_before = _broker_totals(broker.bootstrap_servers, running.prefix)
    units = max(1, round(sizes.rate * sizes.seconds))
    nodes_cpu, broker_cpu, loaded = _cpu(pids), cpu_seconds(tansu) if tansu else 0.0, time.monotonic()
    sent = _offer(running, units, sizes.rate)
    _wait_arrived(running, sent, WAIT)
    took = time.monotonic() - loaded
    nodes_cpu, broker_cpu = _cpu(pids) - nodes_cpu, (cpu_seconds(tansu) - broker_cpu if tansu else None)
    messages, size = _broker_totals(broker.bootstrap_servers, running.prefix)
    vacancies, referrals = _latencies(running, sent, False), _latencies(running, sent, True)
    label = f"{units} units at {sizes.rate:g}/s"
    add(
        "vacancy_p50",
        f"vacancy → each pool member's commit, {label}: p50",
        "ms",
        percentile(vacancies, 50),
        limit="raw_p50",
    )
    add(
        "vacancy_p99",
        f"vacancy → each pool member's commit, {label}: p99",
        "ms",
        percentile(vacancies, 99),
        limit="raw_p99",
    )
    add(
        "referral_p50",
        "referral → the receiver's commit: p50",
        "ms",
        percentile(referrals, 50) if referrals else None,
        limit="raw_p50",
    )
    add(
        "referral_p99",
        "referral → the receiver's commit: p99",
        "ms",
        percentile(referrals, 99) if referrals else None,
        limit="raw_p99",
    )
    add(
        "deliveries",
        "deliveries committed per unit (mirrors + referrals)",
        "count",
        (len(vacancies) + len(referrals)) / units,
    )
    add("broker_messages", "broker messages per unit", "messages", (messages - messages_before) / units)
    add(
        "broker_bytes",
        "broker bytes per unit (keys, values, headers)",
        "bytes",
        (size - bytes_before) / units,
    )
    add("nodes_cpu", "CPU of all nodes per unit", "ms", 1000 * nodes_cpu / units)
    add("nodes_cpu_share", "CPU of all nodes while loaded", "% of a core", 100 * nodes_cpu / took)
    add(
        "broker_cpu",
        "CPU of Tansu per unit",
        "ms",
        1000 * broker_cpu / units if broker_cpu is not None else None,
    )
    add("load_average", "the host's load average after the load", "", os.getloadavg()[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.bench.fanout", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="2,5,10,20", help="node counts, comma-separated")
    parser.add_argument("--rate", type=float, default=2.0, help="units offered per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--idle-seconds", type=float, default=15.0)
    args = parser.parse_args(argv)
    from ops.bench import infra
    from ops.logging import configure

    configure(json=False, level=30)
    sizes = Sizes(tuple(int(n) for n in args.sizes.split(",")), args.rate, args.seconds, args.idle_seconds)
    results = Results()
    with infra.postgres() as postgres, infra.tansu() as broker:
        try:
            run(results, postgres, broker, sizes, 1)
        except Exception as error:
            results.failures["f"] = f"{type(error).__name__}: {error}"
            raise
        finally:
            print(results.table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
