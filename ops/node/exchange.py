"""One organisation's node on the exchange: its application, relay, consumer and parked messages.

ops/node/bootstrap.py builds a node; `python -m ops.node.serve --org civica` runs one as its own OS process,
the demo runs every organisation's node in one process.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from adapters.erasure_purge import parked_purger
from adapters.eventstore.audit_chain import Sealer, SealingLoop
from adapters.eventstore.shredding import ShreddingMapper
from adapters.exchange.consumer import Consumer
from adapters.exchange.key_directory import ExchangeOpener, KeyDirectory, KeyOwners, forget_on_erasure
from adapters.exchange.keys import ExchangeKeys, ExchangeSealer
from adapters.exchange.relay import Relay
from adapters.exchange.tables import ParkedMessages, RelayPositions
from adapters.exchange.transport import IncomingMessage, OutgoingMessage, Publisher, Subscription, Transport
from adapters.http.key_client import key_directory
from adapters.settings import NodeSettings
from adapters.sql.log_listener import LogListener, log_listener
from adapters.sql.node_db import SqlDatabase, database_for
from coordination.applications.base import NodeApplication
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.municipal_picture import MunicipalPictureDesk
from coordination.applications.offer_exchange import OfferExchange
from coordination.applications.roles import MunicipalDepartmentApp
from coordination.applications.vacancy_mirror import VacancyMirror
from coordination.integration.inbound import Inbound
from coordination.integration.outbound import Outbound
from coordination.integration.topics import Topics, org_source, slug
from ops.node.read_models import ReadModels

EXCHANGE = "exchange"
# Up to where every message the relay published was applied by every reader (the exchange settled).
DELIVERED = f"{EXCHANGE}.delivered"
# Lanes of received messages applied at once: enough to fill a group commit while others wait on reads.
CONSUMER_CONCURRENCY = 8
# How often the log's followers poll when PostgreSQL's notifications wake them (a safety net only).
LISTENING_IDLE_POLL_S = 5.0


class _CountingPublisher:
    def __init__(self, inner: Publisher, counts: Counter[str]) -> None:
        self._inner, self._counts = inner, counts

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        self._inner.publish(messages)
        self._counts.update(m.topic for m in messages)

    def close(self) -> None:
        self._inner.close()


class _CountingSubscription:
    def __init__(self, inner: Subscription, counts: Counter[str]) -> None:
        self._inner, self._counts = inner, counts

    def poll(self, timeout: float) -> list[IncomingMessage]:
        found = self._inner.poll(timeout)
        self._counts.update(m.topic for m in found)
        return found

    def commit(self, positions: dict[tuple[str, int], int]) -> None:
        self._inner.commit(positions)

    def seek(self, topic: str, partition: int, offset: int) -> None:
        self._inner.seek(topic, partition, offset)

    def close(self) -> None:
        self._inner.close()


class Node:
    """A node on the exchange: publishes what it authored from its own history (the store is the outbox)
    and applies what others publish on the topics it is entitled to, exactly once in effect.

    The relay's position and the parked messages live in the node's own database, beside its store.
    """

    def __init__(
        self,
        settings: NodeSettings,
        app: NodeApplication,
        transport: Transport,
        *,
        db: SqlDatabase | None = None,
        poll_timeout: float = 1.0,  # a long poll: answered as soon as a message arrives; idle, few wake-ups
        read_models: ReadModels | None = None,
        keys: KeyDirectory | None = None,
        key_owners: KeyOwners | None = None,
        consumer_concurrency: int = CONSUMER_CONCURRENCY,
    ) -> None:
        """`read_models`, when given, are kept caught up with the node's log.

        The node does not wire itself into the app: the composition root (ops/node/bootstrap.py) built the app
        with the node's `committed` among its commit listeners and its `forget` among its erasure hooks.

        `db` is the node's database beside its store (ops/node/bootstrap.py opens one per process and closes
        it); without it the node opens one of its own and closes it with itself. `key_owners` are the
        exchange keys of the nodes in this process: this node's are listed there while it runs, and
        without peers (`keys`) it asks the others there for theirs.

        The consumer applies a poll's messages in up to `consumer_concurrency` lanes at once; their saves
        share store transactions when the app was built with a group commit (ops/node/bootstrap.py does).
        """
        self.settings = settings
        self.app = app
        self.organisation = app.organisation
        self.topics = Topics(settings.kafka_topic_prefix)
        self._owns_db = db is None
        self.db = database_for(app.env) if db is None else db
        self.key_owners = KeyOwners() if key_owners is None else key_owners
        self.published: Counter[str] = Counter()
        self.received: Counter[str] = Counter()
        self.subscribed = self.entitled_topics()
        # Personal fields leave sealed under this node's exchange keys; `keys` finds the senders' keys.
        self.exchange_keys = ExchangeKeys(self.db, getattr(app.mapper, "cipher", None))
        self.key_owners.register(self.organisation, self.exchange_keys)
        self.key_directory = keys or key_directory(
            self.organisation, settings.peer_urls, settings.private_key_file, self.key_owners
        )
        self._forget_keys = forget_on_erasure(self.exchange_keys, self.key_directory)
        self._publisher = transport.publisher()
        outbound = Outbound(
            app,
            self.topics,
            ExchangeSealer(self.exchange_keys, self.organisation),
            municipalities=settings.municipalities,
        )
        self._positions = RelayPositions(self.db)
        self.relay = Relay(
            app,
            _CountingPublisher(self._publisher, self.published),
            outbound,
            self._positions,
            source=org_source(self.organisation),
            name=EXCHANGE,
            kinds=outbound.kinds,
        )
        self._outbound = outbound
        self._subscription = transport.subscribe(self.subscribed, group=self.group)
        # Tamper evidence: the hash chain over this node's stored events, kept beside them.
        self.sealer = SealingLoop(Sealer(app, self.db))
        self.consumer = Consumer(
            _CountingSubscription(self._subscription, self.received),
            Inbound(app, open_sealed=ExchangeOpener(self.key_directory)),
            ParkedMessages(self.db),
            name=EXCHANGE,
            poll_timeout=poll_timeout,
            concurrency=consumer_concurrency,
            own_source=org_source(self.organisation),
        )
        # An erasure also drops parked messages about the household (a store that shreds knows its subjects).
        self._purge_parked = (
            parked_purger(ParkedMessages(self.db), app.mapper.keys.subjects_of)
            if isinstance(app.mapper, ShreddingMapper)
            else None
        )
        self.read_models = read_models
        self._closed = False
        self._listener: LogListener | None = None
        self.idle_poll = 0.5  # how long the log's followers sleep when idle (longer when notified)

    def forget(self, household_id: UUID) -> None:
        """An erasure hook: the exchange keys of the household this process holds (its own and those it
        was given), and parked messages about it."""
        self._forget_keys(household_id)
        if self._purge_parked is not None:
            self._purge_parked(household_id)

    def committed(self, recordings: list[Any]) -> None:
        """A commit listener: wakes the relay when a save stored something it publishes."""
        # A receiving node's commits are mostly mirrors and receipts: reading its log after each of them
        # only to publish nothing was a tenth of its CPU. Those wait for the relay's next poll instead.
        if any(self._outbound.may_publish(recording.domain_event) for recording in recordings):
            self.relay.wake()

    def mark_delivered(self) -> None:
        """Record that everything the relay published so far was applied by every reader (call only once
        the exchange has settled)."""
        self._positions.set(DELIVERED, self.relay.position)

    def publish_again_after_delivered(self) -> None:
        """Before the relay first runs on a broker that keeps nothing across processes (the in-process
        one): what it published after the last settled point may have died with the previous process
        before every reader applied it, so it is published again (readers suppress what they had)."""
        self._positions.rewind(EXCHANGE, self._positions.get(DELIVERED))

    @property
    def group(self) -> str:
        return f"{self.topics.prefix}coordination.{slug(self.organisation)}"

    def entitled_topics(self) -> list[str]:
        """Only what this organisation may see: referrals to it, the networks of the households it is in
        (or owns, and the owners' answers to the facts it reported), per role the pool and its requests, and
        the municipality's picture (no household in it)."""
        topics = [self.topics.referrals(self.organisation), self.topics.network(self.organisation)]
        if isinstance(self.app, VacancyMirror):
            topics += [self.topics.vacancies(m) for m in self.settings.municipalities]
        if isinstance(self.app, OfferExchange):
            topics.append(self.topics.vacancy_requests(self.organisation))
        if isinstance(self.app, HousingOrganisationApp):
            topics.append(self.topics.household_facts(self.organisation))
        if isinstance(self.app, MunicipalPictureDesk):  # every role: each placement in the municipality
            topics += [self.topics.placements(m) for m in self.settings.municipalities]
        if isinstance(self.app, MunicipalDepartmentApp):  # the municipality's own: its coordinator's picture
            topics += [self.topics.municipal_picture(m) for m in self.settings.municipalities]
        return topics

    def run_once(self, timeout: float = 0.0) -> int:
        """Publish what is due, apply what has come and project it, once; how much work was done."""
        work = self.relay.run_once() + self.consumer.run_once(timeout) + self.sealer.run_once()
        if self.read_models is not None:
            work += self.read_models.run_once()
        return work

    def consumer_lag(self) -> int | None:
        """Messages on the node's topics not yet read, as the subscription last saw the broker's offsets
        (None where the transport cannot say, or before its first fetch)."""
        lag = getattr(self._subscription, "lag", None)
        return None if lag is None else lag()

    def read_model_lags(self) -> dict[str, int]:
        """Events each projection is behind the node's log (empty when the node runs no read models)."""
        return {} if self.read_models is None else self.read_models.lags()

    def run_until_idle(self, max_seconds: float = 10.0) -> int:
        """Run until nothing is left to publish and a poll brings nothing (for tests and one-shot runs)."""
        deadline = time.monotonic() + max_seconds
        done = 0
        while time.monotonic() < deadline:
            work = self.run_once(timeout=0.1)
            done += work
            if work == 0 and self.relay.lag() == 0 and not any(self.read_model_lags().values()):
                return done
        raise TimeoutError(f"{self.organisation}'s node was still busy after {max_seconds} s")

    def start(self, *, singletons: bool = True, also_wake: Sequence[Callable[[], None]] = ()) -> None:
        """Start the consumer and the log's followers; the relay, sealer and projection runners too unless
        `singletons` is False (a replica starts those it is elected for: ops/node/replicas.py). `also_wake`:
        other followers of the log, woken with them (the webhook worker)."""
        # On PostgreSQL the store notifies each commit: the log's followers sleep until then (cheap when
        # idle) and poll only as a safety net; elsewhere they poll.
        wakes = [self.relay.wake, self.sealer.wake, *also_wake]
        if self.read_models is not None:
            wakes.append(self.read_models.wake)
        self._listener = log_listener(self.app.env, self.app.recorder, wakes)
        idle_poll = 0.5
        if self._listener is not None:
            idle_poll = LISTENING_IDLE_POLL_S
            self._listener.start()
            self.relay.sleep_when_idle(idle_poll)
            self.sealer.sleep_when_idle(idle_poll)
        self.idle_poll = idle_poll
        if singletons:
            self.relay.start()
            self.sealer.start()
        self.consumer.start()
        if self.read_models is not None:
            # Each projection follows the log on a thread of its own, at once while there is work.
            self.read_models.start(max_sleep=idle_poll, runners=singletons)

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()
        if self.read_models is not None:
            self.read_models.stop()
        self.consumer.stop()
        self.relay.stop()
        self.sealer.stop()

    def close(self) -> None:
        """Stop, and release the transport's clients and the node's database connection (not the app);
        once (its exchange and the composition root may both close it)."""
        if self._closed:
            return
        self._closed = True
        self.stop()
        self.key_owners.unregister(self.organisation, self.exchange_keys)
        self._publisher.close()
        self._subscription.close()
        close = getattr(self.db, "close", None)
        if self._owns_db and close is not None:
            close()
        if self.read_models is not None:
            getattr(self.read_models.views, "close", lambda: None)()


class Exchange:
    """Several nodes run together in one process (the demo, tests): settled when every message published
    by any of them has been read by every one of them that subscribes to its topic."""

    def __init__(
        self,
        nodes: Sequence[Node],
        *,
        poll_timeout: float = 0.0,
        key_owners: KeyOwners | None = None,
        closing: Sequence[Callable[[], None]] = (),
    ) -> None:
        """`key_owners`: the nodes' exchange keys, as they ask each other for them (by default the first
        node's); `closing`: what `close()` closes after the nodes (the databases they were given)."""
        self.nodes = list(nodes)
        self._closing = list(closing)
        if key_owners is None:
            key_owners = self.nodes[0].key_owners if self.nodes else KeyOwners()
        self.key_owners = key_owners
        self._poll_timeout = poll_timeout

    def settle(self, max_seconds: float = 30.0) -> int:
        deadline = time.monotonic() + max_seconds
        done = 0
        while True:
            work = sum(node.run_once(self._poll_timeout) for node in self.nodes)
            done += work
            if work == 0 and self.settled():
                for node in self.nodes:
                    node.mark_delivered()
                return done
            if time.monotonic() > deadline:
                raise TimeoutError(f"The exchange did not settle within {max_seconds} s")
            if work == 0:
                time.sleep(0.01)

    def settled(self) -> bool:
        if any(node.relay.lag() or any(node.read_model_lags().values()) for node in self.nodes):
            return False
        published: Counter[str] = sum((node.published for node in self.nodes), Counter())
        for topic, count in published.items():
            readers = [node for node in self.nodes if topic in node.subscribed]
            if sum(node.received[topic] for node in readers) < count * len(readers):
                return False
        return True

    def start(self) -> None:
        for node in self.nodes:
            node.start()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def close(self) -> None:
        for node in self.nodes:
            node.close()
        for close in self._closing:
            close()


def exchange_figures(node: Node, exchange: Exchange | None = None) -> dict[str, Any]:
    """The node's relay and consumer figures (no personal data). The consumer's lag (messages on its topics
    not yet read) is counted from the exchange where all of it is in this process, else from the broker's
    offsets as the subscription last saw them (None before its first fetch). `parked` is what is parked
    now; `parked_total` what was parked since the node started."""
    stats = node.consumer.stats
    consumer_lag: int | None
    if exchange is not None:
        published = sum((other.published for other in exchange.nodes), Counter())
        consumer_lag = sum(max(0, published[topic] - node.received[topic]) for topic in node.subscribed)
    else:
        consumer_lag = node.consumer_lag()
    caught_up_at = node.relay.caught_up_at
    return {
        "published": sum(node.published.values()),
        "relay_lag": node.relay.lag(),
        "relay_caught_up_s_ago": None if caught_up_at is None else round(time.monotonic() - caught_up_at, 1),
        "consumer_lag": consumer_lag,
        "applied": stats.applied,
        "duplicates": stats.duplicates,
        "parked": node.consumer.parked_now(),
        "parked_total": stats.parked,
    }


def exchange_running(node: Node) -> bool:
    """The node's relay and consumer loops are running in the background."""
    return all(
        getattr(getattr(part, "_loop", None), "running", False) for part in (node.relay, node.consumer)
    )
