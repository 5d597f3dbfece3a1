"""The transport over a Kafka-protocol broker (kafka-python): an acknowledged publisher, a subscription.

Every client (admin, producer, consumer) is made with the node's broker access (`KafkaSettings.access()`:
TLS and SASL/SCRAM through kafka-python's own options). A broker that refuses that access (a wrong
password, SASL or TLS against a listener without it) is a clear startup error (`BrokerAccessRefused`),
not a broker that is merely down and waited for.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata

from adapters.exchange.transport import IncomingMessage, OutgoingMessage, PublishFailed

log = structlog.get_logger()

IDLE_AFTER_S = 2.0  # without a message for this long, the subscription long-polls


TLS_PROTOCOLS = frozenset({"SSL", "SASL_SSL"})
SASL_PROTOCOLS = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})
# What kafka-python logs when the broker refuses the node's access (rather than being down).
_REFUSALS = (
    "UnsupportedSaslMechanism",
    "SaslAuthenticationFailed",
    "IllegalSaslState",
    "SaslHandshake failed",
    "Authentication",
    "SSL",
    "CERTIFICATE",
)


class BrokerAccessRefused(RuntimeError):
    """The broker answers but refuses this node's access (credentials, mechanism or TLS): fix the settings;
    waiting for the broker would not help."""


@dataclass(frozen=True)
class KafkaSettings:
    """How a node reaches the broker; the timeouts bound how long a call can block on an absent broker.

    `security_protocol` and the rest are kafka-python's options of the same names: PLAINTEXT, SSL,
    SASL_PLAINTEXT or SASL_SSL; a SASL mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) with its user and
    password; the CA that signed the brokers' certificates, and the node's own certificate and key when the
    cluster authenticates clients by TLS."""

    bootstrap_servers: str
    client_id: str = "coordination"
    partitions: int = 3
    linger_ms: int = 2
    publish_timeout_s: float = 15.0
    fetch_max_wait_ms: int = 10
    # Once nothing has come for IDLE_AFTER_S, fetches wait this long: 10 ms was ~100 empty fetches a second,
    # most of an idle node's CPU. Only while idle: under a steady stream Tansu answers a long fetch late
    # (propagation p50 120 ms at 200/s with 500 ms). The first message after a quiet spell came within
    # 4-250 ms with 500 ms and with 1 s (Tansu; real Kafka answers a waiting fetch when data arrives), and
    # within 88-575 ms with 2 s. 500 ms was half of an idle node's CPU (docs/performance.md).
    idle_fetch_max_wait_ms: int = 1000
    request_timeout_ms: int = 10_000
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_plain_username: str | None = None
    sasl_plain_password: str | None = field(default=None, repr=False)
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_check_hostname: bool = True

    def access(self) -> dict[str, Any]:
        """The options every kafka-python client of this node is made with (only those that are set)."""
        options: dict[str, Any] = {"security_protocol": self.security_protocol}
        if self.security_protocol in SASL_PROTOCOLS:
            options |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.sasl_plain_username,
                "sasl_plain_password": self.sasl_plain_password,
            }
        if self.security_protocol in TLS_PROTOCOLS:
            options["ssl_check_hostname"] = self.ssl_check_hostname
            for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
                if getattr(self, name) is not None:
                    options[name] = getattr(self, name)
        return options


class _Refusals(logging.Handler):
    """Collects what kafka-python logs about a refused connection while a client is being made."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if any(mark in message for mark in _REFUSALS):
            self.seen.append(message.rsplit(">: ", 1)[-1])


@contextlib.contextmanager
def _refused_access(settings: KafkaSettings) -> Iterator[None]:
    """A client failing to start because the broker refused its access raises BrokerAccessRefused naming
    why; any other failure (the broker is down) stays a KafkaError, which the node waits out."""
    refusals = _Refusals()
    logger = logging.getLogger("kafka")
    logger.addHandler(refusals)
    try:
        yield
    except KafkaError as error:
        if refusals.seen:
            raise BrokerAccessRefused(
                f"The broker at {settings.bootstrap_servers} refused this node's access"
                f" ({_described(settings)}): {refusals.seen[-1]}"
            ) from error
        raise
    finally:
        logger.removeHandler(refusals)


def _described(settings: KafkaSettings) -> str:
    if settings.security_protocol in SASL_PROTOCOLS:
        return (
            f"{settings.security_protocol}, {settings.sasl_mechanism} as {settings.sasl_plain_username!r};"
            " check the user and password (COORDINATION_KAFKA_SASL_*)"
        )
    return settings.security_protocol


