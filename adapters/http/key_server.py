"""A node run without its full API (`python -m ops.node.serve`) still answers its peers' exchange-key requests.

Started only when the node has peers (COORDINATION_PEER_URLS): then the recipients of its sealed fields
are other processes, and they ask its API for the keys. The node's API app is served with no read models
attached, so of it only the key endpoint, health and metrics are of use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

from adapters.exchange.keys import ExchangeKeys
from adapters.settings import NodeSettings
from adapters.sql.node_db import SqlDatabase
from coordination.applications.base import NodeApplication

log = structlog.get_logger()


def serve_exchange_keys(
    settings: NodeSettings, app: NodeApplication, keys: ExchangeKeys, db: SqlDatabase
) -> Callable[[], None] | None:
    """Serve the node's API on COORDINATION_HTTP_HOST:HTTP_PORT in a thread; the function that stops it
    (None when the node has no peers, or no public keys to check their tokens with)."""
    if not settings.peer_urls:
        return None
    # Imported only here: a node without peers never loads the web stack (~20 MB of its memory).
    from adapters.http.app import create_app
    from adapters.http.auth import AuthConfig, public_keys_in
    from adapters.http.node import ApiNode
    from adapters.http.quiet_server import serve

    if settings.public_keys_dir is None or not settings.public_keys_dir.is_dir():
        log.error("exchange_keys.no_public_keys", setting="COORDINATION_PUBLIC_KEYS_DIR")
        return None
    node = ApiNode(app=app, db=db, exchange_keys=keys)
    api = create_app(node, AuthConfig(settings.organisation, public_keys_in(settings.public_keys_dir)))
    server = serve(api, host=settings.http_host, port=settings.http_port)
    # Off the main thread uvicorn installs no signal handlers: the node's own stop it (and then this).
    thread = threading.Thread(target=server.run, name="exchange-keys-api", daemon=True)
    thread.start()
    log.info("exchange_keys.serving", host=settings.http_host, port=settings.http_port)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return stop
