"""The composition root: from a node's settings, its database, application, read models, node on the
exchange, API node and timers, each given what it uses when it is built.

One database object per process for the node's store (`NodeParts.db`): the household keys, the relay's
positions and parked messages, the audit chain, the API's records and the snapshot deletions all use it.
Every entry point builds its nodes here: `coordination serve --org`, `python -m ops.node.serve`, the demo's
nodes (ops/demo/nodes.py), the CLIs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

import structlog
from kafka.errors import KafkaError

from adapters.area_indicators import load_area_indicators
from adapters.eventstore.storage import ShreddingStorage
from adapters.exchange.key_directory import KeyOwners
from adapters.exchange.transport import Transport
from adapters.http.key_server import serve_exchange_keys
from adapters.kafka.group import GroupTransport
from adapters.kafka.transport import KafkaTransport
from adapters.settings import NodeSettings, OrganisationRole
from adapters.sql.leadership import Leadership, Role
from adapters.sql.node_db import PostgresDatabase, SqliteDatabase, database_for
from adapters.sql.pool_backoff import cap_reconnect_backoff
from adapters.webhooks.store import WebhookStore
from adapters.webhooks.worker import Backoff, WebhookWorker
from coordination.applications.area_guard import InflowProvider
from coordination.applications.base import NodeApplication
from coordination.applications.history import HistorySource
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.library_patches import CommitListener
from coordination.applications.roles import BridgeBuilderApp, CivilActorApp, MunicipalDepartmentApp
from coordination.applications.shredding import ErasureHook
from coordination.domain.values import Place
from coordination.domain.waterbed import DEFAULT_WATERBED_POLICY
from coordination.projections.history import HistoryEntry
from ops.node.exchange import Exchange, Node, exchange_figures, exchange_running
from ops.node.read_models import ReadModels, open_views_beside
from ops.node.replicas import leadership_for, node_roles, running_here_or_elsewhere
from ops.node.timers import NodeTimers, start_timers

NodeDatabase = SqliteDatabase | PostgresDatabase

if TYPE_CHECKING:  # the API (FastAPI and its routers) is imported only by the nodes that serve it
    from adapters.http.node import ApiNode


def node_database(settings: NodeSettings) -> NodeDatabase:
    """The node's own database: the one its store is in (a private in-memory one for the memory store)."""
    return database_for(settings.store_env())


def housing_node(
    settings: NodeSettings,
    db: NodeDatabase | None = None,
    *,
    inflow: InflowProvider | None = None,
    **parts: Any,
) -> HousingOrganisationApp:
    """A housing organisation's node, with the waterbed guard's area indicators when a file is configured
    and its inflow counted by `inflow` when given (the receiving-areas projection); `parts` as `build_app`."""
    indicators = settings.area_indicators_file
    return HousingOrganisationApp(
        storage=ShreddingStorage(db),
        organisation=settings.organisation,
        env=settings.store_env(),
        cpr_secret=settings.cpr_secret_bytes(),
        area_indicators=None if indicators is None else load_area_indicators(indicators),
        inflow=inflow,
        policy=settings.policy,
        waterbed_policy=settings.waterbed,
        **parts,
    )


def build_app(
    settings: NodeSettings,
    db: NodeDatabase | None = None,
    *,
    group_commit: bool = False,
    inflow: InflowProvider | None = None,
    history_source: HistorySource | None = None,
    erasure_hooks: Sequence[ErasureHook] = (),
    after_commit: Sequence[CommitListener] = (),
) -> NodeApplication:
    """The application of the node's organisation role, on the node's own store; its household keys in
    `db` (by default a database of their own on that store). `group_commit` for a node whose consumer
    applies messages in several lanes at once; the node's other parts as `NodeApplication` takes them
    (`inflow` for a housing organisation's waterbed guard)."""
    cap_reconnect_backoff()  # back within seconds of the database, not up to half a minute later
    parts: dict[str, Any] = {
        "group_commit": group_commit,
        "history_source": history_source,
        "erasure_hooks": erasure_hooks,
        "after_commit": after_commit,
    }
    if settings.role is OrganisationRole.HOUSING_ORGANISATION:
        return housing_node(settings, db, inflow=inflow, **parts)
    cls = {
        OrganisationRole.BRIDGE_BUILDER: BridgeBuilderApp,
        OrganisationRole.MUNICIPAL_DEPARTMENT: MunicipalDepartmentApp,
        OrganisationRole.CIVIL_ACTOR: CivilActorApp,
    }[settings.role]
    return cls(
        storage=ShreddingStorage(db),
        organisation=settings.organisation,
        env=settings.store_env(),
        policy=settings.policy,
        **parts,
    )