def check_tls(settings: KafkaSettings) -> None:
    """With TLS configured, one bounded TLS handshake with the first bootstrap server that accepts a
    connection: a listener that does not speak TLS (kafka-python then waits without end) or a certificate
    the CA does not vouch for is BrokerAccessRefused; no server accepting a connection stays a KafkaError."""
    if settings.security_protocol not in TLS_PROTOCOLS:
        return
    context = ssl.create_default_context(cafile=settings.ssl_cafile)
    context.check_hostname = settings.ssl_check_hostname
    if settings.ssl_certfile:
        context.load_cert_chain(settings.ssl_certfile, settings.ssl_keyfile)
    timeout = settings.request_timeout_ms / 1000
    for server in settings.bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            raw = socket.create_connection((host, int(port)), timeout=timeout)
        except OSError:
            continue  # down: perhaps another is up
        try:
            with context.wrap_socket(raw, server_hostname=host):
                return
        except (ssl.SSLError, OSError) as error:
            reason = "no TLS answer" if isinstance(error, TimeoutError) else str(error)
            raise BrokerAccessRefused(
                f"TLS with the broker at {server.strip()} failed ({reason} within {timeout:g} s): is the"
                " listener TLS, and COORDINATION_KAFKA_SSL_CAFILE the CA that signed its certificate?"
            ) from None
        finally:
            raw.close()
    raise KafkaConnectionError(f"No broker of {settings.bootstrap_servers} accepted a connection")


def ensure_topics(settings: KafkaSettings, topics: Iterable[str]) -> None:
    """Create any missing topic with the configured partition count (an existing topic is left as it is).
    The node's first contact with the broker: a refused access is BrokerAccessRefused."""
    check_tls(settings)
    with _refused_access(settings):
        admin = KafkaAdminClient(
            bootstrap_servers=settings.bootstrap_servers,
            client_id=settings.client_id,
            request_timeout_ms=settings.request_timeout_ms,
            bootstrap_timeout_ms=settings.request_timeout_ms,
            reconnect_backoff_max_ms=1000,
            **settings.access(),
        )
    try:
        for topic in topics:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(
                    [NewTopic(topic, num_partitions=settings.partitions, replication_factor=1)]
                )
    finally:
        admin.close()


class KafkaPublisher:
    """Publishes with acks=all and the idempotent producer; `publish` returns once all are acknowledged."""

    def __init__(self, settings: KafkaSettings) -> None:
        self._settings = settings
        self._producer: KafkaProducer | None = None
        self._topics: set[str] = set()

    def _connected(self) -> KafkaProducer:
        if self._producer is None:
            s = self._settings
            with _refused_access(s):
                self._producer = KafkaProducer(
                    bootstrap_servers=s.bootstrap_servers,
                    client_id=s.client_id,
                    acks="all",
                    # Idempotence keeps order across internal retries with up to 5 requests in flight.
                    enable_idempotence=True,
                    linger_ms=s.linger_ms,
                    max_block_ms=int(s.publish_timeout_s * 1000),
                    request_timeout_ms=s.request_timeout_ms,
                    delivery_timeout_ms=int(s.publish_timeout_s * 1000) + s.linger_ms,
                    # The default grows to 30 s between attempts: too slow to notice a broker that is back.
                    reconnect_backoff_max_ms=1000,
                    # Nothing reads the client's own metrics; recording them was ~5 % of a node's Kafka CPU.
                    metrics_enabled=False,
                    **s.access(),
                )
        return self._producer

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        if not messages:
            return
        try:
            # Created here, not by the broker's auto-creation, so every topic has the configured partitions.
            new_topics = {m.topic for m in messages} - self._topics
            if new_topics:
                ensure_topics(self._settings, new_topics)
                self._topics |= new_topics
            producer = self._connected()
            futures = [
                producer.send(m.topic, key=m.key, value=m.value, headers=list(m.headers)) for m in messages
            ]
            producer.flush(timeout=self._settings.publish_timeout_s)
            for future in futures:
                future.get(timeout=self._settings.publish_timeout_s)
        except (KafkaError, OSError) as error:
            # A producer that failed a batch may hold a stale sequence state: start again with a new one.
            self.close()
            raise PublishFailed(f"{type(error).__name__}: {error}") from error

    def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=5)


