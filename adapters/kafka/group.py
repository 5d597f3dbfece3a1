"""The subscription of a node that runs as several replicas: the replicas share the organisation's Kafka
consumer group, and the group coordinator gives each of them a share of the partitions.

A single replica reads its partitions by assignment (adapters/kafka/transport.py): no group join to wait
for. Replicas must not each read everything (each message would be applied by all of them at once, and
only the store's receipts would keep it once), so they subscribe: Tansu's join takes about half of the
session timeout (../NOTES), hence the short timeouts; a replica that dies without leaving has its
partitions given to the others once its session times out. A partition that moves is read by its new owner
from the group's committed offset: what the old owner applied after its last commit is read again and
suppressed by the receipts stored with each effect (exactly once in effect, as after any restart).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import structlog
from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.structs import OffsetAndMetadata

from adapters.kafka.transport import (
    KafkaSettings,
    KafkaSubscription,
    KafkaTransport,
    _refused_access,
    ensure_topics,
)

log = structlog.get_logger()

SESSION_TIMEOUT_MS = 6000
HEARTBEAT_INTERVAL_MS = 1000
# Also the group's rebalance timeout in kafka-python: how long a rebalance waits for members to rejoin.
MAX_POLL_INTERVAL_MS = 20_000


class _Logged(ConsumerRebalanceListener):  # type: ignore[misc]
    """Logs the partitions this replica gives up and receives (topic and partition numbers only)."""

    def on_partitions_revoked(self, revoked: Any) -> None:
        # Nothing is committed here (this runs on the client's IO thread, which must not block): each poll's
        # offsets were committed after it was applied, and what came after is read again by the new owner.
        if revoked:
            log.info("subscription.partitions_revoked", partitions=len(revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        log.info("subscription.partitions_assigned", partitions=len(assigned))


class GroupSubscription(KafkaSubscription):
    """Reads the share of its topics' partitions the consumer group gives this replica."""

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
                request_timeout_ms=max(settings.request_timeout_ms, MAX_POLL_INTERVAL_MS) + 1000,
                bootstrap_timeout_ms=settings.request_timeout_ms,
                reconnect_backoff_max_ms=1000,
                metrics_enabled=False,
                session_timeout_ms=SESSION_TIMEOUT_MS,
                heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
                max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
                **settings.access(),
            )
        self._consumer.subscribe(topics, listener=_Logged())
        self._latest: dict[TopicPartition, OffsetAndMetadata] = {}
        self._close_timeout_ms = settings.request_timeout_ms
        self._waits = (settings.fetch_max_wait_ms, settings.idle_fetch_max_wait_ms)
        self._quiet_since: float | None = None
        self._lag: int | None = None

    @property
    def _assigned(self) -> list[TopicPartition]:  # type: ignore[override]
        return sorted(self._consumer.assignment())

    def commit(self, positions: dict[tuple[str, int], int]) -> None:
        owned = set(self._consumer.assignment())
        mine = {where: offset for where, offset in positions.items() if TopicPartition(*where) in owned}
        if mine:
            super().commit(mine)

    def seek(self, topic: str, partition: int, offset: int) -> None:
        # A partition given to another replica meanwhile is read again there, from its committed offset.
        if TopicPartition(topic, partition) in self._consumer.assignment():
            super().seek(topic, partition, offset)


class GroupTransport(KafkaTransport):
    """The transport of a replicated node: its subscription shares the group's partitions."""

    def subscribe(self, topics: Sequence[str], *, group: str) -> GroupSubscription:
        return GroupSubscription(self.settings, topics, group=group)
