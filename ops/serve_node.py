"""Production mode: one organisation's node per process, its API served, on PostgreSQL and Kafka.

`coordination serve --org civica [--config node.env]` reads NodeSettings (COORDINATION_* from the
environment or the file), waits for the broker, starts the node's relay, consumer and read models, and
serves the API (with /dashboard, /metrics, /livez and /readyz) on COORDINATION_HTTP_HOST:HTTP_PORT.
"""

from __future__ import annotations

import threading

import structlog

from adapters.http.app import create_app
from adapters.http.auth import AuthConfig, public_keys_in
from adapters.http.node import ApiNode
from adapters.settings import NodeSettings, Profile
from adapters.sql.node_db import database_for
from ops.api import exchange_figures, exchange_running
from ops.logging import configure
from ops.node import _on_the_broker, build_app
from ops.timers import start_timers


def serve_one(settings: NodeSettings, *, host: str | None = None, port: int | None = None) -> int:
    """Serve one node until SIGTERM or SIGINT; 1 when its configuration is incomplete."""
    import uvicorn

    configure(json=settings.profile is Profile.PRODUCTION)
    structlog.contextvars.bind_contextvars(organisation=settings.organisation)
    log = structlog.get_logger()
    if settings.public_keys_dir is None or not settings.public_keys_dir.is_dir():
        log.error("serve.no_public_keys", setting="COORDINATION_PUBLIC_KEYS_DIR")
        return 1
    public_keys = public_keys_in(settings.public_keys_dir)
    app = build_app(settings)
    node = _on_the_broker(settings, app, threading.Event())
    assert node is not None  # only None when asked to stop while waiting, and nobody asks here
    api = ApiNode(
        app=app,
        db=database_for(app.env),
        read_models=node.read_models,
        exchange_figures=lambda: exchange_figures(node),
        exchange_running=lambda: exchange_running(node),
        exchange_keys=node.exchange_keys,
    )
    node.start()
    timers = start_timers(settings, app)
    log.info(
        "node.serving",
        host=host or settings.http_host,
        port=port or settings.http_port,
        trusted=sorted(public_keys),
    )
    try:
        uvicorn.run(
            create_app(api, AuthConfig(settings.organisation, public_keys)),
            host=host or settings.http_host,
            port=port or settings.http_port,
            log_level="warning",
        )
    finally:
        if timers is not None:
            timers.stop()
        node.close()
        app.close()
    return 0