def node_read_models(settings: NodeSettings, app: NodeApplication) -> ReadModels:
    """The node's projections in a view store beside its event store (wherever the app's env puts that),
    with the area indicators file when one is configured."""
    indicators = settings.area_indicators_file
    return ReadModels(
        app,
        open_views_beside(app.env),
        policy=app.policy,
        area_indicators=None if indicators is None else load_area_indicators(indicators),
        waterbed_policy=getattr(app, "waterbed_policy", DEFAULT_WATERBED_POLICY),
    )


class NodeParts:
    """One organisation's node as this process runs it: its database (one object, shared), its
    application, its read models (unless `read_models` is False), and on demand its node on the exchange,
    API node and timers.

    The application is built first, with what it asks of the parts built after it (the read models answer
    its history and its waterbed guard's inflow; the node wakes its relay after each commit; both forget an
    erased household) given to its constructor as this object's methods, which pass each on to the part.
    Nothing is set on the application after it is built.

    `key_owners` are the exchange keys of the nodes running in this process (the demo passes one to all
    its organisations); `close()` closes what was built here, the node before the app before the database.
    """

    def __init__(
        self,
        settings: NodeSettings,
        *,
        key_owners: KeyOwners | None = None,
        group_commit: bool = True,
        read_models: bool = True,
        after_commit: Sequence[CommitListener] = (),
    ) -> None:
        """`after_commit`: what else hears of the app's commits, after the node (the bench's reporter)."""
        self.settings = settings
        self.db = node_database(settings)
        self.node: Node | None = None
        self.app = build_app(
            settings,
            self.db,
            group_commit=group_commit,
            inflow=self._inflow if read_models else None,
            history_source=self._history if read_models else None,
            erasure_hooks=[self._forget],
            after_commit=[self._committed, *after_commit],
        )
        self.read_models = node_read_models(settings, self.app) if read_models else None
        self.key_owners = KeyOwners() if key_owners is None else key_owners
        self.timers: NodeTimers | None = None
        self.leadership: Leadership | None = None
        self.webhooks: WebhookWorker | None = None
        self._stop_key_server: Callable[[], None] | None = None
        self._closed = False

    # What the app asks of the parts built after it (given to its constructor above).

    def _history(self, household_id: UUID) -> list[HistoryEntry]:
        assert self.read_models is not None  # given to the app only when the node has read models
        return self.read_models.history(household_id)

    def _inflow(self, place: Place, since: date) -> int:
        assert self.read_models is not None
        return self.read_models.inflow(place, since)

    def _forget(self, household_id: UUID) -> None:
        if self.node is not None:
            self.node.forget(household_id)
        if self.read_models is not None:
            self.read_models.forget(household_id)

    def _committed(self, recordings: list[Any]) -> None:
        if self.node is not None:
            self.node.committed(recordings)
        if self.webhooks is not None:
            self.webhooks.wake()

    def with_read_models(self) -> ReadModels:
        """The node's read models (built with the parts unless `read_models` was False)."""
        assert self.read_models is not None, "built with read_models=False"
        return self.read_models

    def on_exchange(self, transport: Transport, *, read_models: bool = True, **options: Any) -> Node:
        """The node on the exchange over `transport`, on the shared database, keeping its read models
        caught up unless `read_models` is False (or it has none)."""
        self.node = Node(
            self.settings,
            self.app,
            transport,
            db=self.db,
            read_models=self.read_models if read_models else None,
            key_owners=self.key_owners,
            **options,
        )
        return self.node

    def on_the_broker(self, stopping: threading.Event) -> Node | None:
        """The node on the configured Kafka broker, once it answers: a node started while the broker is
        down (a restart during an outage) waits for it instead of exiting; None when asked to stop first."""
        backoff = 0.5
        while not stopping.is_set():
            try:
                # Replicas share the organisation's partitions through its consumer group.
                transport = GroupTransport if self.settings.replicated else KafkaTransport
                return self.on_exchange(transport(self.settings.kafka()))
            except KafkaError as error:
                log = structlog.get_logger()
                log.warning(
                    "node.broker_unavailable", error=type(error).__name__, retry_in_s=backoff, exc_info=error
                )
                stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        return None

    def api_node(self, exchange: Exchange | None = None) -> ApiNode:
        """The node as the API serves it: with its read models, and its exchange when it has one (its
        figures counted over `exchange` when every node of it runs in this process)."""
        from adapters.http.node import ApiNode

        node = self.node
        if node is None:
            return ApiNode(app=self.app, db=self.db, read_models=self.read_models)
        return ApiNode(
            app=self.app,
            db=self.db,
            read_models=self.read_models,
            exchange_figures=lambda: self._figures(node, exchange),
            exchange_running=lambda: (
                exchange_running(node)
                if self.leadership is None
                else running_here_or_elsewhere(node, self.leadership)
            ),
            exchange_keys=node.exchange_keys,
        )

    def _figures(self, node: Node, exchange: Exchange | None) -> dict[str, Any]:
        figures = exchange_figures(node, exchange)
        if self.leadership is not None:  # which of the node's one-at-a-time jobs this replica runs
            figures["roles_held"] = self.leadership.held()
        return figures

    def start_node(self) -> None:
        """Start the node on the exchange and its timers: on PostgreSQL as one of its replicas, each of
        its one-at-a-time jobs (relay, sealer, each projection runner, timers) run where its advisory lock
        is held (ops/node/replicas.py); elsewhere all of them here."""
        node = self.node
        assert node is not None
        interval = self.settings.timers_interval_s
        timers = None if interval <= 0 else NodeTimers(self.app, interval_s=interval)
        roles = node_roles(node, timers)
        webhooks = self._webhook_worker()
        if webhooks is not None:  # one replica delivers: the others would send each event again
            roles["webhooks"] = Role(webhooks.start, webhooks.stop)
        leadership = leadership_for(self.settings, roles)
        also_wake = [] if webhooks is None else [webhooks.wake]
        if leadership is None:
            node.start(also_wake=also_wake)
            self.start_timers()
            self.start_webhooks()
            return
        node.start(singletons=False, also_wake=also_wake)
        self.timers, self.leadership = timers, leadership
        leadership.start()

    def serve_exchange_keys(self) -> None:
        """Without its full API, the node still answers its peers' exchange-key requests (when it has
        peers); stopped by `close()`."""
        assert self.node is not None
        self._stop_key_server = serve_exchange_keys(self.settings, self.app, self.node.exchange_keys, self.db)

    def start_timers(self) -> NodeTimers | None:
        """The node's timers, started, unless the settings turn them off; stopped by `close()`."""
        self.timers = start_timers(self.settings, self.app)
        return self.timers

    def _webhook_worker(self) -> WebhookWorker | None:
        """The webhook worker (the organisation's subscriptions told of its node's referral events and
        notifications), built once unless the settings turn it off; not started."""
        settings = self.settings
        if self.webhooks is None and settings.webhooks_enabled:
            backoff = Backoff(
                first_s=settings.webhook_first_retry_s,
                longest_s=settings.webhook_longest_retry_s,
                attempts=settings.webhook_attempts,
            )
            self.webhooks = WebhookWorker(
                self.app, WebhookStore(self.db), backoff=backoff, idle_s=settings.webhook_idle_s
            )
        return self.webhooks

    def start_webhooks(self) -> WebhookWorker | None:
        """The webhook worker, started here (`start_node` starts it, or elects one replica to run it),
        unless the settings turn it off; stopped by `close()`."""
        worker = self._webhook_worker()
        if worker is not None:
            worker.start()
        return worker

    def close(self) -> None:
        """Closes what was built here, once (the demo's exchange closes it, and its `Nodes` the apps)."""
        if self._closed:
            return
        self._closed = True
        if self.leadership is not None:
            self.leadership.stop()  # its roles stopped, and their locks released for the other replicas
        if self.timers is not None:
            self.timers.stop()
        if self.webhooks is not None:
            self.webhooks.stop()
        if self._stop_key_server is not None:
            self._stop_key_server()
        node, self.node = self.node, None  # an erasure noticed while closing no longer reaches it
        if node is not None:
            node.close()
        if self.read_models is not None:
            getattr(self.read_models.views, "close", lambda: None)()
        self.app.close()
        self.db.close()