class KafkaSubscription:
    """Reads every partition of its topics by assignment (no rebalance wait); offsets committed to the group.

    Assignment rather than subscription because a group join takes about half the session timeout on
    Tansu, and each node reads all partitions of its topics anyway.
    """

    def __init__(self, settings: KafkaSettings, topics: Iterable[str], *, group: str) -> None:
        topics = list(topics)
        ensure_topics(settings, topics)
        with _refused_access(settings):
            self._consumer = KafkaConsumer(
                bootstrap_servers=settings.bootstrap_servers,
                client_id=settings.client_id,
                group_id=group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                fetch_max_wait_ms=settings.fetch_max_wait_ms,
                request_timeout_ms=settings.request_timeout_ms + 1000,
                bootstrap_timeout_ms=settings.request_timeout_ms,
                reconnect_backoff_max_ms=1000,
                metrics_enabled=False,
                **settings.access(),
            )
        assigned: list[TopicPartition] = []
        for topic in topics:
            partitions = self._consumer.partitions_for_topic(topic) or set()
            assigned.extend(TopicPartition(topic, number) for number in sorted(partitions))
        self._consumer.assign(assigned)
        self._assigned = assigned
        self._latest: dict[TopicPartition, OffsetAndMetadata] = {}
        self._close_timeout_ms = settings.request_timeout_ms
        self._waits = (settings.fetch_max_wait_ms, settings.idle_fetch_max_wait_ms)
        self._quiet_since: float | None = None
        self._lag: int | None = None
        for partition in assigned:
            committed = self._consumer.committed(partition)
            if committed is None:
                self._consumer.seek_to_beginning(partition)
            else:
                self._consumer.seek(partition, committed)

    def poll(self, timeout: float) -> list[IncomingMessage]:
        batches = self._consumer.poll(timeout_ms=int(timeout * 1000))
        found: list[IncomingMessage] = []
        for partition, records in batches.items():
            found.extend(
                IncomingMessage(
                    topic=partition.topic,
                    partition=partition.partition,
                    offset=record.offset,
                    key=record.key,
                    headers=tuple((name, bytes(value)) for name, value in record.headers or ()),
                    value=record.value if record.value is not None else b"",
                )
                for record in records
            )
        self._lag = self._behind()
        self._pace(bool(found))
        return found

    def _pace(self, busy: bool) -> None:
        """Short fetch waits while messages come, long ones once idle (the fetcher reads its config at each
        request; kafka-python has no public setter for it)."""
        now = time.monotonic()
        if busy:
            self._quiet_since, wait = None, self._waits[0]
        elif self._quiet_since is None:
            self._quiet_since, wait = now, self._waits[0]
        else:
            wait = self._waits[1] if now - self._quiet_since >= IDLE_AFTER_S else self._waits[0]
        fetcher = getattr(self._consumer, "_fetcher", None)
        if fetcher is not None:
            fetcher.config["fetch_max_wait_ms"] = wait

    def lag(self) -> int | None:
        """Messages on the subscribed partitions not yet read, as of the last poll; None until every
        partition has been fetched from once. Read by other threads: the consumer is only touched by the
        thread that polls."""
        return self._lag

    def _behind(self) -> int | None:
        # The highwater from the last fetch response, not end_offsets(): Tansu 0.6 answers that with the
        # last batch's base offset + 1 (NOTES.md).
        behind = 0
        for partition in self._assigned:
            highwater = self._consumer.highwater(partition)
            if highwater is None:
                return self._lag  # not fetched from yet: the last figure stands
            position = self._consumer.position(partition, timeout_ms=0)
            if position is None:
                return self._lag
            behind += max(0, highwater - position)
        return behind

    def commit(self, positions: dict[tuple[str, int], int]) -> None:
        """Asynchronously (the answer is read at a later poll): waiting for it was a broker round trip per
        poll before the next messages. Losing a commit only redelivers what was applied, which the
        consumer's receipts suppress; `close()` commits the latest positions and waits."""
        offsets = {
            TopicPartition(t, p): OffsetAndMetadata(offset, "", -1) for (t, p), offset in positions.items()
        }
        self._latest.update(offsets)
        self._consumer.commit_async(offsets, callback=_log_failed_commit)

    def seek(self, topic: str, partition: int, offset: int) -> None:
        self._consumer.seek(TopicPartition(topic, partition), offset)

    def close(self) -> None:
        latest, self._latest = self._latest, {}  # closing twice commits once
        try:
            if latest:
                self._consumer.commit(latest, timeout_ms=self._close_timeout_ms)
        except (KafkaError, OSError) as error:
            log.warning("subscription.final_commit_failed", error=type(error).__name__, exc_info=error)
        finally:
            self._consumer.close(autocommit=False)


def _log_failed_commit(offsets: dict[TopicPartition, OffsetAndMetadata], response: object) -> None:
    if isinstance(response, Exception):
        # A later commit (or the one at close) covers these; until then a restart reads them again.
        log.warning(
            "subscription.commit_failed",
            error=type(response).__name__,
            partitions=len(offsets),
            exc_info=response,
        )


class KafkaTransport:
    """The production transport: a publisher and a subscription per node on one Kafka cluster."""

    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings

    def publisher(self) -> KafkaPublisher:
        return KafkaPublisher(self.settings)

    def subscribe(self, topics: Sequence[str], *, group: str) -> KafkaSubscription:
        return KafkaSubscription(self.settings, topics, group=group)
